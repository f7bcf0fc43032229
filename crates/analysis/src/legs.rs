//! Legs: cutting a trip into single-mode parts.
//!
//! Walking is the glue between modes (Zheng et al. 2008): nobody changes
//! from bus to train without a few steps. So each fix is labelled still,
//! walking-speed or faster; short runs are absorbed by their neighbours
//! (a bus stuck in traffic is not a walk, a jog to the bus is not a ride);
//! what remains are the legs.

use crate::motion::Motion;
use sillage_model::{Fix, Timestamp};

/// Fastest plausible walking speed, m/s (brisk walk ≈ 1.8, GPS noise adds).
pub const WALK_MAX_MPS: f64 = 2.4;
/// Below this the device is standing still, m/s.
const STILL_MAX_MPS: f64 = 0.5;
/// A walking run shorter than this (ms) or this (m) inside a ride is traffic.
const MIN_WALK_MS: i64 = 90_000;
const MIN_WALK_M: f64 = 60.0;
/// A fast run shorter than this (ms) between walks is a jog or GPS noise.
const MIN_FAST_MS: i64 = 60_000;

/// The coarse movement class of a leg, before mode inference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Movement {
    /// At walking speed.
    Slow,
    /// Faster than walking: a vehicle or a bike.
    Fast,
}

/// A leg as a range of fixes.
#[derive(Clone, Debug, PartialEq)]
pub struct LegSpan {
    /// Index of the first fix.
    pub first: usize,
    /// Index one past the last fix.
    pub end: usize,
    /// Start time.
    pub start_time: Timestamp,
    /// End time (the next leg's start, or the trip's end).
    pub end_time: Timestamp,
    /// Walking speed or faster.
    pub movement: Movement,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Class {
    Still,
    Slow,
    Fast,
}

/// A run of fixes of one class.
#[derive(Clone, Debug)]
struct Run {
    first: usize,
    end: usize,
    class: Class,
}

/// Splits the fixes `[first, end)` of a trip into legs.
pub fn split_legs(
    fixes: &[Fix],
    motion: &Motion,
    first: usize,
    end: usize,
    trip_end: Timestamp,
) -> Vec<LegSpan> {
    if end <= first {
        return Vec::new();
    }
    let class_of = |i: usize| {
        let s = motion.speed[i];
        if s < STILL_MAX_MPS {
            Class::Still
        } else if s <= WALK_MAX_MPS {
            Class::Slow
        } else {
            Class::Fast
        }
    };
    let mut runs: Vec<Run> = Vec::new();
    for i in first..end {
        let class = class_of(i);
        match runs.last_mut() {
            Some(run) if run.class == class => run.end = i + 1,
            _ => runs.push(Run {
                first: i,
                end: i + 1,
                class,
            }),
        }
    }
    // Standing still belongs to whatever came before (waiting after a walk,
    // a stop inside a ride), or to what follows at the very start.
    absorb(&mut runs, |r, _| r.class == Class::Still);
    // Then flip runs too short to be a leg of their own, shortest first.
    loop {
        let duration = |r: &Run| fixes[r.end - 1].time.0 - fixes[r.first].time.0 + 1;
        let length = |r: &Run| motion.step_m[r.first + 1..r.end].iter().sum::<f64>();
        let too_short = |r: &Run| match r.class {
            Class::Slow => duration(r) < MIN_WALK_MS || length(r) < MIN_WALK_M,
            Class::Fast => duration(r) < MIN_FAST_MS,
            Class::Still => true,
        };
        let candidate = (0..runs.len())
            .filter(|&k| runs.len() > 1 && too_short(&runs[k]))
            .min_by_key(|&k| duration(&runs[k]));
        let Some(k) = candidate else { break };
        let neighbour = match (k.checked_sub(1), runs.get(k + 1)) {
            (Some(p), Some(n)) => {
                if duration(&runs[p]) >= duration(n) {
                    p
                } else {
                    k + 1
                }
            }
            (Some(p), None) => p,
            (None, _) => k + 1,
        };
        runs[k].class = runs[neighbour].class;
        coalesce(&mut runs);
    }
    let mut legs: Vec<LegSpan> = runs
        .iter()
        .map(|r| LegSpan {
            first: r.first,
            end: r.end,
            start_time: fixes[r.first].time,
            end_time: trip_end,
            movement: if r.class == Class::Fast {
                Movement::Fast
            } else {
                Movement::Slow
            },
        })
        .collect();
    for k in 1..legs.len() {
        legs[k - 1].end_time = legs[k].start_time;
    }
    legs
}

/// Merges runs matching `absorbed` into their predecessor (or successor).
fn absorb(runs: &mut Vec<Run>, absorbed: impl Fn(&Run, usize) -> bool) {
    if runs.iter().all(|r| absorbed(r, 0)) {
        if let Some(run) = runs.first_mut() {
            run.class = Class::Slow;
        }
        coalesce(runs);
        return;
    }
    for k in 0..runs.len() {
        if absorbed(&runs[k], k) {
            let class = if k > 0 {
                runs[k - 1].class
            } else {
                runs[k + 1..]
                    .iter()
                    .find(|r| !absorbed(r, 0))
                    .map_or(Class::Slow, |r| r.class)
            };
            runs[k].class = class;
        }
    }
    coalesce(runs);
}

/// Joins adjacent runs of the same class.
fn coalesce(runs: &mut Vec<Run>) {
    let mut out: Vec<Run> = Vec::with_capacity(runs.len());
    for run in runs.drain(..) {
        match out.last_mut() {
            Some(last) if last.class == run.class => last.end = run.end,
            _ => out.push(run),
        }
    }
    *runs = out;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::motion::motion;

    fn fix(s: i64, lat: f64) -> Fix {
        Fix::new(Timestamp(s * 1000), lat, -1.15)
    }

    /// 4 min walk at 1.3 m/s, 1 min wait, 10 min bus at 8 m/s with a 40 s
    /// stop, 3 min walk.
    fn trip() -> Vec<Fix> {
        let mut f = Vec::new();
        let (mut t, mut lat) = (0i64, 46.15);
        let mut go = |f: &mut Vec<Fix>, secs: i64, mps: f64| {
            for _ in 0..secs / 5 {
                t += 5;
                lat += mps * 5.0 / 111_195.0;
                f.push(fix(t, lat));
            }
        };
        go(&mut f, 240, 1.3);
        go(&mut f, 60, 0.0);
        go(&mut f, 300, 8.0);
        go(&mut f, 40, 0.0);
        go(&mut f, 260, 8.0);
        go(&mut f, 180, 1.3);
        f
    }

    #[test]
    fn walk_ride_walk() {
        let fixes = trip();
        let m = motion(&fixes);
        let legs = split_legs(&fixes, &m, 0, fixes.len(), fixes[fixes.len() - 1].time);
        let kinds: Vec<Movement> = legs.iter().map(|l| l.movement).collect();
        assert_eq!(
            kinds,
            vec![Movement::Slow, Movement::Fast, Movement::Slow],
            "{legs:?}"
        );
        // The ride starts within ~15 s of the bus leaving (300 s).
        let ride = &legs[1];
        assert!((ride.start_time.0 - 300_000).abs() <= 20_000, "{ride:?}");
        assert!((ride.end_time.0 - 900_000).abs() <= 20_000, "{ride:?}");
        assert_eq!(legs[0].end_time, legs[1].start_time);
    }

    #[test]
    fn all_still_is_one_slow_leg() {
        let fixes: Vec<Fix> = (0..20).map(|i| fix(i * 10, 46.15)).collect();
        let m = motion(&fixes);
        let legs = split_legs(&fixes, &m, 0, fixes.len(), fixes[19].time);
        assert_eq!(legs.len(), 1);
        assert_eq!(legs[0].movement, Movement::Slow);
    }
}
