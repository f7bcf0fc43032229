//! Recurring trips: a citizen's label on one trip, suggested for the trips
//! like it (domain.md §2.4).
//!
//! Two trips are **similar** when their distances differ by at most 30 % of
//! the reference trip's distance and either
//!
//! * each starts within 200 m of the other's start and ends within 200 m of
//!   the other's end (the same trip another day), or
//! * each starts within 200 m of the other's end and ends within 200 m of
//!   the other's start (the return trip).
//!
//! A **loop** (a reference trip ending within 50 m of its start: a run, a
//! walk round the block) matches every other outing from the same door, so
//! it also needs the durations to differ by at most 30 % of the reference's
//! duration. domain.md calls this a "time shift ≤ 30 %"; a share needs a
//! base, and the trip's own duration is the natural one. A loop has no
//! distinct return trip.
//!
//! Only labels the citizen set are propagated, never suggestions (no
//! chains), and a suggestion never replaces a citizen's label. Every
//! refresh derives suggestions afresh from the corrections of the moment,
//! so they follow the citizen's latest word and vanish with the correction
//! that caused them.
//!
//! When several labelled trips are similar to one trip, they vote: the
//! label with the most votes wins, ties going to the most recent reference
//! trip. A suggestion that equals what the analysis already inferred leaves
//! the inferred label (and its confidence) in place.
//!
//! **Modes** are labels of legs, and similar trips need not be cut into the
//! same legs. A leg takes the mode of the reference leg that covers the
//! same stretch of the journey, measured as a share of the trip's distance
//! (reversed for a return trip), with the same half-of-the-union overlap
//! that re-applies corrections. A suggested mode's confidence is the share
//! of the votes it won.

use crate::corrections::overlap_ratio;
use crate::geo::haversine_m;
use serde::{Deserialize, Serialize};
use sillage_model::{LabelSource, Mode, Purpose, Timestamp, Trip};
use std::collections::BTreeMap;

/// Thresholds of the similarity rule (domain.md §2.4 defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SimilarityParams {
    /// Distance between corresponding trip ends, m (200).
    pub endpoint_m: f64,
    /// Largest relative difference of trip distances (0.3).
    pub distance_ratio: f64,
    /// A trip whose ends are this close is a loop, m (50).
    pub loop_m: f64,
    /// Largest relative difference of durations for loops (0.3).
    pub loop_duration_ratio: f64,
}

impl Default for SimilarityParams {
    fn default() -> Self {
        Self {
            endpoint_m: 200.0,
            distance_ratio: 0.3,
            loop_m: 50.0,
            loop_duration_ratio: 0.3,
        }
    }
}

/// How a trip resembles a reference trip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Similarity {
    /// Same start and end.
    Same,
    /// Start and end swapped: the return trip.
    Return,
}

/// What [`suggest_labels`] changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SuggestionCount {
    /// Trips whose purpose is now a suggestion.
    pub purposes: usize,
    /// Legs whose mode is now a suggestion.
    pub modes: usize,
}

/// Whether `candidate` is similar to `reference` (module documentation).
pub fn similarity(
    reference: &Trip,
    candidate: &Trip,
    params: &SimilarityParams,
) -> Option<Similarity> {
    let (r, c) = (reference, candidate);
    let base = r.distance_m.max(0.0);
    // Written so that a NaN distance compares as dissimilar.
    let close_in_length = (c.distance_m - r.distance_m).abs() <= params.distance_ratio * base;
    if !close_in_length {
        return None;
    }
    let d = |a: &sillage_model::GeoPoint, b: &sillage_model::GeoPoint| {
        haversine_m(a.lat, a.lon, b.lat, b.lon)
    };
    let near = |a, b| d(a, b) <= params.endpoint_m;
    if d(&r.origin, &r.destination) <= params.loop_m {
        let (rd, cd) = (duration(r) as f64, duration(c) as f64);
        let same_time = (cd - rd).abs() <= params.loop_duration_ratio * rd;
        return (same_time && near(&r.origin, &c.origin) && near(&r.destination, &c.destination))
            .then_some(Similarity::Same);
    }
    if near(&r.origin, &c.origin) && near(&r.destination, &c.destination) {
        Some(Similarity::Same)
    } else if near(&r.origin, &c.destination) && near(&r.destination, &c.origin) {
        Some(Similarity::Return)
    } else {
        None
    }
}

fn duration(trip: &Trip) -> i64 {
    trip.end.0.saturating_sub(trip.start.0).max(0)
}

/// Suggests the citizen's purposes and modes to similar trips, in place
/// (module documentation). Trips may come from several devices.
pub fn suggest_labels(trips: &mut [Trip], params: &SimilarityParams) -> SuggestionCount {
    let references: Vec<usize> = (0..trips.len())
        .filter(|&i| {
            let t = &trips[i];
            t.purpose_source == Some(LabelSource::Citizen) && t.purpose.is_some()
                || t.legs.iter().any(|l| l.mode_source == LabelSource::Citizen)
        })
        .collect();
    if references.is_empty() {
        return SuggestionCount::default();
    }
    // Decide everything from the labels as they were, then write: a
    // suggestion made early must not change what a later trip is compared to.
    let mut purposes: Vec<(usize, Purpose)> = Vec::new();
    let mut modes: Vec<(usize, usize, Mode, f64)> = Vec::new();
    for (i, trip) in trips.iter().enumerate() {
        let similar: Vec<(&Trip, Similarity)> = references
            .iter()
            .filter(|&&r| r != i)
            .filter_map(|&r| similarity(&trips[r], trip, params).map(|s| (&trips[r], s)))
            .collect();
        if similar.is_empty() {
            continue;
        }
        if trip.purpose_source != Some(LabelSource::Citizen) {
            let votes = similar.iter().filter_map(|(r, _)| {
                (r.purpose_source == Some(LabelSource::Citizen))
                    .then_some(r.purpose)
                    .flatten()
                    .map(|p| (p, r.start))
            });
            if let Some((purpose, _)) = elect(votes)
                && trip.purpose != Some(purpose)
            {
                purposes.push((i, purpose));
            }
        }
        let spans = leg_spans(trip, Similarity::Same);
        for (l, leg) in trip.legs.iter().enumerate() {
            if leg.mode_source == LabelSource::Citizen {
                continue;
            }
            let votes = similar.iter().filter_map(|(r, how)| {
                let theirs = leg_spans(r, *how);
                let best = theirs
                    .iter()
                    .enumerate()
                    .map(|(k, span)| (overlap(spans[l], *span), k))
                    .filter(|(ratio, _)| *ratio >= 0.5)
                    .max_by(|a, b| a.0.total_cmp(&b.0))?;
                let source = &r.legs[best.1];
                (source.mode_source == LabelSource::Citizen).then_some((source.mode, r.start))
            });
            if let Some((mode, share)) = elect(votes)
                && leg.mode != mode
            {
                modes.push((i, l, mode, share));
            }
        }
    }
    let count = SuggestionCount {
        purposes: purposes.len(),
        modes: modes.len(),
    };
    for (i, purpose) in purposes {
        trips[i].purpose = Some(purpose);
        trips[i].purpose_source = Some(LabelSource::Suggested);
    }
    for (i, l, mode, share) in modes {
        let leg = &mut trips[i].legs[l];
        leg.mode = mode;
        leg.mode_source = LabelSource::Suggested;
        leg.confidence = share as f32;
    }
    count
}

/// The label with the most votes, ties to the latest reference, and its
/// share of the votes; `None` without votes.
fn elect<T: Copy + Ord>(votes: impl Iterator<Item = (T, Timestamp)>) -> Option<(T, f64)> {
    let mut tally: BTreeMap<T, (usize, Timestamp)> = BTreeMap::new();
    let mut total = 0;
    for (label, at) in votes {
        let entry = tally.entry(label).or_insert((0, at));
        entry.0 += 1;
        entry.1 = entry.1.max(at);
        total += 1;
    }
    tally
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1))
        .map(|(label, (n, _))| (label, n as f64 / total as f64))
}

/// Each leg's stretch of the trip as shares `[from, to]` of its leg
/// distance, reversed for a return trip. Trips whose legs have no distance
/// are measured in time instead.
fn leg_spans(trip: &Trip, how: Similarity) -> Vec<(f64, f64)> {
    let total: f64 = trip.legs.iter().map(|l| l.distance_m.max(0.0)).sum();
    let by_time = !(total > 0.0 && total.is_finite());
    let total = if by_time {
        trip.legs
            .iter()
            .map(|l| (l.end.0 - l.start.0).max(0) as f64)
            .sum::<f64>()
    } else {
        total
    };
    let mut at = 0.0;
    trip.legs
        .iter()
        .map(|l| {
            let size = if by_time {
                (l.end.0 - l.start.0).max(0) as f64
            } else {
                l.distance_m.max(0.0)
            };
            let span = if total > 0.0 {
                (at / total, (at + size) / total)
            } else {
                (0.0, 1.0)
            };
            at += size;
            match how {
                Similarity::Same => span,
                Similarity::Return => (1.0 - span.1, 1.0 - span.0),
            }
        })
        .collect()
}

/// [`overlap_ratio`] on shares, in millionths so the integer rule applies.
fn overlap(a: (f64, f64), b: (f64, f64)) -> f64 {
    let t = |x: f64| Timestamp((x * 1e6).round() as i64);
    overlap_ratio((t(a.0), t(a.1)), (t(b.0), t(b.1)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo::EARTH_RADIUS_M;
    use sillage_model::{GeoPoint, Leg};

    const LAT: f64 = 46.1603;
    const LON: f64 = -1.1511;
    const M_PER_DEG: f64 = EARTH_RADIUS_M * std::f64::consts::PI / 180.0;
    const HOUR: i64 = 3_600_000;

    /// A point `north_m` and `east_m` from the reference point.
    fn at(north_m: f64, east_m: f64) -> GeoPoint {
        GeoPoint {
            lat: LAT + north_m / M_PER_DEG,
            lon: LON + east_m / (M_PER_DEG * LAT.to_radians().cos()),
        }
    }

    fn leg(start: i64, end: i64, distance_m: f64, mode: Mode) -> Leg {
        Leg {
            start: Timestamp(start),
            end: Timestamp(end),
            distance_m,
            mode,
            confidence: 0.7,
            mode_source: LabelSource::Inferred,
            inferred_mode: mode,
            inferred_confidence: 0.7,
            co2_g: None,
            co2_factor_version: None,
            kcal: 0.0,
        }
    }

    /// A trip starting at hour `h` of some day, one car leg.
    fn trip(h: i64, from: GeoPoint, to: GeoPoint, distance_m: f64, minutes: i64) -> Trip {
        let start = h * HOUR;
        let end = start + minutes * 60_000;
        Trip {
            id: 0,
            device: "phone".into(),
            start: Timestamp(start),
            end: Timestamp(end),
            origin: from,
            destination: to,
            origin_place_id: None,
            destination_place_id: None,
            distance_m,
            purpose: None,
            purpose_source: None,
            private: false,
            legs: vec![leg(start, end, distance_m, Mode::Car)],
        }
    }

    fn home() -> GeoPoint {
        at(0.0, 0.0)
    }

    fn work() -> GeoPoint {
        at(3000.0, 1000.0)
    }

    fn cite_purpose(t: &mut Trip, p: Purpose) {
        t.purpose = Some(p);
        t.purpose_source = Some(LabelSource::Citizen);
    }

    #[test]
    fn same_and_return_trips_within_200_m_and_30_percent() {
        let p = SimilarityParams::default();
        let reference = trip(8, home(), work(), 4000.0, 15);
        let again = trip(32, at(150.0, 0.0), at(3000.0, 1150.0), 5100.0, 20);
        assert_eq!(similarity(&reference, &again, &p), Some(Similarity::Same));
        let back = trip(17, at(2900.0, 1000.0), at(0.0, 120.0), 2900.0, 15);
        assert_eq!(similarity(&reference, &back, &p), Some(Similarity::Return));
        // 250 m off at the start.
        let off = trip(32, at(250.0, 0.0), work(), 4000.0, 15);
        assert_eq!(similarity(&reference, &off, &p), None);
        // Same ends, 31 % longer: a detour, not the same trip.
        let detour = trip(32, home(), work(), 5240.0, 15);
        assert_eq!(similarity(&reference, &detour, &p), None);
        let shorter = trip(32, home(), work(), 2750.0, 15);
        assert_eq!(similarity(&reference, &shorter, &p), None);
        // Only one end swapped is neither.
        let half = trip(32, work(), work(), 4000.0, 15);
        assert_eq!(similarity(&reference, &half, &p), None);
    }

    #[test]
    fn loops_also_need_the_duration_within_30_percent() {
        let p = SimilarityParams::default();
        let run = trip(7, home(), at(30.0, 0.0), 8000.0, 45);
        let next_run = trip(31, at(20.0, 10.0), at(0.0, 40.0), 8400.0, 55);
        assert_eq!(similarity(&run, &next_run, &p), Some(Similarity::Same));
        // Same door, same distance, but a 70-minute walk is another outing.
        let walk = trip(31, home(), home(), 8000.0, 70);
        assert_eq!(similarity(&run, &walk, &p), None);
        let quick = trip(31, home(), home(), 8000.0, 30);
        assert_eq!(similarity(&run, &quick, &p), None);
        // Without the loop rule the walk would have matched.
        let lax = SimilarityParams {
            loop_m: 0.0,
            ..SimilarityParams::default()
        };
        assert_eq!(similarity(&run, &walk, &lax), Some(Similarity::Same));
    }

    #[test]
    fn purposes_spread_to_similar_and_return_trips_only() {
        let mut trips = vec![
            trip(8, home(), work(), 4000.0, 15),
            trip(17, work(), home(), 4100.0, 16),
            trip(32, at(30.0, 30.0), work(), 3900.0, 14),
            trip(41, work(), at(2000.0, -1500.0), 2500.0, 10),
            trip(56, home(), work(), 4000.0, 15),
        ];
        cite_purpose(&mut trips[0], Purpose::Commute);
        // Already inferred as a commute: stays inferred.
        trips[4].purpose = Some(Purpose::Commute);
        trips[4].purpose_source = Some(LabelSource::Inferred);
        let n = suggest_labels(&mut trips, &SimilarityParams::default());
        assert_eq!(
            n,
            SuggestionCount {
                purposes: 2,
                modes: 0
            }
        );
        let got: Vec<_> = trips
            .iter()
            .map(|t| (t.purpose, t.purpose_source))
            .collect();
        let suggested = (Some(Purpose::Commute), Some(LabelSource::Suggested));
        assert_eq!(
            got,
            vec![
                (Some(Purpose::Commute), Some(LabelSource::Citizen)),
                suggested,
                suggested,
                (None, None),
                (Some(Purpose::Commute), Some(LabelSource::Inferred)),
            ]
        );
    }

    #[test]
    fn suggestions_never_override_the_citizen() {
        let mut trips = vec![
            trip(8, home(), work(), 4000.0, 15),
            trip(32, home(), work(), 4000.0, 15),
            trip(56, home(), work(), 5150.0, 15),
        ];
        cite_purpose(&mut trips[0], Purpose::Shopping);
        cite_purpose(&mut trips[1], Purpose::LeisureSport);
        trips[1].legs[0].mode = Mode::Bicycle;
        trips[1].legs[0].mode_source = LabelSource::Citizen;
        trips[1].legs[0].confidence = 1.0;
        suggest_labels(&mut trips, &SimilarityParams::default());
        // The citizen's labels on trips 0 and 1 stand, though they disagree.
        assert_eq!(trips[0].purpose, Some(Purpose::Shopping));
        assert_eq!(trips[0].purpose_source, Some(LabelSource::Citizen));
        assert_eq!(trips[1].purpose, Some(Purpose::LeisureSport));
        assert_eq!(trips[1].legs[0].mode_source, LabelSource::Citizen);
        // Trip 0's inferred car leg gets trip 1's bicycle as a suggestion.
        assert_eq!(
            (trips[0].legs[0].mode, trips[0].legs[0].mode_source),
            (Mode::Bicycle, LabelSource::Suggested)
        );
        // Both references are similar to trip 2 (5150 m is within 30 % of
        // 4000 m); one vote each, the tie goes to the latest (trip 1).
        assert_eq!(trips[2].purpose, Some(Purpose::LeisureSport));
        assert_eq!(trips[2].purpose_source, Some(LabelSource::Suggested));
    }

    #[test]
    fn suggestions_do_not_chain_and_are_rederived() {
        // B is like A; C is like B (within 30 % of 5100 m) but not like A.
        let fresh = || {
            vec![
                trip(8, home(), work(), 4000.0, 15),
                trip(32, home(), work(), 5100.0, 15),
                trip(56, home(), work(), 6500.0, 15),
            ]
        };
        let mut trips = fresh();
        cite_purpose(&mut trips[0], Purpose::Shopping);
        suggest_labels(&mut trips, &SimilarityParams::default());
        assert_eq!(trips[1].purpose, Some(Purpose::Shopping));
        assert_eq!(trips[1].purpose_source, Some(LabelSource::Suggested));
        assert_eq!((trips[2].purpose, trips[2].purpose_source), (None, None));
        // The same trips labelled on B instead: now C is suggested, and A
        // (4000 m is within 30 % of 5100 m) too. Nothing of the earlier
        // suggestion remains, since every refresh starts from fresh trips.
        let mut trips = fresh();
        cite_purpose(&mut trips[1], Purpose::LeisureSport);
        let n = suggest_labels(&mut trips, &SimilarityParams::default());
        assert_eq!(n.purposes, 2);
        assert_eq!(trips[0].purpose, Some(Purpose::LeisureSport));
        assert_eq!(trips[2].purpose, Some(Purpose::LeisureSport));
    }

    #[test]
    fn majority_wins_and_sets_the_confidence() {
        let mut trips: Vec<Trip> = (0..4)
            .map(|d| trip(8 + 24 * d, home(), work(), 4000.0, 15))
            .collect();
        for (t, mode) in trips[..3]
            .iter_mut()
            .zip([Mode::Bicycle, Mode::Bicycle, Mode::EBike])
        {
            t.legs[0].mode = mode;
            t.legs[0].mode_source = LabelSource::Citizen;
        }
        let n = suggest_labels(&mut trips, &SimilarityParams::default());
        assert_eq!(n.modes, 1);
        let leg = &trips[3].legs[0];
        assert_eq!(
            (leg.mode, leg.mode_source),
            (Mode::Bicycle, LabelSource::Suggested)
        );
        assert!((leg.confidence - 2.0 / 3.0).abs() < 1e-6);
    }

    #[test]
    fn modes_follow_the_stretch_of_the_journey_and_reverse_on_return() {
        // Outward: walk 300 m, bus 3400 m, walk 300 m; the citizen says the
        // middle leg was a tram.
        let mut outward = trip(8, home(), work(), 4000.0, 25);
        outward.legs = vec![
            leg(8 * HOUR, 8 * HOUR + 300_000, 300.0, Mode::Walking),
            leg(8 * HOUR + 300_000, 8 * HOUR + 1_200_000, 3400.0, Mode::Bus),
            leg(
                8 * HOUR + 1_200_000,
                8 * HOUR + 1_500_000,
                300.0,
                Mode::Walking,
            ),
        ];
        outward.legs[1].mode = Mode::Tram;
        outward.legs[1].mode_source = LabelSource::Citizen;
        // Return: a long walk to the stop (600 m), then the bus (3500 m):
        // the bus leg covers shares 0.146–1.0, reversed the tram stretch is
        // 0.075–0.925 — an overlap of 0.78 / 0.925 of the union.
        let mut back = trip(17, work(), home(), 4100.0, 25);
        back.legs = vec![
            leg(17 * HOUR, 17 * HOUR + 500_000, 600.0, Mode::Walking),
            leg(
                17 * HOUR + 500_000,
                17 * HOUR + 1_500_000,
                3500.0,
                Mode::Bus,
            ),
        ];
        let mut trips = vec![outward, back];
        let n = suggest_labels(&mut trips, &SimilarityParams::default());
        assert_eq!(n.modes, 1);
        let back = &trips[1];
        assert_eq!(back.legs[0].mode, Mode::Walking);
        assert_eq!(back.legs[0].mode_source, LabelSource::Inferred);
        assert_eq!(
            (back.legs[1].mode, back.legs[1].mode_source),
            (Mode::Tram, LabelSource::Suggested)
        );
        assert_eq!(back.legs[1].confidence, 1.0);
    }

    #[test]
    fn leg_spans_reverse_and_fall_back_to_time() {
        let mut t = trip(8, home(), work(), 4000.0, 20);
        t.legs = vec![
            leg(0, 600_000, 1000.0, Mode::Walking),
            leg(600_000, 1_200_000, 3000.0, Mode::Bus),
        ];
        assert_eq!(
            leg_spans(&t, Similarity::Same),
            vec![(0.0, 0.25), (0.25, 1.0)]
        );
        assert_eq!(
            leg_spans(&t, Similarity::Return),
            vec![(0.75, 1.0), (0.0, 0.75)]
        );
        for l in &mut t.legs {
            l.distance_m = 0.0;
        }
        assert_eq!(
            leg_spans(&t, Similarity::Same),
            vec![(0.0, 0.5), (0.5, 1.0)]
        );
        assert!((overlap((0.0, 0.5), (0.25, 0.75)) - 1.0 / 3.0).abs() < 1e-9);
    }
}
