//! GPX 1.0 and 1.1: track points, timed route points and timed waypoints.
//!
//! A `<trkpt>` is a record of movement, so one without a usable time is
//! counted as rejected. Route points and waypoints are usually plans or
//! landmarks: they become fixes only when they carry a `<time>`, and are
//! otherwise skipped without counting. Speed and course come from GPX 1.0
//! `<speed>`/`<course>` or from any extension element of those names (Garmin
//! `TrackPointExtension` v2); accuracy from an `accuracy`/`hAcc` extension,
//! else estimated as 5 × `<hdop>` metres. A track's `<type>` becomes an
//! activity hint over the track's timed points.

use super::{
    Abort, ActivitySpan, Element, Handler, Position, drive, for_each_attribute, number, time,
};
use crate::field::{Num, Time, opt_f32};
use crate::{Emitter, IngestError};
use quick_xml::events::BytesStart;
use sillage_model::{Fix, RejectReason};
use std::io::BufRead;

/// Metres of horizontal error per unit of HDOP: the usual rule of thumb
/// for consumer GPS receivers (user-equivalent range error of about 5 m).
const METRES_PER_HDOP: f32 = 5.0;

/// Parses a GPX stream.
pub(crate) fn parse(reader: impl BufRead, emit: &mut Emitter<'_>) -> Result<(), IngestError> {
    let mut gpx = Gpx {
        emit,
        point: None,
        fields: Point::default(),
        track_depth: None,
        activity: ActivitySpan::default(),
    };
    drive(reader, "gpx", &mut gpx)
}

/// Which kind of point element is open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PointKind {
    /// `<trkpt>`.
    Track,
    /// `<rtept>`.
    Route,
    /// `<wpt>`.
    Waypoint,
}

/// The fields of the point being read: the only per-point state.
#[derive(Clone, Copy, Debug, Default)]
struct Point {
    position: Position,
    time: Option<Time>,
    ele: Option<Num>,
    speed: Option<Num>,
    course: Option<Num>,
    hdop: Option<Num>,
    accuracy: Option<Num>,
    ext_speed: Option<Num>,
    ext_course: Option<Num>,
}

/// The point field an element's text fills.
#[derive(Clone, Copy, Debug)]
enum Field {
    Time,
    Ele,
    Speed,
    Course,
    Hdop,
    Accuracy,
    ExtSpeed,
    ExtCourse,
}

/// The GPX handler.
struct Gpx<'e, 'a> {
    emit: &'e mut Emitter<'a>,
    /// The open point element and its depth.
    point: Option<(PointKind, usize)>,
    fields: Point,
    /// Depth of the open `<trk>`, if any.
    track_depth: Option<usize>,
    activity: ActivitySpan,
}

impl Gpx<'_, '_> {
    /// The field `element` fills, when it sits inside the open point.
    fn field(&self, element: Element<'_>) -> Option<Field> {
        let (_, depth) = self.point?;
        let name = element.name;
        if element.depth == depth + 1 {
            // Direct children: the GPX schema's own elements.
            return match name {
                b"time" => Some(Field::Time),
                b"ele" => Some(Field::Ele),
                b"speed" => Some(Field::Speed),
                b"course" => Some(Field::Course),
                b"hdop" => Some(Field::Hdop),
                _ => None,
            };
        }
        // Deeper: inside <extensions>, where vendors pick their own casing.
        if name.eq_ignore_ascii_case(b"speed") {
            Some(Field::ExtSpeed)
        } else if name.eq_ignore_ascii_case(b"course") {
            Some(Field::ExtCourse)
        } else if name.eq_ignore_ascii_case(b"accuracy") || name.eq_ignore_ascii_case(b"hacc") {
            Some(Field::Accuracy)
        } else {
            None
        }
    }

    fn begin_point(
        &mut self,
        kind: PointKind,
        depth: usize,
        tag: &BytesStart<'_>,
    ) -> Result<(), Abort> {
        let (mut lat, mut lon) = (None, None);
        for_each_attribute(tag, |key, value| {
            // An empty attribute tried to give a value: unreadable, not absent.
            let read = || Some(number(value).unwrap_or(Num::Invalid));
            match key {
                b"lat" if lat.is_none() => lat = read(),
                b"lon" if lon.is_none() => lon = read(),
                _ => {}
            }
        })?;
        self.fields = Point {
            position: Position::from_parts(lat, lon),
            ..Point::default()
        };
        self.point = Some((kind, depth));
        Ok(())
    }

    fn set(&mut self, field: Field, text: &[u8]) {
        let p = &mut self.fields;
        match field {
            Field::Time => p.time = time(text),
            Field::Ele => p.ele = number(text),
            Field::Speed => p.speed = number(text),
            Field::Course => p.course = number(text),
            Field::Hdop => p.hdop = number(text),
            Field::Accuracy => p.accuracy = number(text),
            Field::ExtSpeed => p.ext_speed = number(text),
            Field::ExtCourse => p.ext_course = number(text),
        }
    }

    fn finish_point(&mut self, kind: PointKind) -> Result<(), Abort> {
        let p = std::mem::take(&mut self.fields);
        let (time, offset) = match (p.time, kind) {
            (Some(Time::Ok(t, o)), _) => (t, o),
            (Some(Time::Invalid), _) => return Ok(self.emit.reject(RejectReason::InvalidValue)?),
            (None, PointKind::Track) => return Ok(self.emit.reject(RejectReason::MissingTime)?),
            (None, PointKind::Route | PointKind::Waypoint) => return Ok(()),
        };
        let (lat, lon) = match p.position {
            Position::At { lat, lon } => (lat, lon),
            Position::Invalid => return Ok(self.emit.reject(RejectReason::InvalidValue)?),
            Position::Missing => return Ok(self.emit.reject(RejectReason::MissingPosition)?),
        };
        if kind == PointKind::Track && self.track_depth.is_some() {
            self.activity.include(time);
        }
        let fix = Fix {
            time,
            lat,
            lon,
            accuracy_m: opt_f32(p.accuracy, true)
                .or_else(|| opt_f32(p.hdop, true).map(|hdop| hdop * METRES_PER_HDOP)),
            speed_mps: opt_f32(p.speed, true).or_else(|| opt_f32(p.ext_speed, true)),
            bearing_deg: opt_f32(p.course, true).or_else(|| opt_f32(p.ext_course, true)),
            altitude_m: opt_f32(p.ele, false),
            utc_offset_min: offset.filter(|&o| o != 0),
        };
        Ok(self.emit.fix("", fix)?)
    }

    fn in_track_header(&self, element: Element<'_>) -> bool {
        self.track_depth.is_some_and(|d| element.depth == d + 1)
    }
}

impl Handler for Gpx<'_, '_> {
    fn start(&mut self, element: Element<'_>, tag: &BytesStart<'_>) -> Result<bool, Abort> {
        if self.point.is_some() {
            return Ok(self.field(element).is_some());
        }
        match element.name {
            b"trkpt" => self.begin_point(PointKind::Track, element.depth, tag)?,
            b"rtept" => self.begin_point(PointKind::Route, element.depth, tag)?,
            b"wpt" => self.begin_point(PointKind::Waypoint, element.depth, tag)?,
            b"trk" => {
                self.track_depth = Some(element.depth);
                self.activity.reset();
            }
            b"type" => return Ok(self.in_track_header(element)),
            _ => {}
        }
        Ok(false)
    }

    fn end(&mut self, element: Element<'_>, text: &[u8]) -> Result<(), Abort> {
        if let Some((kind, depth)) = self.point {
            if element.depth == depth {
                self.point = None;
                return self.finish_point(kind);
            }
            if let Some(field) = self.field(element) {
                self.set(field, text);
            }
            return Ok(());
        }
        match element.name {
            b"type" if self.in_track_header(element) => self.activity.set_label(text),
            b"trk" if self.track_depth == Some(element.depth) => {
                self.track_depth = None;
                if let Some(hint) = self.activity.take_hint() {
                    self.emit.hint("", hint)?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::{Collected, Emitter, collect_bytes, parse_as};
    use sillage_model::{
        Fix, HintKind, Mode, RejectReason, SourceFormat, Timestamp, ValidationRules,
    };

    /// 2024-03-01T08:00:00Z.
    const T0: i64 = 1_709_280_000_000;

    fn fixture(name: &str) -> Vec<u8> {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/gpx-fixtures/"
        );
        std::fs::read(format!("{dir}{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    /// Parses a fixture that must be read as GPX without error.
    fn parse_fixture(name: &str) -> Collected {
        let (format, got) = collect_bytes(&fixture(name));
        assert_eq!(format.unwrap(), SourceFormat::Gpx, "{name}");
        got
    }

    fn fixes(got: &Collected) -> Vec<Fix> {
        got.fix_list()
    }

    fn rejected(got: &Collected, reason: RejectReason) -> u64 {
        got.rejected.get(&reason).copied().unwrap_or(0)
    }

    fn num(text: &str) -> f64 {
        text.parse().unwrap()
    }

    #[test]
    fn fixture_counts() {
        // (file, fixes, rejected as missing_time, hints)
        let cases = [
            ("garmin-activity.gpx", 988, 0, 1),
            ("garmin_with_extensions.gpx", 3540, 0, 0),
            ("gpsies_example.gpx", 41, 0, 0),
            ("wahoo_example.gpx", 3, 0, 0),
            ("wikipedia_example.gpx", 3, 0, 0),
            ("with_accuracy.gpx", 3, 0, 0),
            ("caltopo-export.gpx", 6, 0, 0),
            ("strava_route_example.gpx", 0, 113, 0),
            ("ecology-trail-and-lovers-lane-loop.gpx", 0, 0, 0),
            ("empty_name_tag.gpx", 0, 0, 0),
            ("mousehole_to_paul.gpx", 0, 111, 0),
            ("outdooractive-export.gpx", 0, 9, 0),
            ("viking_with_route_extensions.gpx", 0, 5, 0),
        ];
        for (name, fix_count, missing_time, hint_count) in cases {
            let got = parse_fixture(name);
            assert_eq!(got.fixes.len(), fix_count, "{name} fixes");
            assert_eq!(
                rejected(&got, RejectReason::MissingTime),
                missing_time,
                "{name}"
            );
            let total_rejected: u64 = got.rejected.values().sum();
            assert_eq!(total_rejected, missing_time, "{name}: {:?}", got.rejected);
            assert_eq!(got.hints.len(), hint_count, "{name} hints");
            assert!(
                got.fixes.iter().all(|(device, _)| device.is_empty()),
                "{name}"
            );
        }
    }

    #[test]
    fn garmin_activity_first_last_points_and_running_hint() {
        let got = parse_fixture("garmin-activity.gpx");
        let list = fixes(&got);
        let (first, last) = (list[0], list[list.len() - 1]);
        assert_eq!(first.lat, num("37.24173816852271556854248046875"));
        assert_eq!(first.lon, num("-121.9723242335021495819091796875"));
        assert_eq!(first.time, Timestamp(1_501_339_595_000));
        assert_eq!(first.altitude_m, Some(104.0));
        assert_eq!(first.utc_offset_min, None, "Z is UTC, not a local offset");
        assert_eq!(
            (first.accuracy_m, first.speed_mps, first.bearing_deg),
            (None, None, None)
        );
        assert_eq!(last.lat, num("37.240441404283046722412109375"));
        assert_eq!(last.lon, num("-121.97119376622140407562255859375"));
        assert_eq!(last.time, Timestamp(1_501_345_093_000));
        assert_eq!(last.altitude_m, Some(num("98.40000152587890625") as f32));
        let (device, hint) = &got.hints[0];
        assert_eq!(device, "");
        assert_eq!((hint.start, hint.end), (first.time, last.time));
        let expected = HintKind::Activity {
            label: "running".into(),
            mode: Some(Mode::Running),
        };
        assert_eq!(hint.kind, expected);
    }

    #[test]
    fn garmin_extensions_and_caltopo_first_last_points() {
        let list = fixes(&parse_fixture("garmin_with_extensions.gpx"));
        let (first, last) = (list[0], list[list.len() - 1]);
        assert_eq!((first.lat, first.lon), (47.4844814278, 10.9756895620));
        assert_eq!(first.time, Timestamp(1_556_685_071_000));
        assert_eq!(first.altitude_m, Some(860.0));
        assert_eq!((last.lat, last.lon), (47.4845455494, 10.9758830164));
        assert_eq!(last.time, Timestamp(1_556_721_695_000));
        assert_eq!(last.altitude_m, Some(807.38));

        let list = fixes(&parse_fixture("caltopo-export.gpx"));
        let (first, last) = (list[0], list[5]);
        assert_eq!(
            (first.lat, first.lon),
            (36.44834803417325, -118.17100617103279)
        );
        assert_eq!(first.time, Timestamp(1_565_653_500_000));
        assert_eq!(first.altitude_m, Some(3036.0));
        assert_eq!(
            (last.lat, last.lon),
            (36.49673483334482, -118.33698051050305)
        );
        assert_eq!(last.time, Timestamp(1_565_732_760_000));
        assert_eq!(last.altitude_m, Some(2923.0));
    }

    #[test]
    fn hdop_estimates_accuracy_and_empty_ele_is_absent() {
        let list = fixes(&parse_fixture("with_accuracy.gpx"));
        let accuracies: Vec<_> = list.iter().map(|f| f.accuracy_m).collect();
        assert_eq!(accuracies, [Some(25.0), Some(18.0), None]);
        assert_eq!(list[0].time, Timestamp(1_492_016_436_000));
        assert_eq!(list[1].altitude_m, Some(0.0));
        assert_eq!(list[2].altitude_m, None);

        let list = fixes(&parse_fixture("wahoo_example.gpx"));
        assert!(
            list.iter().all(|f| f.altitude_m.is_none()),
            "<ele/> means no altitude"
        );
        assert_eq!((list[0].lat, list[0].lon), (45.454350, -121.933136));
    }

    #[test]
    fn not_well_formed_fixture_is_an_error() {
        let bytes = fixture("badcharacter.xml");
        let (result, got) = collect_bytes(&bytes);
        assert!(result.is_err());
        assert!(got.fixes.is_empty());
        // Even when forced through the GPX parser, it is refused, not read.
        let mut sink = Collected::default();
        let rules = ValidationRules {
            max_accuracy_m: 10_000.0,
            latest: Timestamp(4_102_444_800_000),
        };
        let err = parse_as(
            SourceFormat::Gpx,
            &bytes[..],
            &mut Emitter::new(&mut sink, rules),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("malformed input at byte"), "{err}");
    }

    const GPX_1_0: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.0" creator="sillage tests" xmlns="http://www.topografix.com/GPX/1/0">
 <trk>
  <name>Quai Duperre</name>
  <type>cycling</type>
  <trkseg>
   <trkpt lat="46.1591" lon="-1.1520">
    <ele>4.5</ele>
    <time>2024-03-01T08:00:00Z</time>
    <course>87.5</course>
    <speed>4.25</speed>
    <hdop>1.2</hdop>
   </trkpt>
   <trkpt lat="46.1593" lon="-1.1510">
    <time>2024-03-01T09:00:05+01:00</time>
    <speed>fast</speed>
   </trkpt>
   <trkpt lat="46.1595" lon="-1.1500"/>
   <trkpt lat="north" lon="-1.1500"><time>2024-03-01T08:00:10Z</time></trkpt>
   <trkpt lon="-1.1500"><time>2024-03-01T08:00:15Z</time></trkpt>
   <trkpt lat="46.1597" lon="-1.1490"><time>yesterday</time></trkpt>
  </trkseg>
 </trk>
</gpx>
"#;

    #[test]
    fn gpx_1_0_speed_course_offsets_and_rejections() {
        let (format, got) = collect_bytes(GPX_1_0.as_bytes());
        assert_eq!(format.unwrap(), SourceFormat::Gpx);
        let list = fixes(&got);
        assert_eq!(list.len(), 2);
        let expected = Fix {
            time: Timestamp(T0),
            lat: 46.1591,
            lon: -1.1520,
            accuracy_m: Some(6.0),
            speed_mps: Some(4.25),
            bearing_deg: Some(87.5),
            altitude_m: Some(4.5),
            utc_offset_min: None,
        };
        assert_eq!(list[0], expected);
        assert_eq!(list[1].time, Timestamp(T0 + 5_000));
        assert_eq!(list[1].utc_offset_min, Some(60));
        assert_eq!(
            list[1].speed_mps, None,
            "unreadable optional field is dropped"
        );
        assert_eq!(rejected(&got, RejectReason::MissingTime), 1);
        assert_eq!(rejected(&got, RejectReason::InvalidValue), 2);
        assert_eq!(rejected(&got, RejectReason::MissingPosition), 1);
        assert_eq!(got.hints.len(), 1);
        let hint = &got.hints[0].1;
        assert_eq!(
            (hint.start, hint.end),
            (Timestamp(T0), Timestamp(T0 + 5_000))
        );
        let expected = HintKind::Activity {
            label: "cycling".into(),
            mode: Some(Mode::Bicycle),
        };
        assert_eq!(hint.kind, expected);
    }

    const GPX_1_1_PREFIXED: &str = r#"<?xml version="1.0"?>
<g:gpx version="1.1" creator="sillage tests" xmlns:g="http://www.topografix.com/GPX/1/1"
       xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v2">
 <g:wpt lat="46.1560" lon="-1.1530"><g:time>2024-03-01T07:55:00Z</g:time><g:name>Vieux-Port</g:name></g:wpt>
 <g:wpt lat="46.1600" lon="-1.1600"><g:name>Untimed landmark</g:name></g:wpt>
 <g:rte>
  <g:rtept lat="46.1600" lon="-1.1500"/>
  <g:rtept lat="46.1610" lon="-1.1510"><g:time>2024-03-01T07:56:00Z</g:time></g:rtept>
 </g:rte>
 <g:trk>
  <g:link href="https://example.invalid/"><g:type>text/html</g:type></g:link>
  <g:trkseg>
   <g:trkpt lat="46.1601" lon="-1.1502">
    <g:time>2024-03-01T08:10:00.250Z</g:time>
    <g:hdop>3</g:hdop>
    <g:extensions>
     <gpxtpx:TrackPointExtension>
      <gpxtpx:speed>2.5</gpxtpx:speed>
      <gpxtpx:course>180</gpxtpx:course>
     </gpxtpx:TrackPointExtension>
     <accuracy>7.5</accuracy>
    </g:extensions>
   </g:trkpt>
  </g:trkseg>
 </g:trk>
</g:gpx>"#;

    #[test]
    fn timed_waypoints_and_route_points_extensions_and_prefixes() {
        let (format, got) = collect_bytes(GPX_1_1_PREFIXED.as_bytes());
        assert_eq!(format.unwrap(), SourceFormat::Gpx);
        assert!(got.rejected.is_empty(), "{:?}", got.rejected);
        assert!(got.hints.is_empty(), "a <link><type> is not an activity");
        let list = fixes(&got);
        let summary: Vec<_> = list.iter().map(|f| (f.lat, f.lon, f.time.0)).collect();
        assert_eq!(
            summary,
            [
                (46.1560, -1.1530, T0 - 300_000),
                (46.1610, -1.1510, T0 - 240_000),
                (46.1601, -1.1502, T0 + 600_250)
            ]
        );
        let point = list[2];
        assert_eq!(
            point.accuracy_m,
            Some(7.5),
            "explicit accuracy beats 5 × hdop"
        );
        assert_eq!(point.speed_mps, Some(2.5));
        assert_eq!(point.bearing_deg, Some(180.0));
    }

    #[test]
    fn truncated_documents_name_a_byte_offset() {
        let cut = &GPX_1_0[..GPX_1_0.find("<course>").unwrap()];
        let (result, got) = collect_bytes(cut.as_bytes());
        let message = result.unwrap_err().to_string();
        assert!(
            message.contains(&format!("at byte {}", cut.len())),
            "{message}"
        );
        assert!(message.contains("end of file inside <trkpt>"), "{message}");
        assert!(got.fixes.is_empty());

        // Points read before the cut were already handed on.
        let cut = &GPX_1_0[..GPX_1_0.find("<trkpt lat=\"46.1595\"").unwrap() + 14];
        let (result, got) = collect_bytes(cut.as_bytes());
        let message = result.unwrap_err().to_string();
        assert!(message.contains("malformed input at byte"), "{message}");
        assert_eq!(got.fixes.len(), 2);

        let mismatched = GPX_1_0.replace("</trkseg>", "</trk>");
        let message = collect_bytes(mismatched.as_bytes())
            .0
            .unwrap_err()
            .to_string();
        assert!(message.contains("malformed input at byte"), "{message}");
    }

    #[test]
    fn every_prefix_fails_cleanly() {
        let end = GPX_1_1_PREFIXED.len();
        for cut in 0..end {
            let (result, _) = collect_bytes(&GPX_1_1_PREFIXED.as_bytes()[..cut]);
            assert!(result.is_err(), "prefix of {cut} bytes was accepted");
        }
        assert!(collect_bytes(GPX_1_1_PREFIXED.as_bytes()).0.is_ok());
    }

    proptest::proptest! {
        #[test]
        fn mutated_documents_never_panic(
            at in 0..GPX_1_0.len(),
            cut in 0usize..64,
            fragments in super::super::fragments(),
        ) {
            super::super::parse_mutated(GPX_1_0, at, cut, &fragments);
        }
    }
}
