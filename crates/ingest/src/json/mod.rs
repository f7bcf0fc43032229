//! JSON-based formats, all parsed as streams: the top-level array of records
//! is walked element by element, so memory stays bounded whatever the size.

pub(crate) mod emission;
pub(crate) mod geojson;
pub(crate) mod owntracks;
pub(crate) mod records;
pub(crate) mod semantic;
pub(crate) mod timeline;

use crate::{IngestError, Location};
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use std::fmt;
use std::io::BufRead;
use std::marker::PhantomData;

/// Calls a handler for each element of a JSON array as it is read.
///
/// Handler errors (a sink asking to stop, a semantic error) cannot travel
/// through serde's error type intact, so they wait in `failure` and serde is
/// given a placeholder; [`run`] puts the real error back.
pub(crate) struct EachElement<'h, T, F> {
    handler: &'h mut F,
    failure: &'h mut Option<IngestError>,
    element: PhantomData<fn() -> T>,
}

impl<'h, T, F> EachElement<'h, T, F> {
    pub(crate) fn new(handler: &'h mut F, failure: &'h mut Option<IngestError>) -> Self {
        Self {
            handler,
            failure,
            element: PhantomData,
        }
    }
}

impl<'de, T, F> DeserializeSeed<'de> for EachElement<'_, T, F>
where
    T: DeserializeOwned,
    F: FnMut(T) -> Result<(), IngestError>,
{
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, T, F> Visitor<'de> for EachElement<'_, T, F>
where
    T: DeserializeOwned,
    F: FnMut(T) -> Result<(), IngestError>,
{
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(item) = seq.next_element::<T>()? {
            if let Err(e) = (self.handler)(item) {
                *self.failure = Some(e);
                return Err(de::Error::custom("stopped by handler"));
            }
        }
        Ok(())
    }
}

/// Walks a top-level JSON object, streaming the values of the keys `on_key`
/// accepts and skipping every other value without building it.
pub(crate) struct StreamObject<'h, F> {
    on_key: &'h mut F,
}

/// What [`StreamObject`] should do with the value of a key.
pub(crate) trait KeyHandler {
    /// Consumes the value of `key` from `map`; returns `false` to skip it.
    fn value<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error>;

    /// The error that made the handler stop serde, if any (see [`EachElement`]).
    fn take_failure(&mut self) -> Option<IngestError>;
}

impl<'de, F: KeyHandler> DeserializeSeed<'de> for StreamObject<'_, F> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, F: KeyHandler> Visitor<'de> for StreamObject<'_, F> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if !self.on_key.value(&key, &mut map)? {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// Streams a top-level object through `handler`, then checks nothing but
/// whitespace follows.
pub(crate) fn run_object<F: KeyHandler>(
    reader: impl BufRead,
    handler: &mut F,
) -> Result<(), IngestError> {
    let mut de = serde_json::Deserializer::from_reader(reader);
    let outcome = StreamObject {
        on_key: &mut *handler,
    }
    .deserialize(&mut de)
    .and_then(|()| de.end());
    finish(outcome, handler.take_failure())
}

/// Streams a top-level array, calling `handler` per element.
pub(crate) fn run_array<T: DeserializeOwned>(
    reader: impl BufRead,
    mut handler: impl FnMut(T) -> Result<(), IngestError>,
) -> Result<(), IngestError> {
    let mut failure = None;
    let mut de = serde_json::Deserializer::from_reader(reader);
    let outcome = EachElement::new(&mut handler, &mut failure)
        .deserialize(&mut de)
        .and_then(|()| de.end());
    finish(outcome, failure)
}

/// Turns a serde outcome into ours, preferring the handler's own error.
fn finish(
    outcome: Result<(), serde_json::Error>,
    failure: Option<IngestError>,
) -> Result<(), IngestError> {
    if let Some(error) = failure {
        return Err(error);
    }
    outcome.map_err(json_error)
}

/// A serde_json error as a located syntax error (or the I/O error it wraps).
pub(crate) fn json_error(error: serde_json::Error) -> IngestError {
    if error.is_io() {
        return IngestError::Io(error.into());
    }
    let location = Location::LineColumn {
        line: error.line() as u64,
        column: error.column() as u64,
    };
    let mut message = error.to_string();
    if let Some(cut) = message.rfind(" at line ") {
        message.truncate(cut);
    }
    IngestError::syntax(location, message)
}

/// Parses a `"lat°, lon°"` (Android Timeline) or `"geo:lat,lon"` (iOS) string.
pub(crate) fn parse_lat_lng_text(text: &str) -> Option<(f64, f64)> {
    let text = text.trim();
    let text = text.strip_prefix("geo:").unwrap_or(text);
    let (lat, lon) = text.split_once(',')?;
    let clean = |s: &str| s.trim().trim_end_matches('°').trim().parse::<f64>().ok();
    Some((clean(lat)?, clean(lon)?))
}
