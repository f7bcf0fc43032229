//! Google Takeout Semantic Location History: monthly `{"timelineObjects":[…]}`.
//!
//! These files hold Google's interpretation, not raw fixes: visits to places
//! and activity segments between them. We keep every timed position they
//! carry (segment ends, `simplifiedRawPath` points, visit arrival and
//! departure at the place) as fixes, and the activity types and visits as
//! source hints. Untimed `waypointPath` points cannot become fixes.

use super::records::top_activity_hint;
use super::{EachElement, KeyHandler, run_object};
use crate::field::{Num, Time, probability};
use crate::{Emitter, IngestError};
use serde::Deserialize;
use serde::de::MapAccess;
use sillage_model::{Fix, HintKind, RejectReason, SourceHint, Timestamp};
use std::io::BufRead;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TimelineObject {
    activity_segment: Option<ActivitySegment>,
    place_visit: Option<PlaceVisit>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct E7Location {
    latitude_e7: Option<Num>,
    longitude_e7: Option<Num>,
    #[serde(alias = "latE7")]
    lat_e7: Option<Num>,
    #[serde(alias = "lngE7")]
    lng_e7: Option<Num>,
    name: Option<String>,
    semantic_type: Option<String>,
    #[serde(alias = "accuracyMeters")]
    accuracy_metres: Option<Num>,
    timestamp: Option<Time>,
    timestamp_ms: Option<Time>,
}

impl E7Location {
    fn lat_lon(&self) -> Option<(f64, f64)> {
        let lat = self.latitude_e7.or(self.lat_e7)?.get()?;
        let lon = self.longitude_e7.or(self.lng_e7)?.get()?;
        Some((lat / 1e7, lon / 1e7))
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Duration {
    start_timestamp: Option<Time>,
    end_timestamp: Option<Time>,
    start_timestamp_ms: Option<Time>,
    end_timestamp_ms: Option<Time>,
}

impl Duration {
    fn start(&self) -> Option<(Timestamp, Option<i16>)> {
        match self.start_timestamp.or(self.start_timestamp_ms)? {
            Time::Ok(t, o) => Some((t, o)),
            Time::Invalid => None,
        }
    }
    fn end(&self) -> Option<(Timestamp, Option<i16>)> {
        match self.end_timestamp.or(self.end_timestamp_ms)? {
            Time::Ok(t, o) => Some((t, o)),
            Time::Invalid => None,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ActivitySegment {
    #[serde(default)]
    start_location: E7Location,
    #[serde(default)]
    end_location: E7Location,
    #[serde(default)]
    duration: Duration,
    activity_type: Option<String>,
    #[serde(default)]
    activities: Vec<ActivityProbability>,
    simplified_raw_path: Option<RawPath>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ActivityProbability {
    activity_type: Option<String>,
    probability: Option<Num>,
}

#[derive(Deserialize)]
struct RawPath {
    #[serde(default)]
    points: Vec<E7Location>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PlaceVisit {
    #[serde(default)]
    location: E7Location,
    #[serde(default)]
    duration: Duration,
    center_lat_e7: Option<Num>,
    center_lng_e7: Option<Num>,
    simplified_raw_path: Option<RawPath>,
}

/// Emits a fix at a place and instant, or counts why it cannot be one.
fn emit_at(
    emit: &mut Emitter<'_>,
    at: Option<(Timestamp, Option<i16>)>,
    position: Option<(f64, f64)>,
    accuracy: Option<f32>,
) -> Result<(), IngestError> {
    match (at, position) {
        (Some((time, offset)), Some((lat, lon))) => {
            let mut fix = Fix::new(time, lat, lon);
            fix.accuracy_m = accuracy;
            fix.utc_offset_min = offset.filter(|&o| o != 0);
            emit.fix("", fix)?;
        }
        // An empty `startLocation: {}` is common and carries nothing: not a rejected record.
        (_, None) => {}
        (None, Some(_)) => emit.reject(RejectReason::MissingTime)?,
    }
    Ok(())
}

fn emit_raw_path(emit: &mut Emitter<'_>, path: Option<&RawPath>) -> Result<(), IngestError> {
    for point in path.map(|p| p.points.as_slice()).unwrap_or_default() {
        let at = match point.timestamp.or(point.timestamp_ms) {
            Some(Time::Ok(t, o)) => Some((t, o)),
            _ => None,
        };
        let accuracy = crate::field::opt_f32(point.accuracy_metres, true);
        emit_at(emit, at, point.lat_lon(), accuracy)?;
    }
    Ok(())
}

fn segment(emit: &mut Emitter<'_>, s: &ActivitySegment) -> Result<(), IngestError> {
    let (start, end) = (s.duration.start(), s.duration.end());
    emit_at(emit, start, s.start_location.lat_lon(), None)?;
    emit_raw_path(emit, s.simplified_raw_path.as_ref())?;
    emit_at(emit, end, s.end_location.lat_lon(), None)?;
    let (Some((start, _)), Some((end, _))) = (start, end) else {
        return Ok(());
    };
    let hint = match &s.activity_type {
        Some(label) => {
            let confidence = s
                .activities
                .iter()
                .find(|a| a.activity_type.as_ref() == Some(label))
                .and_then(|a| a.probability?.get())
                .map(probability);
            Some(SourceHint::activity(start, end, label, confidence))
        }
        None => top_activity_hint(&[], start, end),
    };
    if let Some(hint) = hint {
        emit.hint("", hint)?;
    }
    Ok(())
}

fn visit(emit: &mut Emitter<'_>, v: &PlaceVisit) -> Result<(), IngestError> {
    let centre = match (
        v.center_lat_e7.and_then(Num::get),
        v.center_lng_e7.and_then(Num::get),
    ) {
        (Some(lat), Some(lon)) => Some((lat / 1e7, lon / 1e7)),
        _ => None,
    };
    let position = v.location.lat_lon().or(centre);
    let accuracy = crate::field::opt_f32(v.location.accuracy_metres, true);
    let (start, end) = (v.duration.start(), v.duration.end());
    emit_at(emit, start, position, accuracy)?;
    emit_raw_path(emit, v.simplified_raw_path.as_ref())?;
    emit_at(emit, end, position, accuracy)?;
    if let (Some((start, _)), Some((end, _))) = (start, end) {
        let label = v
            .location
            .semantic_type
            .clone()
            .or_else(|| v.location.name.clone());
        let hint = SourceHint {
            start,
            end,
            confidence: None,
            kind: HintKind::PlaceVisit {
                lat: position.map(|p| p.0),
                lon: position.map(|p| p.1),
                label,
            },
        };
        emit.hint("", hint)?;
    }
    Ok(())
}

struct Semantic<'e, 'a> {
    emit: &'e mut Emitter<'a>,
    failure: Option<IngestError>,
}

impl KeyHandler for Semantic<'_, '_> {
    fn value<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        if key != "timelineObjects" {
            return Ok(false);
        }
        let emit = &mut *self.emit;
        let mut handle = |o: TimelineObject| {
            if let Some(s) = &o.activity_segment {
                segment(emit, s)?;
            }
            if let Some(v) = &o.place_visit {
                visit(emit, v)?;
            }
            Ok(())
        };
        let result = map.next_value_seed(EachElement::new(&mut handle, &mut self.failure));
        result.map(|()| true)
    }
    fn take_failure(&mut self) -> Option<IngestError> {
        self.failure.take()
    }
}

/// Parses one Semantic Location History monthly file.
pub(crate) fn parse(reader: impl BufRead, emit: &mut Emitter<'_>) -> Result<(), IngestError> {
    let mut semantic = Semantic {
        emit,
        failure: None,
    };
    run_object(reader, &mut semantic)
}

#[cfg(test)]
mod tests {
    use crate::collect_bytes;
    use sillage_model::{HintKind, Mode, SourceFormat, Timestamp};

    /// Written from the published field list: an activity segment with an
    /// empty start location, a millisecond-string end, a raw path; a place
    /// visit with a centre, candidates and seconds-precision ISO times.
    const SEMANTIC: &str = "\u{feff}{\"timelineObjects\":[
      {\"activitySegment\":{
         \"startLocation\":{},
         \"endLocation\":{\"latitudeE7\":461620000,\"longitudeE7\":-11490000,\"sourceInfo\":{\"deviceTag\":42}},
         \"duration\":{\"startTimestamp\":\"2022-05-02T07:30:00.000Z\",\"endTimestampMs\":\"1651477500000\"},
         \"distance\":2100,
         \"activityType\":\"CYCLING\",
         \"confidence\":\"HIGH\",
         \"activities\":[{\"activityType\":\"CYCLING\",\"probability\":91.5},{\"activityType\":\"WALKING\",\"probability\":5.0}],
         \"waypointPath\":{\"waypoints\":[{\"latE7\":461600000,\"lngE7\":-11510000}],\"travelMode\":\"BICYCLE\"},
         \"simplifiedRawPath\":{\"points\":[{\"latE7\":461610000,\"lngE7\":-11500000,\"accuracyMeters\":9,\"timestamp\":\"2022-05-02T07:37:00Z\"}]}
      }},
      {\"placeVisit\":{
         \"location\":{\"latitudeE7\":461620500,\"longitudeE7\":-11489500,\"placeId\":\"x\",\"name\":\"Médiathèque\",\"semanticType\":\"TYPE_WORK\"},
         \"duration\":{\"startTimestamp\":\"2022-05-02T07:45:00Z\",\"endTimestamp\":\"2022-05-02T12:00:00Z\"},
         \"placeConfidence\":\"HIGH_CONFIDENCE\",
         \"centerLatE7\":461620400,\"centerLngE7\":-11489400,
         \"otherCandidateLocations\":[{\"latitudeE7\":461700000,\"longitudeE7\":-11400000,\"placeId\":\"y\"}]
      }}
    ]}";

    #[test]
    fn segments_and_visits_become_fixes_and_hints() {
        let (format, got) = collect_bytes(SEMANTIC.as_bytes());
        assert_eq!(format.unwrap(), SourceFormat::GoogleSemantic);
        let fixes = got.fix_list();
        assert_eq!(fixes.len(), 4, "{fixes:?}");
        assert_eq!(fixes[0].time, Timestamp(1_651_477_020_000));
        assert_eq!((fixes[0].lat, fixes[0].lon), (46.161, -1.15));
        assert_eq!(fixes[0].accuracy_m, Some(9.0));
        assert_eq!(fixes[1].time, Timestamp(1_651_477_500_000));
        assert_eq!((fixes[1].lat, fixes[1].lon), (46.162, -1.149));
        assert_eq!(fixes[2].time, Timestamp(1_651_477_500_000), "visit arrival");
        assert_eq!((fixes[2].lat, fixes[2].lon), (46.16205, -1.14895));
        assert_eq!(fixes[3].time, Timestamp(1_651_492_800_000));
        assert!(
            got.rejected.is_empty(),
            "an empty startLocation is not a rejection"
        );
        assert_eq!(got.hints.len(), 2);
        let ride = &got.hints[0].1;
        assert_eq!(ride.start, Timestamp(1_651_476_600_000));
        assert_eq!(ride.confidence, Some(0.915));
        assert!(matches!(
            &ride.kind,
            HintKind::Activity {
                mode: Some(Mode::Bicycle),
                ..
            }
        ));
        assert!(
            matches!(&got.hints[1].1.kind, HintKind::PlaceVisit { label: Some(l), .. } if l == "TYPE_WORK")
        );
    }
}
