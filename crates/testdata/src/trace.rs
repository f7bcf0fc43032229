//! A phone's raw trace written in the file formats citizens really bring.
//!
//! The synthetic population simulator produces, for each citizen, the list of
//! GPS fixes their phone recorded ([`TraceFix`]). [`write_trace`] turns that
//! list into the file the citizen would hand to Sillage — a Takeout
//! `Records.json`, the 2024+ on-device `Timeline.json`, a GPX track, an
//! OwnTracks Recorder `.rec` file or OwnTracks HTTP payloads — with the field
//! names, units, number kinds and time formats of the real apps (see
//! `shared/docs/formats.md`), so that what the importer reads back is what the
//! phone recorded, up to each format's own precision:
//!
//! | format | time | position | accuracy | speed | heading | altitude |
//! |---|---|---|---|---|---|---|
//! | Records | ms | E7 integers | whole m | whole m/s | whole ° | whole m |
//! | Timeline 2024 | ms, local offset | 7 decimals | whole m | m/s | — | m |
//! | GPX | ms (when not 0) | 7 decimals | — | m/s (Garmin extension) | ° (Garmin extension) | m |
//! | OwnTracks | whole s | 7 decimals | whole m, omitted if 0 | whole km/h, omitted if 0 | whole °, omitted if 0 | whole m, omitted if 0 |
//!
//! The Timeline's `semanticSegments` stay empty: the importer reads path
//! points as fixes too, so Google's down-sampled copy of the path would bring
//! fixes in twice (see `write_timeline`). An empty trace writes a valid
//! empty file; see [`write_trace`] for the two formats the importer refuses
//! when empty.
//!
//! Files are written as a stream: each fix is formatted into a small reusable
//! buffer that is handed to the writer in 64 KiB chunks, so a year of fixes
//! costs no more memory than a minute, and the output is a pure function of
//! the arguments (no clock, no randomness, no hash-map order).

use serde::{Deserialize, Serialize};
use sillage_model::{SourceFormat, civil_from_days};
use std::borrow::Cow;
use std::io::{self, Write};

/// One fix of a synthetic phone trace.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TraceFix {
    /// Time of the fix, Unix epoch milliseconds, UTC.
    pub time_ms: i64,
    /// Latitude, WGS84 degrees.
    pub lat: f64,
    /// Longitude, WGS84 degrees.
    pub lon: f64,
    /// Horizontal accuracy radius (68 %), metres.
    pub accuracy_m: f32,
    /// Ground speed, m/s, when the phone reported one.
    pub speed_mps: Option<f32>,
    /// Direction of travel, degrees clockwise from north, when reported.
    pub heading_deg: Option<f32>,
    /// Altitude above sea level, metres, when reported.
    pub altitude_m: Option<f32>,
}

/// The real file formats a trace can be written in.
///
/// Serialised (serde) under the same names as [`TraceFormat::name`], which
/// are the importer's own format names, so that configurations, reports and
/// import results speak the same words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TraceFormat {
    /// Google Takeout `Records.json`: `{"locations":[…]}` with E7 integer
    /// coordinates and ISO `timestamp`s.
    #[serde(rename = "google_records")]
    GoogleRecords,
    /// The 2024+ on-device Timeline export of Android (`Timeline.json`:
    /// `semanticSegments`, `rawSignals`, `userLocationProfile`); every fix is
    /// a `rawSignals[].position`.
    #[serde(rename = "google_timeline_android")]
    Timeline2024,
    /// GPX 1.1, one track of one segment.
    #[serde(rename = "gpx")]
    Gpx,
    /// An OwnTracks Recorder store file (`rec/<user>/<device>/YYYY-MM.rec`).
    #[serde(rename = "owntracks_rec")]
    OwnTracksRec,
    /// OwnTracks location payloads as the phone POSTs them in HTTP mode,
    /// collected in a JSON array (the file form the importer reads).
    #[serde(rename = "owntracks_json")]
    OwnTracksJson,
}

impl TraceFormat {
    /// Every format, in declaration order.
    pub const ALL: [TraceFormat; 5] = [
        TraceFormat::GoogleRecords,
        TraceFormat::Timeline2024,
        TraceFormat::Gpx,
        TraceFormat::OwnTracksRec,
        TraceFormat::OwnTracksJson,
    ];

    /// Parses a format name: [`TraceFormat::name`] or a short alias
    /// (`records`, `timeline`, `gpx`, `rec`, `owntracks`), case-insensitive,
    /// `-` and `_` alike — names typed on command lines vary.
    pub fn from_name(name: &str) -> Option<Self> {
        let name = name.trim().to_ascii_lowercase().replace('-', "_");
        Some(match name.as_str() {
            "google_records" | "records" | "records.json" => Self::GoogleRecords,
            "google_timeline_android" | "timeline" | "timeline2024" | "timeline_2024" => {
                Self::Timeline2024
            }
            "gpx" => Self::Gpx,
            "owntracks_rec" | "rec" => Self::OwnTracksRec,
            "owntracks_json" | "owntracks" => Self::OwnTracksJson,
            _ => return None,
        })
    }

    /// The format's name: the importer's name for what it detects in the file
    /// (`SourceFormat::as_str`), e.g. `google_records`.
    pub fn name(self) -> &'static str {
        self.source_format().as_str()
    }

    /// A realistic file name for a trace in this format: what the app or
    /// export names it (the Recorder names files by month).
    pub fn file_name(self) -> &'static str {
        match self {
            Self::GoogleRecords => "Records.json",
            Self::Timeline2024 => "Timeline.json",
            Self::Gpx => "trace.gpx",
            Self::OwnTracksRec => "2026-03.rec",
            Self::OwnTracksJson => "owntracks.json",
        }
    }

    /// The format Sillage's importer detects in a file written in this format.
    pub fn source_format(self) -> SourceFormat {
        match self {
            Self::GoogleRecords => SourceFormat::GoogleRecords,
            Self::Timeline2024 => SourceFormat::GoogleTimelineAndroid,
            Self::Gpx => SourceFormat::Gpx,
            Self::OwnTracksRec => SourceFormat::OwnTracksRec,
            Self::OwnTracksJson => SourceFormat::OwnTracksJson,
        }
    }
}

/// The `deviceTag` a Records.json file carries for `device`: a stable
/// signed 32-bit integer (FNV-1a of the name), like Google's own tags. The
/// importer names such fixes' device `google:<tag>`.
///
/// FNV-1a rather than the standard library's hasher, whose output may change
/// between Rust releases: tags must stay the same across builds.
pub fn records_device_tag(device: &str) -> i32 {
    let mut hash: u32 = 0x811c_9dc5;
    for &byte in device.as_bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash as i32
}

/// Writes `fixes` in `format` to `out`, in time order (a stable sort is made
/// when the slice is not already sorted), then flushes `out`.
///
/// `utc_offset_min` is the local offset written where the format writes
/// local times (Timeline 2024); other formats write UTC. `device` names the
/// phone where the format carries a name: the Records `deviceTag` (see
/// [`records_device_tag`]), the OwnTracks `tid` (its last two characters,
/// as the app derives it from the topic) and HTTP `topic`, the GPX track
/// name.
///
/// An empty trace gives an empty but valid file. The importer reads it as
/// zero fixes for Records, Timeline and GPX; it refuses an empty `.rec` file
/// (zero bytes) and an empty OwnTracks array `[]` as "nothing to import",
/// which is also what the Recorder and the app would leave.
///
/// Fails with `InvalidInput`, before writing anything, when a coordinate is
/// not finite (no JSON or GPX number can express it), a time or its local
/// form falls outside years 0000–9999, or the offset exceeds ±18 h (the
/// limit of ISO-8601 offsets as the importer reads them). Implausible but
/// expressible values (out-of-range latitudes, 1980 dates) are written as
/// given: the importer's rejection rules are worth testing too.
pub fn write_trace(
    format: TraceFormat,
    fixes: &[TraceFix],
    device: &str,
    utc_offset_min: i32,
    out: &mut dyn Write,
) -> io::Result<()> {
    if utc_offset_min.abs() > MAX_OFFSET_MIN {
        return Err(invalid(format!(
            "UTC offset of {utc_offset_min} minutes is beyond ±18 h"
        )));
    }
    let local_shift = i64::from(utc_offset_min) * 60_000;
    for fix in fixes {
        if !fix.lat.is_finite() || !fix.lon.is_finite() {
            return Err(invalid(format!(
                "fix at {} ms has a non-finite position ({}, {})",
                fix.time_ms, fix.lat, fix.lon
            )));
        }
        for ms in [fix.time_ms, fix.time_ms.saturating_add(local_shift)] {
            if !(EARLIEST_MS..=LATEST_MS).contains(&ms) {
                return Err(invalid(format!(
                    "fix at {} ms is outside years 0000-9999",
                    fix.time_ms
                )));
            }
        }
    }
    // Apps write in recording order; the simulator may hand fixes in any.
    let fixes: Cow<'_, [TraceFix]> = if fixes.is_sorted_by_key(|f| f.time_ms) {
        Cow::Borrowed(fixes)
    } else {
        let mut sorted = fixes.to_vec();
        sorted.sort_by_key(|f| f.time_ms);
        Cow::Owned(sorted)
    };
    let mut w = Chunked::new(out);
    match format {
        TraceFormat::GoogleRecords => write_records(&mut w, &fixes, device)?,
        TraceFormat::Timeline2024 => write_timeline(&mut w, &fixes, utc_offset_min)?,
        TraceFormat::Gpx => write_gpx(&mut w, &fixes, device)?,
        TraceFormat::OwnTracksRec => write_owntracks_rec(&mut w, &fixes, device)?,
        TraceFormat::OwnTracksJson => write_owntracks_json(&mut w, &fixes, device)?,
    }
    w.finish()
}

/// ISO-8601 offsets the importer reads go up to ±18 h (as in RFC 3339 practice).
const MAX_OFFSET_MIN: i32 = 18 * 60;
/// 0000-01-01T00:00:00Z: four-digit years only.
const EARLIEST_MS: i64 = -62_167_219_200_000;
/// 9999-12-31T23:59:59.999Z.
const LATEST_MS: i64 = 253_402_300_799_999;

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

/// Collects formatted bytes and hands them to the writer in large chunks:
/// formatting into a `Vec` is much cheaper than a `dyn Write` call per field,
/// and the chunk size bounds memory whatever the trace length.
struct Chunked<'w> {
    buf: Vec<u8>,
    out: &'w mut dyn Write,
}

/// Bytes gathered before a write to the underlying writer.
const CHUNK: usize = 64 * 1024;

impl<'w> Chunked<'w> {
    fn new(out: &'w mut dyn Write) -> Self {
        Self {
            buf: Vec::with_capacity(CHUNK + 1024),
            out,
        }
    }

    /// Passes the gathered bytes on once a chunk is full.
    fn record_done(&mut self) -> io::Result<()> {
        if self.buf.len() >= CHUNK {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    fn finish(mut self) -> io::Result<()> {
        self.out.write_all(&self.buf)?;
        self.buf.clear();
        self.out.flush()
    }

    fn s(&mut self, text: &str) {
        self.buf.extend_from_slice(text.as_bytes());
    }

    fn int(&mut self, value: i64) {
        push_int(&mut self.buf, value);
    }
}

/// Appends a decimal integer without going through `fmt`.
fn push_int(buf: &mut Vec<u8>, value: i64) {
    let mut digits = [0u8; 20];
    let mut n = value.unsigned_abs();
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if value < 0 {
        buf.push(b'-');
    }
    buf.extend_from_slice(&digits[i..]);
}

/// Appends `n` (< 10^width) left-padded with zeros to `width` digits.
fn push_padded(buf: &mut Vec<u8>, mut n: u64, width: usize) {
    let start = buf.len();
    buf.resize(start + width, b'0');
    for slot in buf[start..].iter_mut().rev() {
        *slot = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

/// Degrees × 10⁷ rounded to the nearest integer: the E7 unit of Google's
/// files and the 7 decimals (≈ 1 cm) every other format is written with.
fn e7(degrees: f64) -> i64 {
    (degrees * 1e7).round() as i64
}

/// Appends an E7 value as degrees with exactly 7 decimals, from the integer
/// (exact, and much faster than float formatting).
fn push_degrees(buf: &mut Vec<u8>, e7: i64) {
    if e7 < 0 {
        buf.push(b'-');
    }
    let abs = e7.unsigned_abs();
    push_int(buf, (abs / 10_000_000) as i64);
    buf.push(b'.');
    push_padded(buf, abs % 10_000_000, 7);
}

/// How an ISO-8601 time shows its fraction of a second.
#[derive(Clone, Copy)]
enum Fraction {
    /// `.mmm` only when the milliseconds are not zero, as Google's protobuf
    /// JSON (Records.json) and most GPX writers do.
    WhenNonZero,
    /// Always `.mmm` (the Timeline export).
    Always,
    /// Whole seconds (the OwnTracks Recorder).
    Never,
}

/// Appends `utc_ms` as ISO-8601: UTC with `Z` when `offset_min` is `None`,
/// else the local time followed by `±HH:MM`. Times are in range (checked by
/// [`write_trace`]).
fn push_time(buf: &mut Vec<u8>, utc_ms: i64, offset_min: Option<i32>, fraction: Fraction) {
    const DAY_MS: i64 = 86_400_000;
    let local = utc_ms + i64::from(offset_min.unwrap_or(0)) * 60_000;
    let (year, month, day) = civil_from_days(local.div_euclid(DAY_MS));
    let in_day = local.rem_euclid(DAY_MS) as u64;
    push_padded(buf, year as u64, 4);
    buf.push(b'-');
    push_padded(buf, u64::from(month), 2);
    buf.push(b'-');
    push_padded(buf, u64::from(day), 2);
    buf.push(b'T');
    push_padded(buf, in_day / 3_600_000, 2);
    buf.push(b':');
    push_padded(buf, in_day / 60_000 % 60, 2);
    buf.push(b':');
    push_padded(buf, in_day / 1000 % 60, 2);
    let millis = in_day % 1000;
    match fraction {
        Fraction::Always => {
            buf.push(b'.');
            push_padded(buf, millis, 3);
        }
        Fraction::WhenNonZero if millis != 0 => {
            buf.push(b'.');
            push_padded(buf, millis, 3);
        }
        Fraction::WhenNonZero | Fraction::Never => {}
    }
    match offset_min {
        None => buf.push(b'Z'),
        Some(offset) => {
            buf.push(if offset < 0 { b'-' } else { b'+' });
            let abs = offset.unsigned_abs();
            push_padded(buf, u64::from(abs / 60), 2);
            buf.push(b':');
            push_padded(buf, u64::from(abs % 60), 2);
        }
    }
}

/// A finite optional value; NaN or infinity means the phone had none (and no
/// JSON or XML number could say otherwise).
fn finite(value: Option<f32>) -> Option<f32> {
    value.filter(|v| v.is_finite())
}

/// Rounds to the whole number the format stores.
fn whole(value: f32) -> i64 {
    value.round() as i64
}

/// Appends a finite `f32` in its shortest exact decimal form (it reads back
/// as the same `f32`). With `java_style`, whole values get a `.0` as the
/// Android app's Java/Kotlin serialiser writes them (`95.0`, not `95`).
fn push_f32(buf: &mut Vec<u8>, value: f32, java_style: bool) {
    let start = buf.len();
    // Writing to a Vec cannot fail.
    let _ = write!(buf, "{value}");
    if java_style && !buf[start..].contains(&b'.') {
        buf.extend_from_slice(b".0");
    }
}

/// The location source a phone would report for a fix this accurate:
/// satellite fixes are within a few tens of metres, Wi-Fi positioning within
/// a few hundred, cell towers worse; no accuracy, no known source.
fn source_for(accuracy_m: f32) -> &'static str {
    if !accuracy_m.is_finite() {
        "UNKNOWN"
    } else if accuracy_m <= 30.0 {
        "GPS"
    } else if accuracy_m <= 500.0 {
        "WIFI"
    } else {
        "CELL"
    }
}

/// Takeout `Records.json`, pretty-printed like Takeout (two-space indent,
/// `}, {` between records). Integers for accuracy, velocity, heading and
/// altitude, as Google writes them; `timestamp` in protobuf JSON style.
fn write_records(w: &mut Chunked<'_>, fixes: &[TraceFix], device: &str) -> io::Result<()> {
    let tag = i64::from(records_device_tag(device));
    w.s("{\n  \"locations\": [");
    for (i, f) in fixes.iter().enumerate() {
        w.s(if i == 0 { "{\n" } else { ", {\n" });
        w.s("    \"latitudeE7\": ");
        w.int(e7(f.lat));
        w.s(",\n    \"longitudeE7\": ");
        w.int(e7(f.lon));
        if f.accuracy_m.is_finite() {
            w.s(",\n    \"accuracy\": ");
            w.int(whole(f.accuracy_m));
        }
        if let Some(speed) = finite(f.speed_mps) {
            w.s(",\n    \"velocity\": ");
            w.int(whole(speed));
        }
        if let Some(heading) = finite(f.heading_deg) {
            w.s(",\n    \"heading\": ");
            w.int(whole(heading).rem_euclid(360));
        }
        if let Some(altitude) = finite(f.altitude_m) {
            w.s(",\n    \"altitude\": ");
            w.int(whole(altitude));
        }
        w.s(",\n    \"source\": \"");
        w.s(source_for(f.accuracy_m));
        w.s("\",\n    \"deviceTag\": ");
        w.int(tag);
        w.s(",\n    \"platformType\": \"ANDROID\",\n    \"timestamp\": \"");
        push_time(&mut w.buf, f.time_ms, None, Fraction::WhenNonZero);
        w.s("\"\n  }");
        w.record_done()?;
    }
    w.s("]\n}\n");
    Ok(())
}

/// The Android Timeline export with every fix as a `rawSignals[].position`.
///
/// `semanticSegments` is written empty on purpose. Our importer turns every
/// `timelinePath` point, activity end and visit end into a fix as well, so
/// writing Google's path (a down-sampled copy of the same fixes) would hand
/// each copied fix over twice, and the copy — without accuracy or speed —
/// is the one a store keyed by (device, ms) keeps, since segments come first
/// in the file. Visits and activities are Google's inferences, which a raw
/// trace does not have.
fn write_timeline(w: &mut Chunked<'_>, fixes: &[TraceFix], utc_offset_min: i32) -> io::Result<()> {
    w.s("{\n  \"semanticSegments\": [],\n  \"rawSignals\": [");
    for (i, f) in fixes.iter().enumerate() {
        w.s(if i == 0 { "{\n" } else { ", {\n" });
        w.s("    \"position\": {\n      \"LatLng\": \"");
        push_degrees(&mut w.buf, e7(f.lat));
        w.s("°, ");
        push_degrees(&mut w.buf, e7(f.lon));
        w.s("°\"");
        if f.accuracy_m.is_finite() {
            w.s(",\n      \"accuracyMeters\": ");
            w.int(whole(f.accuracy_m));
        }
        if let Some(altitude) = finite(f.altitude_m) {
            w.s(",\n      \"altitudeMeters\": ");
            push_f32(&mut w.buf, altitude, true);
        }
        w.s(",\n      \"source\": \"");
        w.s(source_for(f.accuracy_m));
        w.s("\",\n      \"timestamp\": \"");
        push_time(
            &mut w.buf,
            f.time_ms,
            Some(utc_offset_min),
            Fraction::Always,
        );
        w.s("\"");
        if let Some(speed) = finite(f.speed_mps) {
            w.s(",\n      \"speedMetersPerSecond\": ");
            push_f32(&mut w.buf, speed, true);
        }
        w.s("\n    }\n  }");
        w.record_done()?;
    }
    w.s("],\n  \"userLocationProfile\": {\n    \"frequentPlaces\": []\n  }\n}\n");
    Ok(())
}

/// Appends `text` escaped for XML character data and attribute values.
/// Characters XML 1.0 forbids (most control characters) are dropped: no
/// escape can represent them.
fn push_xml_text(buf: &mut Vec<u8>, text: &str) {
    for c in text.chars() {
        match c {
            '&' => buf.extend_from_slice(b"&amp;"),
            '<' => buf.extend_from_slice(b"&lt;"),
            '>' => buf.extend_from_slice(b"&gt;"),
            '"' => buf.extend_from_slice(b"&quot;"),
            '\'' => buf.extend_from_slice(b"&apos;"),
            '\t' | '\n' | '\r' => {
                let mut utf8 = [0u8; 4];
                buf.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
            }
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => {
                let mut utf8 = [0u8; 4];
                buf.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
            }
        }
    }
}

/// GPX 1.1, one `<trk>` of one `<trkseg>`. Speed and course go in Garmin's
/// `TrackPointExtension` v2 (m/s and degrees), the standard place since
/// GPX 1.1 dropped `<speed>`/`<course>`. GPX has no accuracy element, so
/// the accuracy is not written (`<hdop>` is a dilution, not metres).
fn write_gpx(w: &mut Chunked<'_>, fixes: &[TraceFix], device: &str) -> io::Result<()> {
    w.s(concat!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
        "<gpx version=\"1.1\" creator=\"Sillage testdata\"",
        " xmlns=\"http://www.topografix.com/GPX/1/1\"",
        " xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"",
        " xmlns:gpxtpx=\"http://www.garmin.com/xmlschemas/TrackPointExtension/v2\"",
        " xsi:schemaLocation=\"http://www.topografix.com/GPX/1/1",
        " http://www.topografix.com/GPX/1/1/gpx.xsd",
        " http://www.garmin.com/xmlschemas/TrackPointExtension/v2",
        " https://www8.garmin.com/xmlschemas/TrackPointExtensionv2.xsd\">\n",
    ));
    if let Some(first) = fixes.first() {
        w.s("  <metadata>\n    <time>");
        push_time(&mut w.buf, first.time_ms, None, Fraction::WhenNonZero);
        w.s("</time>\n  </metadata>\n");
    }
    w.s("  <trk>\n    <name>");
    push_xml_text(&mut w.buf, device);
    w.s("</name>\n    <trkseg>\n");
    for f in fixes {
        w.s("      <trkpt lat=\"");
        push_degrees(&mut w.buf, e7(f.lat));
        w.s("\" lon=\"");
        push_degrees(&mut w.buf, e7(f.lon));
        w.s("\">\n");
        if let Some(altitude) = finite(f.altitude_m) {
            w.s("        <ele>");
            push_f32(&mut w.buf, altitude, false);
            w.s("</ele>\n");
        }
        w.s("        <time>");
        push_time(&mut w.buf, f.time_ms, None, Fraction::WhenNonZero);
        w.s("</time>\n");
        let speed = finite(f.speed_mps);
        // Garmin's schema wants [0, 360); rem_euclid of a tiny negative
        // value rounds up to 360 itself.
        let course = finite(f.heading_deg)
            .map(|h| h.rem_euclid(360.0))
            .map(|h| if h >= 360.0 { 0.0 } else { h });
        if speed.is_some() || course.is_some() {
            // Schema order: speed before course.
            w.s("        <extensions>\n          <gpxtpx:TrackPointExtension>\n");
            if let Some(speed) = speed {
                w.s("            <gpxtpx:speed>");
                push_f32(&mut w.buf, speed, false);
                w.s("</gpxtpx:speed>\n");
            }
            if let Some(course) = course {
                w.s("            <gpxtpx:course>");
                push_f32(&mut w.buf, course, false);
                w.s("</gpxtpx:course>\n");
            }
            w.s("          </gpxtpx:TrackPointExtension>\n        </extensions>\n");
        }
        w.s("      </trkpt>\n");
        w.record_done()?;
    }
    w.s("    </trkseg>\n  </trk>\n</gpx>\n");
    Ok(())
}

/// The device part of an OwnTracks topic (`owntracks/<user>/<device>`):
/// characters MQTT gives a meaning in topics (`/`, `+`, `#`) and control
/// characters become `_`; an empty name becomes the app's default, `phone`.
fn topic_device(device: &str) -> String {
    let cleaned: String = device
        .trim()
        .chars()
        .map(|c| match c {
            '/' | '+' | '#' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect();
    if cleaned.is_empty() {
        "phone".to_owned()
    } else {
        cleaned
    }
}

/// The tracker id the app derives by default: the topic's last two
/// characters (a one-character name is doubled to keep two).
fn tracker_id(topic_device: &str) -> String {
    let chars: Vec<char> = topic_device.chars().collect();
    match chars.as_slice() {
        [.., a, b] => [*a, *b].iter().collect(),
        [a] => [*a, *a].iter().collect(),
        [] => "ne".to_owned(),
    }
}

/// Appends `text` as a JSON string literal, quotes included.
fn push_json_string(buf: &mut Vec<u8>, text: &str) {
    buf.push(b'"');
    for c in text.chars() {
        match c {
            '"' => buf.extend_from_slice(b"\\\""),
            '\\' => buf.extend_from_slice(b"\\\\"),
            '\n' => buf.extend_from_slice(b"\\n"),
            '\r' => buf.extend_from_slice(b"\\r"),
            '\t' => buf.extend_from_slice(b"\\t"),
            c if c < ' ' => {
                buf.extend_from_slice(b"\\u00");
                buf.push(b"0123456789abcdef"[(c as usize) >> 4]);
                buf.push(b"0123456789abcdef"[(c as usize) & 0xf]);
            }
            c => {
                let mut utf8 = [0u8; 4];
                buf.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
            }
        }
    }
    buf.push(b'"');
}

/// One OwnTracks `location` payload on one line, fields in the order of the
/// booklet's example. `acc`, `alt`, `vel`, `cog` are integers and, as the
/// apps do, left out when zero; `vel` is km/h; `tst` whole seconds.
fn push_owntracks_payload(buf: &mut Vec<u8>, f: &TraceFix, tid: &str, topic: Option<&str>) {
    buf.extend_from_slice(b"{\"_type\":\"location\",\"tid\":");
    push_json_string(buf, tid);
    buf.extend_from_slice(b",\"lat\":");
    push_degrees(buf, e7(f.lat));
    buf.extend_from_slice(b",\"lon\":");
    push_degrees(buf, e7(f.lon));
    buf.extend_from_slice(b",\"tst\":");
    push_int(buf, f.time_ms.div_euclid(1000));
    let fields = [
        ("acc", finite(Some(f.accuracy_m)).map(whole)),
        ("alt", finite(f.altitude_m).map(whole)),
        ("vel", finite(f.speed_mps).map(|v| whole(v * 3.6))),
        (
            "cog",
            finite(f.heading_deg).map(|h| whole(h).rem_euclid(360)),
        ),
    ];
    for (key, value) in fields {
        if let Some(value) = value.filter(|&v| v != 0) {
            buf.extend_from_slice(b",\"");
            buf.extend_from_slice(key.as_bytes());
            buf.extend_from_slice(b"\":");
            push_int(buf, value);
        }
    }
    if let Some(topic) = topic {
        buf.extend_from_slice(b",\"topic\":");
        push_json_string(buf, topic);
    }
    buf.push(b'}');
}

/// The Recorder's store format, `"%s\t%-18s\t%s\n"`: the UTC time of `tst`,
/// the base topic `*` padded to 18 characters, the payload as published over
/// MQTT (no `topic` field: that is added in HTTP mode only).
fn write_owntracks_rec(w: &mut Chunked<'_>, fixes: &[TraceFix], device: &str) -> io::Result<()> {
    let tid = tracker_id(&topic_device(device));
    for f in fixes {
        push_time(
            &mut w.buf,
            f.time_ms.div_euclid(1000) * 1000,
            None,
            Fraction::Never,
        );
        w.s("\t*                 \t");
        push_owntracks_payload(&mut w.buf, f, &tid, None);
        w.s("\n");
        w.record_done()?;
    }
    Ok(())
}

/// HTTP-mode payloads (each with its `topic`, as the app sends it), one per
/// line inside a JSON array: the importer reads a message or an array of
/// messages, not one object per line.
fn write_owntracks_json(w: &mut Chunked<'_>, fixes: &[TraceFix], device: &str) -> io::Result<()> {
    let device = topic_device(device);
    let tid = tracker_id(&device);
    let topic = format!("owntracks/user/{device}");
    w.s("[");
    for (i, f) in fixes.iter().enumerate() {
        w.s(if i == 0 { "\n" } else { ",\n" });
        push_owntracks_payload(&mut w.buf, f, &tid, Some(&topic));
        w.record_done()?;
    }
    w.s("\n]\n");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut buf = Vec::new();
        f(&mut buf);
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn integers_and_degrees() {
        for v in [0, 7, -7, 10, 1234567890, i64::MIN, i64::MAX] {
            assert_eq!(text(|b| push_int(b, v)), v.to_string());
        }
        assert_eq!(text(|b| push_degrees(b, e7(43.73))), "43.7300000");
        assert_eq!(text(|b| push_degrees(b, e7(-1.152))), "-1.1520000");
        assert_eq!(text(|b| push_degrees(b, e7(-0.00001))), "-0.0000100");
        assert_eq!(text(|b| push_degrees(b, e7(7.123456789))), "7.1234568");
        assert_eq!(text(|b| push_degrees(b, e7(-180.0))), "-180.0000000");
    }

    #[test]
    fn times_in_each_style() {
        let t = 1_772_438_400_250; // 2026-03-02T08:00:00.250Z
        let iso = |offset, fraction| text(|b| push_time(b, t, offset, fraction));
        assert_eq!(iso(None, Fraction::WhenNonZero), "2026-03-02T08:00:00.250Z");
        assert_eq!(iso(None, Fraction::Never), "2026-03-02T08:00:00Z");
        assert_eq!(
            iso(Some(60), Fraction::Always),
            "2026-03-02T09:00:00.250+01:00"
        );
        assert_eq!(
            iso(Some(-570), Fraction::Always),
            "2026-03-01T22:30:00.250-09:30"
        );
        assert_eq!(
            text(|b| push_time(b, t - 250, None, Fraction::WhenNonZero)),
            "2026-03-02T08:00:00Z"
        );
        assert_eq!(
            text(|b| push_time(b, -1, None, Fraction::Always)),
            "1969-12-31T23:59:59.999Z"
        );
    }

    #[test]
    fn floats_read_back_exactly() {
        assert_eq!(text(|b| push_f32(b, 95.0, true)), "95.0");
        assert_eq!(text(|b| push_f32(b, 95.0, false)), "95");
        assert_eq!(text(|b| push_f32(b, 6.25, true)), "6.25");
        let v = 12.345_679_f32;
        assert_eq!(text(|b| push_f32(b, v, false)).parse::<f32>().unwrap(), v);
    }

    #[test]
    fn escaping() {
        assert_eq!(
            text(|b| push_xml_text(b, "a<b>&\"c\"'d'\u{1}é")),
            "a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;é"
        );
        assert_eq!(
            text(|b| push_json_string(b, "a\"b\\c\n\u{1}é")),
            "\"a\\\"b\\\\c\\n\\u0001é\""
        );
    }

    #[test]
    fn device_names() {
        assert_eq!(topic_device(" jane/phone+# "), "jane_phone__");
        assert_eq!(topic_device(""), "phone");
        assert_eq!(tracker_id("pixel7"), "l7");
        assert_eq!(tracker_id("x"), "xx");
        assert_eq!(tracker_id("zoé"), "oé");
        assert_eq!(records_device_tag("a"), records_device_tag("a"));
        assert_ne!(records_device_tag("a"), records_device_tag("b"));
        // FNV-1a 32 of the empty string is its offset basis.
        assert_eq!(records_device_tag(""), 0x811c_9dc5_u32 as i32);
    }

    #[test]
    fn names_round_trip() {
        for format in TraceFormat::ALL {
            assert_eq!(TraceFormat::from_name(format.name()), Some(format));
        }
        assert_eq!(
            TraceFormat::from_name("Timeline"),
            Some(TraceFormat::Timeline2024)
        );
        assert_eq!(
            TraceFormat::from_name("owntracks-rec"),
            Some(TraceFormat::OwnTracksRec)
        );
        assert_eq!(TraceFormat::from_name("kml"), None);
    }
}
