//! GeoLife PLT trajectories (Microsoft Research GeoLife 1.3).
//!
//! Six header lines, then `lat,lon,0,altitude_ft,days,date,time` per point,
//! times in GMT. The timestamp is read from the date and time fields, which
//! are exact to the second; the fractional `days` field (days since
//! 1899-12-30) is only a fallback because its rounding drifts by a fraction
//! of a second.

use super::{Cell, Line, Lines, date_time, number};
use crate::{Emitter, IngestError, Location};
use sillage_model::{Fix, RejectReason, Timestamp};
use std::io::BufRead;

/// Header lines after the `Geolife trajectory` line.
const HEADER_LINES_AFTER_FIRST: u64 = 5;

/// The altitude GeoLife writes when it has none.
const NO_ALTITUDE_FT: f64 = -777.0;

/// Days from 1899-12-30 (the spreadsheet epoch of `days`) to 1970-01-01.
const DAYS_EPOCH_OFFSET: f64 = 25_569.0;

/// Parses a PLT stream.
pub(crate) fn parse(reader: impl BufRead, emit: &mut Emitter<'_>) -> Result<(), IngestError> {
    let mut lines = Lines::new(reader);
    let first = loop {
        match lines.next_line()? {
            Some(Line::Text(line)) if line.trim_ascii().is_empty() => continue,
            Some(Line::Text(line)) => break Some(line.trim_ascii() == b"Geolife trajectory"),
            Some(Line::TooLong) => break Some(false),
            None => break None,
        }
    };
    if first != Some(true) {
        return Err(IngestError::syntax(
            Location::Line(lines.number().max(1)),
            "a GeoLife PLT file starts with the line \"Geolife trajectory\"",
        ));
    }
    for _ in 0..HEADER_LINES_AFTER_FIRST {
        if lines.next_line()?.is_none() {
            return Ok(());
        }
    }
    while let Some(line) = lines.next_line()? {
        match line {
            Line::Text(line) if line.trim_ascii().is_empty() => {}
            Line::Text(line) => point(line, emit)?,
            Line::TooLong => emit.reject(RejectReason::InvalidValue)?,
        }
    }
    Ok(())
}

/// Reads one point line and emits it, or counts why it was rejected.
fn point(line: &[u8], emit: &mut Emitter<'_>) -> Result<(), IngestError> {
    let mut fields: [&[u8]; 7] = [b""; 7];
    let mut count = 0;
    for field in line.split(|&b| b == b',') {
        if let Some(slot) = fields.get_mut(count) {
            *slot = field.trim_ascii();
        }
        count += 1;
    }
    if count != fields.len() {
        return Ok(emit.reject(RejectReason::InvalidValue)?);
    }
    let [lat, lon, _, altitude, days, date, time] = fields;
    let time = if date.is_empty() && time.is_empty() {
        match number(days, false) {
            Cell::Num(days) => from_days(days),
            Cell::Empty => return Ok(emit.reject(RejectReason::MissingTime)?),
            Cell::Invalid => None,
        }
    } else {
        date_time(date, time).map(|(t, _)| t)
    };
    let Some(time) = time else {
        return Ok(emit.reject(RejectReason::InvalidValue)?);
    };
    let (lat, lon) = match (number(lat, false), number(lon, false)) {
        (Cell::Num(lat), Cell::Num(lon)) => (lat, lon),
        (Cell::Invalid, _) | (_, Cell::Invalid) => {
            return Ok(emit.reject(RejectReason::InvalidValue)?);
        }
        _ => return Ok(emit.reject(RejectReason::MissingPosition)?),
    };
    let altitude_m = match number(altitude, false) {
        Cell::Num(ft) if ft.is_finite() && ft != NO_ALTITUDE_FT => Some((ft * 0.3048) as f32),
        _ => None,
    };
    Ok(emit.fix(
        "",
        Fix {
            altitude_m,
            ..Fix::new(time, lat, lon)
        },
    )?)
}

/// An instant from fractional days since 1899-12-30, to the millisecond.
fn from_days(days: f64) -> Option<Timestamp> {
    let ms = ((days - DAYS_EPOCH_OFFSET) * 86_400_000.0).round();
    (ms.is_finite() && ms.abs() < 1e15).then_some(Timestamp(ms as i64))
}

#[cfg(test)]
mod tests {
    use crate::collect_bytes;
    use sillage_model::{Fix, RejectReason, SourceFormat, Timestamp};

    const DATA: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/geolife-sample"
    );

    fn parse_file(relative: &str) -> Vec<Fix> {
        let path = format!("{DATA}/{relative}");
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let (format, c) = collect_bytes(&bytes);
        assert_eq!(format.unwrap(), SourceFormat::GeoLifePlt, "{relative}");
        assert!(c.rejected.is_empty(), "{relative}: {:?}", c.rejected);
        assert!(c.fixes.iter().all(|(device, _)| device.is_empty()));
        c.fix_list()
    }

    fn at(text: &str) -> Timestamp {
        Timestamp::parse_iso8601(text).unwrap().0
    }

    fn fix(lat: f64, lon: f64, time: &str, altitude_m: Option<f32>) -> Fix {
        Fix {
            altitude_m,
            ..Fix::new(at(time), lat, lon)
        }
    }

    #[test]
    fn geolife_sample_counts() {
        let files = [
            ("010/Trajectory/20080330004134.plt", 681),
            ("010/Trajectory/20080330160039.plt", 818),
            ("010/Trajectory/20080331160008.plt", 915),
            ("010/Trajectory/20080402060926.plt", 1004),
            ("020/Trajectory/20111130020900.plt", 66),
            ("020/Trajectory/20111130151807.plt", 327),
            ("020/Trajectory/20111130152335.plt", 256),
            ("020/Trajectory/20111201123535.plt", 66),
        ];
        for (file, count) in files {
            let fixes = parse_file(file);
            assert_eq!(fixes.len(), count, "{file}");
            assert!(fixes.windows(2).all(|w| w[0].time <= w[1].time), "{file}");
        }
    }

    #[test]
    fn geolife_sample_first_and_last_fixes() {
        let fixes = parse_file("010/Trajectory/20080402060926.plt");
        assert_eq!(
            fixes[0],
            fix(
                39.477125,
                75.989985,
                "2008-04-02T06:09:26Z",
                Some((4096.0 * 0.3048) as f32)
            )
        );
        assert_eq!(fixes[0].altitude_m, Some(1248.4608));
        assert_eq!(
            fixes[1003],
            fix(
                39.493373,
                76.045505,
                "2008-04-02T11:50:45Z",
                Some((4147.0 * 0.3048) as f32)
            )
        );

        let fixes = parse_file("010/Trajectory/20080330004134.plt");
        assert_eq!(
            fixes[0],
            fix(36.032647, 103.850612, "2008-03-30T00:41:34Z", None)
        );
        assert_eq!(
            fixes[680],
            fix(41.137635, 95.465557, "2008-03-30T15:59:40Z", None)
        );

        let fixes = parse_file("020/Trajectory/20111130020900.plt");
        assert_eq!(
            fixes[0],
            fix(
                39.9808633333333,
                116.305878333333,
                "2011-11-30T02:09:00Z",
                Some(0.0)
            )
        );
        assert_eq!(fixes[0].time, Timestamp(1_322_618_940_000));
        assert_eq!(
            fixes[65],
            fix(
                39.9803866666667,
                116.305901666667,
                "2011-11-30T02:10:12Z",
                Some(0.0)
            )
        );
    }

    #[test]
    fn synthetic_plt_with_gaps_and_bad_lines() {
        let plt = "Geolife trajectory\r\nWGS 84\r\nAltitude is in Feet\r\nReserved 3\r\n\
0,2,255,My Track,0,0,2,8421376\r\n0\r\n\
46.1591,-1.152,0,-777,45352.3440972222,2024-03-01,08:15:30\r\n\
46.1592,-1.1521,0,32.8,45352.3441087963,2024-03-01,08:15:31\r\n\
46.1593,-1.1522,0,33,45352.34375,,\r\n\
\r\n\
46.1594,-1.1523,0,33\r\n\
46.1595,-1.1524,0,33,45352.3441435185,2024-03-01,8h15\r\n\
north,-1.1525,0,33,45352.3441550926,2024-03-01,08:15:35\r\n\
,-1.1526,0,33,45352.3441666667,2024-03-01,08:15:36\r\n\
46.1597,-1.1527,0,33,,,\r\n";
        let (format, c) = collect_bytes(plt.as_bytes());
        assert_eq!(format.unwrap(), SourceFormat::GeoLifePlt);
        let fixes = c.fix_list();
        assert_eq!(fixes.len(), 3);
        assert_eq!(fixes[0], fix(46.1591, -1.152, "2024-03-01T08:15:30Z", None));
        assert_eq!(fixes[1].altitude_m, Some((32.8 * 0.3048) as f32));
        // Without date and time, the fractional days field still places the point.
        assert_eq!(fixes[2].time, at("2024-03-01T08:15:00Z"));
        let expected = [
            (RejectReason::InvalidValue, 3),
            (RejectReason::MissingTime, 1),
            (RejectReason::MissingPosition, 1),
        ];
        assert_eq!(c.rejected, expected.into_iter().collect());
    }

    #[test]
    fn not_geolife_is_a_syntax_error() {
        let mut collected = crate::Collected::default();
        let rules = sillage_model::ValidationRules {
            max_accuracy_m: 10_000.0,
            latest: Timestamp(4_102_444_800_000),
        };
        let mut emit = crate::Emitter::new(&mut collected, rules);
        let err = super::parse(&b"\nGeolife trajectories\n"[..], &mut emit).unwrap_err();
        assert!(
            matches!(
                err,
                crate::IngestError::Syntax {
                    location: crate::Location::Line(2),
                    ..
                }
            ),
            "{err}"
        );
        assert!(super::parse(&b""[..], &mut emit).is_err());
        assert!(super::parse(&b"Geolife trajectory\nWGS 84\n"[..], &mut emit).is_ok());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(body in "[0-9,.:\\- \n\r/a-z\u{e9}]{0,300}") {
            let input = format!("Geolife trajectory\n1\n2\n3\n4\n5\n{body}");
            let _ = collect_bytes(input.as_bytes());
        }
    }
}
