//! Reading a labelled dataset.

use crate::EvalError;
use sillage_ingest::{Collected, Emitter, for_each_source, parse_stream};
use sillage_model::{Fix, Timestamp, ValidationRules};
use std::collections::HashMap;
use std::path::Path;

/// A labelled trip.
#[derive(Clone, Debug, PartialEq)]
pub struct GroundTruthTrip {
    /// Run identifier (joins legs).
    pub run_id: String,
    /// Start.
    pub start: Timestamp,
    /// End.
    pub end: Timestamp,
    /// The device that recorded it, when the dataset says (an optional
    /// `device` column naming a file of `fixes/` without its extensions):
    /// a synthetic population's citizens travel at the same times, each
    /// with their own phone, whereas MobilityNet's phones all rode
    /// together and observed every trip.
    pub device: Option<String>,
}

/// A labelled leg.
#[derive(Clone, Debug, PartialEq)]
pub struct GroundTruthLeg {
    /// Run identifier.
    pub run_id: String,
    /// The dataset's mode label (e.g. `WALKING`, `BUS`, `STOPPED`).
    pub mode: String,
    /// Start.
    pub start: Timestamp,
    /// End.
    pub end: Timestamp,
    /// `TRAVEL`, `ACCESS`, `TRANSFER` or `WAITING` (empty when absent).
    pub leg_type: String,
}

/// A whole dataset in memory (datasets for evaluation are small).
#[derive(Clone, Debug, Default)]
pub struct Dataset {
    /// Fixes per device, in file-name order.
    pub devices: Vec<(String, Vec<Fix>)>,
    /// Labelled trips.
    pub trips: Vec<GroundTruthTrip>,
    /// Labelled legs.
    pub legs: Vec<GroundTruthLeg>,
}

impl Dataset {
    /// The labelled legs `device` took part in: all of them unless the
    /// trips name their device.
    pub fn legs_of<'a>(&'a self, device: &'a str) -> impl Iterator<Item = &'a GroundTruthLeg> {
        let others: std::collections::HashSet<&str> = self
            .trips
            .iter()
            .filter(|t| t.device.as_deref().is_some_and(|d| d != device))
            .map(|t| t.run_id.as_str())
            .collect();
        self.legs
            .iter()
            .filter(move |l| !others.contains(l.run_id.as_str()))
    }
}

/// Loads `trips.csv`, `legs.csv` and every file under `fixes/`.
pub fn load_dataset(dir: &Path) -> Result<Dataset, EvalError> {
    let trips = read_csv(&dir.join("trips.csv"))?
        .into_iter()
        .map(|(line, row, file)| {
            Ok(GroundTruthTrip {
                run_id: field(&row, "run_id", &file, line)?.to_owned(),
                start: seconds(field(&row, "start_ts", &file, line)?, &file, line)?,
                end: seconds(field(&row, "end_ts", &file, line)?, &file, line)?,
                device: row.get("device").filter(|d| !d.is_empty()).cloned(),
            })
        })
        .collect::<Result<Vec<_>, EvalError>>()?;
    let legs = read_csv(&dir.join("legs.csv"))?
        .into_iter()
        .map(|(line, row, file)| {
            Ok(GroundTruthLeg {
                run_id: field(&row, "run_id", &file, line)?.to_owned(),
                mode: field(&row, "mode", &file, line)?.to_owned(),
                start: seconds(field(&row, "start_ts", &file, line)?, &file, line)?,
                end: seconds(field(&row, "end_ts", &file, line)?, &file, line)?,
                leg_type: row.get("leg_type").cloned().unwrap_or_default(),
            })
        })
        .collect::<Result<Vec<_>, EvalError>>()?;
    let mut names: Vec<_> = std::fs::read_dir(dir.join("fixes"))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    names.sort();
    let mut devices = Vec::new();
    // Labelled data is historical: accept any past instant, keep every accuracy.
    let rules = ValidationRules {
        max_accuracy_m: f32::MAX,
        latest: Timestamp(i64::MAX),
    };
    for path in names {
        let device = path
            .file_name()
            .map(|n| {
                n.to_string_lossy()
                    .split('.')
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            })
            .unwrap_or_default();
        devices.push((device, load_fixes(&path, rules)?));
    }
    Ok(Dataset {
        devices,
        trips,
        legs,
    })
}

/// Every fix of a file (any importable format, gzip or zip included).
pub(crate) fn load_fixes(path: &Path, rules: ValidationRules) -> Result<Vec<Fix>, EvalError> {
    let file = path.display().to_string();
    let mut collected = Collected::default();
    for_each_source(path, &mut |entry| {
        parse_stream(entry.reader, &mut Emitter::new(&mut collected, rules))
            .map(|_| ())
            .map_err(|error| EvalError::Fixes {
                file: file.clone(),
                error,
            })
    })?;
    Ok(collected.fix_list())
}

type Row = HashMap<String, String>;

/// A header-first CSV without quoted commas (the dataset's own files).
fn read_csv(path: &Path) -> Result<Vec<(usize, Row, String)>, EvalError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| std::io::Error::new(e.kind(), format!("{file}: {e}")))?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    Ok(lines
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let row = header
                .iter()
                .map(|h| h.to_string())
                .zip(l.split(',').map(str::to_owned))
                .collect();
            (i + 2, row, file.clone())
        })
        .collect())
}

fn field<'r>(row: &'r Row, name: &str, file: &str, line: usize) -> Result<&'r str, EvalError> {
    row.get(name)
        .map(String::as_str)
        .ok_or_else(|| EvalError::Format {
            file: file.to_owned(),
            line,
            message: format!("missing column {name}"),
        })
}

fn seconds(text: &str, file: &str, line: usize) -> Result<Timestamp, EvalError> {
    text.trim()
        .parse::<f64>()
        .ok()
        .and_then(Timestamp::from_epoch_seconds_f64)
        .ok_or_else(|| EvalError::Format {
            file: file.to_owned(),
            line,
            message: format!("{text:?} is not epoch seconds"),
        })
}
