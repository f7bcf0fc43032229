//! The citizen's word is final: corrections re-applied after every analysis.
//!
//! A correction labels a time interval, not a row, because re-analysis may
//! move boundaries a little or renumber everything. After each analysis the
//! correction goes to the leg (for a mode) or trip (for a purpose or the
//! private flag) whose interval overlaps it best, provided they share at
//! least half of their union; a correction that no longer matches anything
//! waits, unapplied, until data makes it match again.
//!
//! Splits and merges change which trips exist, so they come first
//! ([`apply_structure`]): a split cuts the trip running at its instant; a
//! merge joins the trips lying mostly inside its interval. Both are
//! idempotent, so applying them to a diary that already has them changes
//! nothing.

use crate::diary::Diary;
use sillage_model::{Correction, CorrectionValue, GeoPoint, LabelSource, Leg, Timestamp, Trip};

/// Share of the union two intervals have in common.
pub fn overlap_ratio(a: (Timestamp, Timestamp), b: (Timestamp, Timestamp)) -> f64 {
    let inter = (a.1.0.min(b.1.0) - a.0.0.max(b.0.0)).max(0) as f64;
    let union = (a.1.0.max(b.1.0) - a.0.0.min(b.0.0)).max(1) as f64;
    inter / union
}

/// The diary's trips as domain trips of `device`, labels inferred.
pub fn to_trips(device: &str, diary: &Diary) -> Vec<Trip> {
    diary
        .trips
        .iter()
        .map(|t| Trip {
            id: 0,
            device: device.to_owned(),
            start: t.start,
            end: t.end,
            origin: GeoPoint {
                lat: t.origin.0,
                lon: t.origin.1,
            },
            destination: GeoPoint {
                lat: t.destination.0,
                lon: t.destination.1,
            },
            origin_place_id: None,
            destination_place_id: None,
            distance_m: t.distance_m,
            purpose: None,
            purpose_source: None,
            private: false,
            legs: t
                .legs
                .iter()
                .map(|l| Leg {
                    start: l.start,
                    end: l.end,
                    distance_m: l.distance_m,
                    mode: l.guess.mode,
                    confidence: l.guess.confidence,
                    mode_source: LabelSource::Inferred,
                    inferred_mode: l.guess.mode,
                    inferred_confidence: l.guess.confidence,
                    co2_g: None,
                    co2_factor_version: None,
                    kcal: 0.0,
                })
                .collect(),
        })
        .collect()
}

/// Applies `corrections` (oldest first; later ones win) to `trips`.
/// Returns how many found their trip or leg.
pub fn apply_corrections(trips: &mut [Trip], corrections: &[Correction]) -> usize {
    let mut applied = 0;
    for c in corrections {
        let interval = (c.start, c.end);
        match &c.value {
            CorrectionValue::Mode(mode) => {
                let best = trips
                    .iter_mut()
                    .flat_map(|t| t.legs.iter_mut())
                    .map(|l| (overlap_ratio((l.start, l.end), interval), l))
                    .filter(|(r, _)| *r >= 0.5)
                    .max_by(|a, b| a.0.total_cmp(&b.0));
                if let Some((_, leg)) = best {
                    leg.mode = *mode;
                    leg.confidence = 1.0;
                    leg.mode_source = LabelSource::Citizen;
                    applied += 1;
                }
            }
            CorrectionValue::Purpose(_) | CorrectionValue::Private(_) => {
                let best = trips
                    .iter_mut()
                    .map(|t| (overlap_ratio((t.start, t.end), interval), t))
                    .filter(|(r, _)| *r >= 0.5)
                    .max_by(|a, b| a.0.total_cmp(&b.0));
                if let Some((_, trip)) = best {
                    match &c.value {
                        CorrectionValue::Purpose(p) => {
                            trip.purpose = Some(*p);
                            trip.purpose_source = Some(LabelSource::Citizen);
                        }
                        CorrectionValue::Private(private) => trip.private = *private,
                        _ => {}
                    }
                    applied += 1;
                }
            }
            CorrectionValue::Split | CorrectionValue::Merge => {}
        }
    }
    applied
}

/// Applies the splits and merges among `corrections` (oldest first) to one
/// device's trips, in time order. Returns how many changed something.
pub fn apply_structure(trips: &mut Vec<Trip>, corrections: &[Correction]) -> usize {
    let mut applied = 0;
    for c in corrections {
        match c.value {
            CorrectionValue::Split => {
                let at = c.start;
                if let Some(i) = trips.iter().position(|t| t.start < at && at < t.end) {
                    let second = split_trip(&mut trips[i], at);
                    trips.insert(i + 1, second);
                    applied += 1;
                }
            }
            CorrectionValue::Merge => {
                // Trips mostly inside the interval: boundaries may have moved
                // a little since the citizen merged them.
                let inside: Vec<usize> = (0..trips.len())
                    .filter(|&i| {
                        let t = &trips[i];
                        let within = (t.end.0.min(c.end.0) - t.start.0.max(c.start.0)).max(0);
                        within * 2 > (t.end.0 - t.start.0).max(1)
                    })
                    .collect();
                if let (Some(&first), Some(&last)) = (inside.first(), inside.last())
                    && last > first
                {
                    let merged: Vec<Trip> = trips.drain(first + 1..=last).collect();
                    for next in merged {
                        join_trip(&mut trips[first], next);
                    }
                    applied += 1;
                }
            }
            _ => {}
        }
    }
    applied
}

/// Cuts `trip` at `at` (strictly inside it); `trip` keeps the first part
/// and the second is returned. A leg running at `at` is cut too, its
/// distance shared in proportion to time. The cut point is placed between
/// the trip's ends in proportion to time: trips keep no geometry, and maps
/// draw the fixes anyway. Purposes are left to be inferred again.
fn split_trip(trip: &mut Trip, at: Timestamp) -> Trip {
    let share = (at.0 - trip.start.0) as f64 / (trip.end.0 - trip.start.0).max(1) as f64;
    let cut = GeoPoint {
        lat: trip.origin.lat + (trip.destination.lat - trip.origin.lat) * share,
        lon: trip.origin.lon + (trip.destination.lon - trip.origin.lon) * share,
    };
    let mut before = Vec::new();
    let mut after = Vec::new();
    for leg in std::mem::take(&mut trip.legs) {
        if leg.end <= at {
            before.push(leg);
        } else if leg.start >= at {
            after.push(leg);
        } else {
            let part = (at.0 - leg.start.0) as f64 / (leg.end.0 - leg.start.0).max(1) as f64;
            let scaled = |l: &Leg, k: f64| Leg {
                distance_m: l.distance_m * k,
                co2_g: l.co2_g.map(|g| g * k),
                kcal: l.kcal * k,
                ..l.clone()
            };
            before.push(Leg {
                end: at,
                ..scaled(&leg, part)
            });
            after.push(Leg {
                start: at,
                ..scaled(&leg, 1.0 - part)
            });
        }
    }
    let second = Trip {
        id: 0,
        start: at,
        origin: cut,
        origin_place_id: None,
        distance_m: after.iter().map(|l| l.distance_m).sum(),
        purpose: None,
        purpose_source: None,
        legs: after,
        ..trip.clone()
    };
    trip.end = at;
    trip.destination = cut;
    trip.destination_place_id = None;
    trip.distance_m = before.iter().map(|l| l.distance_m).sum();
    trip.purpose = None;
    trip.purpose_source = None;
    trip.legs = before;
    second
}

/// Appends `next` (which follows `trip`) to `trip`.
fn join_trip(trip: &mut Trip, next: Trip) {
    trip.end = next.end;
    trip.destination = next.destination;
    trip.destination_place_id = next.destination_place_id;
    trip.distance_m += next.distance_m;
    trip.private |= next.private;
    trip.purpose = None;
    trip.purpose_source = None;
    trip.legs.extend(next.legs);
}

#[cfg(test)]
mod tests {
    use super::*;
    use sillage_model::{Mode, Purpose};

    fn leg(a: i64, b: i64, mode: Mode) -> Leg {
        Leg {
            start: Timestamp(a),
            end: Timestamp(b),
            distance_m: 1000.0,
            mode,
            confidence: 0.5,
            mode_source: LabelSource::Inferred,
            inferred_mode: mode,
            inferred_confidence: 0.5,
            co2_g: None,
            co2_factor_version: None,
            kcal: 0.0,
        }
    }

    fn trip(a: i64, b: i64, legs: Vec<Leg>) -> Trip {
        Trip {
            id: 0,
            device: "phone".into(),
            start: Timestamp(a),
            end: Timestamp(b),
            origin: GeoPoint {
                lat: 46.1,
                lon: -1.1,
            },
            destination: GeoPoint {
                lat: 46.2,
                lon: -1.2,
            },
            origin_place_id: None,
            destination_place_id: None,
            distance_m: 1000.0,
            purpose: None,
            purpose_source: None,
            private: false,
            legs,
        }
    }

    fn correction(a: i64, b: i64, value: CorrectionValue) -> Correction {
        Correction {
            id: 1,
            device: "phone".into(),
            start: Timestamp(a),
            end: Timestamp(b),
            value,
        }
    }

    #[test]
    fn corrections_follow_moved_boundaries() {
        // Re-analysis moved the bus leg by 20 s; the correction still finds it.
        let mut trips = vec![trip(
            0,
            1000,
            vec![leg(0, 300, Mode::Walking), leg(300, 1000, Mode::Car)],
        )];
        let corrections = [
            correction(280, 990, CorrectionValue::Mode(Mode::Bus)),
            correction(10, 1000, CorrectionValue::Purpose(Purpose::Commute)),
            correction(0, 1000, CorrectionValue::Private(true)),
            // Matches nothing: waits.
            correction(5000, 6000, CorrectionValue::Mode(Mode::Tram)),
        ];
        assert_eq!(apply_corrections(&mut trips, &corrections), 3);
        let t = &trips[0];
        assert_eq!(
            (t.legs[1].mode, t.legs[1].mode_source, t.legs[1].confidence),
            (Mode::Bus, LabelSource::Citizen, 1.0)
        );
        assert_eq!(t.legs[0].mode, Mode::Walking);
        assert_eq!(
            (t.purpose, t.purpose_source),
            (Some(Purpose::Commute), Some(LabelSource::Citizen))
        );
        assert!(t.private);
    }

    #[test]
    fn a_split_cuts_the_trip_and_its_leg_and_is_idempotent() {
        let mut trips = vec![trip(
            0,
            1000,
            vec![leg(0, 400, Mode::Walking), leg(400, 1000, Mode::Bus)],
        )];
        let split = [correction(700, 700, CorrectionValue::Split)];
        assert_eq!(apply_structure(&mut trips, &split), 1);
        assert_eq!(trips.len(), 2);
        let (a, b) = (&trips[0], &trips[1]);
        assert_eq!(
            (a.start.0, a.end.0, b.start.0, b.end.0),
            (0, 700, 700, 1000)
        );
        assert_eq!(a.legs.len(), 2);
        assert_eq!((a.legs[1].start.0, a.legs[1].end.0), (400, 700));
        assert_eq!((b.legs[0].start.0, b.legs[0].mode), (700, Mode::Bus));
        assert!((a.distance_m - 1500.0).abs() < 1e-9, "{}", a.distance_m);
        assert!((b.distance_m - 500.0).abs() < 1e-9);
        assert_eq!(a.destination, b.origin);
        // Applied again (to a diary that has it already): nothing changes.
        assert_eq!(apply_structure(&mut trips, &split), 0);
        assert_eq!(trips.len(), 2);
    }

    #[test]
    fn a_merge_joins_the_trips_inside_even_if_boundaries_moved() {
        let mut trips = vec![
            trip(0, 1000, vec![leg(0, 1000, Mode::Walking)]),
            trip(1300, 2000, vec![leg(1300, 2000, Mode::Bus)]),
            trip(5000, 6000, vec![leg(5000, 6000, Mode::Car)]),
        ];
        trips[1].private = true;
        // Recorded when the trips were 20 s apart from where they are now.
        let merge = [correction(20, 1980, CorrectionValue::Merge)];
        assert_eq!(apply_structure(&mut trips, &merge), 1);
        assert_eq!(trips.len(), 2);
        assert_eq!((trips[0].start.0, trips[0].end.0), (0, 2000));
        assert_eq!(trips[0].legs.len(), 2);
        assert!(trips[0].private, "private if any part was");
        assert_eq!(apply_structure(&mut trips, &merge), 0);
        // Split and merge corrections are not label corrections.
        assert_eq!(apply_corrections(&mut trips, &merge), 0);
    }

    #[test]
    fn later_corrections_win() {
        let mut trips = vec![trip(0, 1000, vec![leg(0, 1000, Mode::Car)])];
        let corrections = [
            correction(0, 1000, CorrectionValue::Mode(Mode::Bus)),
            correction(0, 1000, CorrectionValue::Mode(Mode::Tram)),
        ];
        apply_corrections(&mut trips, &corrections);
        assert_eq!(trips[0].legs[0].mode, Mode::Tram);
    }
}
