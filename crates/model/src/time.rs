//! UTC instants as 64-bit epoch milliseconds.
//!
//! Everything in Sillage is stored in UTC; a source's UTC offset, when it gives
//! one, travels next to the instant (see [`crate::Fix::utc_offset_min`]) so that
//! local days can be computed later without guessing time zones.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A UTC instant in milliseconds since the Unix epoch.
///
/// 64 bits on purpose: 32-bit second counters overflow in 2038 and were a
/// source of real bugs in other self-hosted trackers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

/// Why a textual timestamp could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid timestamp {text:?}: expected {expected}")]
pub struct TimestampError {
    /// The offending text, truncated to a readable length.
    pub text: String,
    /// What the parser expected to find.
    pub expected: &'static str,
}

impl TimestampError {
    fn new(text: &str, expected: &'static str) -> Self {
        let text: String = text.chars().take(64).collect();
        Self { text, expected }
    }
}

const MS_PER_DAY: i64 = 86_400_000;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub const fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = month as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a day number since 1970-01-01.
pub const fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + if month <= 2 { 1 } else { 0 };
    (year, month, day)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

/// A tiny cursor over ASCII digits, so the parser below reads like the grammar.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn digits(&mut self, count: usize) -> Option<u32> {
        let end = self.pos.checked_add(count)?;
        let slice = self.bytes.get(self.pos..end)?;
        let mut value = 0u32;
        for &b in slice {
            if !b.is_ascii_digit() {
                return None;
            }
            value = value * 10 + u32::from(b - b'0');
        }
        self.pos = end;
        Some(value)
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn eat(&mut self, expected: &[u8]) -> bool {
        match self.peek() {
            Some(b) if expected.contains(&b) => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }
}

impl Timestamp {
    /// Builds a timestamp from a civil UTC date and time.
    pub fn from_civil(
        year: i64,
        month: u32,
        day: u32,
        hour: u32,
        minute: u32,
        second: u32,
        millis: u32,
    ) -> Option<Self> {
        if !(1..=12).contains(&month)
            || day == 0
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 60
            || millis > 999
        {
            return None;
        }
        let days = days_from_civil(year, month, day);
        let ms = days * MS_PER_DAY
            + i64::from(hour) * 3_600_000
            + i64::from(minute) * 60_000
            + i64::from(second) * 1000
            + i64::from(millis);
        Some(Self(ms))
    }

    /// Seconds since the epoch, as many sources (OwnTracks, GPSLogger) send them.
    pub fn from_epoch_seconds_f64(seconds: f64) -> Option<Self> {
        let ms = (seconds * 1000.0).round();
        ms.is_finite()
            .then_some(ms)
            .filter(|ms| ms.abs() < 1e15)
            .map(|ms| Self(ms as i64))
    }

    /// Parses ISO-8601 / RFC 3339 date-times as found in location exports.
    ///
    /// Accepts `T` or a space between date and time, any number of fraction
    /// digits (truncated to milliseconds), and `Z`, `±HH:MM`, `±HHMM` or `±HH`
    /// offsets; a missing offset means UTC (GPX and CSV producers often omit
    /// it while writing UTC). Returns the instant and the offset in minutes
    /// when one was written.
    pub fn parse_iso8601(text: &str) -> Result<(Self, Option<i16>), TimestampError> {
        const EXPECTED: &str = "an ISO-8601 date-time such as 2024-03-01T08:15:30Z";
        let fail = || TimestampError::new(text, EXPECTED);
        let mut c = Cursor {
            bytes: text.trim().as_bytes(),
            pos: 0,
        };
        let year = c.digits(4).ok_or_else(fail)?;
        let sep_date = c.eat(b"-");
        let month = c.digits(2).ok_or_else(fail)?;
        if sep_date && !c.eat(b"-") {
            return Err(fail());
        }
        let day = c.digits(2).ok_or_else(fail)?;
        let (mut hour, mut minute, mut second, mut millis) = (0, 0, 0, 0);
        if c.eat(b"Tt ") {
            hour = c.digits(2).ok_or_else(fail)?;
            let sep_time = c.eat(b":");
            minute = c.digits(2).ok_or_else(fail)?;
            if c.peek()
                .is_some_and(|b| b == b':' || (!sep_time && b.is_ascii_digit()))
            {
                c.eat(b":");
                second = c.digits(2).ok_or_else(fail)?;
            }
            if c.eat(b".,") {
                let mut scale = 100;
                let start = c.pos;
                while let Some(b) = c.peek().filter(u8::is_ascii_digit) {
                    millis += u32::from(b - b'0') * scale;
                    scale /= 10;
                    c.pos += 1;
                }
                if c.pos == start {
                    return Err(fail());
                }
            }
        }
        let offset_min: Option<i16> = match c.peek() {
            None => None,
            Some(b'Z' | b'z') => {
                c.pos += 1;
                Some(0)
            }
            Some(sign @ (b'+' | b'-')) => {
                c.pos += 1;
                let oh = c.digits(2).ok_or_else(fail)?;
                c.eat(b":");
                let om = if c.peek().is_some() {
                    c.digits(2).ok_or_else(fail)?
                } else {
                    0
                };
                if oh > 18 || om > 59 {
                    return Err(fail());
                }
                let total = (oh * 60 + om) as i16;
                Some(if sign == b'-' { -total } else { total })
            }
            Some(_) => return Err(fail()),
        };
        if c.pos != c.bytes.len() {
            return Err(fail());
        }
        let local = Self::from_civil(i64::from(year), month, day, hour, minute, second, millis)
            .ok_or_else(fail)?;
        let utc = Self(local.0 - i64::from(offset_min.unwrap_or(0)) * 60_000);
        Ok((utc, offset_min))
    }

    /// Formats as RFC 3339 UTC with milliseconds, e.g. `2024-03-01T08:15:30.250Z`.
    pub fn to_rfc3339(self) -> String {
        let days = self.0.div_euclid(MS_PER_DAY);
        let ms_of_day = self.0.rem_euclid(MS_PER_DAY);
        let (y, m, d) = civil_from_days(days);
        let (h, rem) = (ms_of_day / 3_600_000, ms_of_day % 3_600_000);
        let (mi, rem) = (rem / 60_000, rem % 60_000);
        let (s, ms) = (rem / 1000, rem % 1000);
        if ms == 0 {
            format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
        } else {
            format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z")
        }
    }

    /// The calendar date (`YYYY-MM-DD`) of this instant shifted by `offset_min`.
    pub fn local_date(self, offset_min: i16) -> String {
        let local = self.0 + i64::from(offset_min) * 60_000;
        let (y, m, d) = civil_from_days(local.div_euclid(MS_PER_DAY));
        format!("{y:04}-{m:02}-{d:02}")
    }

    /// Day number since the epoch of this instant shifted by `offset_min`.
    pub fn local_day_number(self, offset_min: i16) -> i64 {
        (self.0 + i64::from(offset_min) * 60_000).div_euclid(MS_PER_DAY)
    }

    /// The current wall-clock time.
    pub fn now() -> Self {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Self(since.as_millis() as i64)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

/// Day number (since 1970-01-01) of the last Sunday of `month` in `year`.
fn last_sunday(year: i64, month: u32) -> i64 {
    let (next_year, next_month) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    let last = days_from_civil(next_year, next_month, 1) - 1;
    // 1970-01-01 was a Thursday: day 0 has weekday 4 (Sunday = 0).
    let weekday = (last + 4).rem_euclid(7);
    last - weekday
}

/// Offset from UTC, in minutes, of French civil time (Europe/Paris) at `t`.
///
/// The rule is the EU's since 1996: summer time (UTC+2) from the last
/// Sunday of March at 01:00 UTC to the last Sunday of October at 01:00 UTC,
/// UTC+1 otherwise. The territory's own clock: days shown to citizens and
/// schedules of synthetic citizens follow it, while everything stored stays
/// in UTC.
pub fn paris_offset_min(t: Timestamp) -> i16 {
    const DAY_MS: i64 = 86_400_000;
    const HOUR_MS: i64 = 3_600_000;
    let (year, _, _) = civil_from_days(t.0.div_euclid(DAY_MS));
    let start = last_sunday(year, 3) * DAY_MS + HOUR_MS;
    let end = last_sunday(year, 10) * DAY_MS + HOUR_MS;
    if (start..end).contains(&t.0) { 120 } else { 60 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_iso_variants() {
        let cases = [
            ("2013-04-15T06:34:32.478Z", 1_366_007_672_478, Some(0)),
            ("2013-04-15T06:34:32Z", 1_366_007_672_000, Some(0)),
            ("2013-04-15 06:34:32", 1_366_007_672_000, None),
            (
                "2013-04-15T08:34:32.478+02:00",
                1_366_007_672_478,
                Some(120),
            ),
            (
                "2013-04-15T01:34:32.4789-0500",
                1_366_007_672_478,
                Some(-300),
            ),
            ("20130415T063432Z", 1_366_007_672_000, Some(0)),
            ("2016-03-05T19:24:29.949Z", 1_457_205_869_949, Some(0)),
            ("2024-02-29", 1_709_164_800_000, None),
        ];
        for (text, ms, offset) in cases {
            let (ts, off) = Timestamp::parse_iso8601(text).unwrap();
            assert_eq!(ts.0, ms, "{text}");
            assert_eq!(off, offset, "{text}");
        }
    }

    #[test]
    fn rejects_impossible_dates() {
        for text in [
            "2023-02-29T00:00:00Z",
            "2013-13-01T00:00:00Z",
            "2013-04-15T24:00:00Z",
            "yesterday",
            "2013-04-15T06:34:32Q",
            "",
        ] {
            assert!(Timestamp::parse_iso8601(text).is_err(), "{text}");
        }
    }

    #[test]
    fn formats_round_trip() {
        for ms in [0, 1_366_007_672_478, -86_400_001, 4_102_444_800_000] {
            let ts = Timestamp(ms);
            let (back, _) = Timestamp::parse_iso8601(&ts.to_rfc3339()).unwrap();
            assert_eq!(back, ts);
        }
    }

    #[test]
    fn local_date_uses_offset() {
        let ts = Timestamp::parse_iso8601("2024-03-01T23:30:00Z").unwrap().0;
        assert_eq!(ts.local_date(0), "2024-03-01");
        assert_eq!(ts.local_date(60), "2024-03-02");
    }

    proptest::proptest! {
        #[test]
        fn civil_round_trip(days in -1_000_000i64..1_000_000) {
            let (y, m, d) = civil_from_days(days);
            proptest::prop_assert_eq!(days_from_civil(y, m, d), days);
        }

        #[test]
        fn parser_never_panics(text in "\\PC{0,40}") {
            let _ = Timestamp::parse_iso8601(&text);
        }
    }
}
