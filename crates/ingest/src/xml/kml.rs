//! KML: `<gx:Track>` tracks (Google's location-history KML, phone trackers)
//! and timed point placemarks.
//!
//! A `<gx:Track>` lists instants (`<when>`) and positions (`<gx:coord>`,
//! `lon lat [alt]`) that pair up in order: the i-th `when` goes with the i-th
//! `coord`. The schema puts all `when`s before all `coord`s, so the unpaired
//! side is queued until its partners arrive; pairs are emitted as soon as both
//! sides are known. Memory is therefore bounded by the size of one track in
//! the schema's order (16 bytes per queued instant) and constant for
//! producers that interleave the two. Unpaired leftovers at the end of a
//! track are rejected: extra `when`s as `missing_position`, extra `coord`s as
//! `missing_time`.
//!
//! A `<Placemark>` with a `<TimeStamp><when>` and a `<Point><coordinates>`
//! (`lon,lat[,alt]`) is one fix. Placemarks without a time (landmarks) and
//! other geometries (`LineString`, `Polygon`: untimed shapes) are skipped
//! without counting.

use super::{Abort, Element, Handler, Position, drive, number, time};
use crate::field::{Time, opt_f32};
use crate::{Emitter, IngestError};
use quick_xml::events::BytesStart;
use sillage_model::{Fix, RejectReason};
use std::collections::VecDeque;
use std::io::BufRead;

/// Parses a KML stream.
pub(crate) fn parse(reader: impl BufRead, emit: &mut Emitter<'_>) -> Result<(), IngestError> {
    let mut kml = Kml {
        emit,
        track_depth: None,
        whens: VecDeque::new(),
        coords: VecDeque::new(),
        placemark_depth: None,
        placemark_time: None,
        placemark_point: None,
    };
    drive(reader, "kml", &mut kml)
}

/// A position with its optional altitude, as read from KML text.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Coord {
    position: Position,
    altitude_m: Option<f32>,
}

/// Reads `lon lat [alt]` (gx:coord) or `lon,lat[,alt]` (coordinates); both
/// separators are accepted in both places, since producers mix them up.
/// Only the first tuple is read.
fn coord(text: &[u8]) -> Coord {
    let mut parts = text
        .split(|b| b.is_ascii_whitespace() || *b == b',')
        .filter(|part| !part.is_empty());
    let lon = parts.next().and_then(number);
    let lat = parts.next().and_then(number);
    let alt = parts.next().and_then(number);
    Coord {
        position: Position::from_parts(lat, lon),
        altitude_m: opt_f32(alt, false),
    }
}

/// The KML handler.
struct Kml<'e, 'a> {
    emit: &'e mut Emitter<'a>,
    /// Depth of the open `<gx:Track>`, if any.
    track_depth: Option<usize>,
    /// Instants of the open track still waiting for their position (`None`
    /// for an empty `<when/>`).
    whens: VecDeque<Option<Time>>,
    /// Positions of the open track still waiting for their instant.
    coords: VecDeque<Coord>,
    /// Depth of the open `<Placemark>`, if any.
    placemark_depth: Option<usize>,
    placemark_time: Option<Time>,
    /// The first `<Point>` of the open placemark.
    placemark_point: Option<Coord>,
}

impl Kml<'_, '_> {
    fn in_track(&self, element: Element<'_>) -> bool {
        self.track_depth.is_some_and(|d| element.depth == d + 1)
    }

    fn in_placemark(&self) -> bool {
        self.placemark_depth.is_some()
    }

    /// Emits one point, or counts why it cannot be one.
    fn point(&mut self, when: Option<Time>, at: Coord) -> Result<(), Abort> {
        let (time, offset) = match when {
            Some(Time::Ok(t, o)) => (t, o),
            Some(Time::Invalid) => return Ok(self.emit.reject(RejectReason::InvalidValue)?),
            None => return Ok(self.emit.reject(RejectReason::MissingTime)?),
        };
        let (lat, lon) = match at.position {
            Position::At { lat, lon } => (lat, lon),
            Position::Invalid => return Ok(self.emit.reject(RejectReason::InvalidValue)?),
            Position::Missing => return Ok(self.emit.reject(RejectReason::MissingPosition)?),
        };
        let fix = Fix {
            altitude_m: at.altitude_m,
            utc_offset_min: offset.filter(|&o| o != 0),
            ..Fix::new(time, lat, lon)
        };
        Ok(self.emit.fix("", fix)?)
    }

    /// Emits every pair that both queues can now form.
    fn pair(&mut self) -> Result<(), Abort> {
        while !self.whens.is_empty() && !self.coords.is_empty() {
            let (Some(when), Some(at)) = (self.whens.pop_front(), self.coords.pop_front()) else {
                break;
            };
            self.point(when, at)?;
        }
        Ok(())
    }

    /// Rejects what is left unpaired when a track closes.
    fn end_track(&mut self) -> Result<(), Abort> {
        self.track_depth = None;
        for _ in self.whens.drain(..) {
            self.emit.reject(RejectReason::MissingPosition)?;
        }
        for _ in self.coords.drain(..) {
            self.emit.reject(RejectReason::MissingTime)?;
        }
        Ok(())
    }

    fn end_placemark(&mut self) -> Result<(), Abort> {
        self.placemark_depth = None;
        let when = self.placemark_time.take();
        match self.placemark_point.take() {
            // A placemark without a time marks a place, not a passage.
            Some(at) if when.is_some() => self.point(when, at),
            _ => Ok(()),
        }
    }
}

impl Handler for Kml<'_, '_> {
    fn start(&mut self, element: Element<'_>, _: &BytesStart<'_>) -> Result<bool, Abort> {
        let wants_text = match (element.name, element.parent) {
            (b"Track", _) => {
                if self.track_depth.is_none() {
                    self.track_depth = Some(element.depth);
                }
                false
            }
            (b"Placemark", _) => {
                if self.placemark_depth.is_none() {
                    self.placemark_depth = Some(element.depth);
                    self.placemark_time = None;
                    self.placemark_point = None;
                }
                false
            }
            (b"when" | b"coord", b"Track") => self.in_track(element),
            (b"when", b"TimeStamp") => self.in_placemark(),
            (b"coordinates", b"Point") => self.in_placemark() && self.placemark_point.is_none(),
            _ => false,
        };
        Ok(wants_text)
    }

    fn end(&mut self, element: Element<'_>, text: &[u8]) -> Result<(), Abort> {
        match (element.name, element.parent) {
            (b"Track", _) if self.track_depth == Some(element.depth) => self.end_track()?,
            (b"Placemark", _) if self.placemark_depth == Some(element.depth) => {
                self.end_placemark()?
            }
            (b"when", b"Track") if self.in_track(element) => {
                self.whens.push_back(time(text));
                self.pair()?;
            }
            (b"coord", b"Track") if self.in_track(element) => {
                self.coords.push_back(coord(text));
                self.pair()?;
            }
            (b"when", b"TimeStamp") if self.in_placemark() => self.placemark_time = time(text),
            (b"coordinates", b"Point") if self.in_placemark() && self.placemark_point.is_none() => {
                self.placemark_point = Some(coord(text));
            }
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::collect_bytes;
    use sillage_model::{Fix, RejectReason, SourceFormat, Timestamp};

    /// 2024-03-01T08:00:00Z.
    const T0: i64 = 1_709_280_000_000;

    const KML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2">
<Document>
 <name>La Rochelle</name>
 <TimeStamp><when>2020-01-01T00:00:00Z</when></TimeStamp>
 <Placemark>
  <name>Morning walk</name>
  <gx:Track>
   <altitudeMode>clampToGround</altitudeMode>
   <when>2024-03-01T08:00:00Z</when>
   <when>2024-03-01T08:00:10.5Z</when>
   <when>2024-03-01T09:00:20+01:00</when>
   <gx:coord>-1.1520 46.1591 4</gx:coord>
   <gx:coord>-1.1515 46.1592 5.5</gx:coord>
   <gx:coord>-1.1510 46.1593</gx:coord>
   <gx:angles>0 0 0</gx:angles>
  </gx:Track>
 </Placemark>
 <Placemark>
  <name>Cafe</name>
  <TimeStamp><when>2024-03-01T08:30:00Z</when></TimeStamp>
  <Point><coordinates> -1.1505,46.1594,6 </coordinates></Point>
 </Placemark>
 <Placemark><name>Tour de la Lanterne</name><Point><coordinates>-1.1530,46.1560</coordinates></Point></Placemark>
 <Placemark><name>Quay</name><LineString><coordinates>-1.15,46.15 -1.16,46.16</coordinates></LineString></Placemark>
 <Folder>
  <Placemark>
   <gx:MultiTrack>
    <gx:Track>
     <when>2024-03-01T10:00:00Z</when><gx:coord>-1.1400 46.1500 1</gx:coord>
     <when>2024-03-01T10:00:05Z</when><gx:coord>-1.1401 46.1501 1</gx:coord>
     <gx:coord>-1.1402 46.1502 1</gx:coord>
    </gx:Track>
    <gx:Track>
     <when>2024-03-01T11:00:00Z</when>
     <when>not a time</when>
     <when>2024-03-01T11:00:10Z</when>
     <when/>
     <gx:coord>east north</gx:coord>
     <gx:coord>-1.1300 46.1400</gx:coord>
     <gx:coord>-1.1301 46.1401</gx:coord>
    </gx:Track>
   </gx:MultiTrack>
  </Placemark>
 </Folder>
</Document>
</kml>
"#;

    #[test]
    fn tracks_pair_in_order_and_timed_placemarks_are_fixes() {
        let (format, got) = collect_bytes(KML.as_bytes());
        assert_eq!(format.unwrap(), SourceFormat::Kml);
        let list = got.fix_list();
        let summary: Vec<_> = list.iter().map(|f| (f.time.0 - T0, f.lat, f.lon)).collect();
        assert_eq!(
            summary,
            [
                (0, 46.1591, -1.1520),
                (10_500, 46.1592, -1.1515),
                (20_000, 46.1593, -1.1510),
                (1_800_000, 46.1594, -1.1505),
                (7_200_000, 46.1500, -1.1400),
                (7_205_000, 46.1501, -1.1401),
                (10_810_000, 46.1401, -1.1301),
            ]
        );
        let mut first = Fix::new(Timestamp(T0), 46.1591, -1.1520);
        first.altitude_m = Some(4.0);
        assert_eq!(list[0], first);
        assert_eq!(list[1].altitude_m, Some(5.5));
        assert_eq!(list[2].altitude_m, None);
        assert_eq!(list[2].utc_offset_min, Some(60));
        assert_eq!(list[3].altitude_m, Some(6.0));
        // Extra coord in track 2; in track 3: "east north" (paired with a
        // valid time) and "not a time" (paired with a valid coord) are
        // unreadable, the empty <when/> is left without a position.
        assert_eq!(got.rejected.get(&RejectReason::MissingTime), Some(&1));
        assert_eq!(got.rejected.get(&RejectReason::InvalidValue), Some(&2));
        assert_eq!(got.rejected.get(&RejectReason::MissingPosition), Some(&1));
        assert_eq!(got.rejected.len(), 3);
        assert!(got.hints.is_empty());
    }

    #[test]
    fn truncated_kml_names_a_byte_offset() {
        let cut = &KML[..KML.find("<gx:coord>-1.1510").unwrap()];
        let (result, got) = collect_bytes(cut.as_bytes());
        let message = result.unwrap_err().to_string();
        assert!(
            message.contains(&format!("byte {}", cut.len())),
            "{message}"
        );
        assert!(message.contains("inside <Track>"), "{message}");
        assert_eq!(
            got.fixes.len(),
            2,
            "pairs complete before the cut were emitted"
        );
    }

    #[test]
    fn every_prefix_fails_cleanly() {
        let end = KML.find("</kml>").unwrap() + "</kml>".len();
        for cut in 0..end {
            assert!(collect_bytes(&KML.as_bytes()[..cut]).0.is_err(), "{cut}");
        }
    }

    proptest::proptest! {
        #[test]
        fn mutated_documents_never_panic(
            at in 0..KML.len(),
            cut in 0usize..64,
            fragments in super::super::fragments(),
        ) {
            super::super::parse_mutated(KML, at, cut, &fragments);
        }
    }
}
