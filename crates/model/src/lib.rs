//! The Sillage domain model, shared by every other crate.
//!
//! This crate owns the vocabulary of the system — what a fix, a stay point, a
//! trip, a leg, a place, a transport mode, a purpose and an import batch are —
//! and nothing else. It performs no I/O and knows nothing about file formats,
//! databases or HTTP, so that every other crate can depend on it freely.

#[macro_use]
mod named;

mod fix;
mod hint;
mod import;
mod mode;
mod time;
mod trip;

pub use fix::{Fix, FixCheck, RejectReason, ValidationRules};
pub use hint::{HintKind, SourceHint};
pub use import::{ImportBatch, ImportCounts, SourceFormat};
pub use mode::{Mode, ModeGroup, Purpose};
pub use time::{Timestamp, TimestampError, civil_from_days, days_from_civil, paris_offset_min};
pub use trip::{
    Correction, CorrectionValue, GeoPoint, LabelSource, Leg, Place, PlaceLabel, StayPoint, Trip,
};
