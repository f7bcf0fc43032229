//! Streaming, format-detecting parsers for location history.
//!
//! Every parser reads a byte stream once, front to back, in bounded memory,
//! and reports what it finds to an [`Emitter`]: fixes, source hints and
//! rejected records. Nothing here touches a database, the network or the
//! clock beyond what [`ValidationRules`](sillage_model::ValidationRules)
//! carries: parsers are pure functions of their input, which is what lets us
//! fuzz them and test them on fixtures.
//!
//! The entry points are [`parse_stream`] (one stream, format detected from its
//! first bytes) and [`for_each_source`] (a file, a folder, a `.zip`/`.kmz`
//! archive or a `.gz` file, each entry detected on its own). Requests that
//! tracker apps send in live mode are read one at a time by [`live`] (its
//! functions are re-exported here).

mod detect;
mod emit;
mod error;
mod field;
mod fit;
mod json;
pub mod live;
mod source;
mod text;
mod xml;

pub use detect::{Detected, detect};
pub use emit::{Collected, Emitter, Sink, Stop, collect_bytes, fuzz_check};
pub use error::{IngestError, Location};
pub use json::owntracks::OwnTracksMessage;
pub use live::{
    LiveBatch, gpslogger_request, osmand_request, overland_request, owntracks_request,
    traccar_json_request,
};
pub use source::{SourceEntry, for_each_source};

use sillage_model::SourceFormat;
use std::io::{BufRead, BufReader, Read};

/// How many bytes of a stream are inspected to recognise its format.
pub const SNIFF_BYTES: usize = 64 * 1024;

/// A stream whose first bytes have been read to recognise its format.
pub struct Sniffed<R> {
    /// What the first bytes say.
    pub detected: Result<Detected, IngestError>,
    body: std::io::Chain<std::io::Cursor<Vec<u8>>, R>,
}

impl<R: Read> Sniffed<R> {
    /// The whole stream again (minus any byte-order mark), ready to parse.
    pub fn into_body(self) -> impl BufRead {
        BufReader::with_capacity(256 * 1024, self.body)
    }
}

/// Reads the first [`SNIFF_BYTES`] of `reader` and detects its format.
pub fn sniff<R: Read>(mut reader: R) -> Result<Sniffed<R>, IngestError> {
    let mut prefix = Vec::with_capacity(SNIFF_BYTES);
    (&mut reader)
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut prefix)?;
    // A byte-order mark is noise to every parser (Google files often start with one).
    if prefix.starts_with(b"\xEF\xBB\xBF") {
        prefix.drain(..3);
    }
    Ok(Sniffed {
        detected: detect(&prefix),
        body: std::io::Cursor::new(prefix).chain(reader),
    })
}

/// Detects the format of `reader` from its first bytes and parses all of it.
///
/// Returns the detected format. A syntax error stops the parse with an
/// [`IngestError`] that names the byte offset or line; records that are
/// well-formed but implausible are counted as rejected through the emitter.
pub fn parse_stream(
    reader: impl Read,
    emit: &mut Emitter<'_>,
) -> Result<SourceFormat, IngestError> {
    let sniffed = sniff(BufReader::with_capacity(256 * 1024, reader))?;
    let format = match sniffed.detected {
        Ok(Detected::Format(format)) => format,
        Ok(Detected::Unsupported(why)) => return Err(IngestError::Unsupported(why)),
        Err(error) => return Err(error),
    };
    parse_as(format, sniffed.into_body(), emit)?;
    Ok(format)
}

/// Parses a stream already known to be in `format`.
pub fn parse_as(
    format: SourceFormat,
    reader: impl BufRead,
    emit: &mut Emitter<'_>,
) -> Result<(), IngestError> {
    match format {
        SourceFormat::GoogleRecords => json::records::parse(reader, emit),
        SourceFormat::Overland => json::geojson::parse_overland(reader, emit),
        SourceFormat::GoogleSemantic => json::semantic::parse(reader, emit),
        SourceFormat::GoogleTimelineAndroid => json::timeline::parse_android(reader, emit),
        SourceFormat::GoogleTimelineIos => json::timeline::parse_ios(reader, emit),
        SourceFormat::GeoJson => json::geojson::parse(reader, emit),
        SourceFormat::EMission => json::emission::parse(reader, emit),
        SourceFormat::OwnTracksJson => json::owntracks::parse(reader, emit),
        SourceFormat::Gpx => xml::gpx::parse(reader, emit),
        SourceFormat::Kml => xml::kml::parse(reader, emit),
        SourceFormat::Tcx => xml::tcx::parse(reader, emit),
        SourceFormat::Fit => fit::parse(reader, emit),
        SourceFormat::Csv => text::csv::parse(reader, emit),
        SourceFormat::GeoLifePlt => text::plt::parse(reader, emit),
        SourceFormat::OwnTracksRec => text::rec::parse(reader, emit),
        // Live protocols arrive one request at a time (see the `live`
        // module), never as a file.
        SourceFormat::GpsLoggerLive | SourceFormat::OsmAnd | SourceFormat::TraccarJson => Err(
            IngestError::Unsupported(format!("{format} is a live protocol, not a file format")),
        ),
    }
}
