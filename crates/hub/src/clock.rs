//! Local time of the territory (metropolitan France) for days and clocks
//! shown to citizens; everything stored stays in UTC.
//!
//! The rule is the EU's since 1996: summer time (UTC+2) from the last Sunday
//! of March at 01:00 UTC to the last Sunday of October at 01:00 UTC, UTC+1
//! otherwise.

use sillage_model::Timestamp;
use sillage_model::{civil_from_days, days_from_civil, paris_offset_min};

const DAY_MS: i64 = 86_400_000;

/// Offset from UTC, in minutes, of French civil time at `t`.
pub fn offset_min(t: Timestamp) -> i16 {
    paris_offset_min(t)
}

/// The local calendar date of `t`, `YYYY-MM-DD`.
pub fn local_date(t: Timestamp) -> String {
    t.local_date(offset_min(t))
}

/// The local clock time of `t`, `HH:MM`.
pub fn local_clock(t: Timestamp) -> String {
    let local = t.0 + i64::from(offset_min(t)) * 60_000;
    let minutes = local.rem_euclid(DAY_MS) / 60_000;
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// The instants `[start, end)` of a local calendar day.
pub fn local_day_bounds(year: i64, month: u32, day: u32) -> (Timestamp, Timestamp) {
    let midnight_utc = days_from_civil(year, month, day) * DAY_MS;
    let start = midnight_utc - i64::from(offset_min(Timestamp(midnight_utc))) * 60_000;
    let next = midnight_utc + DAY_MS;
    let end = next - i64::from(offset_min(Timestamp(next))) * 60_000;
    (Timestamp(start), Timestamp(end))
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Option<(i64, u32, u32)> {
    let mut parts = text.splitn(3, '-');
    let year = parts.next()?.parse().ok()?;
    let month = parts
        .next()?
        .parse()
        .ok()
        .filter(|m| (1..=12).contains(m))?;
    let day = parts
        .next()?
        .parse()
        .ok()
        .filter(|d| (1..=31).contains(d))?;
    // 2026-02-30 would silently become 2026-03-02: refuse it instead.
    (text.len() == 10 && civil_from_days(days_from_civil(year, month, day)) == (year, month, day))
        .then_some((year, month, day))
}

/// The date `days` days after `(year, month, day)`, as `YYYY-MM-DD`.
pub fn shift_date((year, month, day): (i64, u32, u32), days: i64) -> String {
    let (y, m, d) = civil_from_days(days_from_civil(year, month, day) + days);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse_iso8601(text).unwrap().0
    }

    #[test]
    fn summer_time_switches_on_the_last_sundays_of_march_and_october() {
        // 2026: 29 March and 25 October.
        assert_eq!(offset_min(at("2026-03-29T00:59:59Z")), 60);
        assert_eq!(offset_min(at("2026-03-29T01:00:00Z")), 120);
        assert_eq!(offset_min(at("2026-10-25T00:59:59Z")), 120);
        assert_eq!(offset_min(at("2026-10-25T01:00:00Z")), 60);
        assert_eq!(offset_min(at("2024-07-14T12:00:00Z")), 120);
        assert_eq!(offset_min(at("2024-12-25T12:00:00Z")), 60);
    }

    #[test]
    fn days_and_clocks_are_local() {
        assert_eq!(local_date(at("2026-07-01T22:30:00Z")), "2026-07-02");
        assert_eq!(local_clock(at("2026-07-01T22:30:00Z")), "00:30");
        let (start, end) = local_day_bounds(2026, 3, 29);
        assert_eq!(start, at("2026-03-28T23:00:00Z"));
        assert_eq!(end, at("2026-03-29T22:00:00Z"), "a 23-hour day");
        assert_eq!(parse_date("2026-02-30"), None);
        assert_eq!(parse_date("2026-02-28"), Some((2026, 2, 28)));
        assert_eq!(shift_date((2026, 2, 28), 1), "2026-03-01");
    }
}
