//! Writing a population as a labelled dataset laid out like
//! `shared/data/mobilitynet`: `fixes/<citizen>.<ext>` in each citizen's
//! format, `trips.csv` and `legs.csv` (with a `device` column, since each
//! citizen travels alone, and a `purpose` column).

use crate::SynthError;
use crate::people::Citizen;
use sillage_model::Timestamp;
use sillage_model::paris_offset_min;
use sillage_testdata::trace::write_trace;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> SynthError + '_ {
    move |source| SynthError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// The file a citizen's trace is written to, under `dir`.
pub fn trace_path(dir: &Path, citizen: &Citizen) -> PathBuf {
    let extension = citizen
        .format
        .file_name()
        .rsplit_once('.')
        .map_or("txt", |(_, e)| e);
    dir.join(format!("{}.{extension}", citizen.name))
}

/// Writes one citizen's trace in their format under `dir`; returns its path.
pub fn write_citizen_trace(dir: &Path, citizen: &Citizen) -> Result<PathBuf, SynthError> {
    std::fs::create_dir_all(dir).map_err(io_error(dir))?;
    let path = trace_path(dir, citizen);
    let file = std::fs::File::create(&path).map_err(io_error(&path))?;
    let mut out = BufWriter::new(file);
    let offset = citizen
        .fixes
        .first()
        .map_or(60, |f| i32::from(paris_offset_min(Timestamp(f.time_ms))));
    write_trace(
        citizen.format,
        &citizen.fixes,
        &citizen.name,
        offset,
        &mut out,
    )
    .and_then(|()| out.flush())
    .map_err(io_error(&path))?;
    Ok(path)
}

fn seconds(ms: i64) -> String {
    format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
}

/// Writes `trips.csv` and `legs.csv` of the citizens under `dir`.
pub fn write_truth(dir: &Path, citizens: &[Citizen]) -> Result<(), SynthError> {
    std::fs::create_dir_all(dir).map_err(io_error(dir))?;
    let trips_path = dir.join("trips.csv");
    let legs_path = dir.join("legs.csv");
    let mut trips =
        BufWriter::new(std::fs::File::create(&trips_path).map_err(io_error(&trips_path))?);
    let mut legs = BufWriter::new(std::fs::File::create(&legs_path).map_err(io_error(&legs_path))?);
    let mut write = || -> std::io::Result<()> {
        writeln!(
            trips,
            "run_id,timeline,spec_id,trip_id,start_ts,end_ts,device,purpose"
        )?;
        writeln!(
            legs,
            "run_id,timeline,spec_id,trip_id,leg_index,mode,start_ts,end_ts,leg_id,leg_type"
        )?;
        for citizen in citizens {
            for trip in &citizen.trips {
                let trip_id = trip.run_id.rsplit(':').next().unwrap_or_default();
                writeln!(
                    trips,
                    "{},synthetic,synthetic,{trip_id},{},{},{},{}",
                    trip.run_id,
                    seconds(trip.start_ms),
                    seconds(trip.end_ms),
                    trip.device,
                    trip.purpose.as_str()
                )?;
                for (k, leg) in trip.legs.iter().enumerate() {
                    writeln!(
                        legs,
                        "{},synthetic,synthetic,{trip_id},{k},{},{},{},{}_{k},{}",
                        trip.run_id,
                        leg.mode_label(),
                        seconds(leg.start_ms),
                        seconds(leg.end_ms),
                        trip_id,
                        leg.leg_type.label()
                    )?;
                }
            }
        }
        trips.flush()?;
        legs.flush()
    };
    write().map_err(io_error(dir))
}

/// Writes the whole labelled dataset under `dir`: `fixes/`, `trips.csv`,
/// `legs.csv`.
pub fn write_dataset(dir: &Path, citizens: &[Citizen]) -> Result<(), SynthError> {
    for citizen in citizens {
        write_citizen_trace(&dir.join("fixes"), citizen)?;
    }
    write_truth(dir, citizens)
}
