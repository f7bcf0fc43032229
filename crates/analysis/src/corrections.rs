//! The citizen's word is final: corrections re-applied after every analysis.
//!
//! A correction labels a time interval, not a row, because re-analysis may
//! move boundaries a little or renumber everything. After each analysis the
//! correction goes to the leg (for a mode) or trip (for a purpose or the
//! private flag) whose interval overlaps it best, provided they share at
//! least half of their union; a correction that no longer matches anything
//! waits, unapplied, until data makes it match again.

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
                        CorrectionValue::Mode(_) => {}
                    }
                    applied += 1;
                }
            }
        }
    }
    applied
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
