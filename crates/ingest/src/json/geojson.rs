//! GeoJSON (timed Point features, LineStrings with per-coordinate times) and
//! Overland batches, which are GeoJSON Point features under `locations`.

use super::{EachElement, KeyHandler, run_object};
use crate::field::{epoch_guess, parse_time_text};
use crate::{Emitter, IngestError};
use serde::Deserialize;
use serde::de::MapAccess;
use serde_json::{Map, Value};
use sillage_model::{Fix, RejectReason, SourceHint, Timestamp};
use std::io::BufRead;

#[derive(Deserialize)]
struct Feature {
    geometry: Option<Geometry>,
    #[serde(default)]
    properties: Option<Map<String, Value>>,
}

#[derive(Deserialize)]
struct Geometry {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    coordinates: Value,
}

/// Property names that carry a fix's time, in order of preference.
const TIME_KEYS: [&str; 6] = ["timestamp", "time", "datetime", "date", "time_long", "ts"];

fn number(props: &Map<String, Value>, keys: &[&str]) -> Option<f64> {
    keys.iter().find_map(|k| match props.get(*k)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

/// A non-negative measurement; `-1` means "invalid" in Overland and iOS.
fn measurement(props: &Map<String, Value>, keys: &[&str]) -> Option<f32> {
    number(props, keys)
        .filter(|v| v.is_finite() && *v >= 0.0)
        .map(|v| v as f32)
}

fn time_of(value: &Value) -> Option<Option<(Timestamp, Option<i16>)>> {
    Some(match value {
        Value::String(s) => parse_time_text(s),
        Value::Number(n) => n.as_f64().and_then(epoch_guess).map(|t| (t, None)),
        _ => None,
    })
}

fn position(coordinates: &Value) -> Option<(f64, f64, Option<f32>)> {
    let array = coordinates.as_array()?;
    let lon = array.first()?.as_f64()?;
    let lat = array.get(1)?.as_f64()?;
    let alt = array.get(2).and_then(Value::as_f64).map(|a| a as f32);
    Some((lat, lon, alt))
}

fn device_of(props: &Map<String, Value>) -> &str {
    props.get("device_id").and_then(Value::as_str).unwrap_or("")
}

fn feature(emit: &mut Emitter<'_>, f: Feature) -> Result<(), IngestError> {
    let empty = Map::new();
    let props = f.properties.as_ref().unwrap_or(&empty);
    // Overland interleaves app events, visits and trip summaries with locations.
    if props.contains_key("action") || props.get("type").and_then(Value::as_str) == Some("trip") {
        return Ok(());
    }
    let Some(geometry) = f.geometry else {
        return Ok(());
    };
    match geometry.kind.as_str() {
        "Point" => point(emit, props, &geometry.coordinates),
        "LineString" => line(emit, props, &geometry.coordinates),
        "MultiLineString" => {
            let lines = geometry
                .coordinates
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default();
            lines.iter().try_for_each(|l| line(emit, props, l))
        }
        // Polygons and the like are zones, not movement.
        _ => Ok(()),
    }
}

fn point(
    emit: &mut Emitter<'_>,
    props: &Map<String, Value>,
    coordinates: &Value,
) -> Result<(), IngestError> {
    let time = TIME_KEYS
        .iter()
        .find_map(|k| props.get(*k))
        .and_then(time_of);
    let Some((lat, lon, alt)) = position(coordinates) else {
        return Ok(emit.reject(RejectReason::MissingPosition)?);
    };
    let (time, offset) = match time {
        None => return Ok(emit.reject(RejectReason::MissingTime)?),
        Some(None) => return Ok(emit.reject(RejectReason::InvalidValue)?),
        Some(Some(t)) => t,
    };
    let fix = Fix {
        time,
        lat,
        lon,
        accuracy_m: measurement(props, &["horizontal_accuracy", "accuracy", "acc"]),
        speed_mps: measurement(props, &["speed"]),
        bearing_deg: measurement(props, &["course", "bearing", "heading"]),
        altitude_m: number(props, &["altitude", "ele", "elevation"])
            .map(|a| a as f32)
            .or(alt),
        utc_offset_min: offset.filter(|&o| o != 0),
    };
    let device = device_of(props);
    emit.fix(device, fix)?;
    if let Some(motion) = props.get("motion").and_then(Value::as_array)
        && let Some(label) = motion
            .iter()
            .filter_map(Value::as_str)
            .find(|m| *m != "stationary")
            .or(motion.first().and_then(Value::as_str))
    {
        emit.hint(device, SourceHint::activity(time, time, label, None))?;
    }
    Ok(())
}

/// A LineString whose properties carry one time per coordinate
/// (`coordTimes` from togeojson, `times` / `timestamps` from Cozy-style trips).
fn line(
    emit: &mut Emitter<'_>,
    props: &Map<String, Value>,
    coordinates: &Value,
) -> Result<(), IngestError> {
    let coordinates = coordinates
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let times = ["coordTimes", "coordinateTimes", "times", "timestamps"]
        .iter()
        .find_map(|k| props.get(*k)?.as_array());
    let speeds = props.get("speeds").and_then(Value::as_array);
    for (i, c) in coordinates.iter().enumerate() {
        let Some((lat, lon, alt)) = position(c) else {
            emit.reject(RejectReason::MissingPosition)?;
            continue;
        };
        let Some(time) = times.and_then(|t| t.get(i)) else {
            emit.reject(RejectReason::MissingTime)?;
            continue;
        };
        let Some(Some((time, offset))) = time_of(time) else {
            emit.reject(RejectReason::InvalidValue)?;
            continue;
        };
        let mut fix = Fix::new(time, lat, lon);
        fix.altitude_m = alt;
        fix.utc_offset_min = offset.filter(|&o| o != 0);
        fix.speed_mps = speeds
            .and_then(|s| s.get(i)?.as_f64())
            .filter(|s| *s >= 0.0)
            .map(|s| s as f32);
        emit.fix(device_of(props), fix)?;
    }
    Ok(())
}

struct Features<'e, 'a> {
    emit: &'e mut Emitter<'a>,
    array_key: &'static str,
    /// Whether the object had `array_key` at all: an Overland body without
    /// `locations` is a client error, not an empty batch.
    seen: bool,
    failure: Option<IngestError>,
}

impl KeyHandler for Features<'_, '_> {
    fn value<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        let emit = &mut *self.emit;
        if key == self.array_key {
            self.seen = true;
            let mut handle = |f: Feature| feature(emit, f);
            map.next_value_seed(EachElement::new(&mut handle, &mut self.failure))?;
            return Ok(true);
        }
        Ok(false)
    }
    fn take_failure(&mut self) -> Option<IngestError> {
        self.failure.take()
    }
}

/// Streams the features under `array_key`; returns whether that key was present.
fn run(
    reader: impl BufRead,
    emit: &mut Emitter<'_>,
    array_key: &'static str,
) -> Result<bool, IngestError> {
    let mut features = Features {
        emit,
        array_key,
        seen: false,
        failure: None,
    };
    run_object(reader, &mut features)?;
    Ok(features.seen)
}

/// Parses a GeoJSON FeatureCollection (or a single Feature).
pub(crate) fn parse(mut reader: impl BufRead, emit: &mut Emitter<'_>) -> Result<(), IngestError> {
    // A single Feature has no array to stream; it is small, so read it whole.
    let head = reader.fill_buf()?;
    if !crate::detect::has_key(head, "features") {
        let f: Feature = serde_json::from_reader(reader).map_err(super::json_error)?;
        return feature(emit, f);
    }
    run(reader, emit, "features").map(drop)
}

/// Parses an Overland batch: `{"locations":[Feature…], "current":…, "trip":…}`.
///
/// `current` is skipped on purpose: the app sends it only while older
/// batches are queued, and the same fix arrives later in its own batch.
pub(crate) fn parse_overland(
    reader: impl BufRead,
    emit: &mut Emitter<'_>,
) -> Result<(), IngestError> {
    if run(reader, emit, "locations")? {
        Ok(())
    } else {
        Err(IngestError::MissingField {
            field: "locations",
            expected: "an array of GeoJSON Point features, as Overland posts them",
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::collect_bytes;
    use sillage_model::{HintKind, Mode, RejectReason, SourceFormat, Timestamp};

    /// An Overland batch as the iOS app posts it, written from its README:
    /// two locations, a `will_terminate` event without geometry, a visit
    /// and a trip summary (both skipped), and an invalid speed of -1.
    const OVERLAND: &str = r#"{"locations":[
  {"type":"Feature","geometry":{"type":"Point","coordinates":[-1.152,46.1591]},
   "properties":{"timestamp":"2024-03-01T08:00:00Z","altitude":8,"speed":4,"horizontal_accuracy":10,
                 "vertical_accuracy":4,"motion":["cycling"],"battery_state":"unplugged","battery_level":0.8,
                 "wifi":"","device_id":"jane-iphone"}},
  {"type":"Feature","geometry":{"type":"Point","coordinates":[-1.151,46.1595]},
   "properties":{"timestamp":"2024-03-01T08:00:05Z","speed":-1,"course":-1,"horizontal_accuracy":65,
                 "motion":[],"device_id":"jane-iphone"}},
  {"type":"Feature","properties":{"action":"will_terminate","timestamp":"2024-03-01T08:00:06Z"}},
  {"type":"Feature","geometry":{"type":"Point","coordinates":[-1.15,46.16]},
   "properties":{"action":"visit","arrival_date":"2024-03-01T08:10:00Z","departure_date":"2024-03-01T09:00:00Z"}},
  {"type":"Feature","geometry":{"type":"Point","coordinates":[-1.15,46.16]},
   "properties":{"type":"trip","mode":"bicycle","start":"2024-03-01T07:50:00Z","end":"2024-03-01T08:10:00Z","distance":2300}}
], "current": {"type":"Feature","geometry":{"type":"Point","coordinates":[-1.15,46.16]},"properties":{"timestamp":"2024-03-01T08:11:00Z"}}}"#;

    #[test]
    fn overland_batch() {
        let (format, got) = collect_bytes(OVERLAND.as_bytes());
        assert_eq!(format.unwrap(), SourceFormat::Overland);
        assert_eq!(got.fixes.len(), 2);
        let (device, first) = &got.fixes[0];
        assert_eq!(device, "jane-iphone");
        assert_eq!(first.time, Timestamp(1_709_280_000_000));
        assert_eq!((first.lat, first.lon), (46.1591, -1.152));
        assert_eq!(first.speed_mps, Some(4.0));
        assert_eq!(first.accuracy_m, Some(10.0));
        assert_eq!(first.altitude_m, Some(8.0));
        let second = got.fixes[1].1;
        assert_eq!(second.speed_mps, None, "-1 is 'invalid', not a speed");
        assert_eq!(second.bearing_deg, None);
        assert!(got.rejected.is_empty());
        assert_eq!(got.hints.len(), 1);
        assert!(matches!(
            &got.hints[0].1.kind,
            HintKind::Activity {
                mode: Some(Mode::Bicycle),
                ..
            }
        ));
    }

    #[test]
    fn timed_points_and_lines() {
        let text = r#"{"type":"FeatureCollection","features":[
  {"type":"Feature","geometry":{"type":"Point","coordinates":[-1.152,46.1591,7.5]},"properties":{"time":"2024-03-01T09:00:00+01:00","accuracy":5}},
  {"type":"Feature","geometry":{"type":"Point","coordinates":[-1.152,46.1591]},"properties":{"time_long":1709283600000}},
  {"type":"Feature","geometry":{"type":"Point","coordinates":[-1.152,46.1591]},"properties":{"name":"untimed"}},
  {"type":"Feature","geometry":{"type":"LineString","coordinates":[[-1.15,46.16],[-1.149,46.161],[-1.148,46.162]]},
   "properties":{"coordTimes":["2024-03-01T10:00:00Z","2024-03-01T10:00:10Z"],"speeds":[3.5,4.0]}},
  {"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[-1.1,46.1],[-1.2,46.1],[-1.2,46.2],[-1.1,46.1]]]},"properties":{}}
]}"#;
        let (format, got) = collect_bytes(text.as_bytes());
        assert_eq!(format.unwrap(), SourceFormat::GeoJson);
        let fixes = got.fix_list();
        assert_eq!(fixes.len(), 4);
        assert_eq!(fixes[0].time, Timestamp(1_709_280_000_000));
        assert_eq!(fixes[0].altitude_m, Some(7.5));
        assert_eq!(fixes[0].utc_offset_min, Some(60));
        assert_eq!(fixes[1].time, Timestamp(1_709_283_600_000));
        assert_eq!(fixes[3].time, Timestamp(1_709_287_210_000));
        assert_eq!((fixes[3].lat, fixes[3].lon), (46.161, -1.149));
        assert_eq!(fixes[3].speed_mps, Some(4.0));
        assert_eq!(
            got.rejected.get(&RejectReason::MissingTime),
            Some(&2),
            "untimed point and third vertex"
        );
    }

    /// GPSLogger's GeoJSON log, written from its documented properties.
    #[test]
    fn gpslogger_geojson() {
        let text = r#"{"type": "FeatureCollection","features": [
{"type": "Feature","properties": {"time": "2016-03-05T19:24:29.949Z","provider": "gps","time_long": 1457205869949,"accuracy": 6.0,"altitude": 12.5,"bearing": 271.5,"speed": 1.25},"geometry": {"type": "Point","coordinates": [-1.1520,46.1591]}},
{"type": "Feature","properties": {"time": "2016-03-05T19:24:35.012Z","provider": "network","time_long": 1457205875012,"accuracy": 24.0},"geometry": {"type": "Point","coordinates": [-1.1515,46.1593]}}]}"#;
        let (format, got) = collect_bytes(text.as_bytes());
        assert_eq!(format.unwrap(), SourceFormat::GeoJson);
        let fixes = got.fix_list();
        assert_eq!(fixes.len(), 2);
        assert_eq!(fixes[0].time, Timestamp(1_457_205_869_949));
        assert_eq!((fixes[0].lat, fixes[0].lon), (46.1591, -1.152));
        assert_eq!(
            (
                fixes[0].accuracy_m,
                fixes[0].altitude_m,
                fixes[0].bearing_deg,
                fixes[0].speed_mps
            ),
            (Some(6.0), Some(12.5), Some(271.5), Some(1.25))
        );
        assert_eq!(fixes[1].time, Timestamp(1_457_205_875_012));
        assert_eq!(fixes[1].accuracy_m, Some(24.0));
    }

    #[test]
    fn single_feature() {
        let text = r#"{"type":"Feature","properties":{"time":"2024-03-01T09:00:00Z","provider":"gps","accuracy":4.5,"bearing":90,"speed":1.5},"geometry":{"type":"Point","coordinates":[-1.15,46.16]}}"#;
        let (format, got) = collect_bytes(text.as_bytes());
        assert_eq!(format.unwrap(), SourceFormat::GeoJson);
        let f = got.fix_list()[0];
        assert_eq!(
            (f.accuracy_m, f.bearing_deg, f.speed_mps),
            (Some(4.5), Some(90.0), Some(1.5))
        );
    }
}
