//! Trips: the movements between activities.

use crate::AnalysisParams;
use crate::geo::fast_distance_m;
use crate::stay::Stay;
use sillage_model::{Fix, Timestamp};

/// A trip as a range of fixes.
#[derive(Clone, Debug, PartialEq)]
pub struct TripSpan {
    /// Index of the first fix of the trip.
    pub first: usize,
    /// Index one past the last fix of the trip.
    pub end: usize,
    /// Departure: when the device left the previous activity.
    pub start_time: Timestamp,
    /// Arrival: when the device reached the next activity.
    pub end_time: Timestamp,
}

/// Cuts the fixes between activities (stays of at least `activity_min_ms`)
/// into trips. Shorter stays — waiting for a bus, a red light, a quick
/// errand under 15 minutes — stay inside their trip. A silence longer than
/// `gap_ms` splits a trip when it was crossed slower than
/// `untracked_travel_min_mps` (the device may have stopped anywhere
/// meanwhile); crossed faster, it was unrecorded travel and the trip goes
/// on. A silence that ended where it began is already a stay. Movements too
/// short in time or space to be a trip are dropped as noise.
pub fn trips(fixes: &[Fix], stays: &[Stay], params: &AnalysisParams) -> Vec<TripSpan> {
    let activities: Vec<&Stay> = stays
        .iter()
        .filter(|s| s.duration_ms() >= params.activity_min_ms)
        .collect();
    // Moving ranges: what lies between activities.
    let mut ranges = Vec::new();
    let mut cursor = 0;
    for activity in &activities {
        if activity.first > cursor {
            // The trip ends at the arrival fix, the first of the activity.
            ranges.push((cursor, (activity.first + 1).min(fixes.len())));
        }
        // The departure fix is the first one outside the activity.
        cursor = activity.end.saturating_sub(1).max(cursor);
        if activity.from_gap {
            cursor = activity.end.saturating_sub(1);
        }
    }
    if cursor + 1 < fixes.len() {
        ranges.push((cursor, fixes.len()));
    }
    let mut trips = Vec::new();
    for (first, end) in ranges {
        let mut piece_start = first;
        for i in first + 1..end {
            let (a, b) = (&fixes[i - 1], &fixes[i]);
            let silence = b.time.0 - a.time.0;
            let crossed = fast_distance_m(a.lat, a.lon, b.lat, b.lon) / (silence as f64 / 1000.0);
            let stopped_somewhere = crossed < params.untracked_travel_min_mps
                || silence > params.untracked_travel_max_ms;
            if silence > params.gap_ms && stopped_somewhere {
                push_trip(&mut trips, fixes, piece_start, i, params);
                piece_start = i;
            }
        }
        push_trip(&mut trips, fixes, piece_start, end, params);
    }
    join_transfers(trips, fixes, params)
}

/// Joins consecutive trips separated by a short stay when the second one
/// carries on away from where the first began: a wait on a platform, not an
/// errand (an errand comes back, or is a destination of its own).
fn join_transfers(trips: Vec<TripSpan>, fixes: &[Fix], params: &AnalysisParams) -> Vec<TripSpan> {
    let distance = |i: usize, j: usize| {
        fast_distance_m(fixes[i].lat, fixes[i].lon, fixes[j].lat, fixes[j].lon)
    };
    let mut joined: Vec<TripSpan> = Vec::with_capacity(trips.len());
    for trip in trips {
        if let Some(last) = joined.last_mut() {
            let pause = trip.start_time.0 - last.end_time.0;
            let (o1, d1, o2, d2) = (last.first, last.end - 1, trip.first, trip.end - 1);
            let carries_on = distance(o1, d2) > distance(o1, d1).max(distance(o2, d2));
            if pause <= params.transfer_max_ms && carries_on {
                last.end = trip.end;
                last.end_time = trip.end_time;
                continue;
            }
        }
        joined.push(trip);
    }
    joined
}

fn push_trip(
    trips: &mut Vec<TripSpan>,
    fixes: &[Fix],
    first: usize,
    end: usize,
    params: &AnalysisParams,
) {
    if end < first + params.min_trip_fixes.max(2) {
        return;
    }
    let span = &fixes[first..end];
    let (a, b) = (span[0], span[span.len() - 1]);
    if b.time.0 - a.time.0 < params.min_trip_ms {
        return;
    }
    let extent = span
        .iter()
        .map(|f| fast_distance_m(a.lat, a.lon, f.lat, f.lon))
        .fold(0.0, f64::max);
    if extent < params.min_trip_extent_m {
        return;
    }
    trips.push(TripSpan {
        first,
        end,
        start_time: a.time,
        end_time: b.time,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stay::stay_points;

    fn fix(s: i64, lat: f64, lon: f64) -> Fix {
        Fix::new(Timestamp(s * 1000), lat, lon)
    }

    /// Home 30 min, ride 10 min (with a 3 min red-light wait), work 40 min, ride home.
    fn day() -> Vec<Fix> {
        let mut f = Vec::new();
        let mut t = 0;
        let at = |f: &mut Vec<Fix>, t: &mut i64, lat: f64, lon: f64| {
            f.push(fix(*t, lat, lon));
            *t += 30;
        };
        for _ in 0..60 {
            at(&mut f, &mut t, 46.1500, -1.1500);
        }
        for i in 0..10 {
            at(&mut f, &mut t, 46.1500 + i as f64 * 0.0012, -1.1500);
        }
        for _ in 0..6 {
            at(&mut f, &mut t, 46.1620, -1.1500);
        }
        for i in 0..10 {
            at(&mut f, &mut t, 46.1620 + i as f64 * 0.0012, -1.1500);
        }
        for _ in 0..80 {
            at(&mut f, &mut t, 46.1740, -1.1500);
        }
        for i in 0..20 {
            at(&mut f, &mut t, 46.1740 - i as f64 * 0.0012, -1.1500);
        }
        for _ in 0..40 {
            at(&mut f, &mut t, 46.1500, -1.1500);
        }
        f
    }

    #[test]
    fn two_trips_with_a_short_wait_inside() {
        let fixes = day();
        let params = AnalysisParams::default();
        let stays = stay_points(&fixes, &params);
        let trips = trips(&fixes, &stays, &params);
        assert_eq!(trips.len(), 2, "{trips:?}");
        // The first trip leaves home at the first fix outside 100 m and
        // arrives at work with the first fix of the work stay.
        assert!(
            trips[0].start_time.0 >= 30 * 60_000 && trips[0].start_time.0 <= 31 * 60_000,
            "{:?}",
            trips[0]
        );
        assert!(
            trips[0].end_time.0 >= 42 * 60_000 && trips[0].end_time.0 <= 44 * 60_000,
            "{:?}",
            trips[0]
        );
        assert!(trips[1].start_time.0 > 80 * 60_000);
    }

    #[test]
    fn a_slow_silence_splits_a_trip_and_a_fast_one_does_not() {
        let params = AnalysisParams::default();
        let leg = |t0: i64, lat0: f64| {
            (0..20).map(move |i| fix(t0 + i * 10, lat0 + i as f64 * 0.001, -1.15))
        };
        // Resumes 1 km further after an hour: the traveller stopped somewhere.
        let slow: Vec<Fix> = leg(0, 46.15).chain(leg(3800, 46.178)).collect();
        let stays = stay_points(&slow, &params);
        assert_eq!(trips(&slow, &stays, &params).len(), 2);
        // Resumes 14 km further after 30 min: a metro tunnel.
        let fast: Vec<Fix> = leg(0, 46.15).chain(leg(2000, 46.3)).collect();
        let stays = stay_points(&fast, &params);
        assert_eq!(trips(&fast, &stays, &params).len(), 1);
    }
}
