//! What a source itself inferred about the data: activity types, place visits.
//!
//! Hints are kept because they help the analysis (a phone's motion sensor is a
//! strong clue about walking vs driving), but they are *source-inferred*, never
//! ground truth: the analysis may overrule them and evaluation never scores
//! against them.

use crate::{Mode, Timestamp};
use serde::{Deserialize, Serialize};

/// A time interval over which a source claims something.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SourceHint {
    /// Start of the interval (UTC).
    pub start: Timestamp,
    /// End of the interval (UTC); equal to `start` for instantaneous readings.
    pub end: Timestamp,
    /// What is claimed.
    pub kind: HintKind,
    /// The source's own confidence in `[0, 1]`, when it gave one.
    pub confidence: Option<f32>,
}

/// The claim a hint makes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HintKind {
    /// A motion / activity classification (Google activity type, phone motion
    /// activity, Overland `motion`). `label` is the source's own word.
    Activity {
        /// The source's label, e.g. `IN_BUS`, `walking`, `cycling`.
        label: String,
        /// Our reading of that label, when it maps to a mode.
        mode: Option<Mode>,
    },
    /// The source believes the device stayed at a place.
    PlaceVisit {
        /// Latitude of the place, when given.
        lat: Option<f64>,
        /// Longitude of the place, when given.
        lon: Option<f64>,
        /// A semantic label or name (`HOME`, `WORK`, a place name).
        label: Option<String>,
    },
}

impl SourceHint {
    /// An activity hint for the source label `label`, read into a mode when
    /// the label names one.
    pub fn activity(
        start: Timestamp,
        end: Timestamp,
        label: &str,
        confidence: Option<f32>,
    ) -> Self {
        Self {
            start,
            end,
            confidence,
            kind: HintKind::Activity {
                mode: Mode::from_source_activity(label),
                label: label.to_owned(),
            },
        }
    }
}
