//! Agreement with a reference pipeline's trips: e-mission's real examples
//! (`<name>.json.gz` raw export + `<name>.ground_truth.json.gz`, the
//! reference pipeline's hand-checked trips). Not independent labels: this
//! measures how close our segmentation is to e-mission's.

use crate::EvalError;
use crate::dataset::load_fixes;
use crate::score::{f1, match_trips, ratio};
use serde::Serialize;
use sillage_analysis::mode::ModeClassifier;
use sillage_analysis::{AnalysisParams, analyse};
use sillage_ingest::for_each_source;
use sillage_model::{Timestamp, ValidationRules};
use std::path::Path;

/// Agreement on one example.
#[derive(Clone, Debug, Serialize)]
pub struct ReferenceAgreement {
    /// Example name.
    pub example: String,
    /// Reference trips.
    pub reference_trips: usize,
    /// Our trips.
    pub detected_trips: usize,
    /// One-to-one matches at IoU ≥ 0.5.
    pub matched: usize,
}

/// Agreement over every example of `dir`.
#[derive(Clone, Debug, Serialize)]
pub struct ReferenceReport {
    /// Per example.
    pub examples: Vec<ReferenceAgreement>,
    /// Pooled precision (matched / detected).
    pub precision: f64,
    /// Pooled recall (matched / reference).
    pub recall: f64,
    /// Pooled F1.
    pub f1: f64,
}

fn read_gzip_json(path: &Path) -> Result<serde_json::Value, EvalError> {
    let mut bytes = Vec::new();
    for_each_source(path, &mut |mut entry| {
        std::io::Read::read_to_end(&mut entry.reader, &mut bytes).map(|_| ())
    })?;
    serde_json::from_slice(&bytes).map_err(|e| EvalError::Format {
        file: path.display().to_string(),
        line: e.line(),
        message: e.to_string(),
    })
}

/// Analyses every `<name>.json.gz` that has a `<name>.ground_truth.json.gz`
/// beside it and compares trips.
pub fn reference_agreement(
    dir: &Path,
    params: &AnalysisParams,
    classifier: &dyn ModeClassifier,
) -> Result<ReferenceReport, EvalError> {
    let mut names: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_suffix(".ground_truth.json.gz")
                .map(str::to_owned)
        })
        .collect();
    names.sort();
    let rules = ValidationRules {
        max_accuracy_m: f32::MAX,
        latest: Timestamp(i64::MAX),
    };
    let mut examples = Vec::new();
    for name in names {
        let raw = dir.join(format!("{name}.json.gz"));
        if !raw.exists() {
            continue;
        }
        let truth = read_gzip_json(&dir.join(format!("{name}.ground_truth.json.gz")))?;
        let reference: Vec<(Timestamp, Timestamp)> = truth["data"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter_map(|trip| {
                let p = &trip["properties"];
                Some((
                    Timestamp::from_epoch_seconds_f64(p["start_ts"].as_f64()?)?,
                    Timestamp::from_epoch_seconds_f64(p["end_ts"].as_f64()?)?,
                ))
            })
            .collect();
        let diary = analyse(&load_fixes(&raw, rules)?, params, classifier);
        let detected: Vec<(Timestamp, Timestamp)> =
            diary.trips.iter().map(|t| (t.start, t.end)).collect();
        examples.push(ReferenceAgreement {
            example: name,
            reference_trips: reference.len(),
            detected_trips: detected.len(),
            matched: match_trips(&detected, &reference),
        });
    }
    let sum = |f: fn(&ReferenceAgreement) -> usize| examples.iter().map(f).sum::<usize>() as f64;
    let (matched, detected, reference) = (
        sum(|e| e.matched),
        sum(|e| e.detected_trips),
        sum(|e| e.reference_trips),
    );
    let (precision, recall) = (ratio(matched, detected), ratio(matched, reference));
    let f1 = f1(precision, recall);
    Ok(ReferenceReport {
        examples,
        precision,
        recall,
        f1,
    })
}
