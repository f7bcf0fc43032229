//! XML-based formats (GPX, KML, TCX), parsed as event streams with quick-xml.
//!
//! The three formats share one driver, [`drive`]: it pulls events from a
//! [`quick_xml::Reader`] into one reused buffer, keeps the stack of open
//! element names (local names, namespace prefixes dropped, so GPX 1.0, 1.1
//! and any `gpx:`-prefixed variant look the same), collects the text of the
//! elements a format asks for, and turns malformed or truncated input into an
//! [`IngestError::Syntax`] at a byte offset. Each format is then a small
//! [`Handler`] that only sees element starts and ends.

pub(crate) mod gpx;
pub(crate) mod kml;
pub(crate) mod tcx;

use crate::field::{Num, Time, parse_time_text};
use crate::{IngestError, Location, Stop};
use quick_xml::Reader;
use quick_xml::events::{BytesRef, BytesStart, Event};
use sillage_model::{SourceHint, Timestamp};
use std::io::BufRead;

/// Deepest element nesting accepted. Real exports stay below 10 levels; the
/// cap keeps the name stack (ours and quick-xml's) bounded on hostile input.
const MAX_DEPTH: usize = 256;

/// Why a handler stopped the parse.
#[derive(Debug)]
pub(crate) enum Abort {
    /// The consumer asked to stop.
    Stop,
    /// The document is malformed; the driver adds the byte offset.
    Syntax(String),
}

impl From<Stop> for Abort {
    fn from(_: Stop) -> Self {
        Self::Stop
    }
}

/// Where an element sits, as shown to a [`Handler`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Element<'a> {
    /// Local name (prefix removed).
    pub name: &'a [u8],
    /// Local name of the enclosing element; empty for the root.
    pub parent: &'a [u8],
    /// Nesting depth; the root element is at depth 1.
    pub depth: usize,
}

/// One XML format: reacts to element starts and ends.
pub(crate) trait Handler {
    /// An element opened (for `<a/>`, just before its end). Returns `true` to
    /// receive the element's own text (not its children's) at [`Handler::end`].
    fn start(&mut self, element: Element<'_>, tag: &BytesStart<'_>) -> Result<bool, Abort>;

    /// An element closed. `text` is its text content, untrimmed, with entity
    /// and character references resolved, when [`Handler::start`] asked for it;
    /// empty otherwise.
    fn end(&mut self, element: Element<'_>, text: &[u8]) -> Result<(), Abort>;
}

/// The stack of open element names, stored back to back in one buffer so
/// that pushing and popping never allocates once the deepest level was seen.
#[derive(Default)]
struct NameStack {
    names: Vec<u8>,
    starts: Vec<usize>,
}

impl NameStack {
    fn depth(&self) -> usize {
        self.starts.len()
    }

    fn push(&mut self, name: &[u8]) {
        self.starts.push(self.names.len());
        self.names.extend_from_slice(name);
    }

    fn pop(&mut self) {
        if let Some(start) = self.starts.pop() {
            self.names.truncate(start);
        }
    }

    /// The innermost open name; empty at depth 0.
    fn top(&self) -> &[u8] {
        let start = self.starts.last().copied().unwrap_or(self.names.len());
        self.names.get(start..).unwrap_or_default()
    }

    /// The name just below the innermost one; empty at depth 0 or 1.
    fn below_top(&self) -> &[u8] {
        match self.starts.len().checked_sub(2) {
            Some(i) => {
                let (Some(&start), Some(&end)) = (self.starts.get(i), self.starts.get(i + 1))
                else {
                    return &[];
                };
                self.names.get(start..end).unwrap_or_default()
            }
            None => &[],
        }
    }
}

/// The part of a qualified name after its last `:`.
pub(crate) fn local_name(name: &[u8]) -> &[u8] {
    name.rsplit(|&b| b == b':').next().unwrap_or(name)
}

/// Runs `handler` over a whole document whose root element must be `root`
/// (a local name). A document that ends before its root closes is an error.
/// Returns as soon as the root closes, without reading further: trailing
/// bytes (padding, a second concatenated document) would make the file
/// ill-formed, but everything in it has been read and handed on by then.
pub(crate) fn drive<H: Handler>(
    reader: impl BufRead,
    root: &str,
    handler: &mut H,
) -> Result<(), IngestError> {
    let mut xml = Reader::from_reader(reader);
    let mut buf = Vec::with_capacity(4096);
    let mut text = Vec::with_capacity(64);
    let mut stack = NameStack::default();
    // Depth of the element whose text is being collected, if any.
    let mut capture: Option<usize> = None;
    let mut root_seen = false;
    let at = |xml: &Reader<_>, message: String| {
        IngestError::syntax(Location::Byte(xml.buffer_position()), message)
    };
    let abort = |xml: &Reader<_>, abort: Abort| match abort {
        Abort::Stop => IngestError::Stopped,
        Abort::Syntax(message) => at(xml, message),
    };
    loop {
        buf.clear();
        let event = match xml.read_event_into(&mut buf) {
            Ok(event) => event,
            Err(err) => {
                let message = format!("{err}{}", inside(stack.top()));
                return Err(IngestError::syntax(
                    Location::Byte(xml.error_position()),
                    message,
                ));
            }
        };
        match event {
            Event::Start(ref tag) | Event::Empty(ref tag) => {
                let empty = matches!(event, Event::Empty(_));
                let name = local_name(tag.name().into_inner());
                if stack.depth() == 0 {
                    if name != root.as_bytes() {
                        return Err(at(
                            &xml,
                            format!(
                                "expected <{root}> as the root element, found <{}>",
                                String::from_utf8_lossy(name)
                            ),
                        ));
                    }
                    root_seen = true;
                }
                if stack.depth() >= MAX_DEPTH {
                    return Err(at(
                        &xml,
                        format!("elements nested more than {MAX_DEPTH} levels deep"),
                    ));
                }
                let element = Element {
                    name,
                    parent: stack.top(),
                    depth: stack.depth() + 1,
                };
                let wants_text = handler.start(element, tag).map_err(|a| abort(&xml, a))?;
                if empty {
                    handler.end(element, &[]).map_err(|a| abort(&xml, a))?;
                    if stack.depth() == 0 {
                        return Ok(());
                    }
                } else {
                    stack.push(name);
                    if wants_text && capture.is_none() {
                        capture = Some(stack.depth());
                        text.clear();
                    }
                }
            }
            Event::End(_) => {
                let depth = stack.depth();
                if depth == 0 {
                    // quick-xml already refuses unmatched end tags; kept so
                    // that a change of its defaults cannot make us accept one.
                    return Err(at(&xml, "closing tag without an opening tag".into()));
                }
                let captured = capture == Some(depth);
                if captured {
                    capture = None;
                }
                let element = Element {
                    name: stack.top(),
                    parent: stack.below_top(),
                    depth,
                };
                let own_text: &[u8] = if captured { &text } else { &[] };
                handler.end(element, own_text).map_err(|a| abort(&xml, a))?;
                stack.pop();
                if stack.depth() == 0 {
                    return Ok(());
                }
            }
            Event::Text(ref t) if capture == Some(stack.depth()) => text.extend_from_slice(t),
            Event::CData(ref t) if capture == Some(stack.depth()) => text.extend_from_slice(t),
            Event::GeneralRef(ref r) if capture == Some(stack.depth()) => {
                push_reference(&mut text, r)
            }
            Event::Eof => {
                let message = if root_seen {
                    format!(
                        "unexpected end of file{}; the document is truncated",
                        inside(stack.top())
                    )
                } else {
                    format!("no <{root}> root element before the end of the file")
                };
                return Err(at(&xml, message));
            }
            _ => {}
        }
    }
}

/// ` inside <name>`, or nothing at depth 0.
fn inside(name: &[u8]) -> String {
    if name.is_empty() {
        String::new()
    } else {
        format!(" inside <{}>", String::from_utf8_lossy(name))
    }
}

/// Appends the text an `&…;` reference stands for. Unknown entities (which
/// need a DTD we do not read) are kept as written.
fn push_reference(text: &mut Vec<u8>, reference: &BytesRef<'_>) {
    let ch = match reference.resolve_char_ref() {
        Ok(Some(ch)) => Some(ch),
        Ok(None) => match &**reference {
            b"amp" => Some('&'),
            b"lt" => Some('<'),
            b"gt" => Some('>'),
            b"quot" => Some('"'),
            b"apos" => Some('\''),
            _ => None,
        },
        Err(_) => None,
    };
    match ch {
        Some(ch) => text.extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes()),
        None => {
            text.push(b'&');
            text.extend_from_slice(reference);
            text.push(b';');
        }
    }
}

/// Calls `f` with the local name and raw value of each attribute.
///
/// Values are not unescaped: the attributes we read are numbers and words,
/// in which a reference would be invalid anyway. Duplicate checking is off
/// because it allocates for every element; the first occurrence is seen first.
pub(crate) fn for_each_attribute(
    tag: &BytesStart<'_>,
    mut f: impl FnMut(&[u8], &[u8]),
) -> Result<(), Abort> {
    for attribute in tag.attributes().with_checks(false) {
        let attribute = attribute.map_err(|err| {
            Abort::Syntax(format!(
                "malformed attribute in <{}>: {err}",
                String::from_utf8_lossy(local_name(tag.name().into_inner()))
            ))
        })?;
        f(local_name(attribute.key.into_inner()), &attribute.value);
    }
    Ok(())
}

/// Trims ASCII whitespace; `None` when nothing is left or it is not UTF-8.
fn trimmed(bytes: &[u8]) -> Option<Result<&str, ()>> {
    let bytes = bytes.trim_ascii();
    if bytes.is_empty() {
        return None;
    }
    Some(std::str::from_utf8(bytes).map_err(|_| ()))
}

/// A number from element text or an attribute value: `None` when empty,
/// [`Num::Invalid`] when not a number.
pub(crate) fn number(bytes: &[u8]) -> Option<Num> {
    let value = match trimmed(bytes)? {
        Ok(text) => text.parse().map_or(Num::Invalid, Num::Value),
        Err(()) => Num::Invalid,
    };
    Some(value)
}

/// A timestamp from element text: `None` when empty.
pub(crate) fn time(bytes: &[u8]) -> Option<Time> {
    let value = match trimmed(bytes)? {
        Ok(text) => parse_time_text(text).map_or(Time::Invalid, |(t, o)| Time::Ok(t, o)),
        Err(()) => Time::Invalid,
    };
    Some(value)
}

/// A position read from a point's attributes or text, before validation.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) enum Position {
    /// Latitude or longitude absent.
    #[default]
    Missing,
    /// Present but not a number.
    Invalid,
    /// Both read.
    At {
        /// Latitude in degrees.
        lat: f64,
        /// Longitude in degrees.
        lon: f64,
    },
}

impl Position {
    /// Combines separately read latitude and longitude; an unreadable value
    /// wins over a missing one, since the record did try to give a position.
    pub(crate) fn from_parts(lat: Option<Num>, lon: Option<Num>) -> Self {
        match (lat, lon) {
            (Some(Num::Value(lat)), Some(Num::Value(lon))) => Self::At { lat, lon },
            (Some(Num::Invalid), _) | (_, Some(Num::Invalid)) => Self::Invalid,
            _ => Self::Missing,
        }
    }
}

/// The activity a track or a TCX activity declares, and the time span of its
/// timed points, so that one hint can be emitted when it closes. Holds one
/// label per track: memory does not grow with the number of points.
#[derive(Debug, Default)]
pub(crate) struct ActivitySpan {
    label: String,
    span: Option<(Timestamp, Timestamp)>,
}

impl ActivitySpan {
    /// Starts a new track or activity.
    pub(crate) fn reset(&mut self) {
        self.label.clear();
        self.span = None;
    }

    /// Records the label, trimmed.
    pub(crate) fn set_label(&mut self, raw: &[u8]) {
        self.label.clear();
        self.label
            .push_str(String::from_utf8_lossy(raw.trim_ascii()).as_ref());
    }

    /// Widens the span to include `time`.
    pub(crate) fn include(&mut self, time: Timestamp) {
        self.span = Some(match self.span {
            Some((first, last)) => (first.min(time), last.max(time)),
            None => (time, time),
        });
    }

    /// The hint for the finished track: `None` without a label or without
    /// any timed point.
    pub(crate) fn take_hint(&mut self) -> Option<SourceHint> {
        let (start, end) = self.span.take()?;
        if self.label.is_empty() {
            return None;
        }
        let label = std::mem::take(&mut self.label);
        Some(SourceHint::activity(start, end, &label, None))
    }
}

/// Splices XML-ish fragments into a valid document and parses the result,
/// which must return (with or without an error) and never panic.
#[cfg(test)]
pub(crate) fn parse_mutated(base: &str, at: usize, cut: usize, fragments: &[&str]) {
    let mut bytes = base.as_bytes().to_vec();
    let at = at.min(bytes.len());
    let end = at.saturating_add(cut).min(bytes.len());
    let insert: Vec<u8> = fragments.iter().flat_map(|f| f.bytes()).collect();
    bytes.splice(at..end, insert);
    let _ = crate::collect_bytes(&bytes);
}

/// Fragments for [`parse_mutated`]: markup, references, numbers, and bytes
/// that are not UTF-8.
#[cfg(test)]
pub(crate) fn fragments() -> impl proptest::strategy::Strategy<Value = Vec<&'static str>> {
    let pieces = vec![
        "<",
        ">",
        "/>",
        "</",
        "\"",
        "=",
        " ",
        "&amp;",
        "&#0;",
        "&#x1F6B2;",
        "&bogus;",
        "<![CDATA[",
        "]]>",
        "<!--",
        "-->",
        "<?",
        "?>",
        "\u{fffd}",
        "\u{feff}",
        "-1e400",
        "NaN",
        "46.16",
        "1e308",
        "2024-03-01T08:00:00Z",
        "9999-99-99",
        "<trkpt lat=\"1\" lon=\"2\">",
        "</trkpt>",
        "<time>",
        "</time>",
        "<when>",
        "</when>",
        "<gx:coord>",
        "<Trackpoint>",
        "<Position>",
        "<type>",
        "<Placemark>",
        "<gx:Track>",
        "</gx:Track>",
        "\u{0}",
    ];
    proptest::collection::vec(proptest::sample::select(pieces), 0..8)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Names(Vec<String>);

    impl Handler for Names {
        fn start(&mut self, element: Element<'_>, _: &BytesStart<'_>) -> Result<bool, Abort> {
            Ok(element.name == b"b")
        }
        fn end(&mut self, element: Element<'_>, text: &[u8]) -> Result<(), Abort> {
            self.0.push(format!(
                "{}/{}@{}={}",
                String::from_utf8_lossy(element.parent),
                String::from_utf8_lossy(element.name),
                element.depth,
                String::from_utf8_lossy(text)
            ));
            Ok(())
        }
    }

    fn run(doc: &str) -> Result<Vec<String>, IngestError> {
        let mut names = Names(Vec::new());
        drive(doc.as_bytes(), "a", &mut names).map(|()| names.0)
    }

    #[test]
    fn driver_reports_local_names_parents_and_own_text() {
        let got = run(
            "<?xml version=\"1.0\"?><x:a><b>1 &amp; <c>no</c>&#50;<![CDATA[<3>]]></b><b/></x:a>",
        )
        .unwrap();
        assert_eq!(got, ["b/c@3=", "a/b@2=1 & 2<3>", "a/b@2=", "/a@1="]);
    }

    #[test]
    fn driver_rejects_wrong_root_truncation_and_garbage() {
        let err = run("<z/>").unwrap_err().to_string();
        assert!(
            err.contains("expected <a> as the root element, found <z>"),
            "{err}"
        );
        let err = run("<a><b>1</b>").unwrap_err().to_string();
        assert!(
            err.contains("byte 11") && err.contains("end of file inside <a>"),
            "{err}"
        );
        let err = run("<a></b>").unwrap_err().to_string();
        assert!(err.contains("malformed input at byte"), "{err}");
        assert_eq!(
            run("<a/><a/>").unwrap(),
            ["/a@1="],
            "stops at the end of the root"
        );
        let deep = "<a>".repeat(MAX_DEPTH + 1);
        let err = run(&deep).unwrap_err().to_string();
        assert!(err.contains("nested more than"), "{err}");
        assert!(run("").is_err());
    }

    #[test]
    fn a_sink_can_stop_the_parse() {
        struct StopAfterOne(usize);
        impl crate::Sink for StopAfterOne {
            fn fix(&mut self, _: &str, _: sillage_model::Fix) -> Result<(), Stop> {
                self.0 += 1;
                Err(Stop)
            }
            fn hint(&mut self, _: &str, _: SourceHint) -> Result<(), Stop> {
                Ok(())
            }
            fn reject(&mut self, _: sillage_model::RejectReason) -> Result<(), Stop> {
                Ok(())
            }
        }
        let doc = "<gpx><trk><trkseg>\
            <trkpt lat=\"46.16\" lon=\"-1.15\"><time>2024-03-01T08:00:00Z</time></trkpt>\
            <trkpt lat=\"46.17\" lon=\"-1.15\"><time>2024-03-01T08:00:01Z</time></trkpt>\
            </trkseg></trk></gpx>";
        let mut sink = StopAfterOne(0);
        let rules = sillage_model::ValidationRules {
            max_accuracy_m: 10_000.0,
            latest: Timestamp(4_102_444_800_000),
        };
        let result =
            crate::parse_stream(doc.as_bytes(), &mut crate::Emitter::new(&mut sink, rules));
        assert!(matches!(result, Err(IngestError::Stopped)), "{result:?}");
        assert_eq!(sink.0, 1);
    }

    #[test]
    fn numbers_and_times_from_bytes() {
        assert_eq!(number(b" 46.16\n"), Some(Num::Value(46.16)));
        assert_eq!(number(b"  "), None);
        assert_eq!(number(b"4x"), Some(Num::Invalid));
        assert_eq!(number(b"\xff"), Some(Num::Invalid));
        assert_eq!(
            time(b"2024-03-01T08:00:00Z"),
            Some(Time::Ok(Timestamp(1_709_280_000_000), Some(0)))
        );
        assert_eq!(time(b"soon"), Some(Time::Invalid));
        assert_eq!(time(b""), None);
    }
}
