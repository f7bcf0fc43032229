//! Scoring detected trips and legs against the labels.

use crate::dataset::{Dataset, GroundTruthLeg, GroundTruthTrip};
use serde::Serialize;
use sillage_analysis::mode::ModeClassifier;
use sillage_analysis::{AnalysisParams, Diary, analyse};
use sillage_model::{ModeGroup, Timestamp};
use std::collections::{HashMap, HashSet};

/// The five classes modes are scored on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ModeClass {
    /// Walking (incl. access and transfer walks).
    Walk,
    /// Bicycle, e-bike, e-scooter.
    Bike,
    /// Car.
    Car,
    /// Bus.
    Bus,
    /// Train, subway, light rail.
    Rail,
}

impl ModeClass {
    /// All classes, in matrix order.
    pub const ALL: [ModeClass; 5] = [Self::Walk, Self::Bike, Self::Car, Self::Bus, Self::Rail];

    /// The class of a dataset label; `None` for waiting and unknown labels.
    pub fn from_label(label: &str) -> Option<Self> {
        Some(match label {
            "WALKING" | "RUNNING" | "walk" | "run" => Self::Walk,
            "BICYCLING" | "E_BIKE" | "ESCOOTER" | "bike" => Self::Bike,
            "CAR" | "car" | "taxi" => Self::Car,
            "BUS" | "bus" => Self::Bus,
            "TRAIN" | "SUBWAY" | "LIGHT_RAIL" | "train" | "subway" => Self::Rail,
            _ => return None,
        })
    }

    fn from_group(group: ModeGroup) -> Option<Self> {
        Some(match group {
            ModeGroup::Walk => Self::Walk,
            ModeGroup::Bike => Self::Bike,
            ModeGroup::Car => Self::Car,
            ModeGroup::Bus => Self::Bus,
            ModeGroup::Rail => Self::Rail,
            ModeGroup::Other => return None,
        })
    }

    fn index(self) -> usize {
        Self::ALL.iter().position(|c| *c == self).unwrap_or(0)
    }
}

/// Minimum usable fixes a device must have inside a labelled trip for that
/// trip to count for the device: a phone that recorded nothing during a run
/// (power-control phones, files missing upstream), or only cell-tower
/// positions kilometres wide (medium-accuracy duty-cycled configurations),
/// cannot be blamed for missing it. "Usable" = passing the analysis's own
/// accuracy filter. Recall over every trip with any fix is reported too.
pub const MIN_FIXES_TO_OBSERVE: usize = 3;

/// Scores of one device.
#[derive(Clone, Debug, Serialize)]
pub struct DeviceScore {
    /// Device (file stem).
    pub device: String,
    /// Labelled trips the device observed.
    pub observed_trips: usize,
    /// Detected trips.
    pub detected_trips: usize,
    /// Detected trips matched to an observed labelled trip (IoU ≥ 0.5).
    pub matched_trips: usize,
    /// Labelled trips with at least 3 fixes of any accuracy.
    pub trips_with_any_fixes: usize,
    /// Matched trips over `trips_with_any_fixes`.
    pub trip_recall_any_fixes: f64,
    /// Precision of trip detection.
    pub trip_precision: f64,
    /// Recall of trip detection.
    pub trip_recall: f64,
    /// F1 of trip detection.
    pub trip_f1: f64,
    /// Labelled leg time scored, s.
    pub leg_seconds: f64,
    /// Time-weighted mode accuracy.
    pub mode_accuracy: f64,
}

/// The evaluation's result.
#[derive(Clone, Debug, Serialize)]
pub struct EvalReport {
    /// Devices scored (those that observed at least one labelled trip).
    pub devices: usize,
    /// Devices skipped because they observed no labelled trip.
    pub devices_without_observed_trips: Vec<String>,
    /// Trip precision, averaged over devices.
    pub trip_precision: f64,
    /// Trip recall, averaged over devices.
    pub trip_recall: f64,
    /// Trip F1, averaged over devices.
    pub trip_f1: f64,
    /// Recall over every labelled trip with any 3 fixes, whatever their
    /// accuracy, averaged over devices.
    pub trip_recall_any_fixes: f64,
    /// Time-weighted mode accuracy, averaged over devices.
    pub mode_accuracy: f64,
    /// Macro-F1 over the five classes, from the pooled time-weighted matrix.
    pub mode_macro_f1: f64,
    /// Pooled confusion matrix in seconds: rows = truth (walk, bike, car,
    /// bus, rail), columns = prediction (same order, then "none" for labelled
    /// time no detected leg covered or predicted as another mode group).
    pub confusion_seconds: Vec<Vec<f64>>,
    /// Per-device detail.
    pub per_device: Vec<DeviceScore>,
}

fn iou(a: (Timestamp, Timestamp), b: (Timestamp, Timestamp)) -> f64 {
    let inter = (a.1.0.min(b.1.0) - a.0.0.max(b.0.0)).max(0) as f64;
    let union = (a.1.0.max(b.1.0) - a.0.0.min(b.0.0)).max(1) as f64;
    inter / union
}

/// Greedy one-to-one matching by decreasing IoU; returns the number of pairs
/// with IoU ≥ 0.5.
pub(crate) fn match_trips(
    detected: &[(Timestamp, Timestamp)],
    truth: &[(Timestamp, Timestamp)],
) -> usize {
    let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
    for (i, d) in detected.iter().enumerate() {
        for (j, t) in truth.iter().enumerate() {
            let v = iou(*d, *t);
            if v >= 0.5 {
                pairs.push((v, i, j));
            }
        }
    }
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (mut used_d, mut used_t) = (vec![false; detected.len()], vec![false; truth.len()]);
    let mut matched = 0;
    for (_, i, j) in pairs {
        if !used_d[i] && !used_t[j] {
            used_d[i] = true;
            used_t[j] = true;
            matched += 1;
        }
    }
    matched
}

/// `n / d`, 0 when `d` is 0.
pub(crate) fn ratio(n: f64, d: f64) -> f64 {
    if d > 0.0 { n / d } else { 0.0 }
}

/// Harmonic mean of precision and recall.
pub(crate) fn f1(p: f64, r: f64) -> f64 {
    if p + r > 0.0 {
        2.0 * p * r / (p + r)
    } else {
        0.0
    }
}

/// Adds the labelled time of `leg`, split by the predicted class covering
/// each part, to `confusion` (column 5 = not covered / other group).
fn score_leg(
    leg: &GroundTruthLeg,
    truth: ModeClass,
    diary: &Diary,
    confusion: &mut [[f64; 6]; 5],
) -> f64 {
    let (start, end) = (leg.start.0, leg.end.0);
    let total = (end - start).max(0) as f64 / 1000.0;
    let mut covered = 0.0;
    for trip in &diary.trips {
        if trip.end.0 <= start || trip.start.0 >= end {
            continue;
        }
        for l in &trip.legs {
            let overlap = (l.end.0.min(end) - l.start.0.max(start)).max(0) as f64 / 1000.0;
            if overlap > 0.0 {
                let column =
                    ModeClass::from_group(l.guess.mode.group()).map_or(5, ModeClass::index);
                confusion[truth.index()][column] += overlap;
                covered += overlap;
            }
        }
    }
    confusion[truth.index()][5] += (total - covered).max(0.0);
    total
}

/// The labelled trip closest in time to a detected one: the one it overlaps
/// most, or else the one with the shortest gap.
fn nearest_trip(
    detected: (Timestamp, Timestamp),
    trips: &[GroundTruthTrip],
) -> Option<&GroundTruthTrip> {
    trips.iter().min_by_key(|t| {
        let overlap = detected.1.0.min(t.end.0) - detected.0.0.max(t.start.0);
        // Negative overlap is the gap; more overlap ranks first.
        -overlap
    })
}

/// Analyses every device of the dataset and scores it.
pub fn evaluate(
    dataset: &Dataset,
    params: &AnalysisParams,
    classifier: &dyn ModeClassifier,
) -> EvalReport {
    evaluate_runs(dataset, params, classifier, None)
}

/// Like [`evaluate`], but scores only the labelled trips (and their legs)
/// of the given runs, for cross-validation: each device is still analysed
/// whole, as in production, and a detected trip counts against precision
/// only if the labelled trip nearest in time is one of these runs, so the
/// folds of a cross-validation partition the detected trips too.
pub fn evaluate_runs(
    dataset: &Dataset,
    params: &AnalysisParams,
    classifier: &dyn ModeClassifier,
    runs: Option<&HashSet<String>>,
) -> EvalReport {
    let selected = |t: &GroundTruthTrip| runs.is_none_or(|r| r.contains(&t.run_id));
    let mut pooled = [[0.0f64; 6]; 5];
    let mut per_device = Vec::new();
    let mut skipped = Vec::new();
    // A synthetic population has tens of thousands of labelled legs: index
    // them by run once rather than scanning them for every trip.
    let mut legs_by_run: HashMap<&str, Vec<&GroundTruthLeg>> = HashMap::new();
    for leg in dataset.legs.iter().filter(|l| l.leg_type != "WAITING") {
        legs_by_run
            .entry(leg.run_id.as_str())
            .or_default()
            .push(leg);
    }
    for (device, fixes) in &dataset.devices {
        let mut fixes = fixes.clone();
        fixes.sort_by_key(|f| f.time);
        let fixes_in = |t: &GroundTruthTrip, usable_only: bool| {
            if t.device.as_ref().is_some_and(|d| d != device) {
                return 0;
            }
            let first = fixes.partition_point(|f| f.time < t.start);
            let end = fixes.partition_point(|f| f.time <= t.end);
            fixes[first..end]
                .iter()
                .filter(|f| !usable_only || f.accuracy_m.is_none_or(|a| a <= params.max_accuracy_m))
                .count()
        };
        let observed: Vec<&GroundTruthTrip> = dataset
            .trips
            .iter()
            .filter(|t| selected(t) && fixes_in(t, true) >= MIN_FIXES_TO_OBSERVE)
            .collect();
        let with_any: Vec<(Timestamp, Timestamp)> = dataset
            .trips
            .iter()
            .filter(|t| selected(t) && fixes_in(t, false) >= MIN_FIXES_TO_OBSERVE)
            .map(|t| (t.start, t.end))
            .collect();
        if observed.is_empty() {
            skipped.push(device.clone());
            continue;
        }
        let diary = analyse(&fixes, params, classifier);
        let detected: Vec<(Timestamp, Timestamp)> = diary
            .trips
            .iter()
            .map(|t| (t.start, t.end))
            .filter(|d| runs.is_none() || nearest_trip(*d, &dataset.trips).is_some_and(selected))
            .collect();
        let truth: Vec<(Timestamp, Timestamp)> =
            observed.iter().map(|t| (t.start, t.end)).collect();
        let matched = match_trips(&detected, &truth);
        let precision = if detected.is_empty() {
            0.0
        } else {
            matched as f64 / detected.len() as f64
        };
        let recall = matched as f64 / truth.len() as f64;
        let matched_any = match_trips(&detected, &with_any);

        let mut confusion = [[0.0f64; 6]; 5];
        let mut leg_seconds = 0.0;
        for trip in &observed {
            for leg in legs_by_run.get(trip.run_id.as_str()).into_iter().flatten() {
                if let Some(class) = ModeClass::from_label(&leg.mode) {
                    leg_seconds += score_leg(leg, class, &diary, &mut confusion);
                }
            }
        }
        let correct: f64 = (0..5).map(|k| confusion[k][k]).sum();
        for (row, pooled_row) in confusion.iter().zip(pooled.iter_mut()) {
            for (c, p) in row.iter().zip(pooled_row.iter_mut()) {
                *p += c;
            }
        }
        per_device.push(DeviceScore {
            device: device.clone(),
            observed_trips: truth.len(),
            detected_trips: detected.len(),
            matched_trips: matched,
            trips_with_any_fixes: with_any.len(),
            trip_recall_any_fixes: matched_any as f64 / with_any.len().max(1) as f64,
            trip_precision: precision,
            trip_recall: recall,
            trip_f1: f1(precision, recall),
            leg_seconds,
            mode_accuracy: if leg_seconds > 0.0 {
                correct / leg_seconds
            } else {
                0.0
            },
        });
    }
    let n = per_device.len().max(1) as f64;
    let mean = |f: fn(&DeviceScore) -> f64| per_device.iter().map(f).sum::<f64>() / n;
    let class_f1: Vec<f64> = (0..5)
        .map(|k| {
            let tp = pooled[k][k];
            let truth_total: f64 = pooled[k].iter().sum();
            let predicted_total: f64 = (0..5).map(|r| pooled[r][k]).sum();
            f1(ratio(tp, predicted_total), ratio(tp, truth_total))
        })
        .collect();
    let present: Vec<f64> = (0..5)
        .filter(|&k| pooled[k].iter().sum::<f64>() > 0.0)
        .map(|k| class_f1[k])
        .collect();
    EvalReport {
        devices: per_device.len(),
        devices_without_observed_trips: skipped,
        trip_precision: mean(|d| d.trip_precision),
        trip_recall: mean(|d| d.trip_recall),
        trip_f1: mean(|d| d.trip_f1),
        trip_recall_any_fixes: mean(|d| d.trip_recall_any_fixes),
        mode_accuracy: mean(|d| d.mode_accuracy),
        mode_macro_f1: present.iter().sum::<f64>() / present.len().max(1) as f64,
        confusion_seconds: pooled.iter().map(|r| r.to_vec()).collect(),
        per_device,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> Timestamp {
        Timestamp(s * 1000)
    }

    #[test]
    fn matching_is_one_to_one_at_half_overlap() {
        let truth = [(t(0), t(100)), (t(200), t(300))];
        // One good match, one detected trip covering both (IoU < 0.5), one
        // duplicate of the first.
        let detected = [(t(5), t(95)), (t(0), t(300)), (t(10), t(100))];
        assert_eq!(match_trips(&detected, &truth), 1);
        assert!((iou((t(0), t(100)), (t(50), t(150))) - 1.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn labels_map_to_classes() {
        assert_eq!(ModeClass::from_label("ESCOOTER"), Some(ModeClass::Bike));
        assert_eq!(ModeClass::from_label("LIGHT_RAIL"), Some(ModeClass::Rail));
        assert_eq!(ModeClass::from_label("STOPPED"), None);
    }
}
