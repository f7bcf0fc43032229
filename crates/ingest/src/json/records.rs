//! Google Takeout `Records.json`: `{"locations":[{latitudeE7, longitudeE7, …}]}`.
//!
//! The largest exports reach several gigabytes, so the `locations` array is
//! streamed record by record and each timestamp is decoded straight from the
//! parser's scratch buffer.

use super::{EachElement, KeyHandler, run_object};
use crate::field::{Num, Time, opt_f32, probability};
use crate::{Emitter, IngestError};
use serde::Deserialize;
use serde::de::MapAccess;
use sillage_model::{Fix, RejectReason, SourceHint};
use std::io::BufRead;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record {
    latitude_e7: Option<Num>,
    longitude_e7: Option<Num>,
    timestamp: Option<Time>,
    timestamp_ms: Option<Time>,
    accuracy: Option<Num>,
    velocity: Option<Num>,
    heading: Option<Num>,
    altitude: Option<Num>,
    device_tag: Option<Num>,
    #[serde(default)]
    activity: Vec<ActivityReading>,
}

/// One activity-recognition reading attached to a record.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ActivityReading {
    timestamp: Option<Time>,
    timestamp_ms: Option<Time>,
    #[serde(default)]
    activity: Vec<ActivityGuess>,
}

/// A candidate activity type with its confidence (0–100).
#[derive(Deserialize)]
pub(crate) struct ActivityGuess {
    #[serde(rename = "type")]
    kind: Option<String>,
    confidence: Option<Num>,
}

impl ActivityReading {
    /// The most confident guess of this reading as a hint, if it has a time.
    pub(crate) fn to_hint(&self) -> Option<SourceHint> {
        let Some(Time::Ok(at, _)) = self.timestamp.or(self.timestamp_ms) else {
            return None;
        };
        top_activity_hint(&self.activity, at, at)
    }
}

/// The most confident of `guesses` as an activity hint over `[start, end]`.
pub(crate) fn top_activity_hint(
    guesses: &[ActivityGuess],
    start: sillage_model::Timestamp,
    end: sillage_model::Timestamp,
) -> Option<SourceHint> {
    let confidence = |g: &ActivityGuess| g.confidence.and_then(Num::get).unwrap_or(0.0);
    let best = guesses
        .iter()
        .filter(|g| g.kind.is_some())
        .max_by(|a, b| confidence(a).total_cmp(&confidence(b)))?;
    let label = best.kind.as_deref()?;
    let confidence = best.confidence.and_then(Num::get).map(probability);
    Some(SourceHint::activity(start, end, label, confidence))
}

/// Names the device of a record after its `deviceTag`, reusing the last name
/// so that millions of records from one phone allocate nothing.
#[derive(Default)]
struct DeviceNames {
    tag: Option<i64>,
    name: String,
}

impl DeviceNames {
    fn name(&mut self, tag: Option<i64>) -> &str {
        if tag != self.tag {
            self.tag = tag;
            self.name = tag.map(|t| format!("google:{t}")).unwrap_or_default();
        }
        &self.name
    }
}

struct Records<'e, 'a> {
    emit: &'e mut Emitter<'a>,
    devices: DeviceNames,
    failure: Option<IngestError>,
}

impl Records<'_, '_> {
    fn record(&mut self, r: Record) -> Result<(), IngestError> {
        let Self { emit, devices, .. } = self;
        let device = devices.name(r.device_tag.and_then(Num::get).map(|t| t as i64));
        for reading in &r.activity {
            if let Some(hint) = reading.to_hint() {
                emit.hint(device, hint)?;
            }
        }
        let (time, offset) = match r.timestamp.or(r.timestamp_ms) {
            Some(Time::Ok(t, o)) => (t, o),
            Some(Time::Invalid) => return Ok(emit.reject(RejectReason::InvalidValue)?),
            None => return Ok(emit.reject(RejectReason::MissingTime)?),
        };
        let (lat, lon) = match (r.latitude_e7, r.longitude_e7) {
            (Some(Num::Value(lat)), Some(Num::Value(lon))) => (lat / 1e7, lon / 1e7),
            (Some(Num::Invalid), _) | (_, Some(Num::Invalid)) => {
                return Ok(emit.reject(RejectReason::InvalidValue)?);
            }
            _ => return Ok(emit.reject(RejectReason::MissingPosition)?),
        };
        let fix = Fix {
            time,
            lat,
            lon,
            accuracy_m: opt_f32(r.accuracy, true),
            speed_mps: opt_f32(r.velocity, true),
            bearing_deg: opt_f32(r.heading, true),
            altitude_m: opt_f32(r.altitude, false),
            utc_offset_min: offset.filter(|&o| o != 0),
        };
        Ok(emit.fix(device, fix)?)
    }
}

impl KeyHandler for Records<'_, '_> {
    fn value<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        if key != "locations" {
            return Ok(false);
        }
        let mut failure = None;
        let mut handle = |r: Record| self.record(r);
        let result = map.next_value_seed(EachElement::new(&mut handle, &mut failure));
        self.failure = failure.or(self.failure.take());
        result.map(|()| true)
    }
    fn take_failure(&mut self) -> Option<IngestError> {
        self.failure.take()
    }
}

/// Parses a Records.json stream.
pub(crate) fn parse(reader: impl BufRead, emit: &mut Emitter<'_>) -> Result<(), IngestError> {
    let mut records = Records {
        emit,
        devices: DeviceNames::default(),
        failure: None,
    };
    run_object(reader, &mut records)
}

#[cfg(test)]
mod tests {
    use crate::collect_bytes;
    use sillage_model::{HintKind, Mode, RejectReason, SourceFormat, Timestamp};

    const RECORDS: &str = r#"{
  "locations": [{
    "latitudeE7": 461591000,
    "longitudeE7": -11520000,
    "accuracy": 12,
    "velocity": 4,
    "heading": 270,
    "altitude": 8,
    "verticalAccuracy": 3,
    "source": "GPS",
    "deviceTag": 1234567,
    "activity": [{
      "timestamp": "2024-03-01T07:59:58.100Z",
      "activity": [{"type": "ON_BICYCLE", "confidence": 80}, {"type": "STILL", "confidence": 20}]
    }],
    "timestamp": "2024-03-01T08:00:00.250Z"
  }, {
    "timestampMs": "1709280060000",
    "latitudeE7": 461600000,
    "longitudeE7": -11530000,
    "accuracy": 1800,
    "source": "cell"
  }, {
    "timestamp": "2024-03-01T08:02:00Z",
    "latitudeE7": 0,
    "longitudeE7": 0
  }, {
    "timestamp": "2024-03-01T08:03:00Z",
    "latitudeE7": "not a number",
    "longitudeE7": -11530000
  }, {
    "latitudeE7": 461600000,
    "longitudeE7": -11530000
  }, {
    "timestamp": "1985-01-01T00:00:00Z",
    "latitudeE7": 461600000,
    "longitudeE7": -11530000
  }]
}"#;

    #[test]
    fn both_timestamp_styles_e7_units_and_activity() {
        let (format, got) = collect_bytes(RECORDS.as_bytes());
        assert_eq!(format.unwrap(), SourceFormat::GoogleRecords);
        assert_eq!(got.fixes.len(), 2);
        let (device, first) = &got.fixes[0];
        assert_eq!(device, "google:1234567");
        assert_eq!(first.time, Timestamp(1_709_280_000_250));
        assert_eq!((first.lat, first.lon), (46.1591, -1.152));
        assert_eq!(first.accuracy_m, Some(12.0));
        assert_eq!(first.speed_mps, Some(4.0));
        assert_eq!(first.bearing_deg, Some(270.0));
        assert_eq!(first.altitude_m, Some(8.0));
        let (device, second) = &got.fixes[1];
        assert_eq!(device, "");
        assert_eq!(second.time, Timestamp(1_709_280_060_000));
        assert_eq!(second.accuracy_m, Some(1800.0));
        assert_eq!(got.rejected.get(&RejectReason::NullIsland), Some(&1));
        assert_eq!(got.rejected.get(&RejectReason::InvalidValue), Some(&1));
        assert_eq!(got.rejected.get(&RejectReason::MissingTime), Some(&1));
        assert_eq!(got.rejected.get(&RejectReason::TimeBefore1990), Some(&1));
        assert_eq!(got.hints.len(), 1);
        let hint = &got.hints[0].1;
        assert_eq!(hint.start, Timestamp(1_709_279_998_100));
        assert_eq!(hint.confidence, Some(0.8));
        assert_eq!(
            hint.kind,
            HintKind::Activity {
                label: "ON_BICYCLE".into(),
                mode: Some(Mode::Bicycle)
            }
        );
    }

    #[test]
    fn bom_and_unknown_keys_are_fine() {
        let text = format!("\u{feff}{{\"meta\":{{\"x\":[1,2]}},{}", &RECORDS[1..]);
        let (format, got) = collect_bytes(text.as_bytes());
        assert_eq!(format.unwrap(), SourceFormat::GoogleRecords);
        assert_eq!(got.fixes.len(), 2);
    }

    #[test]
    fn truncated_file_names_line_and_column() {
        let cut = &RECORDS[..RECORDS.find("\"timestampMs\"").unwrap() + 5];
        let (result, got) = collect_bytes(cut.as_bytes());
        let message = result.unwrap_err().to_string();
        assert!(message.contains("line 18, column"), "{message}");
        assert_eq!(got.fixes.len(), 1, "records before the error were seen");
    }
}
