//! A fix is one measured position of one device at one instant.

use crate::Timestamp;
use serde::{Deserialize, Serialize};

/// One position measurement, normalised to WGS84 degrees, metres, m/s and UTC.
///
/// Optional fields are `None` when the source did not measure them; sources
/// that encode "unknown" as `-1` (Overland, iOS) are mapped to `None` by the
/// parsers, never stored as a value.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fix {
    /// When the position was measured (UTC).
    pub time: Timestamp,
    /// Latitude in WGS84 degrees.
    pub lat: f64,
    /// Longitude in WGS84 degrees.
    pub lon: f64,
    /// Horizontal accuracy radius in metres.
    pub accuracy_m: Option<f32>,
    /// Ground speed in metres per second.
    pub speed_mps: Option<f32>,
    /// Course over ground in degrees clockwise from north.
    pub bearing_deg: Option<f32>,
    /// Altitude in metres.
    pub altitude_m: Option<f32>,
    /// The source's UTC offset at that instant, in minutes, when it gave one.
    pub utc_offset_min: Option<i16>,
}

impl Fix {
    /// A fix with only time and position known.
    pub fn new(time: Timestamp, lat: f64, lon: f64) -> Self {
        Self {
            time,
            lat,
            lon,
            accuracy_m: None,
            speed_mps: None,
            bearing_deg: None,
            altitude_m: None,
            utc_offset_min: None,
        }
    }
}

named_enum! {
    /// Why a record was not stored. Each rejected record is counted under one reason.
    RejectReason {
        /// Latitude outside [-90, 90] or longitude outside [-180, 180].
        CoordinatesOutOfRange => "coordinates_out_of_range",
        /// Exactly (0, 0): a classic placeholder for "no fix".
        NullIsland => "null_island",
        /// A coordinate or time was NaN or infinite.
        NotANumber => "not_a_number",
        /// Time before 1990-01-01 (before consumer GPS; a broken clock).
        TimeBefore1990 => "time_before_1990",
        /// Time more than a day ahead of the import.
        TimeInFuture => "time_in_future",
        /// Accuracy radius above the configured maximum.
        AccuracyTooLarge => "accuracy_too_large",
        /// The record has a position but no usable time.
        MissingTime => "missing_time",
        /// The record has a time but no usable position.
        MissingPosition => "missing_position",
        /// A field held a value of the wrong kind (e.g. text where a number was expected).
        InvalidValue => "invalid_value",
    }
}

/// The plausibility rules every fix passes before it is stored.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ValidationRules {
    /// Fixes whose accuracy radius exceeds this many metres are rejected.
    pub max_accuracy_m: f32,
    /// Fixes later than this instant are rejected (normally the import time plus a day).
    pub latest: Timestamp,
}

/// 1990-01-01T00:00:00Z.
const EARLIEST: Timestamp = Timestamp(631_152_000_000);

/// The outcome of checking one fix.
pub type FixCheck = Result<Fix, RejectReason>;

impl ValidationRules {
    /// Default rules for an import happening now: accuracy up to 10 km (cell
    /// towers can be several km; anything worse carries no information), and
    /// at most one day into the future (clock skew).
    pub fn for_import_now() -> Self {
        Self {
            max_accuracy_m: 10_000.0,
            latest: Timestamp(Timestamp::now().0 + 86_400_000),
        }
    }

    /// Checks a fix; returns it unchanged when plausible.
    pub fn check(&self, fix: Fix) -> FixCheck {
        if !fix.lat.is_finite() || !fix.lon.is_finite() {
            return Err(RejectReason::NotANumber);
        }
        if !(-90.0..=90.0).contains(&fix.lat) || !(-180.0..=180.0).contains(&fix.lon) {
            return Err(RejectReason::CoordinatesOutOfRange);
        }
        if fix.lat == 0.0 && fix.lon == 0.0 {
            return Err(RejectReason::NullIsland);
        }
        if fix.time < EARLIEST {
            return Err(RejectReason::TimeBefore1990);
        }
        if fix.time > self.latest {
            return Err(RejectReason::TimeInFuture);
        }
        match fix.accuracy_m {
            Some(acc) if acc.is_nan() => Err(RejectReason::NotANumber),
            Some(acc) if acc > self.max_accuracy_m => Err(RejectReason::AccuracyTooLarge),
            _ => Ok(fix),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> ValidationRules {
        ValidationRules {
            max_accuracy_m: 500.0,
            latest: Timestamp(1_800_000_000_000),
        }
    }

    fn fix(lat: f64, lon: f64) -> Fix {
        Fix::new(Timestamp(1_700_000_000_000), lat, lon)
    }

    #[test]
    fn each_rule_has_its_reason() {
        let r = rules();
        assert_eq!(r.check(fix(46.16, -1.15)).map(|f| f.lat), Ok(46.16));
        assert_eq!(r.check(fix(f64::NAN, 1.0)), Err(RejectReason::NotANumber));
        assert_eq!(
            r.check(fix(91.0, 1.0)),
            Err(RejectReason::CoordinatesOutOfRange)
        );
        assert_eq!(
            r.check(fix(1.0, -180.5)),
            Err(RejectReason::CoordinatesOutOfRange)
        );
        assert_eq!(r.check(fix(0.0, 0.0)), Err(RejectReason::NullIsland));
        let mut old = fix(1.0, 1.0);
        old.time = Timestamp(631_151_999_999);
        assert_eq!(r.check(old), Err(RejectReason::TimeBefore1990));
        let mut future = fix(1.0, 1.0);
        future.time = Timestamp(1_800_000_000_001);
        assert_eq!(r.check(future), Err(RejectReason::TimeInFuture));
        let mut vague = fix(1.0, 1.0);
        vague.accuracy_m = Some(501.0);
        assert_eq!(r.check(vague), Err(RejectReason::AccuracyTooLarge));
    }

    #[test]
    fn reason_names_round_trip() {
        for &reason in RejectReason::ALL {
            assert_eq!(RejectReason::from_name(reason.as_str()), Some(reason));
            let json = serde_json::to_string(&reason).unwrap();
            assert_eq!(json, format!("\"{}\"", reason.as_str()));
        }
    }
}
