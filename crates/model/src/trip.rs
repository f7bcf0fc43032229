//! What the analysis derives from fixes: stay points, places, trips and legs.
//!
//! These are the citizen's diary. They are computed inside the citizen's
//! store and never leave it; only aggregates derived from them may, through
//! the consent and secure-aggregation path.

use crate::{Mode, Purpose, Timestamp};
use serde::{Deserialize, Serialize};

/// A period during which the device stayed within a small radius.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StayPoint {
    /// Arrival (time of the first fix of the stay).
    pub start: Timestamp,
    /// Departure (time of the last fix of the stay).
    pub end: Timestamp,
    /// Mean latitude of the stay's fixes.
    pub lat: f64,
    /// Mean longitude of the stay's fixes.
    pub lon: f64,
    /// The place this stay was clustered into, once places are computed.
    pub place_id: Option<i64>,
}

/// How the citizen (or the analysis) labels a place.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlaceLabel {
    /// Where the citizen sleeps.
    Home,
    /// The usual place of work.
    Work,
    /// The usual place of study.
    Study,
    /// Any other place.
    Other,
}

/// A location the citizen visits repeatedly (a cluster of stay points).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Place {
    /// Store-assigned identifier.
    pub id: i64,
    /// Centre latitude.
    pub lat: f64,
    /// Centre longitude.
    pub lon: f64,
    /// Label, inferred or set by the citizen.
    pub label: PlaceLabel,
    /// A name the citizen gave it.
    pub name: Option<String>,
    /// Never part of any contribution when true.
    pub private: bool,
}

/// A movement between two stays.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trip {
    /// Store-assigned identifier.
    pub id: i64,
    /// Departure.
    pub start: Timestamp,
    /// Arrival.
    pub end: Timestamp,
    /// Where it started, when that is a known place.
    pub origin_place_id: Option<i64>,
    /// Where it ended, when that is a known place.
    pub destination_place_id: Option<i64>,
    /// Travelled distance in metres.
    pub distance_m: f64,
    /// Purpose, inferred or corrected by the citizen.
    pub purpose: Option<Purpose>,
    /// Never part of any contribution when true.
    pub private: bool,
    /// The single-mode parts of the trip, in order.
    pub legs: Vec<Leg>,
}

/// A part of a trip travelled with one mode.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Leg {
    /// Start of the leg.
    pub start: Timestamp,
    /// End of the leg.
    pub end: Timestamp,
    /// Travelled distance in metres.
    pub distance_m: f64,
    /// The mode, inferred or corrected.
    pub mode: Mode,
    /// Confidence of the inferred mode in `[0, 1]`; `1` when the citizen set it.
    pub confidence: f32,
    /// True when the citizen set the mode (never overwritten by re-analysis).
    pub corrected: bool,
}
