//! Google's on-device Timeline export (2024+), in both dialects.
//!
//! Android writes an object (`semanticSegments`, `rawSignals`,
//! `userLocationProfile`) with `"48.85°, 2.35°"` coordinates; iOS writes a
//! top-level array of segments with `"geo:48.85,2.35"` coordinates, numbers
//! as strings and `timelinePath` offsets in minutes. Segments have the same
//! shape otherwise, so one segment reader serves both.

use super::records::{ActivityGuess, top_activity_hint};
use super::{EachElement, KeyHandler, parse_lat_lng_text, run_array, run_object};
use crate::field::{Num, Time, opt_f32};
use crate::{Emitter, IngestError};
use serde::Deserialize;
use serde::de::MapAccess;
use sillage_model::{Fix, HintKind, RejectReason, SourceHint, Timestamp};
use std::io::BufRead;

/// A coordinate as either dialect writes it: a bare string, or an object
/// holding one under `latLng` / `LatLng`.
#[derive(Deserialize)]
#[serde(untagged)]
enum LatLng {
    Text(String),
    Object {
        #[serde(alias = "LatLng", alias = "point")]
        #[serde(rename = "latLng")]
        lat_lng: String,
    },
}

impl LatLng {
    fn position(&self) -> Option<(f64, f64)> {
        match self {
            Self::Text(text) | Self::Object { lat_lng: text } => parse_lat_lng_text(text),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Segment {
    start_time: Option<Time>,
    end_time: Option<Time>,
    start_time_timezone_utc_offset_minutes: Option<Num>,
    visit: Option<Visit>,
    activity: Option<Activity>,
    timeline_path: Option<Vec<PathPoint>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Candidate {
    semantic_type: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    probability: Option<Num>,
    place_location: Option<LatLng>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Visit {
    top_candidate: Option<Candidate>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Activity {
    start: Option<LatLng>,
    end: Option<LatLng>,
    top_candidate: Option<Candidate>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PathPoint {
    point: Option<String>,
    time: Option<Time>,
    duration_minutes_offset_from_start_time: Option<Num>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSignal {
    position: Option<Position>,
    activity_record: Option<ActivityRecord>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Position {
    #[serde(rename = "LatLng", alias = "latLng")]
    lat_lng: Option<String>,
    accuracy_meters: Option<Num>,
    altitude_meters: Option<Num>,
    speed_meters_per_second: Option<Num>,
    timestamp: Option<Time>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ActivityRecord {
    timestamp: Option<Time>,
    #[serde(default)]
    probable_activities: Vec<ActivityGuess>,
}

fn instant(time: Option<Time>) -> Option<(Timestamp, Option<i16>)> {
    match time? {
        Time::Ok(t, o) => Some((t, o)),
        Time::Invalid => None,
    }
}

/// Emits a fix, or counts why a would-be fix is unusable.
fn emit_fix(
    emit: &mut Emitter<'_>,
    at: Option<(Timestamp, Option<i16>)>,
    position: Option<(f64, f64)>,
    offset: Option<i16>,
) -> Result<Option<Fix>, IngestError> {
    match (at, position) {
        (Some((time, own_offset)), Some((lat, lon))) => {
            let mut fix = Fix::new(time, lat, lon);
            fix.utc_offset_min = own_offset.or(offset);
            Ok(Some(fix))
        }
        (None, Some(_)) => {
            emit.reject(RejectReason::MissingTime)?;
            Ok(None)
        }
        (_, None) => {
            emit.reject(RejectReason::InvalidValue)?;
            Ok(None)
        }
    }
}

fn segment(emit: &mut Emitter<'_>, s: Segment) -> Result<(), IngestError> {
    let start = instant(s.start_time);
    let end = instant(s.end_time);
    let offset = s
        .start_time_timezone_utc_offset_minutes
        .and_then(Num::get)
        .map(|m| m as i16)
        .or(start.and_then(|(_, o)| o));
    let send = |emit: &mut Emitter<'_>, at, position| -> Result<(), IngestError> {
        if let Some(fix) = emit_fix(emit, at, position, offset)? {
            emit.fix("", fix)?;
        }
        Ok(())
    };
    if let Some(visit) = &s.visit {
        let candidate = visit.top_candidate.as_ref();
        let position = candidate.and_then(|c| c.place_location.as_ref()?.position());
        // Arrival and departure at the place let stay detection see the stay.
        send(emit, start, position)?;
        send(emit, end, position)?;
        if let (Some((start, _)), Some((end, _))) = (start, end) {
            let hint = SourceHint {
                start,
                end,
                confidence: candidate
                    .and_then(|c| c.probability?.get())
                    .map(|p| p as f32),
                kind: HintKind::PlaceVisit {
                    lat: position.map(|p| p.0),
                    lon: position.map(|p| p.1),
                    label: candidate.and_then(|c| c.semantic_type.clone()),
                },
            };
            emit.hint("", hint)?;
        }
    }
    if let Some(activity) = &s.activity {
        send(
            emit,
            start,
            activity.start.as_ref().and_then(LatLng::position),
        )?;
        send(emit, end, activity.end.as_ref().and_then(LatLng::position))?;
        let candidate = activity.top_candidate.as_ref();
        if let (Some((start, _)), Some((end, _)), Some(label)) =
            (start, end, candidate.and_then(|c| c.kind.as_deref()))
        {
            let confidence = candidate
                .and_then(|c| c.probability?.get())
                .map(|p| p as f32);
            let hint = SourceHint::activity(start, end, label, confidence);
            emit.hint("", hint)?;
        }
    }
    for point in s.timeline_path.iter().flatten() {
        let at = match (
            instant(point.time),
            point.duration_minutes_offset_from_start_time,
        ) {
            (Some(at), _) => Some(at),
            (None, Some(minutes)) => match (start, minutes.get()) {
                (Some((t, o)), Some(m)) => {
                    Some((Timestamp(t.0 + (m * 60_000.0).round() as i64), o))
                }
                _ => None,
            },
            (None, None) => None,
        };
        send(
            emit,
            at,
            point.point.as_deref().and_then(parse_lat_lng_text),
        )?;
    }
    Ok(())
}

fn raw_signal(emit: &mut Emitter<'_>, signal: RawSignal) -> Result<(), IngestError> {
    if let Some(p) = signal.position {
        let position = p.lat_lng.as_deref().and_then(parse_lat_lng_text);
        if let Some(mut fix) = emit_fix(emit, instant(p.timestamp), position, None)? {
            fix.accuracy_m = opt_f32(p.accuracy_meters, true);
            fix.altitude_m = opt_f32(p.altitude_meters, false);
            fix.speed_mps = opt_f32(p.speed_meters_per_second, true);
            emit.fix("", fix)?;
        }
    }
    if let Some(record) = signal.activity_record
        && let Some((at, _)) = instant(record.timestamp)
        && let Some(hint) = top_activity_hint(&record.probable_activities, at, at)
    {
        emit.hint("", hint)?;
    }
    Ok(())
}

struct Android<'e, 'a> {
    emit: &'e mut Emitter<'a>,
    failure: Option<IngestError>,
}

impl KeyHandler for Android<'_, '_> {
    fn value<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        let emit = &mut *self.emit;
        match key {
            "semanticSegments" => {
                let mut handle = |s: Segment| segment(emit, s);
                map.next_value_seed(EachElement::new(&mut handle, &mut self.failure))?;
            }
            "rawSignals" => {
                let mut handle = |s: RawSignal| raw_signal(emit, s);
                map.next_value_seed(EachElement::new(&mut handle, &mut self.failure))?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
    fn take_failure(&mut self) -> Option<IngestError> {
        self.failure.take()
    }
}

/// Parses the Android (object) dialect.
pub(crate) fn parse_android(
    reader: impl BufRead,
    emit: &mut Emitter<'_>,
) -> Result<(), IngestError> {
    let mut android = Android {
        emit,
        failure: None,
    };
    run_object(reader, &mut android)
}

/// Parses the iOS (array) dialect.
pub(crate) fn parse_ios(reader: impl BufRead, emit: &mut Emitter<'_>) -> Result<(), IngestError> {
    run_array(reader, |s: Segment| segment(emit, s))
}

#[cfg(test)]
mod tests {
    use crate::collect_bytes;
    use sillage_model::{HintKind, Mode, RejectReason, SourceFormat, Timestamp};

    /// Android object form, written from the field list in formats.md §3.
    const ANDROID: &str = r#"{
  "semanticSegments": [
    {"startTime": "2024-06-03T08:00:00.000+02:00", "endTime": "2024-06-03T08:20:00.000+02:00",
     "startTimeTimezoneUtcOffsetMinutes": 120, "endTimeTimezoneUtcOffsetMinutes": 120,
     "timelinePath": [{"point": "46.1591000°, -1.1520000°", "time": "2024-06-03T08:05:00.000+02:00"},
                      {"point": "46.1601000°, -1.1490000°", "time": "2024-06-03T08:06:00.000+02:00"}]},
    {"startTime": "2024-06-03T08:00:00.000+02:00", "endTime": "2024-06-03T08:20:00.000+02:00",
     "activity": {"start": {"latLng": "46.1591000°, -1.1520000°"}, "end": {"latLng": "46.1700000°, -1.1400000°"},
                  "distanceMeters": 1520.5, "topCandidate": {"type": "IN_BUS", "probability": 0.87}}},
    {"startTime": "2024-06-03T08:20:00.000+02:00", "endTime": "2024-06-03T17:00:00.000+02:00",
     "visit": {"hierarchyLevel": 0, "probability": 0.9,
               "topCandidate": {"placeId": "p1", "semanticType": "WORK", "probability": 0.8,
                                "placeLocation": {"latLng": "46.1700000°, -1.1400000°"}}}},
    {"startTime": "2024-06-03T17:00:00.000+02:00", "endTime": "2024-06-03T17:00:00.000+02:00",
     "timelineMemory": {"trip": {"distanceFromOriginKms": 1}}}
  ],
  "rawSignals": [
    {"position": {"LatLng": "46.1595000°, -1.1510000°", "accuracyMeters": 14, "altitudeMeters": 11.5,
                  "source": "GPS", "timestamp": "2024-06-03T08:03:30.500+02:00", "speedMetersPerSecond": 6.25}},
    {"wifiScan": {"deliveryTime": "2024-06-03T08:03:31.000+02:00", "devicesRecords": [{"mac": 1, "rawRssi": -70}]}},
    {"activityRecord": {"probableActivities": [{"type": "IN_VEHICLE", "confidence": 0.7}, {"type": "ON_FOOT", "confidence": 0.2}],
                        "timestamp": "2024-06-03T08:04:00.000+02:00"}},
    {"position": {"LatLng": "garbage", "timestamp": "2024-06-03T08:04:00.000+02:00"}}
  ],
  "userLocationProfile": {"frequentPlaces": [{"placeId": "p1", "placeLocation": "46.17°, -1.14°", "label": "WORK"}]}
}"#;

    #[test]
    fn android_dialect() {
        let (format, got) = collect_bytes(ANDROID.as_bytes());
        assert_eq!(format.unwrap(), SourceFormat::GoogleTimelineAndroid);
        let fixes = got.fix_list();
        // 2 path points + activity start/end + visit arrival/departure + 1 raw position.
        assert_eq!(fixes.len(), 7, "{fixes:?}");
        assert_eq!(
            fixes[0].time,
            Timestamp::parse_iso8601("2024-06-03T06:05:00Z").unwrap().0
        );
        assert_eq!((fixes[0].lat, fixes[0].lon), (46.1591, -1.152));
        assert_eq!(fixes[0].utc_offset_min, Some(120));
        let raw = fixes[6];
        assert_eq!(
            raw.time,
            Timestamp::parse_iso8601("2024-06-03T06:03:30.500Z")
                .unwrap()
                .0
        );
        assert_eq!((raw.lat, raw.lon), (46.1595, -1.151));
        assert_eq!(raw.accuracy_m, Some(14.0));
        assert_eq!(raw.altitude_m, Some(11.5));
        assert_eq!(raw.speed_mps, Some(6.25));
        assert_eq!(got.rejected.get(&RejectReason::InvalidValue), Some(&1));
        let kinds: Vec<_> = got.hints.iter().map(|(_, h)| &h.kind).collect();
        assert_eq!(kinds.len(), 3);
        assert!(matches!(
            kinds[0],
            HintKind::Activity {
                mode: Some(Mode::Bus),
                ..
            }
        ));
        assert!(matches!(kinds[1], HintKind::PlaceVisit { label: Some(l), .. } if l == "WORK"));
        assert!(
            matches!(kinds[2], HintKind::Activity { mode: None, label } if label == "IN_VEHICLE")
        );
        assert_eq!(got.hints[0].1.confidence, Some(0.87));
    }

    /// iOS array form: `geo:` coordinates, numbers as strings, minute offsets.
    const IOS: &str = r#"[
  {"endTime": "2024-06-03T09:30:00.000+02:00", "startTime": "2024-06-03T09:00:00.000+02:00",
   "activity": {"end": "geo:46.170000,-1.140000", "topCandidate": {"type": "walking", "probability": "0.950077"},
                "distanceMeters": "1200.5", "start": "geo:46.159100,-1.152000"}},
  {"endTime": "2024-06-03T10:00:00.000+02:00", "startTime": "2024-06-03T09:00:00.000+02:00",
   "timelinePath": [{"point": "geo:46.160000,-1.150000", "durationMinutesOffsetFromStartTime": "6"},
                    {"point": "geo:46.165000,-1.145000", "durationMinutesOffsetFromStartTime": "12"}]},
  {"endTime": "2024-06-03T18:00:00.000+02:00", "startTime": "2024-06-03T09:30:00.000+02:00",
   "visit": {"hierarchyLevel": "0", "topCandidate": {"probability": "0.72", "semanticType": "Home", "placeID": "q",
             "placeLocation": "geo:46.170000,-1.140000"}, "probability": "0.8"}}
]"#;

    #[test]
    fn ios_dialect() {
        let (format, got) = collect_bytes(IOS.as_bytes());
        assert_eq!(format.unwrap(), SourceFormat::GoogleTimelineIos);
        let fixes = got.fix_list();
        assert_eq!(fixes.len(), 6, "{fixes:?}");
        assert_eq!(
            fixes[0].time,
            Timestamp::parse_iso8601("2024-06-03T07:00:00Z").unwrap().0
        );
        assert_eq!((fixes[0].lat, fixes[0].lon), (46.1591, -1.152));
        assert_eq!(
            fixes[2].time,
            Timestamp::parse_iso8601("2024-06-03T07:06:00Z").unwrap().0
        );
        assert_eq!((fixes[3].lat, fixes[3].lon), (46.165, -1.145));
        assert_eq!(fixes[3].utc_offset_min, Some(120));
        let walk = &got.hints[0].1;
        assert!(
            matches!(&walk.kind, HintKind::Activity { mode: Some(Mode::Walking), label } if label == "walking")
        );
        assert_eq!(walk.confidence, Some(0.950077));
        assert!(
            matches!(&got.hints[1].1.kind, HintKind::PlaceVisit { label: Some(l), .. } if l == "Home")
        );
        assert!(got.rejected.is_empty());
    }
}
