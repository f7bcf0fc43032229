//! Field readers shared by all parsers: lenient numbers and timestamps in the
//! many encodings location exports use.

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use sillage_model::Timestamp;
use std::fmt;

/// A number that may be written as a JSON number or as a numeric string
/// (iOS Timeline writes `"probability":"0.95"`, Google `"timestampMs":"…"`).
///
/// A value that is neither is kept as [`Num::Invalid`] rather than failing
/// the whole file: the record is then rejected with `invalid_value`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Num {
    /// A finite or non-finite number.
    Value(f64),
    /// Present but unreadable.
    Invalid,
}

impl Num {
    /// Reads a number written as text (a query parameter, a JSON string).
    pub fn from_text(text: &str) -> Self {
        text.trim().parse().map_or(Self::Invalid, Self::Value)
    }

    /// The value, treating unreadable as absent.
    pub fn get(self) -> Option<f64> {
        match self {
            Self::Value(v) => Some(v),
            Self::Invalid => None,
        }
    }
}

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct NumVisitor;
        impl Visitor<'_> for NumVisitor {
            type Value = Num;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number or a numeric string")
            }
            fn visit_f64<E>(self, v: f64) -> Result<Num, E> {
                Ok(Num::Value(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Num, E> {
                Ok(Num::Value(v as f64))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Num, E> {
                Ok(Num::Value(v as f64))
            }
            fn visit_str<E>(self, v: &str) -> Result<Num, E> {
                Ok(Num::from_text(v))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Num, E> {
                Ok(Num::Invalid)
            }
            fn visit_unit<E>(self) -> Result<Num, E> {
                Ok(Num::Invalid)
            }
        }
        d.deserialize_any(NumVisitor)
    }
}

/// Reads an optional lenient number as `f32`, mapping the "invalid" sentinel
/// `-1` (Overland, iOS) and negative values to `None` when `non_negative`.
pub(crate) fn opt_f32(value: Option<Num>, non_negative: bool) -> Option<f32> {
    let v = value?.get()?;
    if !v.is_finite() || (non_negative && v < 0.0) {
        return None;
    }
    Some(v as f32)
}

/// A probability written either as a fraction (Timeline) or a percentage
/// (Records.json, Semantic History), as a fraction in `[0, 1]`.
pub(crate) fn probability(value: f64) -> f32 {
    let fraction = if value > 1.0 { value / 100.0 } else { value };
    fraction.clamp(0.0, 1.0) as f32
}

/// A timestamp written as a JSON string or number, decoded on the fly without
/// allocating (serde_json hands string visitors a borrowed scratch buffer).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Time {
    /// A readable instant, with the UTC offset when the text carried one.
    Ok(Timestamp, Option<i16>),
    /// Present but unreadable.
    Invalid,
}

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct TimeVisitor;
        impl Visitor<'_> for TimeVisitor {
            type Value = Time;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a timestamp (ISO-8601 text or epoch number)")
            }
            fn visit_f64<E>(self, v: f64) -> Result<Time, E> {
                Ok(epoch_guess(v).map_or(Time::Invalid, |t| Time::Ok(t, None)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Time, E> {
                Ok(epoch_guess(v as f64).map_or(Time::Invalid, |t| Time::Ok(t, None)))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Time, E> {
                Ok(epoch_guess(v as f64).map_or(Time::Invalid, |t| Time::Ok(t, None)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Time, E> {
                Ok(parse_time_text(v).map_or(Time::Invalid, |(t, o)| Time::Ok(t, o)))
            }
            fn visit_unit<E>(self) -> Result<Time, E> {
                Ok(Time::Invalid)
            }
        }
        d.deserialize_any(TimeVisitor)
    }
}

/// Reads a number as epoch seconds or milliseconds, whichever lands in a
/// plausible range (numbers above 10^11 are milliseconds: 10^11 seconds is
/// the year 5138, 10^11 milliseconds is 1973).
pub(crate) fn epoch_guess(v: f64) -> Option<Timestamp> {
    if !v.is_finite() {
        return None;
    }
    if v.abs() >= 1e11 {
        Some(Timestamp(v.round() as i64)).filter(|t| t.0.abs() < 1e15 as i64)
    } else {
        Timestamp::from_epoch_seconds_f64(v)
    }
}

/// Reads a timestamp from text: ISO-8601 in its common variants, or an epoch
/// number in seconds or milliseconds written as text.
pub(crate) fn parse_time_text(text: &str) -> Option<(Timestamp, Option<i16>)> {
    let text = text.trim();
    let first = *text.as_bytes().first()?;
    if text.len() >= 10 && text.as_bytes().get(4) == Some(&b'-') {
        return Timestamp::parse_iso8601(text).ok();
    }
    if (first.is_ascii_digit() || first == b'-')
        && let Ok(v) = text.parse::<f64>()
    {
        return epoch_guess(v).map(|t| (t, None));
    }
    Timestamp::parse_iso8601(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_strings() {
        let v: Vec<Num> =
            serde_json::from_str(r#"[1, 2.5, "3.25", " 4 ", "x", null, true]"#).unwrap();
        assert_eq!(
            v,
            vec![
                Num::Value(1.0),
                Num::Value(2.5),
                Num::Value(3.25),
                Num::Value(4.0),
                Num::Invalid,
                Num::Invalid,
                Num::Invalid
            ]
        );
    }

    #[test]
    fn time_encodings() {
        let v: Vec<Time> = serde_json::from_str(
            r#"["2013-04-15T06:34:32.478Z", "1366007672478", 1366007672478, 1366007672.478, "1366007672", "soon"]"#,
        )
        .unwrap();
        let t = Timestamp(1_366_007_672_478);
        assert_eq!(v[0], Time::Ok(t, Some(0)));
        assert_eq!(v[1], Time::Ok(t, None));
        assert_eq!(v[2], Time::Ok(t, None));
        assert_eq!(v[3], Time::Ok(t, None));
        assert_eq!(v[4], Time::Ok(Timestamp(1_366_007_672_000), None));
        assert_eq!(v[5], Time::Invalid);
    }
}
