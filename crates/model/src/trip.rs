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

named_enum! {
    /// How the citizen (or the analysis) labels a place.
    PlaceLabel {
        /// Where the citizen sleeps.
        Home => "home",
        /// The usual place of work.
        Work => "work",
        /// The usual place of study.
        Study => "study",
        /// Any other place.
        Other => "other",
    }
}

/// A location the citizen visits repeatedly (a cluster of stay points).
///
/// The position, the visit count and an inferred label are derived and
/// refreshed by every analysis; the name, the private flag and a label with
/// [`LabelSource::Citizen`] are the citizen's and survive re-analysis.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Place {
    /// Store-assigned identifier (0 before storing), stable across re-analyses.
    pub id: i64,
    /// Centre latitude.
    pub lat: f64,
    /// Centre longitude.
    pub lon: f64,
    /// Label, inferred or set by the citizen.
    pub label: PlaceLabel,
    /// Who decided the label: [`LabelSource::Inferred`] or [`LabelSource::Citizen`].
    pub label_source: LabelSource,
    /// A name the citizen gave it.
    pub name: Option<String>,
    /// Never part of any contribution when true.
    pub private: bool,
    /// Stays clustered into it by the latest analysis; 0 for a place kept
    /// only because the citizen named, relabelled or hid it.
    pub visits: u32,
}

/// A WGS84 position.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct GeoPoint {
    /// Latitude, degrees.
    pub lat: f64,
    /// Longitude, degrees.
    pub lon: f64,
}

named_enum! {
    /// Who decided a label (a leg's mode, a trip's purpose).
    LabelSource {
        /// Inferred by the analysis.
        Inferred => "inferred",
        /// Proposed from a similar trip the citizen corrected; not yet confirmed.
        Suggested => "suggested",
        /// Set by the citizen: never overwritten by re-analysis.
        Citizen => "citizen",
    }
}

/// A movement between two activities.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trip {
    /// Store-assigned identifier (0 before storing).
    pub id: i64,
    /// The device that recorded it.
    pub device: String,
    /// Departure.
    pub start: Timestamp,
    /// Arrival.
    pub end: Timestamp,
    /// Where it started.
    pub origin: GeoPoint,
    /// Where it ended.
    pub destination: GeoPoint,
    /// The place it started from, when known.
    pub origin_place_id: Option<i64>,
    /// The place it ended at, when known.
    pub destination_place_id: Option<i64>,
    /// Travelled distance in metres.
    pub distance_m: f64,
    /// Purpose, inferred, suggested or set by the citizen.
    pub purpose: Option<Purpose>,
    /// Who decided the purpose.
    pub purpose_source: Option<LabelSource>,
    /// Never part of any contribution when true.
    pub private: bool,
    /// The single-mode parts of the trip, in order.
    pub legs: Vec<Leg>,
}

impl Trip {
    /// The trip's emissions, gCO2e: the sum over its legs, or `None` when
    /// any leg's is unknown (an unknown part makes the total unknown, never
    /// smaller).
    pub fn co2_g(&self) -> Option<f64> {
        self.legs.iter().map(|l| l.co2_g).sum()
    }

    /// Energy spent over the trip's legs, kcal.
    pub fn kcal(&self) -> f64 {
        self.legs.iter().map(|l| l.kcal).sum()
    }

    /// The trip as the analysis alone left it: inferred modes, no places,
    /// purpose, privacy or footprint. Everything derived afterwards (from
    /// places, corrections, suggestions, settings) is derived again from
    /// this, so a refresh never builds on its own previous output.
    pub fn as_inferred(mut self) -> Trip {
        self.id = 0;
        self.origin_place_id = None;
        self.destination_place_id = None;
        self.purpose = None;
        self.purpose_source = None;
        self.private = false;
        for leg in &mut self.legs {
            leg.mode = leg.inferred_mode;
            leg.confidence = leg.inferred_confidence;
            leg.mode_source = LabelSource::Inferred;
            leg.co2_g = None;
            leg.co2_factor_version = None;
            leg.kcal = 0.0;
        }
        self
    }
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
    /// The mode.
    pub mode: Mode,
    /// Confidence in `[0, 1]`; 1 when the citizen set it.
    pub confidence: f32,
    /// Who decided the mode.
    pub mode_source: LabelSource,
    /// The mode the analysis inferred, kept under any correction or
    /// suggestion so that a refresh can start again from the analysis.
    pub inferred_mode: Mode,
    /// The analysis's confidence in `inferred_mode`.
    pub inferred_confidence: f32,
    /// gCO2e attributed to the citizen for this leg; `None` when unknown
    /// (no factor for the mode: ferry, unknown), which is not zero.
    #[serde(default)]
    pub co2_g: Option<f64>,
    /// Version of the emission-factor table `co2_g` was computed with.
    #[serde(default)]
    pub co2_factor_version: Option<String>,
    /// Energy spent, kcal (0 for motorised modes).
    #[serde(default)]
    pub kcal: f64,
}

/// What a correction sets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum CorrectionValue {
    /// The mode of the leg covering the interval.
    Mode(Mode),
    /// The purpose of the trip covering the interval.
    Purpose(Purpose),
    /// Whether the trip covering the interval is private.
    Private(bool),
    /// The trip running at the interval's start is two trips, cut there.
    Split,
    /// The trips within the interval are one trip.
    Merge,
}

/// A citizen's correction of one interval of one device's history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Correction {
    /// Store-assigned identifier (0 before storing).
    pub id: i64,
    /// The device.
    pub device: String,
    /// Start of the corrected trip or leg.
    pub start: Timestamp,
    /// End of the corrected trip or leg.
    pub end: Timestamp,
    /// What it sets.
    pub value: CorrectionValue,
}
