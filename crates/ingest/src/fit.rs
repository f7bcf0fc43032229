//! Garmin FIT: the `record` messages of activity files, read as a stream.
//!
//! A FIT file is a 12- or 14-byte header (size, protocol and profile
//! versions, the length of the records, `.FIT`, an optional header CRC), the
//! records, and a CRC-16 over everything before it. Records are definition
//! messages, which describe the layout of one of 16 local message types, and
//! data messages laid out by the last definition of their local type. Only
//! those definitions are kept: memory does not grow with the file, and data
//! messages are read field by field into a fixed buffer.
//!
//! Fixes come from `record` messages (global number 20): `timestamp` (253),
//! `position_lat`/`position_long` (0/1, semicircles), `altitude` (2) or
//! `enhanced_altitude` (78), `speed` (6) or `enhanced_speed` (73). Records
//! without a position (heart rate or cadence samples, before the GPS locked)
//! are skipped without counting. The `sport` of the `sport` (12) and
//! `session` (18) messages becomes one activity hint over the time span of the
//! fixes. Every other message is read (it counts in the CRC) and dropped.
//!
//! Fixes are handed on as they are read; the file CRC is only known at the
//! end, so a damaged file yields fixes and then an error, which makes the
//! importer roll the whole file back. Files chained one after the other (some
//! devices append a second file after the CRC) are read in turn.

use crate::xml::ActivitySpan;
use crate::{Emitter, IngestError, Location};
use sillage_model::{Fix, RejectReason, Timestamp};
use std::io::{BufRead, ErrorKind};

/// Seconds from the Unix epoch to the FIT epoch, 1989-12-31T00:00:00Z.
const FIT_EPOCH_UNIX_S: i64 = 631_065_600;

/// FIT `date_time` values below this count seconds since the device was
/// switched on, not since the FIT epoch: they cannot be placed in time.
const MIN_ABSOLUTE_TIME: u64 = 0x1000_0000;

/// A latitude or longitude in semicircles times this is in degrees (2^31
/// semicircles make 180°).
const DEGREES_PER_SEMICIRCLE: f64 = 180.0 / 2_147_483_648.0;

/// Global message numbers of the FIT profile that carry what we keep.
const MESG_SPORT: u16 = 12;
const MESG_SESSION: u16 = 18;
const MESG_RECORD: u16 = 20;

/// The field number that is a `timestamp` in every message.
const FIELD_TIMESTAMP: u8 = 253;

/// Parses a FIT stream (one file, or several chained).
pub(crate) fn parse(reader: impl BufRead, emit: &mut Emitter<'_>) -> Result<(), IngestError> {
    let mut input = Input {
        reader,
        offset: 0,
        crc: 0,
    };
    let mut chained = false;
    loop {
        FitFile::default().parse(&mut input, chained, emit)?;
        if input.at_end()? {
            return Ok(());
        }
        chained = true;
    }
}

/// Updates a FIT CRC-16 with `bytes`, four bits at a time as the FIT
/// protocol describes it (the CRC-16/ARC polynomial, reflected, initial 0).
fn crc16(mut crc: u16, bytes: &[u8]) -> u16 {
    const TABLE: [u16; 16] = [
        0x0000, 0xCC01, 0xD801, 0x1400, 0xF001, 0x3C00, 0x2800, 0xE401, 0xA001, 0x6C00, 0x7800,
        0xB401, 0x5000, 0x9C01, 0x8801, 0x4400,
    ];
    // Indices are masked to four bits, so they always fall inside TABLE.
    let nibble = |crc: u16, nibble: u8| {
        let tmp = TABLE[usize::from(crc & 0xF)];
        ((crc >> 4) & 0x0FFF) ^ tmp ^ TABLE[usize::from(nibble & 0xF)]
    };
    for &byte in bytes {
        crc = nibble(crc, byte);
        crc = nibble(crc, byte >> 4);
    }
    crc
}

/// The byte stream, with the offset and running CRC every error and check needs.
struct Input<R> {
    reader: R,
    offset: u64,
    crc: u16,
}

impl<R: BufRead> Input<R> {
    /// Fills `buf` and adds it to the CRC; `what` names the missing bytes if
    /// the stream ends first.
    fn read(&mut self, buf: &mut [u8], what: &str) -> Result<(), IngestError> {
        let mut filled = 0;
        while let Some(rest) = buf.get_mut(filled..).filter(|rest| !rest.is_empty()) {
            match self.reader.read(rest) {
                Ok(0) => {
                    return Err(IngestError::syntax(
                        Location::Byte(self.offset),
                        format!("unexpected end of file: expected {what}; the file is truncated"),
                    ));
                }
                Ok(n) => {
                    filled += n;
                    self.offset += n as u64;
                }
                Err(err) if err.kind() == ErrorKind::Interrupted => {}
                Err(err) => return Err(err.into()),
            }
        }
        self.crc = crc16(self.crc, buf);
        Ok(())
    }

    /// Like [`Input::read`], for bytes that must lie before `end`, the end of
    /// the records the header announced: a record crossing it means the
    /// header or a definition is wrong, and reading on would take the CRC
    /// (or the next file) for record bytes.
    fn read_within(&mut self, buf: &mut [u8], end: u64, what: &str) -> Result<(), IngestError> {
        if self.offset + buf.len() as u64 > end {
            return Err(IngestError::syntax(
                Location::Byte(self.offset),
                format!(
                    "{what} ({} bytes) runs past the end of the records at byte {end}, \
                     which the file header announced",
                    buf.len()
                ),
            ));
        }
        self.read(buf, what)
    }

    /// One byte before `end`.
    fn byte_within(&mut self, end: u64, what: &str) -> Result<u8, IngestError> {
        let mut byte = [0];
        self.read_within(&mut byte, end, what)?;
        let [byte] = byte;
        Ok(byte)
    }

    /// True when the stream has no more bytes.
    fn at_end(&mut self) -> Result<bool, IngestError> {
        loop {
            match self.reader.fill_buf() {
                Ok(buf) => return Ok(buf.is_empty()),
                Err(err) if err.kind() == ErrorKind::Interrupted => {}
                Err(err) => return Err(err.into()),
            }
        }
    }
}

/// One field of a definition message.
#[derive(Clone, Copy, Debug)]
struct FieldDef {
    number: u8,
    size: u8,
    base_type: u8,
}

/// The layout of one local message type.
#[derive(Debug, Default)]
struct Definition {
    big_endian: bool,
    global: u16,
    fields: Vec<FieldDef>,
    /// Total size of the developer fields that follow the profile fields:
    /// their meaning is in other messages, and we only need to skip them.
    developer_bytes: usize,
}

/// The sports seen in `sport` and `session` messages.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
enum Sport {
    #[default]
    None,
    One(&'static str),
    /// A multisport file: one label over the whole file would be wrong for
    /// most of it, so none is given.
    Conflicting,
}

impl Sport {
    fn see(&mut self, code: u8) {
        let Some(label) = sport_label(code) else {
            return;
        };
        *self = match *self {
            Self::None => Self::One(label),
            Self::One(seen) if seen == label => Self::One(seen),
            _ => Self::Conflicting,
        };
    }
}

/// The FIT profile's name for a `sport` code, for the codes that say how
/// someone moved; `generic` and the ball games and gym sports say nothing
/// useful about a trace and give no hint.
fn sport_label(code: u8) -> Option<&'static str> {
    let label = match code {
        1 => "running",
        2 => "cycling",
        5 => "swimming",
        11 => "walking",
        12 => "cross_country_skiing",
        13 => "alpine_skiing",
        15 => "rowing",
        16 => "mountaineering",
        17 => "hiking",
        19 => "paddling",
        20 => "flying",
        21 => "e_biking",
        22 => "motorcycling",
        23 => "boating",
        24 => "driving",
        32 => "sailing",
        41 => "kayaking",
        _ => return None,
    };
    Some(label)
}

/// The fields we keep from one data message, decoded and scaled.
#[derive(Clone, Copy, Debug, Default)]
struct Sample {
    /// `timestamp` in seconds since the FIT epoch.
    time: Option<u64>,
    lat: Option<f64>,
    lon: Option<f64>,
    altitude: Option<f64>,
    enhanced_altitude: Option<f64>,
    speed: Option<f64>,
    enhanced_speed: Option<f64>,
    sport: Option<u8>,
}

impl Sample {
    /// Keeps `bytes` when the field is one we use; a value that is invalid or
    /// whose size does not fit its base type is dropped.
    fn take(&mut self, global: u16, field: FieldDef, bytes: &[u8], big_endian: bool) {
        let value = || number(field.base_type, bytes, big_endian);
        match (global, field.number) {
            (_, FIELD_TIMESTAMP) => {
                self.time = value()
                    .filter(|v| v.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(v))
                    .map(|v| v as u64);
            }
            (MESG_RECORD, 0) => self.lat = value().map(|v| v * DEGREES_PER_SEMICIRCLE),
            (MESG_RECORD, 1) => self.lon = value().map(|v| v * DEGREES_PER_SEMICIRCLE),
            (MESG_RECORD, 2) => self.altitude = value().map(|v| v / 5.0 - 500.0),
            (MESG_RECORD, 78) => self.enhanced_altitude = value().map(|v| v / 5.0 - 500.0),
            (MESG_RECORD, 6) => self.speed = value().map(|v| v / 1000.0),
            (MESG_RECORD, 73) => self.enhanced_speed = value().map(|v| v / 1000.0),
            (MESG_SPORT, 0) | (MESG_SESSION, 5) => {
                self.sport = value()
                    .filter(|v| v.fract() == 0.0 && (0.0..=254.0).contains(v))
                    .map(|v| v as u8);
            }
            _ => {}
        }
    }
}

/// Reads a number of a FIT base type, in the byte order of its definition.
/// `None` for the type's "invalid" value (the FIT way of writing "no value"),
/// for sizes that do not match the type (arrays), and for strings, byte
/// arrays and unknown types.
fn number(base_type: u8, bytes: &[u8], big_endian: bool) -> Option<f64> {
    /// The bytes in little-endian order, when there are exactly `N` of them.
    fn le<const N: usize>(bytes: &[u8], big_endian: bool) -> Option<[u8; N]> {
        let mut array: [u8; N] = bytes.try_into().ok()?;
        if big_endian {
            array.reverse();
        }
        Some(array)
    }
    let b = big_endian;
    // The low five bits number the type; bit 7 only says it has a byte order.
    let value: f64 = match base_type & 0x1F {
        // enum, uint8
        0x00 | 0x02 => Some(u8::from_le_bytes(le(bytes, b)?))
            .filter(|&v| v != u8::MAX)?
            .into(),
        0x01 => Some(i8::from_le_bytes(le(bytes, b)?))
            .filter(|&v| v != i8::MAX)?
            .into(),
        0x03 => Some(i16::from_le_bytes(le(bytes, b)?))
            .filter(|&v| v != i16::MAX)?
            .into(),
        0x04 => Some(u16::from_le_bytes(le(bytes, b)?))
            .filter(|&v| v != u16::MAX)?
            .into(),
        0x05 => Some(i32::from_le_bytes(le(bytes, b)?))
            .filter(|&v| v != i32::MAX)?
            .into(),
        0x06 => Some(u32::from_le_bytes(le(bytes, b)?))
            .filter(|&v| v != u32::MAX)?
            .into(),
        0x08 => Some(u32::from_le_bytes(le(bytes, b)?))
            .filter(|&v| v != u32::MAX)
            .map(f32::from_bits)?
            .into(),
        0x09 => Some(u64::from_le_bytes(le(bytes, b)?))
            .filter(|&v| v != u64::MAX)
            .map(f64::from_bits)?,
        // uint8z, uint16z, uint32z: zero is their invalid value.
        0x0A => Some(u8::from_le_bytes(le(bytes, b)?))
            .filter(|&v| v != 0)?
            .into(),
        0x0B => Some(u16::from_le_bytes(le(bytes, b)?))
            .filter(|&v| v != 0)?
            .into(),
        0x0C => Some(u32::from_le_bytes(le(bytes, b)?))
            .filter(|&v| v != 0)?
            .into(),
        0x0E => Some(i64::from_le_bytes(le(bytes, b)?)).filter(|&v| v != i64::MAX)? as f64,
        0x0F => Some(u64::from_le_bytes(le(bytes, b)?)).filter(|&v| v != u64::MAX)? as f64,
        0x10 => Some(u64::from_le_bytes(le(bytes, b)?)).filter(|&v| v != 0)? as f64,
        _ => return None,
    };
    Some(value).filter(|v: &f64| v.is_finite())
}

/// A FIT `date_time` as an instant, when it is one.
fn fit_time(seconds: u64) -> Option<Timestamp> {
    if seconds < MIN_ABSOLUTE_TIME {
        return None;
    }
    let unix = i64::try_from(seconds).ok()?.checked_add(FIT_EPOCH_UNIX_S)?;
    Some(Timestamp(unix.checked_mul(1000)?))
}

/// The time of a compressed-timestamp record: `offset` is the low five bits
/// of the time, which rolls over every 32 seconds after `last`.
fn compressed_time(last: u64, offset: u8) -> u64 {
    let offset = u64::from(offset & 0x1F);
    let base = last & !0x1F;
    if offset < last & 0x1F {
        base + offset + 0x20
    } else {
        base + offset
    }
}

/// The state of one FIT file (chained files start afresh).
#[derive(Default)]
struct FitFile {
    definitions: [Option<Definition>; 16],
    /// The last full or compressed time seen, for compressed timestamps.
    last_time: Option<u64>,
    sport: Sport,
    activity: ActivitySpan,
}

impl FitFile {
    /// Reads one file, header to CRC.
    fn parse<R: BufRead>(
        &mut self,
        input: &mut Input<R>,
        chained: bool,
        emit: &mut Emitter<'_>,
    ) -> Result<(), IngestError> {
        let start = input.offset;
        input.crc = 0;
        let mut header = [0; 12];
        input.read(&mut header, "a 12-byte FIT file header")?;
        let [size, _protocol, _, _, d0, d1, d2, d3, s0, s1, s2, s3] = header;
        if [s0, s1, s2, s3] != *b".FIT" {
            let message = if chained {
                "unexpected bytes after the file CRC: expected the end of the file or another \
                 FIT file, whose header has \".FIT\" at its bytes 8..12"
            } else {
                "expected the \".FIT\" signature of a FIT file header"
            };
            return Err(IngestError::syntax(Location::Byte(start + 8), message));
        }
        if size < 12 {
            return Err(IngestError::syntax(
                Location::Byte(start),
                format!("FIT header size {size}; expected 12 or 14"),
            ));
        }
        let data_size = u32::from_le_bytes([d0, d1, d2, d3]);
        let mut extra = size - 12;
        if size >= 14 {
            let computed = input.crc;
            let mut crc = [0; 2];
            input.read(&mut crc, "the header CRC")?;
            let stored = u16::from_le_bytes(crc);
            // Zero means the writer did not compute one.
            if stored != 0 && stored != computed {
                return Err(IngestError::syntax(
                    Location::Byte(start + 12),
                    "header CRC mismatch: the FIT file header is damaged",
                ));
            }
            extra -= 2;
        }
        // Header bytes beyond 14 are reserved for later protocol versions.
        let mut skip = [0; 255];
        input.read(
            skip.get_mut(..usize::from(extra)).unwrap_or_default(),
            "the rest of the file header",
        )?;
        let end = input.offset + u64::from(data_size);
        while input.offset < end {
            self.record(input, end, emit)?;
        }
        let computed = input.crc;
        let crc_at = input.offset;
        let mut crc = [0; 2];
        input.read(&mut crc, "the 2-byte file CRC")?;
        if u16::from_le_bytes(crc) != computed {
            return Err(IngestError::syntax(
                Location::Byte(crc_at),
                "file CRC mismatch: the file is damaged or truncated",
            ));
        }
        if let Sport::One(label) = self.sport {
            self.activity.set_label(label.as_bytes());
            if let Some(hint) = self.activity.take_hint() {
                emit.hint("", hint)?;
            }
        }
        Ok(())
    }

    /// Reads one record: a header byte and a definition or data message.
    fn record<R: BufRead>(
        &mut self,
        input: &mut Input<R>,
        end: u64,
        emit: &mut Emitter<'_>,
    ) -> Result<(), IngestError> {
        let at = input.offset;
        let header = input.byte_within(end, "a record header")?;
        if header & 0x80 != 0 {
            // Compressed timestamp header: local types 0-3 only, and the low
            // five bits of the time.
            self.data(
                input,
                end,
                at,
                (header >> 5) & 0x03,
                Some(header & 0x1F),
                emit,
            )
        } else if header & 0x40 != 0 {
            self.definition(input, end, header & 0x0F, header & 0x20 != 0)
        } else {
            self.data(input, end, at, header & 0x0F, None, emit)
        }
    }

    /// Reads a definition message into the slot of its local type.
    fn definition<R: BufRead>(
        &mut self,
        input: &mut Input<R>,
        end: u64,
        local: u8,
        developer: bool,
    ) -> Result<(), IngestError> {
        let mut fixed = [0; 5];
        input.read_within(&mut fixed, end, "a definition message")?;
        let [_reserved, architecture, g0, g1, count] = fixed;
        let big_endian = match architecture {
            0 => false,
            1 => true,
            other => {
                return Err(IngestError::syntax(
                    Location::Byte(input.offset - 4),
                    format!(
                        "architecture {other} in a definition message; expected 0 \
                         (little-endian) or 1 (big-endian)"
                    ),
                ));
            }
        };
        // `local` is four bits wide, so it always falls inside the 16 slots.
        let def =
            self.definitions[usize::from(local & 0x0F)].get_or_insert_with(Definition::default);
        def.big_endian = big_endian;
        def.global = if big_endian {
            u16::from_be_bytes([g0, g1])
        } else {
            u16::from_le_bytes([g0, g1])
        };
        def.fields.clear();
        def.developer_bytes = 0;
        for _ in 0..count {
            let mut triple = [0; 3];
            input.read_within(&mut triple, end, "a field definition")?;
            let [number, size, base_type] = triple;
            def.fields.push(FieldDef {
                number,
                size,
                base_type,
            });
        }
        if developer {
            let count = input.byte_within(end, "the number of developer fields")?;
            for _ in 0..count {
                let mut triple = [0; 3];
                input.read_within(&mut triple, end, "a developer field definition")?;
                let [_number, size, _developer_index] = triple;
                def.developer_bytes += usize::from(size);
            }
        }
        Ok(())
    }

    /// Reads a data message of local type `local` and acts on what it holds.
    fn data<R: BufRead>(
        &mut self,
        input: &mut Input<R>,
        end: u64,
        at: u64,
        local: u8,
        time_offset: Option<u8>,
        emit: &mut Emitter<'_>,
    ) -> Result<(), IngestError> {
        // `local` is four bits wide, so it always falls inside the 16 slots.
        let Some(def) = &self.definitions[usize::from(local & 0x0F)] else {
            return Err(IngestError::syntax(
                Location::Byte(at),
                format!("a data message of local type {local} before any definition of that type"),
            ));
        };
        let global = def.global;
        let mut sample = Sample::default();
        // Field sizes are bytes, so one field always fits.
        let mut buf = [0; 255];
        for &field in &def.fields {
            let bytes = buf.get_mut(..usize::from(field.size)).unwrap_or_default();
            input.read_within(bytes, end, "the fields of a data message")?;
            sample.take(global, field, bytes, def.big_endian);
        }
        let mut developer = def.developer_bytes;
        while developer > 0 {
            let n = developer.min(buf.len());
            let bytes = buf.get_mut(..n).unwrap_or_default();
            input.read_within(bytes, end, "the developer fields of a data message")?;
            developer -= n;
        }

        let time = sample.time.or_else(|| {
            let offset = time_offset?;
            Some(compressed_time(self.last_time?, offset))
        });
        if time.is_some() {
            self.last_time = time;
        }
        match global {
            MESG_RECORD => self.fix(&sample, time, emit),
            MESG_SPORT | MESG_SESSION => {
                if let Some(code) = sample.sport {
                    self.sport.see(code);
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Emits the fix a `record` message holds, if it has a position.
    fn fix(
        &mut self,
        sample: &Sample,
        time: Option<u64>,
        emit: &mut Emitter<'_>,
    ) -> Result<(), IngestError> {
        let (lat, lon) = match (sample.lat, sample.lon) {
            (Some(lat), Some(lon)) => (lat, lon),
            // No GPS fix (yet): a sensor-only sample, not a broken record.
            (None, None) => return Ok(()),
            _ => return Ok(emit.reject(RejectReason::InvalidValue)?),
        };
        let Some(time) = time.and_then(fit_time) else {
            return Ok(emit.reject(RejectReason::MissingTime)?);
        };
        self.activity.include(time);
        let finite = |v: f64| Some(v as f32).filter(|v| v.is_finite());
        let fix = Fix {
            altitude_m: sample
                .enhanced_altitude
                .or(sample.altitude)
                .and_then(finite),
            speed_mps: sample
                .enhanced_speed
                .or(sample.speed)
                .and_then(finite)
                .filter(|&v| v >= 0.0),
            ..Fix::new(time, lat, lon)
        };
        Ok(emit.fix("", fix)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Collected, collect_bytes};
    use proptest::prelude::*;
    use sillage_model::{HintKind, Mode, SourceFormat};

    /// 2024-03-01T08:00:00Z in FIT seconds; a multiple of 32, so that the
    /// rollover of compressed timestamps is easy to place.
    const T0: u32 = 1_709_280_000 - 631_065_600;
    const T0_MS: i64 = 1_709_280_000_000;

    const SINT32: u8 = 0x85;
    const UINT32: u8 = 0x86;
    const UINT16: u8 = 0x84;
    const UINT8: u8 = 0x02;
    const ENUM: u8 = 0x00;
    const STRING: u8 = 0x07;

    /// A field value, written in the byte order of its definition.
    #[derive(Clone, Copy)]
    enum V<'a> {
        U8(u8),
        U16(u16),
        U32(u32),
        I32(i32),
        Raw(&'a [u8]),
    }

    /// Writes FIT files for tests, from the same protocol description as the
    /// decoder: fitparser checks that both read it as the FIT SDK does.
    #[derive(Default)]
    struct Encoder {
        records: Vec<u8>,
        big_endian: [bool; 16],
    }

    impl Encoder {
        fn define(
            &mut self,
            local: u8,
            big_endian: bool,
            global: u16,
            fields: &[(u8, u8, u8)],
            developer: &[(u8, u8, u8)],
        ) -> &mut Self {
            let dev_flag = if developer.is_empty() { 0 } else { 0x20 };
            self.records.push(0x40 | dev_flag | local);
            self.records.push(0);
            self.records.push(u8::from(big_endian));
            let global = if big_endian {
                global.to_be_bytes()
            } else {
                global.to_le_bytes()
            };
            self.records.extend_from_slice(&global);
            self.records.push(fields.len() as u8);
            for &(number, size, base_type) in fields {
                self.records.extend_from_slice(&[number, size, base_type]);
            }
            if !developer.is_empty() {
                self.records.push(developer.len() as u8);
                for &(number, size, index) in developer {
                    self.records.extend_from_slice(&[number, size, index]);
                }
            }
            self.big_endian[usize::from(local)] = big_endian;
            self
        }

        fn values(&mut self, local: u8, values: &[V<'_>]) {
            let big = self.big_endian[usize::from(local)];
            for value in values {
                let bytes = match (*value, big) {
                    (V::U8(v), _) => vec![v],
                    (V::U16(v), false) => v.to_le_bytes().to_vec(),
                    (V::U16(v), true) => v.to_be_bytes().to_vec(),
                    (V::U32(v), false) => v.to_le_bytes().to_vec(),
                    (V::U32(v), true) => v.to_be_bytes().to_vec(),
                    (V::I32(v), false) => v.to_le_bytes().to_vec(),
                    (V::I32(v), true) => v.to_be_bytes().to_vec(),
                    (V::Raw(v), _) => v.to_vec(),
                };
                self.records.extend_from_slice(&bytes);
            }
        }

        fn data(&mut self, local: u8, values: &[V<'_>]) -> &mut Self {
            self.records.push(local);
            self.values(local, values);
            self
        }

        fn compressed(&mut self, local: u8, offset: u8, values: &[V<'_>]) -> &mut Self {
            self.records.push(0x80 | (local << 5) | offset);
            self.values(local, values);
            self
        }

        /// The whole file: header (with its CRC when 14 bytes long), records, CRC.
        fn finish(&self, header_size: u8) -> Vec<u8> {
            let mut file = vec![header_size, 0x20];
            file.extend_from_slice(&2132u16.to_le_bytes());
            file.extend_from_slice(&(self.records.len() as u32).to_le_bytes());
            file.extend_from_slice(b".FIT");
            if header_size == 14 {
                let crc = crc16(0, &file);
                file.extend_from_slice(&crc.to_le_bytes());
            }
            file.extend_from_slice(&self.records);
            let crc = crc16(0, &file);
            file.extend_from_slice(&crc.to_le_bytes());
            file
        }
    }

    fn semicircles(degrees: f64) -> i32 {
        (degrees / 180.0 * 2_147_483_648.0).round() as i32
    }

    const RECORD_LE: &[(u8, u8, u8)] = &[
        (253, 4, UINT32),
        (0, 4, SINT32),
        (1, 4, SINT32),
        (2, 2, UINT16),
        (6, 2, UINT16),
        (3, 1, UINT8), // heart rate: read and dropped
    ];

    /// An activity with every feature the decoder handles: a file_id,
    /// developer field descriptions, a sport, little-endian records (one
    /// with invalid altitude and speed, one without position), two
    /// compressed-timestamp records across a rollover, a big-endian record
    /// with enhanced fields and developer data, and a session.
    fn activity() -> Encoder {
        let mut e = Encoder::default();
        e.define(
            0,
            false,
            0,
            &[(0, 1, ENUM), (1, 2, UINT16), (4, 4, UINT32)],
            &[],
        )
        .data(0, &[V::U8(4), V::U16(1), V::U32(T0)]);
        e.define(1, false, 207, &[(3, 1, UINT8)], &[])
            .data(1, &[V::U8(0)]);
        e.define(
            1,
            false,
            206,
            &[(0, 1, UINT8), (1, 1, UINT8), (2, 1, UINT8), (3, 8, STRING)],
            &[],
        )
        .data(
            1,
            &[V::U8(0), V::U8(0), V::U8(UINT16), V::Raw(b"power2\0\0")],
        );
        e.define(1, false, MESG_SPORT, &[(0, 1, ENUM), (1, 1, ENUM)], &[])
            .data(1, &[V::U8(2), V::U8(0)]);
        e.define(2, false, MESG_RECORD, RECORD_LE, &[])
            .data(
                2,
                &[
                    V::U32(T0),
                    V::I32(semicircles(46.16)),
                    V::I32(semicircles(-1.15)),
                    V::U16(2562),
                    V::U16(5123),
                    V::U8(120),
                ],
            )
            .data(
                2,
                &[
                    V::U32(T0 + 1),
                    V::I32(semicircles(46.1601)),
                    V::I32(semicircles(-1.1502)),
                    V::U16(u16::MAX),
                    V::U16(u16::MAX),
                    V::U8(121),
                ],
            )
            .data(
                2,
                &[
                    V::U32(T0 + 30),
                    V::I32(i32::MAX),
                    V::I32(i32::MAX),
                    V::U16(u16::MAX),
                    V::U16(u16::MAX),
                    V::U8(122),
                ],
            );
        e.define(
            0,
            false,
            MESG_RECORD,
            &[(0, 4, SINT32), (1, 4, SINT32), (2, 2, UINT16)],
            &[],
        )
        .compressed(
            0,
            2,
            &[
                V::I32(semicircles(46.1602)),
                V::I32(semicircles(-1.1504)),
                V::U16(2600),
            ],
        )
        .compressed(
            0,
            5,
            &[
                V::I32(semicircles(46.1603)),
                V::I32(semicircles(-1.1506)),
                V::U16(2610),
            ],
        );
        e.define(
            3,
            true,
            MESG_RECORD,
            &[
                (253, 4, UINT32),
                (0, 4, SINT32),
                (1, 4, SINT32),
                (78, 4, UINT32),
                (73, 4, UINT32),
            ],
            &[(0, 2, 0)],
        )
        .data(
            3,
            &[
                V::U32(T0 + 40),
                V::I32(semicircles(-33.8688)),
                V::I32(semicircles(151.2093)),
                V::U32(8673),
                V::U32(12_345),
                V::Raw(&[0x01, 0x02]),
            ],
        );
        e.define(
            1,
            true,
            MESG_SESSION,
            &[(253, 4, UINT32), (2, 4, UINT32), (5, 1, ENUM)],
            &[],
        )
        .data(1, &[V::U32(T0 + 41), V::U32(T0), V::U8(2)]);
        e
    }

    fn parsed(bytes: &[u8]) -> Collected {
        let (result, collected) = collect_bytes(bytes);
        assert_eq!(result.unwrap(), SourceFormat::Fit);
        collected
    }

    fn error(bytes: &[u8]) -> (Location, String) {
        match collect_bytes(bytes).0 {
            Err(IngestError::Syntax { location, message }) => (location, message),
            other => panic!("expected a syntax error, got {other:?}"),
        }
    }

    #[test]
    fn crc_matches_the_published_check_value() {
        // The CRC-16/ARC check value: the FIT CRC is that CRC, nibble-wise.
        assert_eq!(crc16(0, b"123456789"), 0xBB3D);
        assert_eq!(crc16(crc16(0, b"1234"), b"56789"), 0xBB3D);
    }

    #[test]
    fn decodes_both_byte_orders_compressed_times_and_developer_fields() {
        let got = parsed(&activity().finish(14));
        let deg = |d: f64| f64::from(semicircles(d)) * DEGREES_PER_SEMICIRCLE;
        let fix = |s: i64, lat: f64, lon: f64, alt: Option<f32>, speed: Option<f32>| Fix {
            altitude_m: alt,
            speed_mps: speed,
            ..Fix::new(Timestamp(T0_MS + s * 1000), deg(lat), deg(lon))
        };
        assert_eq!(
            got.fix_list(),
            [
                fix(0, 46.16, -1.15, Some(12.4), Some(5.123)),
                fix(1, 46.1601, -1.1502, None, None),
                // Compressed: T0 + 30 was the last time, so offset 2 rolls over to T0 + 34,
                // and offset 5 then follows T0 + 34 without rolling over.
                fix(34, 46.1602, -1.1504, Some(20.0), None),
                fix(37, 46.1603, -1.1506, Some(22.0), None),
                fix(40, -33.8688, 151.2093, Some(1234.6), Some(12.345)),
            ]
        );
        let first = got.fixes[0].1;
        assert!((first.lat - 46.16).abs() < 1e-7 && (first.lon + 1.15).abs() < 1e-7);
        assert!(got.fixes.iter().all(|(device, _)| device.is_empty()));
        assert!(got.rejected.is_empty(), "{:?}", got.rejected);
        assert_eq!(got.hints.len(), 1);
        let hint = &got.hints[0].1;
        assert_eq!(
            (hint.start, hint.end),
            (Timestamp(T0_MS), Timestamp(T0_MS + 40_000))
        );
        assert_eq!(
            hint.kind,
            HintKind::Activity {
                mode: Some(Mode::Bicycle),
                label: "cycling".into()
            }
        );
        // A 12-byte header (no header CRC) reads the same.
        assert_eq!(parsed(&activity().finish(12)).fix_list(), got.fix_list());
    }

    /// Guards against the encoder and decoder sharing a misreading of the
    /// protocol: an independent decoder must find the same fixes.
    #[test]
    fn agrees_with_fitparser() {
        use fitparser::Value;
        let bytes = activity().finish(14);
        let number = |value: &Value| match *value {
            Value::SInt32(v) => Some(f64::from(v)),
            Value::UInt32(v) => Some(f64::from(v)),
            Value::UInt16(v) => Some(f64::from(v)),
            Value::Float64(v) => Some(v),
            _ => None,
        };
        let mut theirs = Vec::new();
        for record in fitparser::from_reader(&mut bytes.as_slice()).unwrap() {
            if record.kind() != fitparser::profile::MesgNum::Record {
                continue;
            }
            let field = |name: &str| record.fields().iter().find(|f| f.name() == name);
            let (Some(lat), Some(lon), Some(time)) = (
                field("position_lat").and_then(|f| number(f.value())),
                field("position_long").and_then(|f| number(f.value())),
                field("timestamp").map(|f| f.value().clone()),
            ) else {
                continue;
            };
            let Value::Timestamp(time) = time else {
                panic!("timestamp decoded as {time:?}");
            };
            let altitude = field("enhanced_altitude")
                .or(field("altitude"))
                .and_then(|f| number(f.value()));
            let speed = field("enhanced_speed")
                .or(field("speed"))
                .and_then(|f| number(f.value()));
            theirs.push((
                time.timestamp() * 1000,
                lat * DEGREES_PER_SEMICIRCLE,
                lon * DEGREES_PER_SEMICIRCLE,
                altitude,
                speed,
            ));
        }
        let ours = parsed(&bytes).fix_list();
        assert_eq!(ours.len(), theirs.len(), "{theirs:?}");
        for (fix, (time, lat, lon, altitude, speed)) in ours.iter().zip(&theirs) {
            assert_eq!(fix.time.0, *time);
            assert!((fix.lat - lat).abs() < 1e-7, "{fix:?} vs {lat}");
            assert!((fix.lon - lon).abs() < 1e-7, "{fix:?} vs {lon}");
            let close = |a: Option<f32>, b: Option<f64>| match (a, b) {
                (Some(a), Some(b)) => (f64::from(a) - b).abs() < 1e-3,
                (None, None) => true,
                _ => false,
            };
            assert!(close(fix.altitude_m, *altitude), "{fix:?} vs {altitude:?}");
            assert!(close(fix.speed_mps, *speed), "{fix:?} vs {speed:?}");
        }
    }

    /// Our sport labels are the FIT profile's names for the same codes.
    #[test]
    fn sport_codes_match_fitparser_profile_names() {
        let codes: Vec<u8> = (0..=254).filter(|&c| sport_label(c).is_some()).collect();
        let mut e = Encoder::default();
        e.define(0, false, MESG_SPORT, &[(0, 1, ENUM)], &[]);
        for &code in &codes {
            e.data(0, &[V::U8(code)]);
        }
        let records = fitparser::from_reader(&mut e.finish(14).as_slice()).unwrap();
        let names: Vec<String> = records
            .iter()
            .filter(|r| r.kind() == fitparser::profile::MesgNum::Sport)
            .map(|r| r.fields()[0].value().to_string())
            .collect();
        let labels: Vec<&str> = codes.iter().filter_map(|&c| sport_label(c)).collect();
        assert_eq!(names, labels);
    }

    #[test]
    fn chained_files_are_read_in_turn() {
        let first = activity().finish(14);
        let mut second = Encoder::default();
        second
            .define(0, false, MESG_SPORT, &[(0, 1, ENUM)], &[])
            .data(0, &[V::U8(1)])
            .define(0, false, MESG_RECORD, RECORD_LE, &[])
            .data(
                0,
                &[
                    V::U32(T0 + 3600),
                    V::I32(semicircles(48.85)),
                    V::I32(semicircles(2.35)),
                    V::U16(u16::MAX),
                    V::U16(u16::MAX),
                    V::U8(100),
                ],
            );
        let bytes = [first, second.finish(12)].concat();
        let got = parsed(&bytes);
        assert_eq!(got.fixes.len(), 6);
        assert_eq!(got.fixes[5].1.time, Timestamp(T0_MS + 3_600_000));
        let labels: Vec<_> = got
            .hints
            .iter()
            .map(|(_, h)| match &h.kind {
                HintKind::Activity { label, .. } => label.clone(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(labels, ["cycling", "running"]);

        let mut junk = activity().finish(14);
        junk.extend_from_slice(b"\0\0\0\0\0\0\0\0\0\0\0\0\0\0");
        let (location, message) = error(&junk);
        assert_eq!(location, Location::Byte(junk.len() as u64 - 6));
        assert!(message.contains("after the file CRC"), "{message}");
    }

    #[test]
    fn truncated_file_names_the_byte_and_what_was_expected() {
        let bytes = activity().finish(14);
        let cut = &bytes[..bytes.len() - 20];
        let (location, message) = error(cut);
        assert_eq!(location, Location::Byte(cut.len() as u64));
        assert!(
            message.contains("unexpected end of file: expected") && message.contains("truncated"),
            "{message}"
        );
        let (location, message) = error(&bytes[..bytes.len() - 1]);
        assert_eq!(location, Location::Byte(bytes.len() as u64 - 1));
        assert!(message.contains("the 2-byte file CRC"), "{message}");
    }

    #[test]
    fn every_prefix_fails_cleanly() {
        let bytes = activity().finish(14);
        for len in 0..bytes.len() {
            let (result, _) = collect_bytes(&bytes[..len]);
            assert!(result.is_err(), "a {len}-byte prefix parsed");
        }
    }

    #[test]
    fn damage_is_reported_at_the_crc() {
        let bytes = activity().finish(14);
        let mut bad_crc = bytes.clone();
        *bad_crc.last_mut().unwrap() ^= 0x40;
        let (location, message) = error(&bad_crc);
        assert_eq!(location, Location::Byte(bytes.len() as u64 - 2));
        assert_eq!(
            message,
            "file CRC mismatch: the file is damaged or truncated"
        );

        // A changed coordinate still reads, but the CRC gives it away.
        let mut flipped = bytes.clone();
        let at = bytes.len() - 10;
        flipped[at] ^= 0x01;
        let (location, message) = error(&flipped);
        assert_eq!(location, Location::Byte(bytes.len() as u64 - 2));
        assert!(message.contains("CRC mismatch"), "{message}");

        let mut bad_header = bytes.clone();
        bad_header[12] ^= 0xFF;
        let (location, message) = error(&bad_header);
        assert_eq!(location, Location::Byte(12));
        assert!(message.contains("header CRC mismatch"), "{message}");

        // A definition whose fields run past the announced end of the records.
        let mut e = activity();
        e.records.extend_from_slice(&[0x40, 0, 0, 20, 0, 1]);
        let mut over = e.finish(12);
        let len = over.len();
        over.truncate(len - 2);
        over.extend_from_slice(&[253, 4, 0x86]);
        let crc = crc16(0, &over);
        over.extend_from_slice(&crc.to_le_bytes());
        let (_, message) = error(&over);
        assert!(
            message.contains("runs past the end of the records"),
            "{message}"
        );
    }

    #[test]
    fn unusable_records_are_rejected_or_skipped() {
        let record = |time: u32, lat: i32, lon: i32| {
            [
                V::U32(time),
                V::I32(lat),
                V::I32(lon),
                V::U16(u16::MAX),
                V::U16(u16::MAX),
                V::U8(90),
            ]
        };
        let mut e = Encoder::default();
        e.define(0, false, MESG_RECORD, RECORD_LE, &[])
            // No timestamp at all.
            .data(0, &record(u32::MAX, semicircles(46.0), semicircles(-1.0)))
            // Seconds since power-on, not a date.
            .data(0, &record(1_000, semicircles(46.0), semicircles(-1.0)))
            // Half a position.
            .data(0, &record(T0, semicircles(46.0), i32::MAX))
            // No position: skipped silently.
            .data(0, &record(T0 + 1, i32::MAX, i32::MAX))
            .define(
                1,
                false,
                MESG_RECORD,
                &[(0, 4, SINT32), (1, 4, SINT32)],
                &[],
            );
        // Compressed time before any full time.
        let mut first = Encoder::default();
        first
            .define(
                1,
                false,
                MESG_RECORD,
                &[(0, 4, SINT32), (1, 4, SINT32)],
                &[],
            )
            .compressed(1, 3, &[V::I32(semicircles(46.0)), V::I32(semicircles(1.0))]);
        first.records.extend_from_slice(&e.records);
        let got = parsed(&first.finish(14));
        assert!(got.fixes.is_empty(), "{:?}", got.fixes);
        assert!(got.hints.is_empty());
        assert_eq!(got.rejected.get(&RejectReason::MissingTime), Some(&3));
        assert_eq!(got.rejected.get(&RejectReason::InvalidValue), Some(&1));
        assert_eq!(got.rejected.values().sum::<u64>(), 4);
    }

    #[test]
    fn odd_layouts_are_read_or_refused_cleanly() {
        // A position field of the wrong size (an array) is ignored, not misread;
        // a field of a signed type is read as declared.
        let mut e = Encoder::default();
        e.define(
            0,
            false,
            MESG_RECORD,
            &[(253, 4, UINT32), (0, 8, SINT32), (1, 4, SINT32)],
            &[],
        )
        .data(0, &[V::U32(T0), V::Raw(&[1; 8]), V::I32(semicircles(2.0))]);
        let got = parsed(&e.finish(14));
        assert!(got.fixes.is_empty());
        assert_eq!(got.rejected.get(&RejectReason::InvalidValue), Some(&1));

        // A data message of a local type that was never defined.
        let mut e = Encoder::default();
        e.data(5, &[]);
        let (location, message) = error(&e.finish(14));
        assert_eq!(location, Location::Byte(14));
        assert!(
            message.contains("local type 5 before any definition"),
            "{message}"
        );

        // An unknown architecture.
        let mut e = Encoder::default();
        e.records.extend_from_slice(&[0x40, 0, 7, 20, 0, 0]);
        let (location, message) = error(&e.finish(14));
        assert_eq!(location, Location::Byte(16));
        assert!(message.contains("architecture 7"), "{message}");

        // Multisport: conflicting sports give no hint.
        let mut e = Encoder::default();
        e.define(0, false, MESG_SESSION, &[(5, 1, ENUM)], &[])
            .data(0, &[V::U8(1)])
            .data(0, &[V::U8(2)])
            .define(
                1,
                false,
                MESG_RECORD,
                &[(253, 4, UINT32), (0, 4, SINT32), (1, 4, SINT32)],
                &[],
            )
            .data(
                1,
                &[
                    V::U32(T0),
                    V::I32(semicircles(1.0)),
                    V::I32(semicircles(1.0)),
                ],
            );
        let got = parsed(&e.finish(14));
        assert_eq!(got.fixes.len(), 1);
        assert!(got.hints.is_empty());
    }

    #[test]
    fn base_types_and_their_invalid_values() {
        assert_eq!(number(0x84, &[0x34, 0x12], false), Some(f64::from(0x1234)));
        assert_eq!(number(0x84, &[0x12, 0x34], true), Some(f64::from(0x1234)));
        assert_eq!(number(0x84, &[0xFF, 0xFF], false), None);
        assert_eq!(number(0x84, &[0x34], false), None, "wrong size");
        assert_eq!(number(0x85, &(-5i32).to_le_bytes(), false), Some(-5.0));
        assert_eq!(number(0x85, &i32::MAX.to_be_bytes(), true), None);
        assert_eq!(number(0x8C, &[0, 0, 0, 0], false), None, "uint32z zero");
        assert_eq!(number(0x88, &1.5f32.to_le_bytes(), false), Some(1.5));
        assert_eq!(number(0x88, &f32::NAN.to_le_bytes(), false), None);
        assert_eq!(number(0x89, &[0xFF; 8], false), None);
        assert_eq!(number(0x07, b"ab", false), None, "strings are not numbers");
        assert_eq!(number(0x1F, &[1], false), None, "unknown type");
        assert_eq!(compressed_time(0x40 + 30, 2), 0x60 + 2);
        assert_eq!(compressed_time(0x40 + 2, 30), 0x40 + 30);
        assert_eq!(compressed_time(0x40 + 5, 5), 0x40 + 5);
        assert_eq!(fit_time(u64::from(T0)), Some(Timestamp(T0_MS)));
        assert_eq!(fit_time(MIN_ABSOLUTE_TIME - 1), None);
    }

    /// Recomputes both CRCs, so that damage reaches the record decoder
    /// instead of stopping at the CRC check.
    fn reseal(bytes: &mut [u8]) {
        let Some(len) = bytes.len().checked_sub(2).filter(|&l| l >= 14) else {
            return;
        };
        let crc = crc16(0, &bytes[..12]);
        bytes[12..14].copy_from_slice(&crc.to_le_bytes());
        let crc = crc16(0, &bytes[..len]);
        bytes[len..].copy_from_slice(&crc.to_le_bytes());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn random_byte_flips_never_panic(
            flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
            sealed in any::<bool>(),
            cut in any::<prop::sample::Index>(),
            truncate in any::<bool>(),
        ) {
            let mut bytes = activity().finish(14);
            for (at, byte) in &flips {
                let i = at.index(bytes.len());
                bytes[i] ^= byte;
            }
            if sealed {
                reseal(&mut bytes);
            }
            if truncate {
                bytes.truncate(cut.index(bytes.len()));
            }
            crate::fuzz_check(Some(SourceFormat::Fit), &bytes);
            crate::fuzz_check(None, &bytes);
        }
    }
}
