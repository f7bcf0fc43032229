//! What a planner takes away: each released result as GeoJSON (zones,
//! flows and cells with their counts and intervals; opens in QGIS), as CSV,
//! and a machine-readable metadata file saying how to read it (the
//! campaign's hash, contributors, ε, k, the noise and the suppression rule).

use crate::store::Release;
use serde_json::{Value, json};
use sillage_campaign::{CampaignSpec, SignedCampaign};
use sillage_catalogue::{CellLabel, MeasurementSpec, Zone, ZoneGeometry};
use sillage_collector::PublishedCell;
use std::fmt::Write as _;

/// Why a cell has no number, in the exports' words.
pub const SUPPRESSION_REASON: &str =
    "suppressed: noisy value below the campaign threshold or below twice the 95 % half-width";

fn sha256_hex(text: &str) -> String {
    use sha2::{Digest, Sha256};
    sillage_dap::bytes::hex(&Sha256::digest(text.as_bytes()))
}

/// How to read a release: everything a reuser needs besides the cells.
pub fn metadata(spec: &CampaignSpec, signed: &SignedCampaign, release: &Release) -> Value {
    let measurement = spec
        .measurements
        .iter()
        .find(|m| m.id == release.measurement_id);
    let wave = spec.waves.iter().find(|w| w.id == release.wave_id);
    let r = &release.result;
    json!({
        "campaign": spec.id,
        "campaign_title": { "fr": spec.title.fr, "en": spec.title.en },
        "controller": spec.controller.name,
        "spec_sha256": sha256_hex(&signed.spec),
        "signer_public_key": signed.signer,
        "wave": release.wave_id,
        "wave_start": wave.map(|w| w.start),
        "wave_end": wave.map(|w| w.end),
        "measurement": release.measurement_id,
        "measurement_kind": measurement.map(|m| kind(&m.spec)),
        "cap_per_citizen": measurement.map(|m| m.spec.cap()),
        "task_id": release.task_id,
        "contributors": r.contributors,
        "min_contributors_k": spec.min_contributors,
        "epsilon": r.epsilon,
        "noise": "discrete Laplace added by each of the two aggregators",
        "noise_scale_per_aggregator": r.noise_scale,
        "noise_sd": r.noise_sd,
        "confidence": 0.95,
        "interval_half_width": r.interval_half_width,
        "suppression_threshold": r.suppression_threshold,
        "suppression_rule": "a cell is published only when its noisy value is at least the threshold and at least twice the interval's half-width",
        "cells": r.cells.len(),
        "cells_released": r.cells.iter().filter(|c| !c.suppressed).count(),
        "collected_at": release.collected_at,
        "open_data": spec.open_data,
        "licence": if spec.open_data { "Licence Ouverte / Open Licence 2.0" } else { "restricted" },
    })
}

fn kind(spec: &MeasurementSpec) -> &'static str {
    match spec {
        MeasurementSpec::OdMatrix { .. } => "od_matrix",
        MeasurementSpec::H3Cells { .. } => "h3_cells",
        MeasurementSpec::ModalShare { .. } => "modal_share",
        MeasurementSpec::DistanceHistogram { .. } => "distance_histogram",
        MeasurementSpec::StreetSegments { .. } => "street_segments",
    }
}

fn cell_properties(
    index: usize,
    label: &CellLabel,
    cell: &PublishedCell,
    release: &Release,
) -> Value {
    let (low, high) = cell
        .interval_95
        .map_or((None, None), |(l, h)| (Some(l), Some(h)));
    json!({
        "cell": index,
        "origin": label.origin,
        "destination": label.destination,
        "h3_cell": label.h3_cell,
        "mode_group": label.mode_group.map(|g| g.as_str()),
        "time_band": label.time_band,
        "distance_km_from": label.distance_km.map(|d| d.0),
        "distance_km_to": label.distance_km.and_then(|d| d.1),
        "unit": if label.in_km { "km" } else { "trips" },
        "value": cell.value,
        "ci95_low": low,
        "ci95_high": high,
        "suppressed": cell.suppressed,
        "reason": cell.suppressed.then_some(SUPPRESSION_REASON),
        "contributors": release.result.contributors,
        "epsilon": release.result.epsilon,
    })
}

fn point(p: sillage_model::GeoPoint) -> [f64; 2] {
    [p.lon, p.lat]
}

/// The cell's geometry: the flow between zone centres (a point within a
/// zone), the H3 hexagon, or none for shares and distances.
fn geometry(spec: &MeasurementSpec, label: &CellLabel) -> Value {
    match spec {
        MeasurementSpec::OdMatrix { zones, .. } => {
            let centre = |k: Option<usize>| k.and_then(|k| zones.zones.get(k)).and_then(Zone::centroid);
            match (centre(label.origin_zone), centre(label.destination_zone)) {
                (Some(o), Some(_)) if label.origin_zone == label.destination_zone => {
                    json!({ "type": "Point", "coordinates": point(o) })
                }
                (Some(o), Some(d)) => {
                    json!({ "type": "LineString", "coordinates": [point(o), point(d)] })
                }
                _ => Value::Null,
            }
        }
        MeasurementSpec::H3Cells { .. } => label.h3_cell.as_ref().map_or(Value::Null, |cell| {
            let zone = Zone {
                id: cell.clone(),
                name: cell.clone(),
                geometry: ZoneGeometry::H3 { cell: cell.clone() },
            };
            json!({ "type": "Polygon", "coordinates": zone.outline().into_iter().next().unwrap_or_default() })
        }),
        _ => Value::Null,
    }
}

/// The release as a GeoJSON FeatureCollection, one feature per cell
/// (WGS 84, `[lon, lat]`); cells without a place have a null geometry.
pub fn geojson(spec: &CampaignSpec, release: &Release) -> Value {
    let Some(measurement) = spec
        .measurements
        .iter()
        .find(|m| m.id == release.measurement_id)
    else {
        return json!({ "type": "FeatureCollection", "features": [] });
    };
    let features: Vec<Value> = release
        .result
        .cells
        .iter()
        .enumerate()
        .map(|(index, cell)| {
            let label = measurement.spec.label(index);
            json!({
                "type": "Feature",
                "id": index,
                "geometry": geometry(&measurement.spec, &label),
                "properties": cell_properties(index, &label, cell, release),
            })
        })
        .collect();
    json!({ "type": "FeatureCollection", "name": format!("{}-{}-{}", spec.id, release.wave_id, release.measurement_id), "features": features })
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// The release as CSV, one row per cell, the same columns as the GeoJSON's
/// properties.
pub fn csv(spec: &CampaignSpec, release: &Release) -> String {
    const COLUMNS: [&str; 16] = [
        "cell",
        "origin",
        "destination",
        "h3_cell",
        "mode_group",
        "time_band",
        "distance_km_from",
        "distance_km_to",
        "unit",
        "value",
        "ci95_low",
        "ci95_high",
        "suppressed",
        "reason",
        "contributors",
        "epsilon",
    ];
    let mut out = COLUMNS.join(",");
    out.push('\n');
    let Some(measurement) = spec
        .measurements
        .iter()
        .find(|m| m.id == release.measurement_id)
    else {
        return out;
    };
    for (index, cell) in release.result.cells.iter().enumerate() {
        let properties = cell_properties(index, &measurement.spec.label(index), cell, release);
        let row: Vec<String> = COLUMNS
            .iter()
            .map(|c| match &properties[*c] {
                Value::Null => String::new(),
                Value::String(s) => csv_field(s),
                other => other.to_string(),
            })
            .collect();
        let _ = writeln!(out, "{}", row.join(","));
    }
    out
}
