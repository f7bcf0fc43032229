//! TCX (Garmin Training Center): the trackpoints of recorded activities.
//!
//! A `<Trackpoint>` with a `<Position>` is a fix: `<Time>`,
//! `<LatitudeDegrees>`/`<LongitudeDegrees>`, `<AltitudeMeters>` and the
//! ActivityExtension `<Speed>` (m/s). Trackpoints without `<Position>`
//! (heart rate or cadence samples recorded indoors or before the GPS locked)
//! are skipped without counting, as are trackpoints of `<Course>`s, which
//! are planned routes with made-up times. Each `<Activity Sport="…">` becomes
//! an activity hint over the time span of its trackpoints.

use super::{
    Abort, ActivitySpan, Element, Handler, Position, drive, for_each_attribute, number, time,
};
use crate::field::{Num, Time, opt_f32};
use crate::{Emitter, IngestError};
use quick_xml::events::BytesStart;
use sillage_model::{Fix, RejectReason};
use std::io::BufRead;

/// Parses a TCX stream.
pub(crate) fn parse(reader: impl BufRead, emit: &mut Emitter<'_>) -> Result<(), IngestError> {
    let mut tcx = Tcx {
        emit,
        activity_depth: None,
        activity: ActivitySpan::default(),
        point_depth: None,
        point: Trackpoint::default(),
    };
    drive(reader, "TrainingCenterDatabase", &mut tcx)
}

/// The fields of the trackpoint being read.
#[derive(Clone, Copy, Debug, Default)]
struct Trackpoint {
    time: Option<Time>,
    has_position: bool,
    lat: Option<Num>,
    lon: Option<Num>,
    altitude: Option<Num>,
    speed: Option<Num>,
}

/// The trackpoint field an element's text fills.
#[derive(Clone, Copy, Debug)]
enum Field {
    Time,
    Lat,
    Lon,
    Altitude,
    Speed,
}

/// The TCX handler.
struct Tcx<'e, 'a> {
    emit: &'e mut Emitter<'a>,
    /// Depth of the open `<Activity>`, if any.
    activity_depth: Option<usize>,
    activity: ActivitySpan,
    /// Depth of the open `<Trackpoint>`, if any.
    point_depth: Option<usize>,
    point: Trackpoint,
}

impl Tcx<'_, '_> {
    /// The field `element` fills, when it sits inside the open trackpoint.
    fn field(&self, element: Element<'_>) -> Option<Field> {
        let depth = self.point_depth?;
        match (element.name, element.parent) {
            (b"Time", _) if element.depth == depth + 1 => Some(Field::Time),
            (b"AltitudeMeters", _) if element.depth == depth + 1 => Some(Field::Altitude),
            (b"LatitudeDegrees", b"Position") => Some(Field::Lat),
            (b"LongitudeDegrees", b"Position") => Some(Field::Lon),
            // ActivityExtension v2 `<TPX><Speed>`, under <Extensions>.
            (b"Speed", _) if element.depth > depth + 1 => Some(Field::Speed),
            _ => None,
        }
    }

    fn finish_point(&mut self) -> Result<(), Abort> {
        self.point_depth = None;
        let p = std::mem::take(&mut self.point);
        if !p.has_position {
            return Ok(());
        }
        let (time, offset) = match p.time {
            Some(Time::Ok(t, o)) => (t, o),
            Some(Time::Invalid) => return Ok(self.emit.reject(RejectReason::InvalidValue)?),
            None => return Ok(self.emit.reject(RejectReason::MissingTime)?),
        };
        let (lat, lon) = match Position::from_parts(p.lat, p.lon) {
            Position::At { lat, lon } => (lat, lon),
            Position::Invalid => return Ok(self.emit.reject(RejectReason::InvalidValue)?),
            Position::Missing => return Ok(self.emit.reject(RejectReason::MissingPosition)?),
        };
        self.activity.include(time);
        let fix = Fix {
            speed_mps: opt_f32(p.speed, true),
            altitude_m: opt_f32(p.altitude, false),
            utc_offset_min: offset.filter(|&o| o != 0),
            ..Fix::new(time, lat, lon)
        };
        Ok(self.emit.fix("", fix)?)
    }
}

impl Handler for Tcx<'_, '_> {
    fn start(&mut self, element: Element<'_>, tag: &BytesStart<'_>) -> Result<bool, Abort> {
        if let Some(depth) = self.point_depth {
            if element.name == b"Position" && element.depth == depth + 1 {
                self.point.has_position = true;
            }
            return Ok(self.field(element).is_some());
        }
        match element.name {
            b"Activity" if self.activity_depth.is_none() => {
                self.activity_depth = Some(element.depth);
                self.activity.reset();
                let activity = &mut self.activity;
                for_each_attribute(tag, |key, value| {
                    if key == b"Sport" {
                        activity.set_label(value);
                    }
                })?;
            }
            b"Trackpoint" if self.activity_depth.is_some() => {
                self.point_depth = Some(element.depth);
                self.point = Trackpoint::default();
            }
            _ => {}
        }
        Ok(false)
    }

    fn end(&mut self, element: Element<'_>, text: &[u8]) -> Result<(), Abort> {
        if let Some(depth) = self.point_depth {
            if element.depth == depth {
                return self.finish_point();
            }
            let field = self.field(element);
            let p = &mut self.point;
            match field {
                Some(Field::Time) => p.time = time(text),
                Some(Field::Lat) => p.lat = number(text),
                Some(Field::Lon) => p.lon = number(text),
                Some(Field::Altitude) => p.altitude = number(text),
                Some(Field::Speed) => p.speed = number(text),
                None => {}
            }
            return Ok(());
        }
        if element.name == b"Activity" && self.activity_depth == Some(element.depth) {
            self.activity_depth = None;
            if let Some(hint) = self.activity.take_hint() {
                self.emit.hint("", hint)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::collect_bytes;
    use sillage_model::{Fix, HintKind, Mode, RejectReason, SourceFormat, Timestamp};

    /// 2024-03-01T08:00:00Z.
    const T0: i64 = 1_709_280_000_000;

    const TCX: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"
    xmlns:ns3="http://www.garmin.com/xmlschemas/ActivityExtension/v2">
 <Activities>
  <Activity Sport="Biking">
   <Id>2024-03-01T08:00:00Z</Id>
   <Lap StartTime="2024-03-01T08:00:00Z">
    <TotalTimeSeconds>10</TotalTimeSeconds>
    <Track>
     <Trackpoint>
      <Time>2024-03-01T08:00:00Z</Time>
      <HeartRateBpm><Value>95</Value></HeartRateBpm>
     </Trackpoint>
     <Trackpoint>
      <Time>2024-03-01T08:00:05Z</Time>
      <Position>
       <LatitudeDegrees>46.1591</LatitudeDegrees>
       <LongitudeDegrees>-1.1520</LongitudeDegrees>
      </Position>
      <AltitudeMeters>4.2</AltitudeMeters>
      <DistanceMeters>0.0</DistanceMeters>
      <Extensions><ns3:TPX><ns3:Speed>5.5</ns3:Speed></ns3:TPX></Extensions>
     </Trackpoint>
     <Trackpoint>
      <Time>2024-03-01T08:00:10Z</Time>
      <Position><LatitudeDegrees>46.1594</LatitudeDegrees><LongitudeDegrees>-1.1512</LongitudeDegrees></Position>
     </Trackpoint>
    </Track>
   </Lap>
  </Activity>
  <Activity Sport="Running">
   <Id>2024-03-01T18:00:00Z</Id>
   <Lap StartTime="2024-03-01T18:00:00Z">
    <Track>
     <Trackpoint>
      <Position><LatitudeDegrees>46.1600</LatitudeDegrees><LongitudeDegrees>-1.1500</LongitudeDegrees></Position>
     </Trackpoint>
     <Trackpoint>
      <Time>2024-03-01T18:00:00Z</Time>
      <Position><LatitudeDegrees>46.1601</LatitudeDegrees><LongitudeDegrees>-1.1501</LongitudeDegrees></Position>
     </Trackpoint>
    </Track>
   </Lap>
  </Activity>
 </Activities>
 <Courses>
  <Course>
   <Name>Plan</Name>
   <Track>
    <Trackpoint>
     <Time>2024-03-02T08:00:00Z</Time>
     <Position><LatitudeDegrees>46.17</LatitudeDegrees><LongitudeDegrees>-1.16</LongitudeDegrees></Position>
    </Trackpoint>
   </Track>
  </Course>
 </Courses>
</TrainingCenterDatabase>
"#;

    #[test]
    fn trackpoints_with_position_become_fixes_and_sports_become_hints() {
        let (format, got) = collect_bytes(TCX.as_bytes());
        assert_eq!(format.unwrap(), SourceFormat::Tcx);
        let list = got.fix_list();
        assert_eq!(list.len(), 3);
        let mut first = Fix::new(Timestamp(T0 + 5_000), 46.1591, -1.1520);
        first.altitude_m = Some(4.2);
        first.speed_mps = Some(5.5);
        assert_eq!(list[0], first);
        assert_eq!(list[1], Fix::new(Timestamp(T0 + 10_000), 46.1594, -1.1512));
        assert_eq!(
            list[2],
            Fix::new(Timestamp(T0 + 36_000_000), 46.1601, -1.1501)
        );
        assert_eq!(got.rejected.get(&RejectReason::MissingTime), Some(&1));
        assert_eq!(
            got.rejected.len(),
            1,
            "heart-rate-only points are not rejections"
        );

        let hints: Vec<_> = got
            .hints
            .iter()
            .map(|(_, h)| (h.start.0 - T0, h.end.0 - T0, &h.kind))
            .collect();
        let biking = HintKind::Activity {
            label: "Biking".into(),
            mode: Some(Mode::Bicycle),
        };
        let running = HintKind::Activity {
            label: "Running".into(),
            mode: Some(Mode::Running),
        };
        assert_eq!(
            hints,
            [(5_000, 10_000, &biking), (36_000_000, 36_000_000, &running)]
        );
    }

    #[test]
    fn truncated_tcx_names_a_byte_offset() {
        let cut = &TCX[..TCX.find("<AltitudeMeters>").unwrap()];
        let message = collect_bytes(cut.as_bytes()).0.unwrap_err().to_string();
        assert!(
            message.contains(&format!("at byte {}", cut.len())),
            "{message}"
        );
        assert!(message.contains("inside <Trackpoint>"), "{message}");
    }

    #[test]
    fn every_prefix_fails_cleanly() {
        let end =
            TCX.find("</TrainingCenterDatabase>").unwrap() + "</TrainingCenterDatabase>".len();
        for cut in 0..end {
            assert!(collect_bytes(&TCX.as_bytes()[..cut]).0.is_err(), "{cut}");
        }
    }

    proptest::proptest! {
        #[test]
        fn mutated_documents_never_panic(
            at in 0..TCX.len(),
            cut in 0usize..64,
            fragments in super::super::fragments(),
        ) {
            super::super::parse_mutated(TCX, at, cut, &fragments);
        }
    }
}
