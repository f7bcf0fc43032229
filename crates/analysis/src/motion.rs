//! Per-fix motion: speed and acceleration estimated from positions, with
//! the device's own speed where it is trustworthy.

use crate::geo::fast_distance_m;
use sillage_model::Fix;

/// Motion at each fix of a time-ordered slice.
#[derive(Clone, Debug, Default)]
pub struct Motion {
    /// Speed at each fix, m/s, smoothed over a short window.
    pub speed: Vec<f64>,
    /// Distance from the previous fix, m (0 for the first).
    pub step_m: Vec<f64>,
    /// Heading of the step arriving at each fix, degrees (NaN when unknown).
    pub heading: Vec<f64>,
}

/// Half-width of the smoothing window, ms: GPS noise at rest easily reads
/// as walking speed over single steps, less so over half a minute.
const WINDOW_MS: i64 = 15_000;

/// Neighbours further apart than this are not used to estimate speed: a
/// silence this long is no unrecorded travel (the default
/// `untracked_travel_max_ms`, 90 min), while speed across a shorter one (a
/// tunnel) is the travel's.
pub const NEIGHBOUR_MAX_MS: i64 = 90 * 60_000;

/// Estimates speed at each fix from the displacement across a window of
/// ±15 s (at least the neighbours), which is robust to jitter at rest and to
/// irregular sampling. A positive speed reported by the device is averaged
/// in when present (zero is "unknown" on Android).
pub fn motion(fixes: &[Fix]) -> Motion {
    let n = fixes.len();
    let mut m = Motion {
        speed: vec![0.0; n],
        step_m: vec![0.0; n],
        heading: vec![f64::NAN; n],
    };
    if n < 2 {
        return m;
    }
    for i in 1..n {
        let (a, b) = (&fixes[i - 1], &fixes[i]);
        m.step_m[i] = fast_distance_m(a.lat, a.lon, b.lat, b.lon);
        if m.step_m[i] > 1.0 {
            m.heading[i] = crate::geo::fast_bearing_deg(a.lat, a.lon, b.lat, b.lon);
        }
    }
    // Cumulative path length, for window distances in O(1).
    let mut path = vec![0.0; n];
    for i in 1..n {
        path[i] = path[i - 1] + m.step_m[i];
    }
    let (mut lo, mut hi) = (0, 0);
    for i in 0..n {
        let t = fixes[i].time.0;
        while fixes[lo].time.0 < t - WINDOW_MS && lo < i {
            lo += 1;
        }
        while hi + 1 < n && fixes[hi + 1].time.0 <= t + WINDOW_MS {
            hi += 1;
        }
        // The neighbours widen a window that holds no other fix, unless
        // they lie across a silence: a speed averaged over an hour without
        // data says nothing about this fix (and would make a fix's speed
        // depend on data recorded long after, which incremental analysis
        // of new days must not see).
        let near = |j: usize| (fixes[j].time.0 - t).abs() <= NEIGHBOUR_MAX_MS;
        let a = if i > 0 && near(i - 1) {
            lo.min(i - 1)
        } else {
            lo
        };
        let b = if i + 1 < n && near(i + 1) {
            hi.max(i + 1)
        } else {
            hi
        };
        let dt = (fixes[b].time.0 - fixes[a].time.0) as f64 / 1000.0;
        // Net displacement, not path length: jitter at rest cancels out.
        let net = fast_distance_m(fixes[a].lat, fixes[a].lon, fixes[b].lat, fixes[b].lon);
        let along = path[b] - path[a];
        let distance = net.max(along * 0.5).min(along);
        let estimated = if dt > 0.0 { distance / dt } else { 0.0 };
        m.speed[i] = match fixes[i].speed_mps {
            Some(reported) if reported > 0.0 => (estimated + f64::from(reported)) / 2.0,
            _ => estimated,
        };
    }
    m
}

/// The `p`-quantile (0–1) of `values` by nearest rank; 0 when empty.
pub fn quantile(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return 0.0;
    }
    sorted.sort_by(f64::total_cmp);
    sorted[((sorted.len() - 1) as f64 * p.clamp(0.0, 1.0)).round() as usize]
}
