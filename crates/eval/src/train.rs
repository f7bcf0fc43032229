//! Training the leg-mode model on a labelled dataset, and measuring it
//! honestly.
//!
//! Honest means grouped: MobilityNet's phones were carried together, so the
//! copies of one leg recorded by different phones are near-duplicates, and
//! the same scripted routes were repeated on many days. A random leg-level
//! split would put one phone's copy of a leg in training and another's in
//! testing and report memorisation as accuracy (Etemad et al. 2018 show how
//! optimistic random splits are). Folds here are made of whole runs: every
//! device's copy of a run is in the same fold.

use crate::dataset::{Dataset, GroundTruthLeg};
use crate::score::{EvalReport, ModeClass, evaluate_runs};
use serde::{Deserialize, Serialize};
use sillage_analysis::AnalysisParams;
use sillage_analysis::clean::clean;
use sillage_analysis::features::LegFeatures;
use sillage_analysis::legs::{Movement, split_legs};
use sillage_analysis::mode::{ModeClassifier, RuleClassifier};
use sillage_analysis::model::{self, GbdtModel, GbdtParams, input_names, input_vector};
use sillage_analysis::motion::motion;
use sillage_analysis::{Diary, analyse};
use sillage_model::{Fix, Mode, ModeGroup, Timestamp};
use std::collections::{BTreeMap, HashSet};

/// Legs with fewer fixes than this say nothing about their mode.
const MIN_FIXES: usize = 3;

/// How to build the training set and the model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainParams {
    /// The boosting hyper-parameters.
    pub gbdt: GbdtParams,
    /// A sample weighs its leg's duration to this power: 0 weighs every leg
    /// alike, 1 weighs by time (what the time-weighted accuracy rewards, but
    /// then a dozen long train rides drown every short walk). On MobilityNet
    /// 0, 0.5 and 1 score within noise of each other in grouped
    /// cross-validation; 0 is the simplest.
    pub weight_power: f64,
    /// The inputs the model uses (names from
    /// [`sillage_analysis::model::input_names`]); empty = all of them.
    pub inputs: Vec<String>,
    /// Also learn from the legs the pipeline itself cuts, labelled with the
    /// class covering most of their time: in use the model sees those legs,
    /// with their imperfect boundaries, not the labelled ones.
    pub pipeline_legs: bool,
    /// Learn from the labelled legs (cut at the labelled boundaries).
    pub labelled_legs: bool,
    /// A pipeline leg is labelled with the class covering most of its time
    /// only if that class covers at least this share of it (legs mostly
    /// outside labelled travel, or straddling two modes, teach nothing
    /// clean).
    pub min_label_share: f64,
    /// The analysis parameters (cleaning, segmentation) used throughout.
    #[serde(skip)]
    pub analysis: AnalysisParams,
}

impl Default for TrainParams {
    fn default() -> Self {
        Self {
            gbdt: GbdtParams::default(),
            weight_power: 0.0,
            inputs: Vec::new(),
            pipeline_legs: true,
            labelled_legs: true,
            min_label_share: 0.5,
            analysis: AnalysisParams::default(),
        }
    }
}

impl TrainParams {
    fn input_names(&self) -> Vec<String> {
        if self.inputs.is_empty() {
            input_names()
        } else {
            self.inputs.clone()
        }
    }
}

/// One training example: a leg as one device saw it.
#[derive(Clone, Debug)]
pub struct Sample {
    /// The run it belongs to (the cross-validation group).
    pub run_id: String,
    /// The device that recorded it.
    pub device: String,
    /// Its true class.
    pub class: ModeClass,
    /// Its duration, s.
    pub duration_s: f64,
    /// What the classifier sees.
    pub features: LegFeatures,
    /// Walking speed or faster, as the segmenter would say.
    pub movement: Movement,
    /// Cut by the pipeline rather than by the labels.
    pub from_pipeline: bool,
}

/// The mode a class is trained as (the most common mode of the class in
/// everyday travel, so that CO2 and calories get a sensible default).
pub fn class_mode(class: ModeClass) -> Mode {
    match class {
        ModeClass::Walk => Mode::Walking,
        ModeClass::Bike => Mode::Bicycle,
        ModeClass::Car => Mode::Car,
        ModeClass::Bus => Mode::Bus,
        ModeClass::Rail => Mode::RegionalTrain,
    }
}

/// The class a predicted mode scores as; `None` for ferry, plane, unknown.
pub fn mode_class(mode: Mode) -> Option<ModeClass> {
    Some(match mode.group() {
        ModeGroup::Walk => ModeClass::Walk,
        ModeGroup::Bike => ModeClass::Bike,
        ModeGroup::Car => ModeClass::Car,
        ModeGroup::Bus => ModeClass::Bus,
        ModeGroup::Rail => ModeClass::Rail,
        ModeGroup::Other => return None,
    })
}

fn class_index(class: ModeClass) -> usize {
    ModeClass::ALL.iter().position(|c| *c == class).unwrap_or(0)
}

/// Index range of the fixes with `start <= time < end` in time-sorted fixes.
fn range_of(fixes: &[Fix], start: Timestamp, end: Timestamp) -> (usize, usize) {
    (
        fixes.partition_point(|f| f.time < start),
        fixes.partition_point(|f| f.time < end),
    )
}

/// The labelled legs as each device saw them. Every labelled leg except
/// `WAITING` ones counts (access and transfer walks are walks, as in the
/// MobilityNet notebooks). Each device's fixes are cleaned and their motion
/// computed over the whole recording, as the pipeline does, so that speeds
/// at a leg's ends see the same neighbours as in use.
pub fn ground_truth_samples(dataset: &Dataset, params: &AnalysisParams) -> Vec<Sample> {
    let mut samples = Vec::new();
    for (device, raw) in &dataset.devices {
        let fixes = clean(raw, params);
        let motion = motion(&fixes);
        for leg in dataset.legs_of(device).filter(|l| l.leg_type != "WAITING") {
            let Some(class) = ModeClass::from_label(&leg.mode) else {
                continue;
            };
            let (first, end) = range_of(&fixes, leg.start, leg.end);
            if end < first + MIN_FIXES {
                continue;
            }
            let features = LegFeatures::compute(&fixes, &motion, first, end);
            // The movement the segmenter would give this stretch: that of
            // the longest leg it would cut from it.
            let movement = split_legs(&fixes, &motion, first, end, leg.end)
                .into_iter()
                .max_by_key(|s| s.end_time.0 - s.start_time.0)
                .map_or(Movement::Slow, |s| s.movement);
            samples.push(Sample {
                run_id: leg.run_id.clone(),
                device: device.clone(),
                class,
                duration_s: (leg.end.0 - leg.start.0) as f64 / 1000.0,
                features,
                movement,
                from_pipeline: false,
            });
        }
    }
    samples
}

/// The legs the pipeline cuts, each labelled with the class covering most
/// of its time if that class covers at least `min_share` of it.
pub fn pipeline_samples(dataset: &Dataset, params: &AnalysisParams, min_share: f64) -> Vec<Sample> {
    let mut samples = Vec::new();
    for (device, fixes) in &dataset.devices {
        let diary: Diary = analyse(fixes, params, &RuleClassifier);
        let labelled: Vec<&GroundTruthLeg> = dataset
            .legs_of(device)
            .filter(|l| l.leg_type != "WAITING")
            .collect();
        for leg in diary.trips.iter().flat_map(|t| &t.legs) {
            let f = &leg.features;
            let fix_count = (f.sampling_per_min * f.duration_s / 60.0).round() as usize;
            let duration_ms = leg.end.0 - leg.start.0;
            if fix_count < MIN_FIXES || duration_ms <= 0 {
                continue;
            }
            let mut by_class = [0i64; 5];
            let mut best_run: Option<(&str, i64)> = None;
            for truth in &labelled {
                let overlap = leg.end.0.min(truth.end.0) - leg.start.0.max(truth.start.0);
                let Some(class) = ModeClass::from_label(&truth.mode) else {
                    continue;
                };
                if overlap > 0 {
                    by_class[class_index(class)] += overlap;
                    if best_run.is_none_or(|(_, o)| overlap > o) {
                        best_run = Some((&truth.run_id, overlap));
                    }
                }
            }
            let (k, covered) = by_class
                .iter()
                .enumerate()
                .max_by_key(|(k, v)| (**v, std::cmp::Reverse(*k)))
                .map_or((0, 0), |(k, v)| (k, *v));
            let Some((run_id, _)) = best_run else {
                continue;
            };
            if (covered as f64) < min_share * duration_ms as f64 {
                continue;
            }
            samples.push(Sample {
                run_id: run_id.to_owned(),
                device: device.clone(),
                class: ModeClass::ALL[k],
                duration_s: covered as f64 / 1000.0,
                features: leg.features.clone(),
                movement: leg.movement,
                from_pipeline: true,
            });
        }
    }
    samples
}

/// All training samples the parameters ask for.
pub fn training_samples(dataset: &Dataset, params: &TrainParams) -> Vec<Sample> {
    let mut samples = Vec::new();
    if params.labelled_legs {
        samples.extend(ground_truth_samples(dataset, &params.analysis));
    }
    if params.pipeline_legs {
        samples.extend(pipeline_samples(
            dataset,
            &params.analysis,
            params.min_label_share,
        ));
    }
    samples
}

/// Trains on the given samples.
pub fn train_on(samples: &[Sample], params: &TrainParams) -> GbdtModel {
    let names = params.input_names();
    let all = input_names();
    let columns: Vec<usize> = names
        .iter()
        .filter_map(|n| all.iter().position(|m| m == n))
        .collect();
    let x: Vec<Vec<f64>> = samples
        .iter()
        .map(|s| {
            let inputs = input_vector(&s.features, s.movement);
            columns.iter().map(|&c| inputs[c]).collect()
        })
        .collect();
    let labels: Vec<Mode> = samples.iter().map(|s| class_mode(s.class)).collect();
    let mut weights: Vec<f64> = samples
        .iter()
        .map(|s| s.duration_s.max(1.0).powf(params.weight_power))
        .collect();
    // Mean weight 1, so that `min_hessian` means the same whatever the power.
    let mean = weights.iter().sum::<f64>() / weights.len().max(1) as f64;
    for w in &mut weights {
        *w /= mean.max(f64::MIN_POSITIVE);
    }
    let names = columns.iter().map(|&c| all[c].clone()).collect();
    model::train(&x, &labels, &weights, names, &params.gbdt)
}

/// Trains a model on the whole dataset.
pub fn train(dataset: &Dataset, params: &TrainParams) -> GbdtModel {
    train_on(&training_samples(dataset, params), params)
}

/// Leg-level scores: each device's copy of each labelled leg is one case.
#[derive(Clone, Debug, Default, Serialize)]
pub struct LegScores {
    /// Legs scored.
    pub legs: usize,
    /// Share of legs right.
    pub accuracy: f64,
    /// Share of labelled time right.
    pub time_weighted_accuracy: f64,
    /// Mean F1 over the classes present, by leg count.
    pub macro_f1: f64,
    /// Rows = truth (walk, bike, car, bus, rail), columns = prediction
    /// (same order, then "other"), in legs.
    pub confusion_legs: Vec<Vec<f64>>,
    /// The same in seconds.
    pub confusion_seconds: Vec<Vec<f64>>,
}

impl LegScores {
    fn new() -> Self {
        Self {
            confusion_legs: vec![vec![0.0; 6]; 5],
            confusion_seconds: vec![vec![0.0; 6]; 5],
            ..Self::default()
        }
    }

    fn add(&mut self, truth: ModeClass, predicted: Option<ModeClass>, seconds: f64) {
        let (r, c) = (class_index(truth), predicted.map_or(5, class_index));
        self.confusion_legs[r][c] += 1.0;
        self.confusion_seconds[r][c] += seconds;
    }

    fn finish(mut self) -> Self {
        let diagonal = |m: &[Vec<f64>]| (0..5).map(|k| m[k][k]).sum::<f64>();
        let total = |m: &[Vec<f64>]| m.iter().flatten().sum::<f64>().max(f64::MIN_POSITIVE);
        self.legs = total(&self.confusion_legs).round() as usize;
        self.accuracy = diagonal(&self.confusion_legs) / total(&self.confusion_legs);
        self.time_weighted_accuracy =
            diagonal(&self.confusion_seconds) / total(&self.confusion_seconds);
        self.macro_f1 = macro_f1(&self.confusion_legs);
        self
    }
}

/// Mean F1 over the classes with any truth, from a confusion matrix whose
/// sixth column is "no prediction / other" (as [`EvalReport`]'s).
pub fn macro_f1(confusion: &[Vec<f64>]) -> f64 {
    let f1s: Vec<f64> = (0..5)
        .filter(|&k| confusion[k].iter().sum::<f64>() > 0.0)
        .map(|k| {
            let tp = confusion[k][k];
            let truth: f64 = confusion[k].iter().sum();
            let predicted: f64 = (0..5).map(|r| confusion[r][k]).sum();
            let (p, r) = (tp / predicted.max(f64::MIN_POSITIVE), tp / truth);
            if p + r > 0.0 {
                2.0 * p * r / (p + r)
            } else {
                0.0
            }
        })
        .collect();
    f1s.iter().sum::<f64>() / f1s.len().max(1) as f64
}

/// End-to-end scores: the whole pipeline (cleaning, trips, leg cuts, modes)
/// against the labels, as `sillage eval` computes them.
#[derive(Clone, Debug, Default, Serialize)]
pub struct EndToEnd {
    /// Time-weighted mode accuracy, averaged over devices.
    pub mode_accuracy: f64,
    /// Macro-F1 over the five classes from the pooled time-weighted matrix.
    pub mode_macro_f1: f64,
    /// Trip F1, averaged over devices; `None` for cross-validated figures,
    /// as trip detection does not depend on the model and a fold sees only
    /// a share of each device's trips.
    pub trip_f1: Option<f64>,
    /// Pooled confusion in seconds (rows truth, columns prediction + none).
    pub confusion_seconds: Vec<Vec<f64>>,
    /// Time-weighted mode accuracy per device.
    pub per_device: BTreeMap<String, f64>,
}

/// Per-device sums from which [`EndToEnd`] is computed, so that folds can
/// be pooled exactly as one evaluation over all runs would pool devices.
#[derive(Default)]
struct EndToEndSums {
    devices: BTreeMap<String, DeviceSums>,
    confusion: Vec<Vec<f64>>,
}

#[derive(Default)]
struct DeviceSums {
    correct_s: f64,
    scored_s: f64,
    observed: usize,
    detected: usize,
    matched: usize,
}

impl EndToEndSums {
    fn add(&mut self, report: &EvalReport) {
        if self.confusion.is_empty() {
            self.confusion = vec![vec![0.0; 6]; 5];
        }
        for d in &report.per_device {
            let sums = self.devices.entry(d.device.clone()).or_default();
            sums.correct_s += d.mode_accuracy * d.leg_seconds;
            sums.scored_s += d.leg_seconds;
            sums.observed += d.observed_trips;
            sums.detected += d.detected_trips;
            sums.matched += d.matched_trips;
        }
        for (row, add) in self.confusion.iter_mut().zip(&report.confusion_seconds) {
            for (c, a) in row.iter_mut().zip(add) {
                *c += a;
            }
        }
    }

    /// The scores; trip F1 only `with_trips` (from one unrestricted
    /// evaluation: restricted ones skip devices that saw no trip of their
    /// runs, and with them those devices' false detections).
    fn finish(&self, with_trips: bool) -> EndToEnd {
        let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
        let per_device: BTreeMap<String, f64> = self
            .devices
            .iter()
            .map(|(k, s)| (k.clone(), ratio(s.correct_s, s.scored_s)))
            .collect();
        let n = self.devices.len().max(1) as f64;
        let trip_f1 = with_trips.then(|| {
            self.devices
                .values()
                .map(|s| {
                    let p = ratio(s.matched as f64, s.detected as f64);
                    let r = ratio(s.matched as f64, s.observed as f64);
                    ratio(2.0 * p * r, p + r)
                })
                .sum::<f64>()
                / n
        });
        EndToEnd {
            mode_accuracy: per_device.values().sum::<f64>() / n,
            mode_macro_f1: if self.confusion.is_empty() {
                0.0
            } else {
                macro_f1(&self.confusion)
            },
            trip_f1,
            confusion_seconds: self.confusion.clone(),
            per_device,
        }
    }
}

/// Leg-level and end-to-end scores of one classifier.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Scores {
    /// On the labelled legs.
    pub legs: LegScores,
    /// Through the whole pipeline.
    pub end_to_end: EndToEnd,
}

/// One fold of the cross-validation.
#[derive(Clone, Debug, Serialize)]
pub struct FoldReport {
    /// Fold number, from 0.
    pub fold: usize,
    /// The held-out runs.
    pub runs: Vec<String>,
    /// Samples trained on.
    pub train_samples: usize,
    /// Scores on the held-out runs.
    pub scores: Scores,
}

/// What [`cross_validate`] found.
#[derive(Clone, Debug, Serialize)]
pub struct CvReport {
    /// Folds.
    pub folds: usize,
    /// Runs (groups).
    pub runs: usize,
    /// Labelled-leg samples (one per device and leg with enough fixes).
    pub labelled_samples: usize,
    /// Pipeline-leg samples added to training.
    pub pipeline_samples: usize,
    /// The parameters.
    pub params: TrainParams,
    /// The speed rules, for reference (nothing trained).
    pub rules: Scores,
    /// The model trained on everything, scored on what it was trained on:
    /// an upper bound, not an estimate.
    pub in_sample: Scores,
    /// Each held-out fold scored by a model trained on the others, pooled:
    /// the estimate to trust.
    pub cross_validated: Scores,
    /// Per fold.
    pub per_fold: Vec<FoldReport>,
}

/// Splits the runs into `folds` groups: runs sorted by id (spec, trip,
/// date) and dealt round-robin, so each fold gets a share of every scripted
/// trip and every class stays in every training set.
pub fn fold_runs(dataset: &Dataset, folds: usize) -> Vec<HashSet<String>> {
    let mut runs: Vec<&str> = dataset.trips.iter().map(|t| t.run_id.as_str()).collect();
    runs.sort_unstable();
    runs.dedup();
    let folds = folds.clamp(2, runs.len().max(2));
    let mut out = vec![HashSet::new(); folds];
    for (i, run) in runs.iter().enumerate() {
        out[i % folds].insert((*run).to_owned());
    }
    out
}

fn score_legs<'a>(
    samples: impl Iterator<Item = &'a Sample>,
    classifier: &dyn ModeClassifier,
) -> LegScores {
    let mut scores = LegScores::new();
    for s in samples {
        let guess = classifier.classify(&s.features, s.movement);
        scores.add(s.class, mode_class(guess.mode), s.duration_s);
    }
    scores.finish()
}

/// Cross-validates with the default parameters.
pub fn cross_validate(dataset: &Dataset, folds: usize) -> CvReport {
    cross_validate_with(dataset, folds, &TrainParams::default())
}

/// Grouped k-fold cross-validation by run, at leg level (labelled legs) and
/// end to end (the pipeline's legs, scored against the held-out runs'
/// labels), with the in-sample and rule figures beside.
pub fn cross_validate_with(dataset: &Dataset, folds: usize, params: &TrainParams) -> CvReport {
    let labelled = ground_truth_samples(dataset, &params.analysis);
    let pipeline = if params.pipeline_legs {
        pipeline_samples(dataset, &params.analysis, params.min_label_share)
    } else {
        Vec::new()
    };
    // Labelled legs are always scored, but trained on only if asked.
    let trained_labelled = if params.labelled_legs {
        &labelled[..]
    } else {
        &[]
    };
    let all: Vec<Sample> = trained_labelled.iter().chain(&pipeline).cloned().collect();
    let groups = fold_runs(dataset, folds);

    let score_all = |classifier: &dyn ModeClassifier| {
        let mut sums = EndToEndSums::default();
        sums.add(&evaluate_runs(dataset, &params.analysis, classifier, None));
        Scores {
            legs: score_legs(labelled.iter(), classifier),
            end_to_end: sums.finish(true),
        }
    };
    let rules = score_all(&RuleClassifier);
    let in_sample = score_all(&train_on(&all, params));

    let mut per_fold = Vec::new();
    let mut pooled_legs = LegScores::new();
    let mut pooled_end = EndToEndSums::default();
    for (fold, runs) in groups.iter().enumerate() {
        let training: Vec<Sample> = all
            .iter()
            .filter(|s| !runs.contains(&s.run_id))
            .cloned()
            .collect();
        let model = train_on(&training, params);
        let held_out = || labelled.iter().filter(|s| runs.contains(&s.run_id));
        let legs = score_legs(held_out(), &model);
        for (pooled, fold) in [
            (&mut pooled_legs.confusion_legs, &legs.confusion_legs),
            (&mut pooled_legs.confusion_seconds, &legs.confusion_seconds),
        ] {
            for (row, add) in pooled.iter_mut().zip(fold) {
                for (c, a) in row.iter_mut().zip(add) {
                    *c += a;
                }
            }
        }
        let report = evaluate_runs(dataset, &params.analysis, &model, Some(runs));
        pooled_end.add(&report);
        let mut fold_sums = EndToEndSums::default();
        fold_sums.add(&report);
        let mut runs: Vec<String> = runs.iter().cloned().collect();
        runs.sort();
        per_fold.push(FoldReport {
            fold,
            runs,
            train_samples: training.len(),
            scores: Scores {
                legs,
                end_to_end: fold_sums.finish(false),
            },
        });
    }
    CvReport {
        folds: groups.len(),
        runs: groups.iter().map(HashSet::len).sum(),
        labelled_samples: labelled.len(),
        pipeline_samples: pipeline.len(),
        params: params.clone(),
        rules,
        in_sample,
        cross_validated: Scores {
            legs: pooled_legs.finish(),
            end_to_end: pooled_end.finish(false),
        },
        per_fold,
    }
}

/// Formats a confusion matrix with class names, one row per true class.
fn write_matrix(
    f: &mut std::fmt::Formatter<'_>,
    matrix: &[Vec<f64>],
    unit: &str,
) -> std::fmt::Result {
    const NAMES: [&str; 6] = ["walk", "bike", "car", "bus", "rail", "none"];
    write!(f, "    {:<10}", format!("[{unit}]"))?;
    for name in NAMES {
        write!(f, "{name:>9}")?;
    }
    writeln!(f)?;
    for (row, name) in matrix.iter().zip(NAMES) {
        write!(f, "    {name:<10}")?;
        for v in row {
            write!(f, "{v:>9.0}")?;
        }
        writeln!(f)?;
    }
    Ok(())
}

impl std::fmt::Display for Scores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (l, e) = (&self.legs, &self.end_to_end);
        writeln!(
            f,
            "  labelled legs ({}): accuracy {:.3}, time-weighted {:.3}, macro-F1 {:.3}",
            l.legs, l.accuracy, l.time_weighted_accuracy, l.macro_f1
        )?;
        write!(
            f,
            "  end to end: time-weighted mode accuracy {:.3} (mean over devices), macro-F1 {:.3}",
            e.mode_accuracy, e.mode_macro_f1
        )?;
        match e.trip_f1 {
            Some(trip_f1) => writeln!(f, ", trip F1 {trip_f1:.3}"),
            None => writeln!(f),
        }
    }
}

impl std::fmt::Display for CvReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{} labelled-leg samples, {} pipeline-leg samples, {} runs in {} folds grouped by run",
            self.labelled_samples, self.pipeline_samples, self.runs, self.folds
        )?;
        writeln!(f, "\nrules (no training):\n{}", self.rules)?;
        writeln!(
            f,
            "in-sample (trained and scored on everything; optimistic):\n{}",
            self.in_sample
        )?;
        writeln!(
            f,
            "grouped cross-validation (held-out runs only; the honest figure):\n{}",
            self.cross_validated
        )?;
        writeln!(
            f,
            "  per fold (labelled-leg accuracy, time-weighted; end-to-end):"
        )?;
        for fold in &self.per_fold {
            writeln!(
                f,
                "    fold {}: {:>2} runs, {:>4} legs: {:.3}, {:.3}; {:.3}",
                fold.fold,
                fold.runs.len(),
                fold.scores.legs.legs,
                fold.scores.legs.accuracy,
                fold.scores.legs.time_weighted_accuracy,
                fold.scores.end_to_end.mode_accuracy
            )?;
        }
        writeln!(
            f,
            "  cross-validated labelled legs, confusion (rows truth):"
        )?;
        write_matrix(f, &self.cross_validated.legs.confusion_legs, "legs")?;
        write_matrix(f, &self.cross_validated.legs.confusion_seconds, "s")?;
        writeln!(f, "  cross-validated end to end, confusion (rows truth):")?;
        write_matrix(f, &self.cross_validated.end_to_end.confusion_seconds, "s")?;
        writeln!(f, "  cross-validated end-to-end accuracy per device:")?;
        for (device, accuracy) in &self.cross_validated.end_to_end.per_device {
            writeln!(f, "    {device:<22} {accuracy:.3}")?;
        }
        Ok(())
    }
}

impl CvReport {
    /// A one-line summary for the model file's description.
    pub fn summary(&self) -> String {
        let cv = &self.cross_validated;
        format!(
            "{} labelled legs + {} pipeline legs from {} runs; grouped {}-fold CV by run: \
             labelled-leg accuracy {:.3} (time-weighted {:.3}), end-to-end time-weighted \
             accuracy {:.3}, macro-F1 {:.3} (rules: {:.3})",
            self.labelled_samples,
            self.pipeline_samples,
            self.runs,
            self.folds,
            cv.legs.accuracy,
            cv.legs.time_weighted_accuracy,
            cv.end_to_end.mode_accuracy,
            cv.end_to_end.mode_macro_f1,
            self.rules.end_to_end.mode_accuracy
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::{GroundTruthLeg, GroundTruthTrip};

    fn t(s: i64) -> Timestamp {
        Timestamp(s * 1000)
    }

    /// A synthetic run: `walk_s` of walking at 1.3 m/s then `ride_s` of
    /// riding at `ride_mps`, one fix every 5 s.
    fn run(dataset: &mut Dataset, id: &str, start: i64, ride_mode: &str, ride_mps: f64) {
        let (walk_s, ride_s) = (600, 900);
        let mut fixes = Vec::new();
        let mut lat = 46.15;
        for k in 0..(walk_s + ride_s) / 5 {
            let secs = k * 5;
            let mps = if secs < walk_s { 1.3 } else { ride_mps };
            lat += mps * 5.0 / 111_195.0;
            let mut fix = Fix::new(t(start + secs), lat, -1.15);
            fix.accuracy_m = Some(10.0);
            fixes.push(fix);
        }
        let end = start + walk_s + ride_s;
        dataset.trips.push(GroundTruthTrip {
            run_id: id.into(),
            start: t(start),
            end: t(end),
            device: None,
        });
        for (mode, a, b) in [
            ("WALKING", start, start + walk_s),
            (ride_mode, start + walk_s, end),
        ] {
            dataset.legs.push(GroundTruthLeg {
                run_id: id.into(),
                mode: mode.into(),
                start: t(a),
                end: t(b),
                leg_type: "TRAVEL".into(),
            });
        }
        match dataset.devices.first_mut() {
            Some((_, all)) => all.extend(fixes),
            None => dataset.devices.push(("phone".into(), fixes)),
        }
    }

    fn dataset() -> Dataset {
        let mut d = Dataset::default();
        for i in 0..6 {
            let start = 1_600_000_000 + i * 20_000;
            let (mode, mps) = if i % 2 == 0 {
                ("BICYCLING", 4.5)
            } else {
                ("TRAIN", 25.0)
            };
            run(&mut d, &format!("run{i}"), start, mode, mps);
        }
        d
    }

    #[test]
    fn samples_come_from_labelled_legs() {
        let d = dataset();
        let samples = ground_truth_samples(&d, &AnalysisParams::default());
        assert_eq!(samples.len(), 12);
        let walks = samples
            .iter()
            .filter(|s| s.class == ModeClass::Walk)
            .count();
        assert_eq!(walks, 6);
        assert!(samples.iter().all(|s| s.features.duration_s > 500.0));
    }

    #[test]
    fn folds_keep_runs_whole_and_cover_all() {
        let d = dataset();
        let folds = fold_runs(&d, 3);
        assert_eq!(folds.len(), 3);
        let mut all: Vec<&String> = folds.iter().flatten().collect();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 6);
        assert!(folds.iter().all(|f| f.len() == 2));
    }

    #[test]
    fn cross_validation_on_an_easy_dataset() {
        let d = dataset();
        let params = TrainParams {
            gbdt: GbdtParams {
                rounds: 20,
                min_samples_leaf: 1,
                min_hessian: 0.01,
                learning_rate: 0.3,
                ..GbdtParams::default()
            },
            ..TrainParams::default()
        };
        let report = cross_validate_with(&d, 3, &params);
        assert_eq!(report.runs, 6);
        assert_eq!(report.per_fold.len(), 3);
        assert!(report.in_sample.legs.accuracy > 0.99, "{report:#?}");
        assert!(report.cross_validated.legs.accuracy > 0.99, "{report:#?}");
        assert!(
            report.cross_validated.end_to_end.mode_accuracy > 0.9,
            "{report:#?}"
        );
        let model = train(&d, &params);
        assert_eq!(
            model.classes,
            vec![Mode::Walking, Mode::Bicycle, Mode::RegionalTrain]
        );
    }
}
