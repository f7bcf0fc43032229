//! Delimited text with a header line: CSV, TSV, `;`- and `|`-separated files
//! as written by GPSLogger, research datasets (MobilityNet, GeoLife-like
//! date + time layouts) and spreadsheets.
//!
//! The header decides everything: the delimiter (whichever of `,` `;` TAB `|`
//! splits it into recognisable latitude and longitude columns) and which
//! column holds which quantity (see [`role`]). Rows are then split in place
//! with one reused buffer; fields may be double-quoted (RFC 4180), but a
//! quoted field cannot span lines.

use super::{Cell, Line, Lines, date_time, number, optional};
use crate::field::{epoch_guess, parse_time_text};
use crate::{Emitter, IngestError, Location};
use sillage_model::{Fix, RejectReason, Timestamp};
use std::io::BufRead;

/// Delimiters tried on the header line.
const DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];

/// True when `first_line` is a header naming a latitude and a longitude column.
pub(crate) fn looks_like_header(first_line: &str) -> bool {
    Columns::from_header(first_line.as_bytes()).is_some()
}

/// Parses delimited text whose first non-blank line is a header.
pub(crate) fn parse(reader: impl BufRead, emit: &mut Emitter<'_>) -> Result<(), IngestError> {
    let mut lines = Lines::new(reader);
    let columns = loop {
        match lines.next_line()? {
            None => {
                return Err(IngestError::syntax(
                    Location::Line(lines.number().max(1)),
                    "no header line: expected column names such as time,lat,lon",
                ));
            }
            Some(Line::Text(line)) if line.trim_ascii().is_empty() => continue,
            Some(Line::Text(line)) => match Columns::from_header(line) {
                Some(columns) => break columns,
                None => {
                    let shown: String = String::from_utf8_lossy(line).chars().take(80).collect();
                    return Err(IngestError::syntax(
                        Location::Line(lines.number()),
                        format!(
                            "the header {shown:?} names no latitude and longitude columns; \
                             expected names such as lat/latitude and lon/lng/longitude"
                        ),
                    ));
                }
            },
            Some(Line::TooLong) => {
                return Err(IngestError::syntax(
                    Location::Line(lines.number()),
                    "the header line is too long",
                ));
            }
        }
    };
    let mut splitter = Splitter::new(columns.delimiter);
    while let Some(line) = lines.next_line()? {
        let Line::Text(line) = line else {
            emit.reject(RejectReason::InvalidValue)?;
            continue;
        };
        // Blank lines and spreadsheet padding rows (`,,,,`) carry nothing.
        if line
            .iter()
            .all(|&b| b == columns.delimiter || b.is_ascii_whitespace())
        {
            continue;
        }
        let fields = splitter.split(line);
        columns.row(&fields, emit)?;
    }
    Ok(())
}

/// A unit conversion applied to a column's numbers.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Unit {
    /// Already in our unit.
    Same,
    /// Degrees × 10⁷ (Google-style E7 integers).
    E7,
    /// Kilometres per hour.
    KmH,
    /// Feet.
    Feet,
}

impl Unit {
    fn apply(self, v: f64) -> f64 {
        match self {
            Self::Same => v,
            Self::E7 => v / 1e7,
            Self::KmH => v / 3.6,
            Self::Feet => v * 0.3048,
        }
    }
}

/// How the numbers of a time column are read.
#[derive(Clone, Copy, Debug, PartialEq)]
enum TimeUnit {
    /// The column is named as milliseconds (`timestamp_ms`): read numbers as ms.
    Millis,
    /// Seconds or milliseconds by magnitude ([`epoch_guess`]), or ISO-8601 text.
    Guess,
}

/// What a column holds, as told by its name.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Role {
    Lat(Unit),
    Lon(Unit),
    Time(TimeUnit),
    /// A calendar date, combined with a time-of-day column when there is one.
    Date,
    /// GPSLogger's `time_offset`: the same instant written with the local offset.
    Offset,
    Accuracy,
    Speed(Unit),
    Bearing,
    Altitude(Unit),
    Device,
}

/// Reduces a column name to lowercase ASCII words joined by `_`, so that
/// `"Speed (km/h)"`, `speed-km-h` and `SPEED_KM_H` all read `speed_km_h`.
fn canonical(raw: &[u8]) -> String {
    let mut out = String::with_capacity(raw.len());
    for &b in raw {
        let c = b.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() {
            out.push(char::from(c));
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    out
}

/// The role of a canonical column name and its rank: among columns with the
/// same role the lowest rank wins (`lat` over `y`, `timestamp_ms` over `time`).
fn role(name: &str) -> Option<(Role, u8)> {
    use Role::*;
    let found = match name {
        "lat" | "latitude" | "lat_deg" | "latitude_deg" | "latitude_degrees" | "gps_lat"
        | "gps_latitude" | "latitude_wgs84" => (Lat(Unit::Same), 0),
        "late7" | "lat_e7" | "latitudee7" | "latitude_e7" => (Lat(Unit::E7), 0),
        "y" => (Lat(Unit::Same), 1),
        "lon" | "lng" | "long" | "longitude" | "lon_deg" | "lng_deg" | "longitude_deg"
        | "longitude_degrees" | "gps_lon" | "gps_lng" | "gps_longitude" | "longitude_wgs84" => {
            (Lon(Unit::Same), 0)
        }
        "lone7" | "lnge7" | "lon_e7" | "lng_e7" | "longitudee7" | "longitude_e7" => {
            (Lon(Unit::E7), 0)
        }
        "x" => (Lon(Unit::Same), 1),
        "timestamp_ms" | "timestampms" | "time_ms" | "ts_ms" | "epoch_ms" | "unix_ms"
        | "time_long" | "datetime_ms" => (Time(TimeUnit::Millis), 0),
        "time" | "timestamp" | "ts" | "datetime" | "date_time" | "utc" | "time_utc"
        | "timestamp_utc" | "datetime_utc" | "date_time_utc" | "gps_time" | "epoch"
        | "unix_time" | "unixtime" | "timestamp_s" | "time_s" | "ts_s" | "tst" | "isotst" => {
            (Time(TimeUnit::Guess), 1)
        }
        "date" | "date_utc" => (Date, 0),
        "time_offset" => (Offset, 0),
        "accuracy"
        | "acc"
        | "accuracy_m"
        | "horizontal_accuracy"
        | "horizontal_accuracy_m"
        | "horizontalaccuracy"
        | "hacc"
        | "h_acc" => (Accuracy, 0),
        "speed" | "speed_mps" | "speed_m_s" | "speed_ms" | "velocity" | "velocity_mps"
        | "velocity_m_s" => (Speed(Unit::Same), 0),
        "speed_kmh" | "speed_kph" | "speed_km_h" | "velocity_kmh" | "velocity_kph"
        | "velocity_km_h" => (Speed(Unit::KmH), 1),
        // OwnTracks' name, and OwnTracks speeds are km/h (Recorder CSV exports).
        "vel" => (Speed(Unit::KmH), 2),
        "bearing" | "course" | "heading" | "bearing_deg" | "course_deg" | "heading_deg" | "cog"
        | "direction" => (Bearing, 0),
        "altitude" | "elevation" | "ele" | "alt" | "altitude_m" | "elevation_m" | "ele_m"
        | "alt_m" => (Altitude(Unit::Same), 0),
        "altitude_ft" | "elevation_ft" | "alt_ft" | "altitude_feet" => (Altitude(Unit::Feet), 1),
        "device" | "device_id" | "deviceid" | "device_name" | "tid" => (Device, 0),
        _ => return None,
    };
    Some(found)
}

/// Keeps the best-ranked column seen for one role.
#[derive(Clone, Copy)]
struct Slot<T> {
    best: Option<(usize, u8, T)>,
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Self { best: None }
    }
}

impl<T: Copy> Slot<T> {
    fn offer(&mut self, index: usize, rank: u8, extra: T) {
        if self.best.is_none_or(|(_, r, _)| rank < r) {
            self.best = Some((index, rank, extra));
        }
    }
    fn get(&self) -> Option<(usize, T)> {
        self.best.map(|(i, _, t)| (i, t))
    }
}

/// A time column and how to read it.
#[derive(Clone, Copy, Debug, PartialEq)]
struct TimeColumn {
    index: usize,
    unit: TimeUnit,
}

/// Where each quantity lives in a row, as read from the header.
#[derive(Debug)]
struct Columns {
    delimiter: u8,
    width: usize,
    lat: (usize, Unit),
    lon: (usize, Unit),
    /// Preferred time column; the fallback is read when its cell is empty or unreadable.
    time: Option<TimeColumn>,
    time_fallback: Option<TimeColumn>,
    /// A date column, prefixed to time cells that hold only a time of day.
    date: Option<usize>,
    offset: Option<usize>,
    accuracy: Option<usize>,
    speed: Option<(usize, Unit)>,
    bearing: Option<usize>,
    altitude: Option<(usize, Unit)>,
    device: Option<usize>,
}

/// What a row's time cells yielded.
enum RowTime {
    Ok(Timestamp, Option<i16>),
    Missing,
    Invalid,
}

impl Columns {
    /// Reads a header line, trying each delimiter and keeping the one that
    /// finds latitude and longitude in the most columns.
    fn from_header(line: &[u8]) -> Option<Self> {
        DELIMITERS
            .iter()
            .filter(|&&d| line.contains(&d))
            .filter_map(|&d| Self::with_delimiter(line, d))
            .fold(None, |best: Option<Self>, c| match best {
                Some(b) if b.width >= c.width => Some(b),
                _ => Some(c),
            })
    }

    fn with_delimiter(line: &[u8], delimiter: u8) -> Option<Self> {
        let mut splitter = Splitter::new(delimiter);
        let fields = splitter.split(line);
        let (mut lat, mut lon) = (Slot::default(), Slot::default());
        let (mut time_ms, mut time_text, mut date, mut offset) = (
            Slot::default(),
            Slot::default(),
            Slot::default(),
            Slot::default(),
        );
        let (mut accuracy, mut speed, mut bearing, mut altitude, mut device) = (
            Slot::default(),
            Slot::default(),
            Slot::default(),
            Slot::default(),
            Slot::default(),
        );
        for index in 0..fields.len() {
            let Some((found, rank)) = role(&canonical(fields.get(index))) else {
                continue;
            };
            match found {
                Role::Lat(unit) => lat.offer(index, rank, unit),
                Role::Lon(unit) => lon.offer(index, rank, unit),
                Role::Time(TimeUnit::Millis) => time_ms.offer(index, rank, TimeUnit::Millis),
                Role::Time(TimeUnit::Guess) => time_text.offer(index, rank, TimeUnit::Guess),
                Role::Date => date.offer(index, rank, ()),
                Role::Offset => offset.offer(index, rank, ()),
                Role::Accuracy => accuracy.offer(index, rank, ()),
                Role::Speed(unit) => speed.offer(index, rank, unit),
                Role::Bearing => bearing.offer(index, rank, ()),
                Role::Altitude(unit) => altitude.offer(index, rank, unit),
                Role::Device => device.offer(index, rank, ()),
            }
        }
        let column =
            |slot: &Slot<TimeUnit>| slot.get().map(|(index, unit)| TimeColumn { index, unit });
        let (time_ms, time_text) = (column(&time_ms), column(&time_text));
        let mut date = date.get().map(|(i, ())| i);
        let (time, time_fallback) = match (time_ms, time_text) {
            (Some(ms), text) => (Some(ms), text),
            (None, Some(text)) => (Some(text), None),
            // A lone date column may hold whole date-times.
            (None, None) => (
                date.take().map(|index| TimeColumn {
                    index,
                    unit: TimeUnit::Guess,
                }),
                None,
            ),
        };
        let index = |slot: Slot<()>| slot.get().map(|(i, ())| i);
        Some(Self {
            delimiter,
            width: fields.len(),
            lat: lat.get()?,
            lon: lon.get()?,
            time,
            time_fallback,
            date,
            offset: index(offset),
            accuracy: index(accuracy),
            speed: speed.get(),
            bearing: index(bearing),
            altitude: altitude.get(),
            device: index(device),
        })
    }

    /// A comma inside a cell is a decimal separator unless it is the delimiter.
    fn decimal_comma(&self) -> bool {
        self.delimiter != b','
    }

    fn row(&self, fields: &Fields<'_>, emit: &mut Emitter<'_>) -> Result<(), IngestError> {
        if fields.len() != self.width {
            return Ok(emit.reject(RejectReason::InvalidValue)?);
        }
        let (time, offset) = match self.time(fields) {
            RowTime::Ok(time, offset) => (time, offset),
            RowTime::Missing => return Ok(emit.reject(RejectReason::MissingTime)?),
            RowTime::Invalid => return Ok(emit.reject(RejectReason::InvalidValue)?),
        };
        let comma = self.decimal_comma();
        let (lat, lon) = match (
            number(fields.get(self.lat.0), comma),
            number(fields.get(self.lon.0), comma),
        ) {
            (Cell::Num(lat), Cell::Num(lon)) => (self.lat.1.apply(lat), self.lon.1.apply(lon)),
            (Cell::Invalid, _) | (_, Cell::Invalid) => {
                return Ok(emit.reject(RejectReason::InvalidValue)?);
            }
            _ => return Ok(emit.reject(RejectReason::MissingPosition)?),
        };
        let device = match self.device {
            None => "",
            Some(i) => match std::str::from_utf8(fields.get(i).trim_ascii()) {
                Ok(name) => name,
                Err(_) => return Ok(emit.reject(RejectReason::InvalidValue)?),
            },
        };
        let cell = |i: usize| number(fields.get(i), comma);
        let fix = Fix {
            time,
            lat,
            lon,
            accuracy_m: self.accuracy.and_then(|i| optional(cell(i), true, |v| v)),
            speed_mps: self
                .speed
                .and_then(|(i, unit)| optional(cell(i), true, |v| unit.apply(v))),
            bearing_deg: self.bearing.and_then(|i| optional(cell(i), true, |v| v)),
            altitude_m: self
                .altitude
                .and_then(|(i, unit)| optional(cell(i), false, |v| unit.apply(v))),
            utc_offset_min: offset.filter(|&o| o != 0),
        };
        Ok(emit.fix(device, fix)?)
    }

    /// The row's instant: from the preferred time column, else the fallback;
    /// the offset from `time_offset` when present, else from the time text.
    fn time(&self, fields: &Fields<'_>) -> RowTime {
        let mut outcome = RowTime::Missing;
        for column in [self.time, self.time_fallback].into_iter().flatten() {
            match self.read_time(column, fields) {
                RowTime::Ok(time, offset) => {
                    let written = self
                        .offset
                        .and_then(|i| std::str::from_utf8(fields.get(i)).ok())
                        .and_then(parse_time_text)
                        .and_then(|(_, o)| o);
                    return RowTime::Ok(time, written.or(offset));
                }
                RowTime::Invalid => outcome = RowTime::Invalid,
                RowTime::Missing => {}
            }
        }
        outcome
    }

    fn read_time(&self, column: TimeColumn, fields: &Fields<'_>) -> RowTime {
        let cell = fields.get(column.index).trim_ascii();
        if cell.is_empty() {
            return RowTime::Missing;
        }
        let comma = self.decimal_comma();
        if column.unit == TimeUnit::Millis
            && let Cell::Num(ms) = number(cell, comma)
        {
            return if ms.is_finite() && ms.abs() < 1e15 {
                RowTime::Ok(Timestamp(ms.round() as i64), None)
            } else {
                RowTime::Invalid
            };
        }
        if let Some(date) = self.date
            && is_time_of_day(cell)
        {
            return date_time(fields.get(date), cell)
                .map_or(RowTime::Invalid, |(t, o)| RowTime::Ok(t, o));
        }
        let parsed = std::str::from_utf8(cell)
            .ok()
            .and_then(parse_time_text)
            .or_else(|| match number(cell, comma) {
                Cell::Num(v) if comma => epoch_guess(v).map(|t| (t, None)),
                _ => None,
            });
        parsed.map_or(RowTime::Invalid, |(t, o)| RowTime::Ok(t, o))
    }
}

/// `08:15:30`, `8:15`: a clock time without a date.
fn is_time_of_day(cell: &[u8]) -> bool {
    cell.len() >= 4 && (cell[1] == b':' || cell[2] == b':')
}

/// Splits lines into fields, reusing its buffers from line to line.
struct Splitter {
    delimiter: u8,
    bounds: Vec<(usize, usize)>,
    /// Unquoted copy of a line that had quotes; unused for plain lines.
    unquoted: Vec<u8>,
}

/// The fields of one line.
struct Fields<'a> {
    data: &'a [u8],
    bounds: &'a [(usize, usize)],
}

impl Fields<'_> {
    fn len(&self) -> usize {
        self.bounds.len()
    }

    /// The raw bytes of field `index` (empty when there is no such field).
    fn get(&self, index: usize) -> &[u8] {
        self.bounds
            .get(index)
            .and_then(|&(start, end)| self.data.get(start..end))
            .unwrap_or_default()
    }
}

impl Splitter {
    fn new(delimiter: u8) -> Self {
        Self {
            delimiter,
            bounds: Vec::with_capacity(32),
            unquoted: Vec::new(),
        }
    }

    /// Splits `line`. Plain lines are indexed in place; a line with a quote
    /// is copied once with its quoting removed.
    fn split<'a>(&'a mut self, line: &'a [u8]) -> Fields<'a> {
        self.bounds.clear();
        let mut start = 0;
        for (pos, &b) in line.iter().enumerate() {
            if b == self.delimiter {
                self.bounds.push((start, pos));
                start = pos + 1;
            } else if b == b'"' {
                self.split_quoted(line);
                return Fields {
                    data: &self.unquoted,
                    bounds: &self.bounds,
                };
            }
        }
        self.bounds.push((start, line.len()));
        Fields {
            data: line,
            bounds: &self.bounds,
        }
    }

    /// RFC 4180 quoting within one line: a field whose first non-blank byte
    /// is `"` runs to the next lone `"`, with `""` standing for `"`. Anything
    /// after the closing quote is kept; an unclosed quote runs to the end.
    fn split_quoted(&mut self, line: &[u8]) {
        self.bounds.clear();
        self.unquoted.clear();
        let out = &mut self.unquoted;
        let mut i = 0;
        loop {
            let start = out.len();
            let mut j = i;
            while line.get(j) == Some(&b' ') {
                j += 1;
            }
            if line.get(j) == Some(&b'"') {
                i = j + 1;
                while let Some(&b) = line.get(i) {
                    i += 1;
                    if b != b'"' {
                        out.push(b);
                    } else if line.get(i) == Some(&b'"') {
                        out.push(b'"');
                        i += 1;
                    } else {
                        break;
                    }
                }
            }
            while let Some(&b) = line.get(i) {
                if b == self.delimiter {
                    break;
                }
                out.push(b);
                i += 1;
            }
            self.bounds.push((start, out.len()));
            if i >= line.len() {
                break;
            }
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Collected, collect_bytes};
    use sillage_model::{SourceFormat, ValidationRules};
    use std::collections::BTreeMap;
    use std::io::Read;

    fn parse_ok(text: &str) -> Collected {
        let (format, collected) = collect_bytes(text.as_bytes());
        assert_eq!(format.unwrap(), SourceFormat::Csv);
        collected
    }

    fn rejected(pairs: &[(RejectReason, u64)]) -> BTreeMap<RejectReason, u64> {
        pairs.iter().copied().collect()
    }

    fn gunzip(path: &str) -> Vec<u8> {
        let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let mut bytes = Vec::new();
        flate2::read::GzDecoder::new(file)
            .read_to_end(&mut bytes)
            .unwrap();
        bytes
    }

    #[test]
    fn header_recognition() {
        for header in [
            "time,lat,lon,elevation",
            "ts,lat,lon,accuracy_m,speed_mps,bearing_deg,altitude_m",
            "TrackID,Latitude,Longitude,Time",
            "\"Latitude\";\"Longitude\";\"Date\";\"Time\"",
            "timestamp_ms\tlatitudeE7\tlongitudeE7",
            "x|y",
            "Date Time | GPS Latitude | GPS Longitude | Speed (km/h)",
        ] {
            assert!(looks_like_header(header), "{header}");
        }
        for line in [
            "time,lat",
            "foo,bar,baz",
            "46.1591,-1.1520",
            "",
            "lat lon",
            "latitude",
        ] {
            assert!(!looks_like_header(line), "{line}");
        }
        let c = Columns::from_header(b"Date Time | GPS Latitude | GPS Longitude | Speed (km/h)")
            .unwrap();
        assert_eq!((c.delimiter, c.width, c.lat.0, c.lon.0), (b'|', 4, 1, 2));
        assert_eq!(c.speed, Some((3, Unit::KmH)));
        let c = Columns::from_header(b"y,x,lat,lon,timestamp_ms,time,date").unwrap();
        assert_eq!((c.lat.0, c.lon.0), (2, 3));
        assert_eq!(
            c.time,
            Some(TimeColumn {
                index: 4,
                unit: TimeUnit::Millis
            })
        );
        assert_eq!(
            c.time_fallback,
            Some(TimeColumn {
                index: 5,
                unit: TimeUnit::Guess
            })
        );
        assert_eq!(c.date, Some(6));
        let c = Columns::from_header(b"isotst,vel,tid,lon,lat").unwrap();
        assert_eq!(
            c.time,
            Some(TimeColumn {
                index: 0,
                unit: TimeUnit::Guess
            })
        );
        assert_eq!(
            (c.speed, c.device, c.lat.0, c.lon.0),
            (Some((1, Unit::KmH)), Some(2), 4, 3)
        );
    }

    #[test]
    fn gpslogger_csv() {
        let csv = "time,lat,lon,elevation,accuracy,bearing,speed,satellites,provider,hdop,vdop,pdop,geoidheight,\
ageofdgpsdata,dgpsid,activity,battery,annotation,timestamp_ms,time_offset,distance,starttimestamp_ms,profile_name,\
battery_charging
2024-03-01T08:15:30.250Z,46.1591,-1.152,5.0,8.0,98.5,4.2,9,gps,0.9,1.1,1.4,49.0,,,,94,,1709280930250,\
2024-03-01T09:15:30.250+01:00,0,1709280900000,Default,false
2024-03-01T08:15:35.000Z,46.15935,-1.15155,5.5,,101.0,4.4,9,gps,0.9,1.1,1.4,49.0,,,,94,\"quay, north\",1709280935000,\
2024-03-01T09:15:35.000+01:00,21,1709280900000,Default,false
2024-03-01T08:15:40.125Z,46.1596,-1.1511,6.0,12.0,,0.0,8,gps,1.2,1.5,1.9,49.0,,,,93,,1709280940125,\
2024-03-01T09:15:40.125+01:00,43,1709280900000,Default,false
";
        let c = parse_ok(csv);
        assert!(c.rejected.is_empty(), "{:?}", c.rejected);
        let fixes = c.fix_list();
        assert_eq!(fixes.len(), 3);
        assert!(c.fixes.iter().all(|(device, _)| device.is_empty()));
        assert_eq!(
            fixes[0],
            Fix {
                time: Timestamp(1_709_280_930_250),
                lat: 46.1591,
                lon: -1.152,
                accuracy_m: Some(8.0),
                speed_mps: Some(4.2),
                bearing_deg: Some(98.5),
                altitude_m: Some(5.0),
                utc_offset_min: Some(60),
            }
        );
        assert_eq!(fixes[1].time, Timestamp(1_709_280_935_000));
        assert_eq!((fixes[1].lat, fixes[1].lon), (46.15935, -1.15155));
        assert_eq!(fixes[1].accuracy_m, None);
        assert_eq!(fixes[1].altitude_m, Some(5.5));
        assert_eq!(fixes[2].time, Timestamp(1_709_280_940_125));
        assert_eq!(
            (fixes[2].bearing_deg, fixes[2].speed_mps),
            (None, Some(0.0))
        );
    }

    #[test]
    fn semicolons_with_decimal_commas() {
        let csv = "Time;Latitude;Longitude;Elevation;Accuracy;Speed\r\n\
2024-03-01T08:15:30Z;46,1591;-1,152;5,5;12;1,5\r\n\
\r\n\
1709280935,5;46,16;-1,1515;;;\r\n";
        let c = parse_ok(csv);
        assert!(c.rejected.is_empty(), "{:?}", c.rejected);
        let fixes = c.fix_list();
        assert_eq!(fixes.len(), 2);
        assert_eq!(fixes[0].time, Timestamp(1_709_280_930_000));
        assert_eq!((fixes[0].lat, fixes[0].lon), (46.1591, -1.152));
        assert_eq!(
            (fixes[0].altitude_m, fixes[0].accuracy_m, fixes[0].speed_mps),
            (Some(5.5), Some(12.0), Some(1.5))
        );
        assert_eq!(fixes[0].utc_offset_min, None);
        assert_eq!(fixes[1].time, Timestamp(1_709_280_935_500));
        assert_eq!((fixes[1].lat, fixes[1].lon), (46.16, -1.1515));
        assert_eq!(
            (fixes[1].altitude_m, fixes[1].accuracy_m, fixes[1].speed_mps),
            (None, None, None)
        );
    }

    #[test]
    fn tsv_with_e7_millis_and_devices() {
        let tsv = "timestamp_ms\tlatitudeE7\tlongitudeE7\taccuracy\tspeed_kmh\theading\tdevice_id\n\
1709280930250\t461591000\t-11520000\t10\t18\t-1\tphone-a\n\
1709280931250\t461592000\t-11521000\t\t\t270\ttablet\n";
        let c = parse_ok(tsv);
        assert!(c.rejected.is_empty(), "{:?}", c.rejected);
        assert_eq!(c.fixes.len(), 2);
        let (device, fix) = &c.fixes[0];
        assert_eq!(device, "phone-a");
        assert_eq!(fix.time, Timestamp(1_709_280_930_250));
        assert_eq!((fix.lat, fix.lon), (46.1591, -1.152));
        assert_eq!(
            (fix.accuracy_m, fix.speed_mps, fix.bearing_deg),
            (Some(10.0), Some(5.0), None)
        );
        let (device, fix) = &c.fixes[1];
        assert_eq!(device, "tablet");
        assert_eq!((fix.lat, fix.lon), (46.1592, -1.1521));
        assert_eq!(
            (fix.accuracy_m, fix.speed_mps, fix.bearing_deg),
            (None, None, Some(270.0))
        );
    }

    #[test]
    fn separate_date_and_time_columns() {
        let csv = "date,time,lat,lon,alt_ft\n\
2024-03-01,08:15:30,46.1591,-1.152,100\n\
2024/03/01,08:15:31.5,46.1592,-1.1521,\n\
2024-03-01,2024-03-01T08:15:32Z,46.1593,-1.1522,\n\
2024-02-30,08:15:33,46.1594,-1.1523,\n";
        let c = parse_ok(csv);
        let times: Vec<i64> = c.fix_list().iter().map(|f| f.time.0).collect();
        assert_eq!(
            times,
            [1_709_280_930_000, 1_709_280_931_500, 1_709_280_932_000]
        );
        assert_eq!(c.fixes[0].1.altitude_m, Some(30.48));
        assert_eq!(c.rejected, rejected(&[(RejectReason::InvalidValue, 1)]));
    }

    #[test]
    fn bad_rows_are_counted_not_fatal() {
        let csv: &[u8] = b"time,lat,lon,accuracy,device\n\
2024-03-01T08:15:30Z,46.1591,-1.152,5,a\n\
2024-03-01T08:15:31Z,abc,-1.152,5,a\n\
soon,46.1591,-1.152,5,a\n\
,46.1591,-1.152,5,a\n\
2024-03-01T08:15:34Z,,-1.152,5,a\n\
2024-03-01T08:15:35Z,46.1591,-1.152\n\
2024-03-01T08:15:36Z,46.1591,-1.152,5,a,extra\n\
\n\
,,,,\n\
   \n\
2024-03-01T08:15:37Z,0,0,5,a\n\
2024-03-01T08:15:38Z,46.1591,-1.152,not-a-number,a\n\
2024-03-01T08:15:39Z,46.1591,-1.152,5,\xff\xfe\n\
2024-03-01T08:15:40Z,46.1591,-1.152,50000,a\n\
2024-03-01T08:15:41Z,\"46.1599\",-1.152,5,\"b \"\"quoted\"\"\"\n";
        let (format, c) = collect_bytes(csv);
        assert_eq!(format.unwrap(), SourceFormat::Csv);
        assert_eq!(c.fixes.len(), 3);
        assert_eq!(c.fixes[1].1.accuracy_m, None);
        assert_eq!(c.fixes[2].0, "b \"quoted\"");
        assert_eq!(c.fixes[2].1.lat, 46.1599);
        assert_eq!(
            c.rejected,
            rejected(&[
                (RejectReason::InvalidValue, 5),
                (RejectReason::MissingTime, 1),
                (RejectReason::MissingPosition, 1),
                (RejectReason::NullIsland, 1),
                (RejectReason::AccuracyTooLarge, 1),
            ])
        );
    }

    #[test]
    fn header_problems_name_the_line() {
        let mut collected = Collected::default();
        let rules = ValidationRules {
            max_accuracy_m: 10_000.0,
            latest: Timestamp(4_102_444_800_000),
        };
        let mut emit = Emitter::new(&mut collected, rules);
        let err = parse(&b"\n\nfoo,bar\n1,2\n"[..], &mut emit).unwrap_err();
        assert!(
            matches!(
                err,
                IngestError::Syntax {
                    location: Location::Line(3),
                    ..
                }
            ),
            "{err}"
        );
        let err = parse(&b""[..], &mut emit).unwrap_err();
        assert!(
            matches!(
                err,
                IngestError::Syntax {
                    location: Location::Line(1),
                    ..
                }
            ),
            "{err}"
        );
        assert!(parse(&b"\xEF\xBB\xBFlat,lon,time\n"[..], &mut emit).is_ok());
    }

    #[test]
    fn mobilitynet_ios_fixes() {
        let bytes = gunzip(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/mobilitynet/fixes/ucb-sdb-ios-3.csv.gz"
        ));
        let (format, c) = collect_bytes(&bytes);
        assert_eq!(format.unwrap(), SourceFormat::Csv);
        // All 28 064 rows parse; 246 cell-tower fixes claim a 15 km radius,
        // beyond the 10 km the validation rules accept.
        assert_eq!(
            c.rejected,
            rejected(&[(RejectReason::AccuracyTooLarge, 246)])
        );
        assert_eq!(c.fixes.len(), 28_064 - 246);
        assert_eq!(
            c.fixes[0].1,
            Fix {
                time: Timestamp(1_563_821_693_673),
                lat: 37.3922104,
                lon: -122.0825816,
                accuracy_m: Some(65.0),
                speed_mps: None,
                bearing_deg: None,
                altitude_m: Some(35.1),
                utc_offset_min: None,
            }
        );
        assert!(c.fix_list().windows(2).all(|w| w[0].time < w[1].time));
    }

    #[test]
    fn berlin_traces_have_no_times() {
        let bytes = gunzip(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/data/traces/berlin_gps_traces.csv.gz"
        ));
        let (format, c) = collect_bytes(&bytes);
        assert_eq!(format.unwrap(), SourceFormat::Csv);
        assert!(c.fixes.is_empty());
        assert_eq!(c.rejected, rejected(&[(RejectReason::MissingTime, 75_000)]));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400),
                        header in "[a-z_;,|\t\"]{0,40}") {
            let mut input = format!("lat;lon,time\t{header}\n").into_bytes();
            input.extend_from_slice(&body);
            let _ = collect_bytes(&input);
            let text = String::from_utf8_lossy(&body);
            let _ = looks_like_header(&text);
        }
    }
}
