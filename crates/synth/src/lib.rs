//! Synthetic citizens with known truth, on a real territory.
//!
//! Every other part of Sillage needs realistic data whose truth is known,
//! at the scale of a real pilot: this crate makes it. From a seed and a
//! territory (an OpenStreetMap extract loaded by `sillage-territory`) it
//! creates citizens with a home, a work place or school and favourite
//! places on the network; gives them weekly schedules and a main mode;
//! routes each trip by the shortest path of its mode (walking to and from
//! the stop or the parked vehicle); moves them at realistic speeds with
//! dwell times; and samples what their phone would have recorded: a fix
//! every 1–30 s on the move and a few an hour at rest, with
//! accuracy-dependent noise, signal gaps, outliers and duplicates.
//!
//! The output is twofold and kept strictly apart:
//! - each citizen's raw trace, written in a real format (Google Takeout
//!   `Records.json`, the 2024 phone Timeline, GPX, OwnTracks) by
//!   `sillage-testdata`'s writers: what the citizen would import;
//! - the ground truth (trips, legs, modes, purposes), laid out like
//!   `shared/data/mobilitynet` so `sillage eval` scores the analysis on it.
//!
//! Everything is a pure function of the seed, the configuration and the
//! territory: citizen `i` is generated from its own random stream, so a
//! population can be made in parallel and any citizen remade alone.

mod config;
mod dataset;
mod journey;
mod people;
mod phone;
mod schedule;
mod trajectory;

pub use config::{ModeShares, PopulationConfig, SimMode};
pub use dataset::{trace_path, write_citizen_trace, write_dataset, write_truth};
pub use journey::{LegType, TruthLeg, TruthTrip};
pub use people::{Anchors, Citizen, Population, Spot, local_midnight_ms};
pub use phone::Phone;

/// Why a population could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// The configuration cannot be simulated; the message names the field.
    #[error("invalid population configuration: {0}")]
    Config(String),
    /// The territory lacks what the simulation needs.
    #[error("the territory cannot host a population: {0}")]
    Territory(String),
    /// Writing the dataset failed.
    #[error("{path}: {source}")]
    Io {
        /// The file being written.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
}
