//! The boundary between parsers and whoever consumes their output.

use sillage_model::{Fix, RejectReason, SourceHint, ValidationRules};

/// The consumer asked the parser to stop early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stop;

/// Receives what a parser finds. Implemented by the importer (which writes to
/// a store), by tests (which collect into vectors) and by fuzz targets.
///
/// `device` names the device inside the source when the source says (a Google
/// `deviceTag`, an OwnTracks `user/device`, an e-mission user); it is empty
/// when the source is one device's file, and the consumer then decides.
pub trait Sink {
    /// A plausible fix.
    fn fix(&mut self, device: &str, fix: Fix) -> Result<(), Stop>;
    /// A source-inferred hint.
    fn hint(&mut self, device: &str, hint: SourceHint) -> Result<(), Stop>;
    /// A record that was not stored, and why.
    fn reject(&mut self, reason: RejectReason) -> Result<(), Stop>;
}

/// What parsers write to: validates every fix against the import's rules
/// before handing it on, so that no parser can forget a check.
pub struct Emitter<'a> {
    sink: &'a mut dyn Sink,
    rules: ValidationRules,
}

impl<'a> Emitter<'a> {
    /// An emitter applying `rules` in front of `sink`.
    pub fn new(sink: &'a mut dyn Sink, rules: ValidationRules) -> Self {
        Self { sink, rules }
    }

    /// Validates and forwards a fix, or counts it as rejected.
    pub fn fix(&mut self, device: &str, fix: Fix) -> Result<(), Stop> {
        match self.rules.check(fix) {
            Ok(fix) => self.sink.fix(device, fix),
            Err(reason) => self.sink.reject(reason),
        }
    }

    /// Forwards a hint whose interval is plausible; drops it otherwise
    /// (a hint is a side note, never worth a rejection count).
    pub fn hint(&mut self, device: &str, hint: SourceHint) -> Result<(), Stop> {
        if hint.end < hint.start {
            return Ok(());
        }
        self.sink.hint(device, hint)
    }

    /// Counts a record that could not become a fix.
    pub fn reject(&mut self, reason: RejectReason) -> Result<(), Stop> {
        self.sink.reject(reason)
    }
}

/// A sink that keeps everything in memory: for tests, fuzzing and small
/// previews. Not for real imports, which stream into a store.
#[derive(Debug, Default)]
pub struct Collected {
    /// Fixes with their device name, in emission order.
    pub fixes: Vec<(String, Fix)>,
    /// Hints with their device name, in emission order.
    pub hints: Vec<(String, SourceHint)>,
    /// Rejected records by reason.
    pub rejected: std::collections::BTreeMap<RejectReason, u64>,
}

impl Collected {
    /// The fixes alone.
    pub fn fix_list(&self) -> Vec<Fix> {
        self.fixes.iter().map(|(_, f)| *f).collect()
    }
}

impl Sink for Collected {
    fn fix(&mut self, device: &str, fix: Fix) -> Result<(), Stop> {
        self.fixes.push((device.to_owned(), fix));
        Ok(())
    }
    fn hint(&mut self, device: &str, hint: SourceHint) -> Result<(), Stop> {
        self.hints.push((device.to_owned(), hint));
        Ok(())
    }
    fn reject(&mut self, reason: RejectReason) -> Result<(), Stop> {
        *self.rejected.entry(reason).or_default() += 1;
        Ok(())
    }
}

/// Rules that accept any date up to 2100, so that tests and fuzzing never
/// depend on the clock.
const TEST_RULES: ValidationRules = ValidationRules {
    max_accuracy_m: 10_000.0,
    latest: sillage_model::Timestamp(4_102_444_800_000),
};

/// The outcome of parsing bytes with detection: the format, or why not.
pub type Detection = Result<sillage_model::SourceFormat, crate::IngestError>;

/// Parses `bytes` with format detection into a [`Collected`] (tests, previews).
pub fn collect_bytes(bytes: &[u8]) -> (Detection, Collected) {
    let mut collected = Collected::default();
    let result = crate::parse_stream(bytes, &mut Emitter::new(&mut collected, TEST_RULES));
    (result, collected)
}

/// Parses `bytes` as `format` (or with detection when `None`) and checks the
/// invariants fuzzing relies on: no panic, and every emitted fix passed
/// validation. Panics when an invariant is broken.
pub fn fuzz_check(format: Option<sillage_model::SourceFormat>, bytes: &[u8]) {
    let mut collected = Collected::default();
    let mut emitter = Emitter::new(&mut collected, TEST_RULES);
    let _ = match format {
        Some(format) => crate::parse_as(format, std::io::BufReader::new(bytes), &mut emitter),
        None => crate::parse_stream(bytes, &mut emitter).map(|_| ()),
    };
    for (_, fix) in &collected.fixes {
        assert_eq!(
            TEST_RULES.check(*fix),
            Ok(*fix),
            "an invalid fix escaped validation"
        );
    }
    for (_, hint) in &collected.hints {
        assert!(hint.start <= hint.end, "a hint ends before it starts");
    }
}
