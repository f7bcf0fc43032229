//! Line-oriented text formats: delimited text (CSV/TSV), GeoLife PLT, OwnTracks `.rec`.
//!
//! All three read one line at a time into a single reused buffer, so a file of
//! any length is parsed in memory bounded by its longest line, and that line
//! is itself capped at [`MAX_LINE`]: a binary blob or a file without newlines
//! cannot make the parser swallow the whole input.

pub(crate) mod csv;
pub(crate) mod plt;
pub(crate) mod rec;

use sillage_model::Timestamp;
use std::io::{self, BufRead, Read};

/// Longest line kept, in bytes. Real location rows are well under 1 KiB; a
/// longer line is skipped (and rejected) rather than buffered.
pub(crate) const MAX_LINE: usize = 1 << 20;

/// One line as read by [`Lines`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Line<'a> {
    /// The line's bytes without the `\n` / `\r\n` terminator (and without a
    /// UTF-8 byte-order mark on the first line).
    Text(&'a [u8]),
    /// A line longer than [`MAX_LINE`]; its content was skipped.
    TooLong,
}

/// Reads a stream line by line into one reused buffer.
pub(crate) struct Lines<R> {
    reader: R,
    buf: Vec<u8>,
    number: u64,
}

impl<R: BufRead> Lines<R> {
    /// Wraps a buffered reader.
    pub(crate) fn new(reader: R) -> Self {
        Self {
            reader,
            buf: Vec::with_capacity(256),
            number: 0,
        }
    }

    /// The 1-based number of the line last returned (0 before the first).
    pub(crate) fn number(&self) -> u64 {
        self.number
    }

    /// The next line, or `None` at the end of the stream.
    pub(crate) fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        self.buf.clear();
        // `take` bounds what `read_until` may buffer while keeping its fast
        // newline search.
        let read = (&mut self.reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut self.buf)?;
        if read == 0 {
            return Ok(None);
        }
        self.number += 1;
        if self.buf.len() > MAX_LINE && self.buf.last() != Some(&b'\n') {
            self.skip_rest_of_line()?;
            return Ok(Some(Line::TooLong));
        }
        let mut line = self.buf.as_slice();
        line = line.strip_suffix(b"\n").unwrap_or(line);
        line = line.strip_suffix(b"\r").unwrap_or(line);
        if self.number == 1 {
            line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        }
        Ok(Some(Line::Text(line)))
    }

    fn skip_rest_of_line(&mut self) -> io::Result<()> {
        loop {
            self.buf.clear();
            let read = (&mut self.reader)
                .take(MAX_LINE as u64)
                .read_until(b'\n', &mut self.buf)?;
            if read == 0 || self.buf.last() == Some(&b'\n') {
                break;
            }
        }
        // Give back the megabyte the overlong line needed.
        self.buf = Vec::with_capacity(256);
        Ok(())
    }
}

/// A cell read as a number.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Cell {
    /// Nothing but whitespace.
    Empty,
    /// A number (possibly NaN or infinite: validation decides what to do with those).
    Num(f64),
    /// Something that is not a number.
    Invalid,
}

/// Reads a cell as a number, ignoring surrounding whitespace. With
/// `decimal_comma`, `46,1591` reads as 46.1591 (spreadsheets in many locales
/// write that when the delimiter is not a comma).
pub(crate) fn number(cell: &[u8], decimal_comma: bool) -> Cell {
    let cell = cell.trim_ascii();
    if cell.is_empty() {
        return Cell::Empty;
    }
    if decimal_comma && cell.contains(&b',') {
        // Copy to the stack rather than allocate: numbers are short.
        let mut buf = [0u8; 64];
        let Some(dst) = buf.get_mut(..cell.len()) else {
            return Cell::Invalid;
        };
        for (d, &s) in dst.iter_mut().zip(cell) {
            *d = if s == b',' { b'.' } else { s };
        }
        return parse_f64(dst);
    }
    parse_f64(cell)
}

fn parse_f64(bytes: &[u8]) -> Cell {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .map_or(Cell::Invalid, Cell::Num)
}

/// An optional measurement: `None` when empty, unreadable, non-finite or, for
/// `non_negative` quantities, negative (iOS and others write `-1` for
/// "unknown"). `convert` turns the source unit into ours.
pub(crate) fn optional(
    cell: Cell,
    non_negative: bool,
    convert: impl Fn(f64) -> f64,
) -> Option<f32> {
    let Cell::Num(v) = cell else { return None };
    if !v.is_finite() || (non_negative && v < 0.0) {
        return None;
    }
    Some(convert(v) as f32)
}

/// Reads a timestamp split over a date cell (`YYYY-MM-DD` or `YYYY/MM/DD`)
/// and a time-of-day cell (`HH:MM:SS[.fff][offset]`), UTC unless the time
/// carries an offset. Returns the offset when one was written.
pub(crate) fn date_time(date: &[u8], time: &[u8]) -> Option<(Timestamp, Option<i16>)> {
    let (date, time) = (date.trim_ascii(), time.trim_ascii());
    let mut buf = [0u8; 64];
    let len = date.len() + 1 + time.len();
    let joined = buf.get_mut(..len)?;
    let (d, rest) = joined.split_at_mut(date.len());
    for (dst, &src) in d.iter_mut().zip(date) {
        *dst = if src == b'/' { b'-' } else { src };
    }
    let (sep, t) = rest.split_first_mut()?;
    *sep = b'T';
    t.copy_from_slice(time);
    let text = std::str::from_utf8(joined).ok()?;
    Timestamp::parse_iso8601(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_lines(input: &[u8]) -> Vec<Option<Vec<u8>>> {
        let mut lines = Lines::new(input);
        let mut out = Vec::new();
        while let Some(line) = lines.next_line().unwrap() {
            out.push(match line {
                Line::Text(t) => Some(t.to_vec()),
                Line::TooLong => None,
            });
        }
        out
    }

    #[test]
    fn lines_strip_terminators_and_bom() {
        let got = all_lines(b"\xEF\xBB\xBFa,b\r\n\nc\rd\n\xEF\xBB\xBFe");
        let want: Vec<Option<Vec<u8>>> = vec![
            Some(b"a,b".to_vec()),
            Some(b"".to_vec()),
            Some(b"c\rd".to_vec()),
            Some(b"\xEF\xBB\xBFe".to_vec()),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn overlong_lines_are_skipped_not_buffered() {
        let mut input = vec![b'x'; MAX_LINE * 2 + 10];
        input.extend_from_slice(b"\nshort\n");
        let mut exact = vec![b'y'; MAX_LINE];
        exact.push(b'\n');
        input.extend_from_slice(&exact);
        let got = all_lines(&input);
        assert_eq!(got.len(), 3);
        assert_eq!(got[0], None);
        assert_eq!(got[1].as_deref(), Some(&b"short"[..]));
        assert_eq!(got[2].as_ref().map(Vec::len), Some(MAX_LINE));
    }

    #[test]
    fn numbers_with_points_and_commas() {
        assert_eq!(number(b" 46.1591 ", false), Cell::Num(46.1591));
        assert_eq!(number(b"46,1591", true), Cell::Num(46.1591));
        assert_eq!(number(b"46,1591", false), Cell::Invalid);
        assert_eq!(number(b"  ", false), Cell::Empty);
        assert_eq!(number(b"abc", false), Cell::Invalid);
        assert_eq!(number(b"\xff1", false), Cell::Invalid);
        assert_eq!(number(&[b','; 100], true), Cell::Invalid);
        assert_eq!(optional(Cell::Num(-1.0), true, |v| v), None);
        assert_eq!(optional(Cell::Num(-1.0), false, |v| v), Some(-1.0));
        assert_eq!(optional(Cell::Num(f64::NAN), false, |v| v), None);
    }

    #[test]
    fn date_and_time_cells() {
        let t = |d: &str, h: &str| date_time(d.as_bytes(), h.as_bytes()).map(|(t, o)| (t.0, o));
        assert_eq!(t("2008-03-30", "00:41:34"), Some((1_206_837_694_000, None)));
        assert_eq!(
            t("2008/03/30", "00:41:34.5Z"),
            Some((1_206_837_694_500, Some(0)))
        );
        assert_eq!(t("2008-03-30", "25:00:00"), None);
        assert_eq!(t("2008-03-30", &"1".repeat(80)), None);
        assert_eq!(t("", ""), None);
    }
}
