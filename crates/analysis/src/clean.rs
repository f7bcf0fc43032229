//! Cleaning: drop what would mislead every later stage.

use crate::AnalysisParams;
use crate::geo::fast_distance_m;
use sillage_model::Fix;

/// Returns the fixes worth analysing, in time order: accurate enough, one
/// per instant, without jumps (speed outliers by the inter-quartile rule)
/// and without zig-zag spikes (a fix far from both neighbours that are
/// themselves close together).
pub fn clean(fixes: &[Fix], params: &AnalysisParams) -> Vec<Fix> {
    let mut kept: Vec<Fix> = fixes
        .iter()
        .filter(|f| f.accuracy_m.is_none_or(|a| a <= params.max_accuracy_m))
        .copied()
        .collect();
    kept.sort_by_key(|f| f.time);
    kept.dedup_by_key(|f| f.time);
    let threshold = jump_threshold(&kept, params);
    remove_jumps(&mut kept, threshold);
    remove_spikes(&mut kept, params.stay_distance_m);
    kept
}

/// Speed between two fixes, m/s (infinite for simultaneous distinct fixes).
pub fn speed_between(a: &Fix, b: &Fix) -> f64 {
    let dt = (b.time.0 - a.time.0) as f64 / 1000.0;
    let d = fast_distance_m(a.lat, a.lon, b.lat, b.lon);
    if dt <= 0.0 {
        if d > 0.0 { f64::INFINITY } else { 0.0 }
    } else {
        d / dt
    }
}

/// Q3 + k·IQR of consecutive speeds, never below the floor.
fn jump_threshold(fixes: &[Fix], params: &AnalysisParams) -> f64 {
    let mut speeds: Vec<f64> = fixes
        .windows(2)
        .map(|w| speed_between(&w[0], &w[1]))
        .filter(|s| s.is_finite())
        .collect();
    if speeds.len() < 4 {
        return params.jump_speed_floor_mps;
    }
    let mut q = |p: f64| {
        let k = ((speeds.len() - 1) as f64 * p).round() as usize;
        *speeds.select_nth_unstable_by(k, f64::total_cmp).1
    };
    let (q1, q3) = (q(0.25), q(0.75));
    (q3 + params.jump_iqr_factor * (q3 - q1)).max(params.jump_speed_floor_mps)
}

/// Drops every fix reached from the last kept fix faster than `threshold`.
fn remove_jumps(fixes: &mut Vec<Fix>, threshold: f64) {
    let mut out: Vec<Fix> = Vec::with_capacity(fixes.len());
    for fix in fixes.drain(..) {
        match out.last() {
            Some(last) if speed_between(last, &fix) > threshold => {}
            _ => out.push(fix),
        }
    }
    *fixes = out;
}

/// Drops a fix B between A and C when A–B and B–C are both long but A–C is
/// short: the device did not go there and come back within seconds.
fn remove_spikes(fixes: &mut Vec<Fix>, near_m: f64) {
    if fixes.len() < 3 {
        return;
    }
    let mut out: Vec<Fix> = Vec::with_capacity(fixes.len());
    out.push(fixes[0]);
    for i in 1..fixes.len() - 1 {
        let (a, b, c) = (out[out.len() - 1], fixes[i], fixes[i + 1]);
        let ab = fast_distance_m(a.lat, a.lon, b.lat, b.lon);
        let bc = fast_distance_m(b.lat, b.lon, c.lat, c.lon);
        let ac = fast_distance_m(a.lat, a.lon, c.lat, c.lon);
        let spike = ab > 2.0 * near_m
            && bc > 2.0 * near_m
            && ac < near_m
            && (c.time.0 - a.time.0) < 120_000;
        if !spike {
            out.push(b);
        }
    }
    out.push(fixes[fixes.len() - 1]);
    *fixes = out;
}

#[cfg(test)]
mod tests {
    use super::*;
    use sillage_model::Timestamp;

    fn fix(s: i64, lat: f64, lon: f64) -> Fix {
        Fix::new(Timestamp(s * 1000), lat, lon)
    }

    #[test]
    fn drops_inaccurate_duplicates_jumps_and_spikes() {
        let mut fixes: Vec<Fix> = (0..60)
            .map(|i| fix(i * 10, 46.16 + i as f64 * 0.0001, -1.15))
            .collect();
        fixes[5].accuracy_m = Some(500.0);
        fixes.push(fixes[10]); // duplicate instant
        fixes[20].lat += 0.5; // 55 km away for 10 s: a jump
        fixes[30].lon += 0.01; // 770 m sideways and back: a spike
        let cleaned = clean(&fixes, &AnalysisParams::default());
        assert_eq!(cleaned.len(), 57);
        assert!(cleaned.windows(2).all(|w| w[0].time < w[1].time));
        assert!(!cleaned.iter().any(|f| f.time == Timestamp(50_000)));
        assert!(!cleaned.iter().any(|f| f.time == Timestamp(200_000)));
        assert!(!cleaned.iter().any(|f| f.time == Timestamp(300_000)));
    }

    #[test]
    fn empty_and_tiny_inputs() {
        assert!(clean(&[], &AnalysisParams::default()).is_empty());
        assert_eq!(
            clean(&[fix(0, 46.0, -1.0)], &AnalysisParams::default()).len(),
            1
        );
    }
}
