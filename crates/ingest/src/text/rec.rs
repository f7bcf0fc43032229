//! OwnTracks Recorder `.rec` files: one message per line,
//! `ISO-time<TAB>topic<TAB>json` (older Recorders wrote spaces instead of
//! tabs).
//!
//! Only lines of the base topic `*` can be locations; `event`, `waypoint`,
//! `lwt` and other sub-topics are skipped silently, as are base-topic
//! messages whose `_type` is not `location`. The user and device live in the
//! file's path (`rec/<user>/<device>/YYYY-MM.rec`), not its content, so fixes
//! are emitted with an empty device name for the caller to fill in.

use super::{Line, Lines};
use crate::field::parse_time_text;
use crate::json::owntracks::OwnTracksMessage;
use crate::{Emitter, IngestError};
use sillage_model::RejectReason;
use std::io::BufRead;

/// Parses a `.rec` stream.
pub(crate) fn parse(reader: impl BufRead, emit: &mut Emitter<'_>) -> Result<(), IngestError> {
    let mut lines = Lines::new(reader);
    while let Some(line) = lines.next_line()? {
        match line {
            Line::Text(line) if line.trim_ascii().is_empty() => {}
            Line::Text(line) => record(line, emit)?,
            Line::TooLong => emit.reject(RejectReason::InvalidValue)?,
        }
    }
    Ok(())
}

/// Splits off the first whitespace-separated word of `text`.
fn word(text: &[u8]) -> Option<(&[u8], &[u8])> {
    let text = text.trim_ascii_start();
    let end = text.iter().position(u8::is_ascii_whitespace)?;
    Some((&text[..end], &text[end..]))
}

/// Handles one line: a location is emitted, a malformed line rejected, any
/// other message skipped.
fn record(line: &[u8], emit: &mut Emitter<'_>) -> Result<(), IngestError> {
    let Some((time, rest)) = word(line) else {
        return Ok(emit.reject(RejectReason::InvalidValue)?);
    };
    let Some((topic, json)) = word(rest) else {
        return Ok(emit.reject(RejectReason::InvalidValue)?);
    };
    if topic != b"*" {
        return Ok(());
    }
    let Ok(message) = serde_json::from_slice::<OwnTracksMessage>(json) else {
        return Ok(emit.reject(RejectReason::InvalidValue)?);
    };
    let line_time = std::str::from_utf8(time)
        .ok()
        .and_then(parse_time_text)
        .map(|(t, _)| t);
    message.emit("", line_time, emit)
}

#[cfg(test)]
mod tests {
    use crate::collect_bytes;
    use sillage_model::{Fix, HintKind, Mode, RejectReason, SourceFormat, Timestamp};

    #[test]
    fn recorder_lines() {
        let rec = concat!(
            "2024-03-01T08:23:09Z\t*                 \t{\"_type\":\"location\",\"tid\":\"JJ\",\"lat\":46.1591,\"lon\":-1.152,",
            "\"tst\":1709281389,\"acc\":10,\"alt\":5,\"vel\":18,\"cog\":98,\"batt\":94,\"bs\":2,\"t\":\"p\",\"conn\":\"w\"}\n",
            "2024-03-01T08:23:40Z\ttransition        \t{\"_type\":\"transition\",\"event\":\"leave\",\"desc\":\"Home\",",
            "\"lat\":46.1591,\"lon\":-1.152,\"tst\":1709281420,\"wtst\":1709200000,\"acc\":10,\"t\":\"c\"}\n",
            "2024-03-01T08:24:00Z\twaypoint          \t{\"_type\":\"waypoint\",\"desc\":\"Home\",\"lat\":46.1591,\"lon\":-1.152}\n",
            "2024-03-01T08:24:10Z * {\"_type\":\"location\",\"lat\":46.1601,\"lon\":-1.1535,\"tst\":1709281450,",
            "\"vel\":0,\"motionactivities\":[\"stationary\",\"walking\"]}\n",
            "\n",
            "2024-03-01T08:24:20Z    *    {\"_type\":\"location\",\"lat\":46.1605,\"lon\":-1.154,\"acc\":25}\n",
            "2024-03-01T08:24:30Z\t*                 \t{\"_type\":\"lwt\",\"tst\":1709281470}\n",
            "2024-03-01T08:24:40Z\t*                 \t{\"_type\":\"location\",\"lat\":46.16,\"lon\"\n",
            "2024-03-01T08:24:50Z\t*                 \t{\"_type\":\"location\",\"lon\":-1.154,\"tst\":1709281490}\n",
            "2024-03-01T08:25:00Z\t*                 \t{\"_type\":\"location\",\"lat\":\"n\",\"lon\":-1.154,\"tst\":1709281500}\n",
            "2024-03-01T08:25:10Z\t*\n",
            "2024-03-01T08:25:20Z\t*                 \t{\"_type\":\"location\",\"lat\":46.1607,\"lon\":-1.1545,\"tst\":1709281520,\"vel\":-1}",
        );
        let (format, c) = collect_bytes(rec.as_bytes());
        assert_eq!(format.unwrap(), SourceFormat::OwnTracksRec);
        assert!(c.fixes.iter().all(|(device, _)| device.is_empty()));
        let fixes = c.fix_list();
        assert_eq!(fixes.len(), 4);
        assert_eq!(
            fixes[0],
            Fix {
                time: Timestamp(1_709_281_389_000),
                lat: 46.1591,
                lon: -1.152,
                accuracy_m: Some(10.0),
                speed_mps: Some(5.0),
                bearing_deg: Some(98.0),
                altitude_m: Some(5.0),
                utc_offset_min: None,
            }
        );
        // Space-separated line, `acc` omitted because it was zero.
        assert_eq!(
            fixes[1],
            Fix {
                speed_mps: Some(0.0),
                ..Fix::new(Timestamp(1_709_281_450_000), 46.1601, -1.1535)
            }
        );
        // No `tst`: the line's own time stands in.
        assert_eq!(
            fixes[2],
            Fix {
                accuracy_m: Some(25.0),
                ..Fix::new(Timestamp(1_709_281_460_000), 46.1605, -1.154)
            }
        );
        assert_eq!(fixes[3].speed_mps, None);
        let expected = [
            (RejectReason::InvalidValue, 3),
            (RejectReason::MissingPosition, 1),
        ];
        assert_eq!(c.rejected, expected.into_iter().collect());
        assert_eq!(c.hints.len(), 1);
        let hint = &c.hints[0].1;
        assert_eq!(
            (hint.start, hint.end),
            (Timestamp(1_709_281_450_000), Timestamp(1_709_281_450_000))
        );
        assert_eq!(
            hint.kind,
            HintKind::Activity {
                label: "walking".into(),
                mode: Some(Mode::Walking)
            }
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(body in "[ -~\t\n]{0,300}") {
            let input = format!("2024-03-01T08:23:09Z\t*\t{{\"_type\":\"location\"}}\n{body}");
            let _ = collect_bytes(input.as_bytes());
        }
    }
}
