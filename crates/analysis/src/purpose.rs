//! Trip purposes inferred from the places a trip joins.
//!
//! The rule is deliberately narrow, because a wrong purpose costs the
//! citizen a correction and would bias any aggregate built on it:
//!
//! * **Commute** — between Home and Work, or Home and Study, either way.
//!   This is Coach CO2's rule (trips between the Home and Work contacts are
//!   COMMUTE, domain.md §2.4) extended to study, as [`Purpose::Commute`]
//!   covers "the usual place of work or study"; it is also what the
//!   bike-days goal counts (§2.5).
//! * Nothing otherwise. In particular a trip to or from Work that does not
//!   touch Home is **not** labelled [`Purpose::Work`]: from place labels
//!   alone a lunch out, a stop at the gym on the way in and a client visit
//!   look the same, and only the last is a business trip. Such trips get a
//!   purpose from the citizen, or a suggestion from a similar trip the
//!   citizen labelled (`suggestions`).
//!
//! Labels come from the places, whoever set them: a place the citizen
//! relabelled Study makes its trips from Home commutes.

use sillage_model::{LabelSource, Place, PlaceLabel, Purpose, Trip};
use std::collections::HashMap;

/// The purpose of a trip from a place labelled `origin` to one labelled
/// `destination` (`None` when an end is at no known place).
pub fn infer_purpose(
    origin: Option<PlaceLabel>,
    destination: Option<PlaceLabel>,
) -> Option<Purpose> {
    use PlaceLabel::{Home, Study, Work};
    match (origin?, destination?) {
        (Home, Work | Study) | (Work | Study, Home) => Some(Purpose::Commute),
        _ => None,
    }
}

/// Sets an inferred purpose on each trip whose purpose nobody decided yet
/// (a citizen's or a suggested purpose is left alone). Trip ends are read
/// through their `origin_place_id` / `destination_place_id` in `places`.
/// Returns how many trips got one.
pub fn infer_purposes(trips: &mut [Trip], places: &[Place]) -> usize {
    let label: HashMap<i64, PlaceLabel> = places.iter().map(|p| (p.id, p.label)).collect();
    let mut inferred = 0;
    for trip in trips {
        if matches!(
            trip.purpose_source,
            Some(LabelSource::Citizen | LabelSource::Suggested)
        ) {
            continue;
        }
        let at = |id: Option<i64>| id.and_then(|id| label.get(&id).copied());
        let purpose = infer_purpose(at(trip.origin_place_id), at(trip.destination_place_id));
        trip.purpose = purpose;
        trip.purpose_source = purpose.map(|_| LabelSource::Inferred);
        inferred += usize::from(purpose.is_some());
    }
    inferred
}

#[cfg(test)]
mod tests {
    use super::*;
    use sillage_model::{GeoPoint, Timestamp};

    fn place(id: i64, label: PlaceLabel) -> Place {
        Place {
            id,
            lat: 46.16,
            lon: -1.15,
            label,
            label_source: LabelSource::Inferred,
            name: None,
            private: false,
            visits: 3,
        }
    }

    fn trip(from: Option<i64>, to: Option<i64>) -> Trip {
        let at = GeoPoint {
            lat: 46.16,
            lon: -1.15,
        };
        Trip {
            id: 0,
            device: "phone".into(),
            start: Timestamp(0),
            end: Timestamp(600_000),
            origin: at,
            destination: at,
            origin_place_id: from,
            destination_place_id: to,
            distance_m: 3000.0,
            purpose: None,
            purpose_source: None,
            private: false,
            legs: Vec::new(),
        }
    }

    #[test]
    fn home_and_work_or_study_either_way_is_a_commute() {
        use PlaceLabel::*;
        for (a, b) in [(Home, Work), (Work, Home), (Home, Study), (Study, Home)] {
            assert_eq!(
                infer_purpose(Some(a), Some(b)),
                Some(Purpose::Commute),
                "{a} → {b}"
            );
        }
        for (a, b) in [
            (Other, Work),
            (Work, Other),
            (Home, Other),
            (Home, Home),
            (Work, Study),
            (Work, Work),
        ] {
            assert_eq!(infer_purpose(Some(a), Some(b)), None, "{a} → {b}");
        }
        assert_eq!(infer_purpose(None, Some(Work)), None);
        assert_eq!(infer_purpose(Some(Home), None), None);
    }

    #[test]
    fn inferred_through_place_ids_and_never_over_the_citizen() {
        let places = [
            place(1, PlaceLabel::Home),
            place(2, PlaceLabel::Work),
            place(3, PlaceLabel::Other),
        ];
        let mut trips = vec![
            trip(Some(1), Some(2)),
            trip(Some(2), Some(3)),
            trip(Some(2), Some(1)),
            trip(None, Some(2)),
            trip(Some(1), Some(2)),
            trip(Some(2), Some(1)),
            // A place id that no longer exists.
            trip(Some(9), Some(2)),
        ];
        trips[4].purpose = Some(Purpose::LeisureSport);
        trips[4].purpose_source = Some(LabelSource::Citizen);
        trips[5].purpose = Some(Purpose::Shopping);
        trips[5].purpose_source = Some(LabelSource::Suggested);
        assert_eq!(infer_purposes(&mut trips, &places), 2);
        let got: Vec<_> = trips
            .iter()
            .map(|t| (t.purpose, t.purpose_source))
            .collect();
        let commute = (Some(Purpose::Commute), Some(LabelSource::Inferred));
        assert_eq!(
            got,
            vec![
                commute,
                (None, None),
                commute,
                (None, None),
                (Some(Purpose::LeisureSport), Some(LabelSource::Citizen)),
                (Some(Purpose::Shopping), Some(LabelSource::Suggested)),
                (None, None),
            ]
        );
    }
}
