//! The measurement catalogue: what a campaign can ask, and how a citizen's
//! trips answer it.
//!
//! Each entry turns the trips of one citizen during a wave into a vector of
//! counts with a known layout, whose sum is capped (`cap`): the L1-bounded
//! contribution that is then secret-shared to the aggregators. The same
//! layout names every cell in words, for the citizen's preview ("3 bike
//! trips from Centre to Port in the morning peak") and for the city's
//! dashboards.
//!
//! | entry | cells |
//! |---|---|
//! | `od_matrix` | origin zone × destination zone × mode group × time band |
//! | `h3_cells` | H3 cell × time band × mode group (cells the trip passes through) |
//! | `modal_share` | mode group, in trips or in km |
//! | `distance_histogram` | mode group × distance band |
//! | `street_segments` | street segment (needs map matching: not available yet) |
//!
//! Pure: no I/O; the randomness of clipping comes from the caller.

mod contribution;
mod spec;
mod zones;

pub use contribution::{
    ContributableTrip, Contribution, Exclusion, Unit, distance_by_group, encode,
};
pub use spec::{CellLabel, MeasurementSpec, ShareUnit, TimeBand, TimeBands, h3_area};
pub use zones::{Zone, ZoneGeometry, Zones};

/// Why a measurement could not be defined or computed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CatalogueError {
    /// The specification is not usable; the message names the field.
    #[error("invalid measurement: {0}")]
    Invalid(String),
    /// The entry exists in the catalogue but cannot be computed yet.
    #[error("measurement not available yet: {0}")]
    Unavailable(&'static str),
}

#[cfg(test)]
mod tests;
