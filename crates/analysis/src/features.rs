//! What a leg looks like to the mode classifier.

use crate::motion::{Motion, quantile};
use serde::{Deserialize, Serialize};
use sillage_model::Fix;

/// Zheng et al.'s thresholds for the "robust" rates (UbiComp 2008).
const HEADING_CHANGE_DEG: f64 = 19.0;
const STOP_SPEED_MPS: f64 = 3.4;
const VELOCITY_CHANGE_RATIO: f64 = 0.26;

/// Speed bands for the time shares, m/s: walking, cycling, urban traffic,
/// roads and suburban rail, fast roads and main-line rail.
const BANDS_MPS: [f64; 4] = [2.5, 6.0, 12.0, 20.0];
/// A silence longer than this between two fixes is a gap, ms (tunnels,
/// duty-cycled sensing).
const GAP_MS: i64 = 60_000;
/// A stop is at least this long below 0.5 m/s, ms.
const STOP_MIN_MS: i64 = 15_000;
/// How far before and after the leg its context reaches, ms.
const CONTEXT_MS: i64 = 10 * 60_000;
/// The value of a feature that cannot be computed (no reported speed, no
/// context): below every real value, so a tree can set it apart.
pub const MISSING: f64 = -1.0;

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
    /// 10th percentile speed: how much of the leg is spent (nearly) still.
    pub speed_p10: f64,
    /// Standard deviation over mean of the speed (stop-and-go vs steady).
    pub speed_cv: f64,
    /// Median speed reported by the device itself, m/s ([`MISSING`] when
    /// none was: iOS marks invalid speeds, Android's 0 means unknown).
    pub reported_speed_p50: f64,
    /// 85th percentile reported speed ([`MISSING`] when none).
    pub reported_speed_p85: f64,
    /// Share of the time at 2.5–6 m/s (cycling, slow traffic).
    pub share_2_6: f64,
    /// Share of the time at 6–12 m/s (urban traffic).
    pub share_6_12: f64,
    /// Share of the time at 12–20 m/s (roads, suburban rail).
    pub share_12_20: f64,
    /// Share of the time above 20 m/s (fast roads, main-line rail).
    pub share_above_20: f64,
    /// Share of the time in silences longer than a minute (tunnels, sensing
    /// paused).
    pub gap_share: f64,
    /// Straight-line displacement over path length (1 = straight).
    pub straightness: f64,
    /// Stops of 15 s or more below 0.5 m/s, per km.
    pub stops_per_km: f64,
    /// Median speed in the ten minutes before and after the leg, m/s
    /// ([`MISSING`] when no fix is there): a slow stretch between two fast
    /// ones is more likely traffic than a walk.
    pub context_speed_p50: f64,
    /// 85th percentile speed around the leg ([`MISSING`] when none).
    pub context_speed_p85: f64,
}

impl LegFeatures {
    /// Feature names, in the order of [`LegFeatures::to_vec`].
    pub const NAMES: [&'static str; 28] = [
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
        "speed_p10",
        "speed_cv",
        "reported_speed_p50",
        "reported_speed_p85",
        "share_2_6",
        "share_6_12",
        "share_12_20",
        "share_above_20",
        "gap_share",
        "straightness",
        "stops_per_km",
        "context_speed_p50",
        "context_speed_p85",
    ];

    /// The features as a vector, for models.
    pub fn to_vec(&self) -> [f64; 28] {
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
            self.speed_p10,
            self.speed_cv,
            self.reported_speed_p50,
            self.reported_speed_p85,
            self.share_2_6,
            self.share_6_12,
            self.share_12_20,
            self.share_above_20,
            self.gap_share,
            self.straightness,
            self.stops_per_km,
            self.context_speed_p50,
            self.context_speed_p85,
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
        let accuracies: Vec<f64> = fixes[range.clone()]
            .iter()
            .filter_map(|f| f.accuracy_m)
            .map(f64::from)
            .collect();
        let extra = Extra::compute(fixes, motion, first, end);
        let per_km = |n: usize| n as f64 / km;
        Self {
            speed_p10: quantile(speeds, 0.1),
            speed_cv: extra.speed_cv,
            reported_speed_p50: quantile_or_missing(&extra.reported, 0.5),
            reported_speed_p85: quantile_or_missing(&extra.reported, 0.85),
            share_2_6: extra.band_share[1],
            share_6_12: extra.band_share[2],
            share_12_20: extra.band_share[3],
            share_above_20: extra.band_share[4],
            gap_share: extra.gap_share,
            straightness: if distance_m > 0.0 {
                (extra.displacement_m / distance_m).min(1.0)
            } else {
                0.0
            },
            stops_per_km: per_km(extra.stops),
            context_speed_p50: quantile_or_missing(&extra.context, 0.5),
            context_speed_p85: quantile_or_missing(&extra.context, 0.85),
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

/// The quantile, or [`MISSING`] when there is nothing to take it of.
fn quantile_or_missing(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        MISSING
    } else {
        quantile(values, p)
    }
}

/// The features added to Zheng's set, computed in one pass.
struct Extra {
    speed_cv: f64,
    reported: Vec<f64>,
    /// Time shares below, between and above [`BANDS_MPS`].
    band_share: [f64; 5],
    gap_share: f64,
    displacement_m: f64,
    stops: usize,
    context: Vec<f64>,
}

impl Extra {
    fn compute(fixes: &[Fix], motion: &Motion, first: usize, end: usize) -> Self {
        let speeds = &motion.speed[first..end];
        let n = speeds.len() as f64;
        let mean = speeds.iter().sum::<f64>() / n;
        let variance = speeds.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / n;
        let reported = fixes[first..end]
            .iter()
            .filter_map(|f| f.speed_mps)
            .filter(|&v| v > 0.0)
            .map(f64::from)
            .collect();
        // Time is attributed to the step arriving at each fix, at that
        // fix's speed, so irregular sampling does not bias the shares.
        let mut band_ms = [0i64; 5];
        let (mut gap_ms, mut total_ms, mut still_run_ms, mut stops) = (0i64, 0i64, 0i64, 0usize);
        for i in first + 1..end {
            let dt = fixes[i].time.0 - fixes[i - 1].time.0;
            total_ms += dt;
            let band = BANDS_MPS.iter().filter(|&&b| motion.speed[i] >= b).count();
            band_ms[band] += dt;
            if dt > GAP_MS {
                gap_ms += dt;
            }
            if motion.speed[i] < 0.5 {
                still_run_ms += dt;
            } else {
                if still_run_ms >= STOP_MIN_MS {
                    stops += 1;
                }
                still_run_ms = 0;
            }
        }
        if still_run_ms >= STOP_MIN_MS {
            stops += 1;
        }
        let share = |ms: i64| {
            if total_ms > 0 {
                ms as f64 / total_ms as f64
            } else {
                0.0
            }
        };
        let (a, b) = (&fixes[first], &fixes[end - 1]);
        let (start, stop) = (a.time.0 - CONTEXT_MS, b.time.0 + CONTEXT_MS);
        let before = fixes[..first].partition_point(|f| f.time.0 < start);
        let after = end + fixes[end..].partition_point(|f| f.time.0 <= stop);
        let context = motion.speed[before..first]
            .iter()
            .chain(&motion.speed[end..after])
            .copied()
            .collect();
        Self {
            speed_cv: if mean > 0.0 {
                variance.sqrt() / mean
            } else {
                0.0
            },
            reported,
            band_share: band_ms.map(share),
            gap_share: share(gap_ms),
            displacement_m: crate::geo::fast_distance_m(a.lat, a.lon, b.lat, b.lon),
            stops,
            context,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::motion::motion;
    use sillage_model::Timestamp;

    /// Fixes every 5 s heading north at the given speeds (one per step).
    fn track(speeds: &[f64]) -> Vec<Fix> {
        let mut lat = 46.15;
        let mut out = vec![Fix::new(Timestamp(0), lat, -1.15)];
        for (k, v) in speeds.iter().enumerate() {
            lat += v * 5.0 / 111_195.0;
            out.push(Fix::new(Timestamp((k as i64 + 1) * 5000), lat, -1.15));
        }
        out
    }

    #[test]
    fn names_match_the_vector() {
        let f = LegFeatures::default();
        assert_eq!(LegFeatures::NAMES.len(), f.to_vec().len());
        let mut names = LegFeatures::NAMES.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), LegFeatures::NAMES.len());
    }

    #[test]
    fn steady_ride_with_one_stop() {
        // 5 min at 10 m/s, 40 s stopped, 5 min at 10 m/s.
        let speeds: Vec<f64> = [vec![10.0; 60], vec![0.0; 8], vec![10.0; 60]].concat();
        let fixes = track(&speeds);
        let m = motion(&fixes);
        let f = LegFeatures::compute(&fixes, &m, 0, fixes.len());
        assert!((f.distance_m - 6000.0).abs() < 30.0, "{f:?}");
        assert!(f.straightness > 0.99, "{f:?}");
        assert!(f.share_6_12 > 0.8, "{f:?}");
        assert_eq!(f.share_above_20, 0.0);
        assert_eq!(f.gap_share, 0.0);
        assert!((f.stops_per_km - 1.0 / 6.0).abs() < 0.01, "{f:?}");
        // Nothing reported by the device, nothing around the leg.
        assert_eq!(f.reported_speed_p50, MISSING);
        assert_eq!(f.context_speed_p85, MISSING);
    }

    #[test]
    fn context_reported_speed_and_gaps() {
        let mut fixes = track(&[1.3; 120]);
        for f in &mut fixes[40..80] {
            f.speed_mps = Some(1.5);
        }
        // A two-minute silence inside the leg.
        fixes.drain(55..79);
        let m = motion(&fixes);
        let f = LegFeatures::compute(&fixes, &m, 40, 60);
        assert!((f.reported_speed_p50 - 1.5).abs() < 1e-6, "{f:?}");
        assert!(f.gap_share > 0.5, "{f:?}");
        assert!((f.context_speed_p50 - 1.3).abs() < 0.3, "{f:?}");
        assert!(f.straightness > 0.99);
    }
}
