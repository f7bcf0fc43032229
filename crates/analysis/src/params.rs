//! Every threshold of the pipeline, with the de-facto defaults of the
//! established implementations (trackintel, e-mission), so results compare.

use serde::{Deserialize, Serialize};

/// Parameters of the analysis pipeline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AnalysisParams {
    /// Fixes less accurate than this are dropped before anything else
    /// (e-mission keeps `accuracy < 200` m).
    pub max_accuracy_m: f32,
    /// Speed between fixes above which a fix is a jump, whatever the
    /// inter-quartile rule says (m/s; 90 m/s = 324 km/h, above high-speed rail).
    pub jump_speed_floor_mps: f64,
    /// Inter-quartile multiplier of the speed outlier rule (e-mission, MovingPandas: 3).
    pub jump_iqr_factor: f64,
    /// Radius of a stay (trackintel `dist_threshold`).
    pub stay_distance_m: f64,
    /// Minimum duration of a stay, ms (trackintel `time_threshold`, 5 min).
    pub stay_min_ms: i64,
    /// A silence longer than this between fixes breaks stays and trips, ms
    /// (trackintel `gap_threshold`, 15 min).
    pub gap_ms: i64,
    /// Infer stays across silences (a stay in progress when the device falls
    /// silent, and a silence that ends where it began). Off, the detector is
    /// exactly trackintel's `sliding` method, for comparisons.
    pub stays_across_silences: bool,
    /// A stay at least this long is an activity that ends a trip, ms (15 min).
    pub activity_min_ms: i64,
    /// Stays shorter than this between two movements that continue in the
    /// same direction are transfers (waiting for a train), not activities,
    /// ms. Longer stays always end a trip.
    pub transfer_max_ms: i64,
    /// A silence crossed faster than this (displacement over duration, m/s)
    /// was travel the device did not record — a metro tunnel, a phone that
    /// paused sensing — and stays inside the trip; slower, the traveller
    /// probably stopped somewhere and the trip is split (e-mission's
    /// untracked-time rule uses 3 km/h).
    pub untracked_travel_min_mps: f64,
    /// A silence longer than this always splits a trip, whatever the
    /// displacement: nobody rides a tunnel for longer, ms (90 min).
    pub untracked_travel_max_ms: i64,
    /// Trips with fewer fixes than this are noise.
    pub min_trip_fixes: usize,
    /// Trips shorter than this (straight-line extent) are noise, m.
    pub min_trip_extent_m: f64,
    /// Trips shorter than this are noise, ms.
    pub min_trip_ms: i64,
}

impl Default for AnalysisParams {
    fn default() -> Self {
        Self {
            max_accuracy_m: 200.0,
            jump_speed_floor_mps: 90.0,
            jump_iqr_factor: 3.0,
            stay_distance_m: 100.0,
            stay_min_ms: 5 * 60_000,
            gap_ms: 15 * 60_000,
            stays_across_silences: true,
            activity_min_ms: 15 * 60_000,
            transfer_max_ms: 30 * 60_000,
            untracked_travel_min_mps: 0.8,
            untracked_travel_max_ms: 90 * 60_000,
            min_trip_fixes: 4,
            min_trip_extent_m: 200.0,
            min_trip_ms: 60_000,
        }
    }
}
