//! Stay points by the sliding method (Li et al. 2008), with trackintel's
//! exact semantics so that results can be compared one to one.

use crate::AnalysisParams;
use crate::geo::fast_distance_m;
use sillage_model::{Fix, StayPoint, Timestamp};

/// A stay, with the range of fixes it covers.
#[derive(Clone, Debug, PartialEq)]
pub struct Stay {
    /// The stay point (start = first fix, end = first fix outside, or the
    /// fix after a silence for stays inferred from a gap).
    pub point: StayPoint,
    /// Index of the first fix of the stay.
    pub first: usize,
    /// Index one past the last fix of the stay.
    pub end: usize,
    /// True when the stay was inferred from a silence: the device stopped
    /// logging and resumed at the same place.
    pub from_gap: bool,
}

impl Stay {
    /// Duration in ms.
    pub fn duration_ms(&self) -> i64 {
        self.point.end.0 - self.point.start.0
    }
}

/// Sliding stay detection over time-ordered fixes.
///
/// An anchor fix is kept until a fix lies `stay_distance_m` or more away;
/// if that took `stay_min_ms` or more, the fixes from the anchor up to (not
/// including) that fix form a stay, which ends at that fix's time. A silence
/// longer than `gap_ms` between consecutive fixes resets the anchor (as
/// trackintel does); when the device resumes within `stay_distance_m` of
/// where it fell silent, the silence itself is reported as a stay, since
/// duty-cycled and distance-filtered phones stop logging exactly when their
/// owner stops moving.
pub fn stay_points(fixes: &[Fix], params: &AnalysisParams) -> Vec<Stay> {
    let mut stays = Vec::new();
    if fixes.is_empty() {
        return stays;
    }
    let mut start = 0;
    for curr in 1..fixes.len() {
        let (prev, here) = (&fixes[curr - 1], &fixes[curr]);
        if here.time.0 - prev.time.0 > params.gap_ms && !params.stays_across_silences {
            start = curr;
            continue;
        }
        if here.time.0 - prev.time.0 > params.gap_ms {
            // Close a stay in progress at the silence, as if the device had left then.
            if start < curr - 1 && prev.time.0 - fixes[start].time.0 >= params.stay_min_ms {
                stays.push(make_stay(fixes, start, curr, prev.time, false));
            }
            if fast_distance_m(prev.lat, prev.lon, here.lat, here.lon) < params.stay_distance_m {
                let silent = gap_stay(fixes, curr - 1, curr);
                merge_or_push(&mut stays, silent, params);
            }
            start = curr;
            continue;
        }
        let anchor = &fixes[start];
        if fast_distance_m(anchor.lat, anchor.lon, here.lat, here.lon) >= params.stay_distance_m {
            if here.time.0 - anchor.time.0 >= params.stay_min_ms {
                let stay = make_stay(fixes, start, curr, here.time, false);
                if params.stays_across_silences {
                    merge_or_push(&mut stays, stay, params);
                } else {
                    stays.push(stay);
                }
            }
            start = curr;
        }
    }
    // Data that ends during a stay (the phone is home, the export was made)
    // ends with that stay, not with a trip made of GPS noise; trackintel
    // calls this `include_last`.
    let last = fixes.len() - 1;
    if params.stays_across_silences
        && start < last
        && fixes[last].time.0 - fixes[start].time.0 >= params.stay_min_ms
    {
        let stay = make_stay(fixes, start, fixes.len(), fixes[last].time, false);
        merge_or_push(&mut stays, stay, params);
    }
    stays
}

/// A stay covering a silence between fix `before` and fix `after`.
fn gap_stay(fixes: &[Fix], before: usize, after: usize) -> Stay {
    let (a, b) = (&fixes[before], &fixes[after]);
    Stay {
        point: StayPoint {
            start: a.time,
            end: b.time,
            lat: (a.lat + b.lat) / 2.0,
            lon: (a.lon + b.lon) / 2.0,
            place_id: None,
        },
        first: before,
        end: after + 1,
        from_gap: true,
    }
}

/// A stay over fixes `[first, end)`, ending at `end_time`. The position is
/// the centroid of the distinct coordinates (trackintel's choice: repeated
/// fixes at one spot must not pull the centre).
fn make_stay(fixes: &[Fix], first: usize, end: usize, end_time: Timestamp, from_gap: bool) -> Stay {
    // Sorting bit patterns is exact for deduplication and much cheaper
    // than comparing floats.
    let mut coords: Vec<(u64, u64)> = fixes[first..end]
        .iter()
        .map(|f| (f.lat.to_bits(), f.lon.to_bits()))
        .collect();
    coords.sort_unstable();
    coords.dedup();
    let n = coords.len() as f64;
    let lat = coords.iter().map(|c| f64::from_bits(c.0)).sum::<f64>() / n;
    let lon = coords.iter().map(|c| f64::from_bits(c.1)).sum::<f64>() / n;
    Stay {
        point: StayPoint {
            start: fixes[first].time,
            end: end_time,
            lat,
            lon,
            place_id: None,
        },
        first,
        end,
        from_gap,
    }
}

/// Appends a stay, merging it into the previous one when they touch in time
/// and lie within the stay radius (a stay interrupted by a silence or a
/// wobble is one stay).
fn merge_or_push(stays: &mut Vec<Stay>, stay: Stay, params: &AnalysisParams) {
    if let Some(last) = stays.last_mut() {
        let touching = stay.point.start.0 - last.point.end.0 <= 60_000;
        let close = fast_distance_m(
            last.point.lat,
            last.point.lon,
            stay.point.lat,
            stay.point.lon,
        ) < params.stay_distance_m;
        if touching && close {
            last.point.end = last.point.end.max(stay.point.end);
            last.end = last.end.max(stay.end);
            last.from_gap &= stay.from_gap;
            return;
        }
    }
    stays.push(stay);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fix(s: i64, lat: f64, lon: f64) -> Fix {
        Fix::new(Timestamp(s * 1000), lat, lon)
    }

    /// Home for 10 min, 5 min walk away, office for 20 min.
    fn day() -> Vec<Fix> {
        let mut fixes = Vec::new();
        for i in 0..20 {
            fixes.push(fix(i * 30, 46.1600 + (i % 2) as f64 * 0.00005, -1.1500));
        }
        for i in 0..10 {
            fixes.push(fix(
                600 + i * 30,
                46.1600 + (i + 1) as f64 * 0.0004,
                -1.1500,
            ));
        }
        for i in 0..40 {
            fixes.push(fix(
                900 + i * 30,
                46.1640,
                -1.1500 + (i % 2) as f64 * 0.00005,
            ));
        }
        fixes
    }

    #[test]
    fn sliding_finds_home_and_office() {
        let stays = stay_points(&day(), &AnalysisParams::default());
        assert_eq!(
            stays.len(),
            2,
            "home, and the office where the data ends: {stays:?}"
        );
        assert_eq!(stays[1].point.end, Timestamp(2_070_000));
        let trackintel = AnalysisParams {
            stays_across_silences: false,
            ..AnalysisParams::default()
        };
        assert_eq!(
            stay_points(&day(), &trackintel).len(),
            1,
            "trackintel drops the last stay"
        );
        let home = &stays[0];
        assert_eq!(home.point.start, Timestamp(0));
        // trackintel ends a stay at the first fix outside the radius.
        assert_eq!(home.first, 0);
        assert!(home.end >= 20);
        assert!(!home.from_gap);
    }

    #[test]
    fn silence_at_one_place_is_a_stay_and_with_displacement_is_not() {
        let mut fixes: Vec<Fix> = (0..10)
            .map(|i| fix(i * 10, 46.16 + i as f64 * 0.001, -1.15))
            .collect();
        // Silent for an hour, resumes where it stopped.
        fixes.extend((0..10).map(|i| fix(3700 + i * 10, 46.169 + i as f64 * 0.001, -1.15)));
        // Silent for an hour, resumes 5 km away: untracked travel.
        fixes.extend((0..10).map(|i| fix(7400 + i * 10, 46.23 + i as f64 * 0.001, -1.15)));
        let stays = stay_points(&fixes, &AnalysisParams::default());
        assert_eq!(stays.len(), 1);
        assert!(stays[0].from_gap);
        assert_eq!(
            (stays[0].point.start, stays[0].point.end),
            (Timestamp(90_000), Timestamp(3_700_000))
        );
    }

    #[test]
    fn empty_input() {
        assert!(stay_points(&[], &AnalysisParams::default()).is_empty());
    }
}
