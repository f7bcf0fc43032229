//! The full export of a citizen's store (GDPR Art. 20): one ZIP with the
//! raw fixes in three open formats, the diary, places, imports, settings,
//! consent records and the transparency log, and a README that documents
//! every file. Nothing in it needs Sillage to be read.

use crate::{ExportFormat, FixWriter};
use serde_json::{Value, json};
use sillage_model::{Fix, Timestamp, Trip};
use sillage_store::{CitizenStore, StoreError};
use std::io::{Seek, Write};
use zip::write::SimpleFileOptions;

/// Why an archive could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// Reading the store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Writing the archive failed.
    #[error("writing the archive: {0}")]
    Io(#[from] std::io::Error),
    /// The ZIP library failed.
    #[error("writing the archive: {0}")]
    Zip(#[from] zip::result::ZipError),
}

/// What the archive's README says; kept beside the code that writes the
/// files so the two change together.
const README: &str = include_str!("archive-readme.md");

/// Colour of a mode group on maps (colour-blind-safe palette, Okabe–Ito).
pub fn mode_colour(mode: sillage_model::Mode) -> &'static str {
    use sillage_model::ModeGroup;
    match mode.group() {
        ModeGroup::Walk => "#009E73",
        ModeGroup::Bike => "#0072B2",
        ModeGroup::Car => "#D55E00",
        ModeGroup::Bus => "#E69F00",
        ModeGroup::Rail => "#CC79A7",
        ModeGroup::Other => "#555555",
    }
}

/// A trip as GeoJSON: one LineString per leg (from the fixes recorded
/// during it) with the leg's mode, colour and footprint, and the trip's
/// two ends as Points. `fixes` are the device's fixes over the trip.
pub fn trip_features(trip: &Trip, fixes: &[Fix]) -> Vec<Value> {
    let mut features = Vec::with_capacity(trip.legs.len() + 2);
    for (index, leg) in trip.legs.iter().enumerate() {
        let line: Vec<[f64; 2]> = fixes
            .iter()
            .filter(|f| f.time >= leg.start && f.time <= leg.end)
            .map(|f| [round6(f.lon), round6(f.lat)])
            .collect();
        if line.len() < 2 {
            continue;
        }
        features.push(json!({
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": line},
            "properties": {
                "trip_id": trip.id, "leg": index, "mode": leg.mode.as_str(),
                "colour": mode_colour(leg.mode),
                "start": leg.start.to_rfc3339(), "end": leg.end.to_rfc3339(),
                "distance_m": leg.distance_m.round(), "co2_g": leg.co2_g.map(f64::round),
                "kcal": leg.kcal.round(), "confidence": leg.confidence,
            }
        }));
    }
    for (end, point, time) in [
        ("origin", trip.origin, trip.start),
        ("destination", trip.destination, trip.end),
    ] {
        features.push(json!({
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [round6(point.lon), round6(point.lat)]},
            "properties": {"trip_id": trip.id, "end": end, "time": time.to_rfc3339()},
        }));
    }
    features
}

/// Streams every fix of the store into `out` in `format`, in time order;
/// returns the writer and how many fixes were written.
pub async fn export_fixes<W: Write>(
    store: &CitizenStore,
    out: W,
    format: ExportFormat,
) -> Result<(W, u64), ArchiveError> {
    let mut writer = FixWriter::new(out, format)?;
    let mut failure = None;
    store
        .for_each_fix(None, |stored| {
            // The store's callback cannot fail with an I/O error: keep the
            // first one and stop writing.
            if failure.is_none()
                && let Err(e) = writer.write(&stored.device, &stored.fix)
            {
                failure = Some(e);
            }
            Ok(())
        })
        .await?;
    if let Some(e) = failure {
        return Err(e.into());
    }
    Ok(writer.finish()?)
}

/// Writes the whole store as a ZIP into `out`.
pub async fn write_archive<W: Write + Seek>(
    store: &CitizenStore,
    out: W,
) -> Result<W, ArchiveError> {
    let mut zip = zip::ZipWriter::new(out);
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("README.md", options)?;
    zip.write_all(README.as_bytes())?;

    for format in [ExportFormat::Csv, ExportFormat::GeoJson, ExportFormat::Gpx] {
        zip.start_file(format!("fixes.{}", format.extension()), options)?;
        export_fixes(store, &mut zip, format).await?;
    }

    let trips = store
        .trips_between(Timestamp(i64::MIN), Timestamp(i64::MAX))
        .await?;
    zip.start_file("trips.csv", options)?;
    write_trips_csv(&mut zip, &trips)?;
    zip.start_file("legs.csv", options)?;
    write_legs_csv(&mut zip, &trips)?;

    let mut features = Vec::new();
    for trip in &trips {
        let fixes = store
            .device_fixes(&trip.device, trip.start, Timestamp(trip.end.0 + 1))
            .await?;
        features.extend(trip_features(trip, &fixes));
    }
    write_json(
        &mut zip,
        "trips.geojson",
        &json!({"type": "FeatureCollection", "features": features}),
        options,
    )?;
    write_json(
        &mut zip,
        "places.json",
        &serde_json::to_value(store.places().await?).unwrap_or_default(),
        options,
    )?;
    write_json(
        &mut zip,
        "imports.json",
        &serde_json::to_value(store.imports().await?).unwrap_or_default(),
        options,
    )?;
    write_json(
        &mut zip,
        "settings.json",
        &serde_json::to_value(store.settings().await?).unwrap_or_default(),
        options,
    )?;
    let mut corrections = Vec::new();
    for device in store.devices().await? {
        for correction in store.corrections(&device).await? {
            corrections.push(serde_json::to_value(correction).unwrap_or_default());
        }
    }
    write_json(
        &mut zip,
        "corrections.json",
        &Value::Array(corrections),
        options,
    )?;
    let consents: Vec<Value> = store
        .consent_history(None)
        .await?
        .into_iter()
        .map(|event| serde_json::from_str(&event.record).unwrap_or(Value::String(event.record)))
        .collect();
    write_json(
        &mut zip,
        "consent-records.json",
        &Value::Array(consents),
        options,
    )?;
    zip.start_file("transparency-log.jsonl", options)?;
    for entry in store.disclosures().await? {
        writeln!(zip, "{entry}")?;
    }
    Ok(zip.finish()?)
}

fn write_json<W: Write + Seek>(
    zip: &mut zip::ZipWriter<W>,
    name: &str,
    value: &Value,
    options: SimpleFileOptions,
) -> Result<(), ArchiveError> {
    zip.start_file(name, options)?;
    serde_json::to_writer_pretty(&mut *zip, value).map_err(std::io::Error::from)?;
    Ok(())
}

fn write_trips_csv(out: &mut impl Write, trips: &[Trip]) -> std::io::Result<()> {
    writeln!(
        out,
        "trip_id,device,start,end,distance_m,origin_lat,origin_lon,destination_lat,destination_lon,\
         origin_place_id,destination_place_id,purpose,purpose_source,private,co2_g,kcal"
    )?;
    for t in trips {
        writeln!(
            out,
            "{},{},{},{},{:.0},{:.6},{:.6},{:.6},{:.6},{},{},{},{},{},{},{:.0}",
            t.id,
            csv_field(&t.device),
            t.start,
            t.end,
            t.distance_m,
            t.origin.lat,
            t.origin.lon,
            t.destination.lat,
            t.destination.lon,
            opt(t.origin_place_id),
            opt(t.destination_place_id),
            t.purpose.map_or("", |p| p.as_str()),
            t.purpose_source.map_or("", |s| s.as_str()),
            t.private,
            t.co2_g().map_or(String::new(), |g| format!("{g:.0}")),
            t.kcal()
        )?;
    }
    Ok(())
}

fn write_legs_csv(out: &mut impl Write, trips: &[Trip]) -> std::io::Result<()> {
    writeln!(
        out,
        "trip_id,leg,start,end,mode,mode_source,confidence,inferred_mode,distance_m,co2_g,co2_factor_version,kcal"
    )?;
    for t in trips {
        for (i, l) in t.legs.iter().enumerate() {
            writeln!(
                out,
                "{},{i},{},{},{},{},{:.2},{},{:.0},{},{},{:.0}",
                t.id,
                l.start,
                l.end,
                l.mode.as_str(),
                l.mode_source.as_str(),
                l.confidence,
                l.inferred_mode.as_str(),
                l.distance_m,
                l.co2_g.map_or(String::new(), |g| format!("{g:.0}")),
                csv_field(l.co2_factor_version.as_deref().unwrap_or("")),
                l.kcal
            )?;
        }
    }
    Ok(())
}

fn opt(value: Option<i64>) -> String {
    value.map_or(String::new(), |v| v.to_string())
}

/// Quotes a CSV field when it needs it (RFC 4180).
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}
