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
            (b"Placemark", _) if self.placemark_depth == Some(element.depth) => self.end_placemark()?,
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
