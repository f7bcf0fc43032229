//! Trip intelligence: from a citizen's raw fixes to the diary they recognise.
//!
//! Everything here is a pure function over in-memory data (fixes, source
//! hints, parameters): no I/O, no clock, no randomness. The store feeds it
//! one device's fixes at a time and keeps the results; the evaluation
//! harness feeds it labelled data and scores the results.

mod params;

pub mod calories;
pub mod clean;
pub mod co2;
pub mod corrections;
pub mod diary;
pub mod features;
pub mod footprint;
pub mod geo;
pub mod legs;
pub mod mode;
pub mod model;
pub mod motion;
pub mod places;
pub mod purpose;
pub mod segment;
pub mod stay;
pub mod suggestions;

pub use diary::{Diary, DiaryLeg, DiaryTrip, analyse};
pub use params::AnalysisParams;
