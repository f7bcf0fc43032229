//! Errors that stop a parse, with where in the input they happened.

use std::fmt;

/// A position in an input stream, as precise as the format allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Location {
    /// 1-based line and column (JSON).
    LineColumn {
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: u64,
    },
    /// 1-based line (line-oriented formats).
    Line(u64),
    /// 0-based byte offset (XML).
    Byte(u64),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LineColumn { line, column } => write!(f, "line {line}, column {column}"),
            Self::Line(line) => write!(f, "line {line}"),
            Self::Byte(offset) => write!(f, "byte {offset}"),
        }
    }
}

/// Why a stream could not be parsed.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The input is not well-formed for its format.
    #[error("malformed input at {location}: {message}")]
    Syntax {
        /// Where the problem is.
        location: Location,
        /// What was found and what was expected instead.
        message: String,
    },
    /// The content matches no supported location format.
    #[error("unrecognised content: {0}")]
    UnknownFormat(String),
    /// A recognised file that carries no importable location history
    /// (encrypted Timeline backup, Takeout settings, …).
    #[error("{0}")]
    Unsupported(String),
    /// A mandatory field is absent (a live tracker request without a
    /// latitude, a device id, an Overland body without `locations`…).
    #[error("missing `{field}`: expected {expected}")]
    MissingField {
        /// The field as the client names it (`lat`, `id`, `location.coords.latitude`).
        field: &'static str,
        /// What should have been there.
        expected: &'static str,
    },
    /// A mandatory field is present but cannot be read.
    #[error("invalid `{field}` {found:?}: expected {expected}")]
    InvalidField {
        /// The field as the client names it.
        field: &'static str,
        /// The offending value, truncated to a readable length.
        found: String,
        /// What should have been there.
        expected: &'static str,
    },
    /// Reading the input failed.
    #[error("read error: {0}")]
    Io(#[from] std::io::Error),
    /// The consumer asked to stop (e.g. the import was cancelled).
    #[error("import stopped")]
    Stopped,
}

impl IngestError {
    /// A syntax error at a location.
    pub fn syntax(location: Location, message: impl Into<String>) -> Self {
        Self::Syntax {
            location,
            message: message.into(),
        }
    }

    /// An unreadable mandatory field; `found` is cut to 64 characters so a
    /// hostile request cannot make the error (and the logs) arbitrarily long.
    pub fn invalid_field(field: &'static str, found: &str, expected: &'static str) -> Self {
        Self::InvalidField {
            field,
            found: found.chars().take(64).collect(),
            expected,
        }
    }
}

impl From<crate::Stop> for IngestError {
    fn from(_: crate::Stop) -> Self {
        Self::Stopped
    }
}
