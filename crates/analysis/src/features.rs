//! What a leg looks like to the mode classifier.

use crate::motion::{Motion, quantile};
use serde::{Deserialize, Serialize};
use sillage_model::Fix;

/// Zheng et al.'s thresholds for the "robust" rates (UbiComp 2008).
const HEADING_CHANGE_DEG: f64 = 19.0;
const STOP_SPEED_MPS: f64 = 3.4;
const VELOCITY_CHANGE_RATIO: f64 = 0.26;

/// Features of one leg. Rates are per kilometre, as Zheng et al. define
/// them, so that long and short legs compare.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LegFeatures {
    /// Duration, s.
    pub duration_s: f64,
    /// Path length, m.
    pub distance_m: f64,
    /// Distance over duration, m/s.
    pub mean_speed: f64,
    /// Speed percentiles, m/s.
    pub speed_p50: f64,
    /// 85th percentile speed.
    pub speed_p85: f64,
    /// 95th percentile speed.
    pub speed_p95: f64,
    /// Highest speed.
    pub speed_max: f64,
    /// Acceleration magnitude percentiles, m/s².
    pub accel_p85: f64,
    /// 95th percentile acceleration.
    pub accel_p95: f64,
    /// Heading changes above 19° per km.
    pub heading_change_rate: f64,
    /// Fixes below 3.4 m/s per km.
    pub stop_rate: f64,
    /// Relative speed changes above 26 % per km.
    pub velocity_change_rate: f64,
    /// Share of the leg's time spent below 0.5 m/s.
    pub still_share: f64,
    /// Median horizontal accuracy, m (0 when unknown).
    pub accuracy_p50: f64,
    /// Fixes per minute.
    pub sampling_per_min: f64,
}

impl LegFeatures {
    /// Feature names, in the order of [`LegFeatures::to_vec`].
    pub const NAMES: [&'static str; 15] = [
        "duration_s",
        "distance_m",
        "mean_speed",
        "speed_p50",
        "speed_p85",
        "speed_p95",
        "speed_max",
        "accel_p85",
        "accel_p95",
        "heading_change_rate",
        "stop_rate",
        "velocity_change_rate",
        "still_share",
        "accuracy_p50",
        "sampling_per_min",
    ];

    /// The features as a vector, for models.
    pub fn to_vec(&self) -> [f64; 15] {
        [
            self.duration_s,
            self.distance_m,
            self.mean_speed,
            self.speed_p50,
            self.speed_p85,
            self.speed_p95,
            self.speed_max,
            self.accel_p85,
            self.accel_p95,
            self.heading_change_rate,
            self.stop_rate,
            self.velocity_change_rate,
            self.still_share,
            self.accuracy_p50,
            self.sampling_per_min,
        ]
    }

    /// Computes the features of fixes `[first, end)`.
    pub fn compute(fixes: &[Fix], motion: &Motion, first: usize, end: usize) -> Self {
        let end = end.min(fixes.len());
        if end <= first {
            return Self::default();
        }
        let range = first..end;
        let duration_s = (fixes[end - 1].time.0 - fixes[first].time.0) as f64 / 1000.0;
        let distance_m: f64 = motion.step_m[first + 1..end].iter().sum();
        let speeds = &motion.speed[range.clone()];
        let mut accels = Vec::new();
        let (mut heading_changes, mut velocity_changes, mut still_ms) = (0usize, 0usize, 0i64);
        for i in first + 1..end {
            let dt = (fixes[i].time.0 - fixes[i - 1].time.0) as f64 / 1000.0;
            if dt > 0.0 {
                accels.push((motion.speed[i] - motion.speed[i - 1]).abs() / dt);
            }
            let (h0, h1) = (motion.heading[i - 1], motion.heading[i]);
            if h0.is_finite() && h1.is_finite() {
                let turn = (h1 - h0).rem_euclid(360.0);
                if turn.min(360.0 - turn) > HEADING_CHANGE_DEG {
                    heading_changes += 1;
                }
            }
            let v0 = motion.speed[i - 1];
            if v0 > 0.1 && (motion.speed[i] - v0).abs() / v0 > VELOCITY_CHANGE_RATIO {
                velocity_changes += 1;
            }
            if motion.speed[i] < 0.5 {
                still_ms += fixes[i].time.0 - fixes[i - 1].time.0;
            }
        }
        let km = (distance_m / 1000.0).max(0.05);
        let stops = speeds.iter().filter(|&&s| s < STOP_SPEED_MPS).count();
        let accuracies: Vec<f64> = fixes[range]
            .iter()
            .filter_map(|f| f.accuracy_m)
            .map(f64::from)
            .collect();
        Self {
            duration_s,
            distance_m,
            mean_speed: if duration_s > 0.0 {
                distance_m / duration_s
            } else {
                0.0
            },
            speed_p50: quantile(speeds, 0.5),
            speed_p85: quantile(speeds, 0.85),
            speed_p95: quantile(speeds, 0.95),
            speed_max: quantile(speeds, 1.0),
            accel_p85: quantile(&accels, 0.85),
            accel_p95: quantile(&accels, 0.95),
            heading_change_rate: heading_changes as f64 / km,
            stop_rate: stops as f64 / km,
            velocity_change_rate: velocity_changes as f64 / km,
            still_share: if duration_s > 0.0 {
                still_ms as f64 / 1000.0 / duration_s
            } else {
                0.0
            },
            accuracy_p50: quantile(&accuracies, 0.5),
            sampling_per_min: if duration_s > 0.0 {
                (end - first) as f64 / duration_s * 60.0
            } else {
                0.0
            },
        }
    }
}
