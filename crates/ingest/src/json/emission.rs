//! e-mission / OpenPATH raw exports: a JSON array of
//! `{"metadata":{"key":…},"data":{…}}` entries, one per sensor reading.

use super::run_array;
use crate::field::{Num, opt_f32};
use crate::{Emitter, IngestError};
use serde::Deserialize;
use sillage_model::{Fix, RejectReason, SourceHint, Timestamp};
use std::io::BufRead;

#[derive(Deserialize)]
struct Entry {
    metadata: Option<Metadata>,
    #[serde(default)]
    data: serde_json::Map<String, serde_json::Value>,
}

#[derive(Deserialize)]
struct Metadata {
    key: Option<String>,
}

fn number(data: &serde_json::Map<String, serde_json::Value>, key: &str) -> Option<Num> {
    data.get(key)
        .and_then(|v| serde_json::from_value::<Num>(v.clone()).ok())
}

/// e-mission's `MotionTypes` enumeration, as written by its Android client.
fn motion_type_label(code: i64) -> Option<&'static str> {
    Some(match code {
        0 => "IN_VEHICLE",
        1 => "BICYCLING",
        2 => "ON_FOOT",
        3 => "STILL",
        4 => "UNKNOWN",
        5 => "TILTING",
        7 => "WALKING",
        8 => "RUNNING",
        9 => "NONE",
        10 => "STOPPED_WHILE_IN_VEHICLE",
        11 => "AIR_OR_HSR",
        _ => return None,
    })
}

/// The iOS client writes booleans instead of a code.
const IOS_MOTION_FLAGS: [(&str, &str); 5] = [
    ("automotive", "IN_VEHICLE"),
    ("cycling", "BICYCLING"),
    ("running", "RUNNING"),
    ("walking", "WALKING"),
    ("stationary", "STILL"),
];

fn location(
    emit: &mut Emitter<'_>,
    data: &serde_json::Map<String, serde_json::Value>,
) -> Result<(), IngestError> {
    let Some(ts) = number(data, "ts") else {
        return Ok(emit.reject(RejectReason::MissingTime)?);
    };
    let Some(time) = ts.get().and_then(Timestamp::from_epoch_seconds_f64) else {
        return Ok(emit.reject(RejectReason::InvalidValue)?);
    };
    let (Some(lat), Some(lon)) = (number(data, "latitude"), number(data, "longitude")) else {
        return Ok(emit.reject(RejectReason::MissingPosition)?);
    };
    let (Some(lat), Some(lon)) = (lat.get(), lon.get()) else {
        return Ok(emit.reject(RejectReason::InvalidValue)?);
    };
    let offset = data
        .get("local_dt")
        .and_then(|l| l.get("timezone"))
        .and(data.get("fmt_time"))
        .and_then(|f| f.as_str())
        .and_then(|f| Timestamp::parse_iso8601(f).ok())
        .and_then(|(_, o)| o);
    let fix = Fix {
        time,
        lat,
        lon,
        accuracy_m: opt_f32(number(data, "accuracy"), true),
        speed_mps: opt_f32(number(data, "sensed_speed"), true),
        bearing_deg: opt_f32(number(data, "heading"), true),
        altitude_m: opt_f32(number(data, "altitude"), false),
        utc_offset_min: offset,
    };
    Ok(emit.fix("", fix)?)
}

fn motion(
    emit: &mut Emitter<'_>,
    data: &serde_json::Map<String, serde_json::Value>,
) -> Result<(), IngestError> {
    let Some(time) = number(data, "ts")
        .and_then(Num::get)
        .and_then(Timestamp::from_epoch_seconds_f64)
    else {
        return Ok(());
    };
    let label = match data.get("type").and_then(serde_json::Value::as_i64) {
        Some(code) => motion_type_label(code),
        None => IOS_MOTION_FLAGS
            .iter()
            .find(|(flag, _)| data.get(*flag).and_then(serde_json::Value::as_bool) == Some(true))
            .map(|(_, label)| *label),
    };
    let Some(label) = label else {
        return Ok(());
    };
    let hint = SourceHint::activity(
        time,
        time,
        label,
        opt_f32(number(data, "confidence"), true).map(|c| (c / 100.0).min(1.0)),
    );
    Ok(emit.hint("", hint)?)
}

/// Parses a raw export. Both `background/location` and
/// `background/filtered_location` are read: they usually repeat the same
/// fixes, which the store then counts as duplicates of one another.
pub(crate) fn parse(reader: impl BufRead, emit: &mut Emitter<'_>) -> Result<(), IngestError> {
    run_array(reader, |entry: Entry| {
        match entry.metadata.and_then(|m| m.key).as_deref() {
            Some("background/location" | "background/filtered_location") => {
                location(emit, &entry.data)
            }
            Some("background/motion_activity") => motion(emit, &entry.data),
            _ => Ok(()),
        }
    })
}

#[cfg(test)]
mod tests {
    use crate::collect_bytes;
    use flate2::read::GzDecoder;
    use sillage_model::{HintKind, Mode, SourceFormat, Timestamp};
    use std::io::Read;

    fn shared(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/../../../shared/data/emission-real-examples/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let mut bytes = Vec::new();
        GzDecoder::new(std::fs::File::open(&path).unwrap())
            .read_to_end(&mut bytes)
            .unwrap();
        bytes
    }

    #[test]
    fn both_platforms_from_handwritten_entries() {
        let text = r#"[
 {"_id":{"$oid":"a"},"user_id":{"$uuid":"u"},"metadata":{"key":"background/location","platform":"android","write_ts":1500000000.5,"type":"sensor-data"},
  "data":{"latitude":46.1591,"longitude":-1.152,"loc":{"type":"Point","coordinates":[-1.152,46.1591]},"ts":1500000000.25,
          "fmt_time":"2017-07-14T04:40:00.250000+02:00","local_dt":{"timezone":"Europe/Paris"},"accuracy":12.5,"altitude":20,"heading":45,"sensed_speed":3.25,"filter":"time"}},
 {"metadata":{"key":"background/filtered_location","platform":"android"},"data":{"latitude":46.1591,"longitude":-1.152,"ts":1500000000.25,"accuracy":12.5}},
 {"metadata":{"key":"background/location","platform":"ios"},"data":{"latitude":46.16,"longitude":-1.15,"ts":1500000030,"sensed_speed":-1,"accuracy":65,"vaccuracy":10,"floor":0}},
 {"metadata":{"key":"background/motion_activity","platform":"android"},"data":{"type":1,"confidence":90,"ts":1500000001}},
 {"metadata":{"key":"background/motion_activity","platform":"ios"},"data":{"walking":true,"automotive":false,"confidence":100,"ts":1500000002}},
 {"metadata":{"key":"background/battery","platform":"android"},"data":{"battery_level_pct":80,"ts":1500000003}}
]"#;
        let (format, got) = collect_bytes(text.as_bytes());
        assert_eq!(format.unwrap(), SourceFormat::EMission);
        let fixes = got.fix_list();
        assert_eq!(fixes.len(), 3);
        assert_eq!(fixes[0].time, Timestamp(1_500_000_000_250));
        assert_eq!(fixes[0].utc_offset_min, Some(120));
        assert_eq!(
            (
                fixes[0].accuracy_m,
                fixes[0].speed_mps,
                fixes[0].bearing_deg
            ),
            (Some(12.5), Some(3.25), Some(45.0))
        );
        assert_eq!(fixes[2].speed_mps, None);
        assert_eq!(got.hints.len(), 2);
        assert!(matches!(
            &got.hints[0].1.kind,
            HintKind::Activity {
                mode: Some(Mode::Bicycle),
                ..
            }
        ));
        assert!(matches!(
            &got.hints[1].1.kind,
            HintKind::Activity {
                mode: Some(Mode::Walking),
                ..
            }
        ));
    }

    #[test]
    fn real_android_and_ios_exports() {
        for (name, platform) in [
            ("shankari_2015-08-23.json.gz", "android"),
            ("sunil_2016-07-20.json.gz", "ios"),
        ] {
            let bytes = shared(name);
            let entries: Vec<serde_json::Value> = serde_json::from_slice(&bytes).unwrap();
            let expected: Vec<f64> = entries
                .iter()
                .filter(|e| {
                    let key = e["metadata"]["key"].as_str();
                    key == Some("background/location")
                        || key == Some("background/filtered_location")
                })
                .filter_map(|e| e["data"]["ts"].as_f64())
                .collect();
            let (format, got) = collect_bytes(&bytes);
            assert_eq!(format.unwrap(), SourceFormat::EMission, "{name}");
            assert!(!expected.is_empty(), "{name} has {platform} locations");
            assert_eq!(
                got.fixes.len() as u64 + got.rejected.values().sum::<u64>(),
                expected.len() as u64,
                "{name}"
            );
            let first = got.fix_list()[0];
            assert_eq!(
                first.time,
                Timestamp((expected[0] * 1000.0).round() as i64),
                "{name}"
            );
        }
    }
}
