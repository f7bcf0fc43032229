//! CO2 and calories on every leg of a diary.
//!
//! Each leg gets its emissions from [`co2`](crate::co2) with the citizen's
//! vehicle settings, the version of the factor table used, and its energy
//! from [`calories`](crate::calories). Stored with the version, the figures
//! can be recomputed and compared when the table changes. A mode without a
//! factor (ferry, unknown) gets `None`: unknown, not zero.

use crate::calories::leg_kcal;
use crate::co2::{EmissionFactors, VehicleSettings};
use sillage_model::Trip;

/// Sets `co2_g`, `co2_factor_version` and `kcal` on every leg of `trips`,
/// with the legs' current modes (the citizen's, suggested or inferred).
pub fn annotate_footprint(trips: &mut [Trip], table: &EmissionFactors, vehicle: &VehicleSettings) {
    for leg in trips.iter_mut().flat_map(|t| t.legs.iter_mut()) {
        leg.co2_g = table
            .leg_co2_g(leg.mode, leg.distance_m, vehicle)
            .map(|e| e.grams);
        // The version is kept even when the table has no factor: it is this
        // table that says "unknown", and a later one may not.
        leg.co2_factor_version = Some(table.version().to_owned());
        let seconds = (leg.end.0 - leg.start.0) as f64 / 1000.0;
        leg.kcal = leg_kcal(leg.mode, leg.distance_m, seconds);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::co2::CarType;
    use sillage_model::{GeoPoint, LabelSource, Leg, Mode, Timestamp};

    fn leg(mode: Mode, distance_m: f64, minutes: i64) -> Leg {
        Leg {
            start: Timestamp(0),
            end: Timestamp(minutes * 60_000),
            distance_m,
            mode,
            confidence: 0.8,
            mode_source: LabelSource::Inferred,
            inferred_mode: mode,
            inferred_confidence: 0.8,
            co2_g: None,
            co2_factor_version: None,
            kcal: 0.0,
        }
    }

    #[test]
    fn legs_get_co2_with_version_and_kcal() {
        let at = GeoPoint {
            lat: 46.1,
            lon: -1.1,
        };
        let mut trips = vec![Trip {
            id: 0,
            device: "phone".into(),
            start: Timestamp(0),
            end: Timestamp(3_600_000),
            origin: at,
            destination: at,
            origin_place_id: None,
            destination_place_id: None,
            distance_m: 16_000.0,
            purpose: None,
            purpose_source: None,
            private: false,
            legs: vec![
                leg(Mode::Walking, 2000.0, 30),
                leg(Mode::Car, 10_000.0, 15),
                leg(Mode::Ferry, 4000.0, 15),
            ],
        }];
        let table = EmissionFactors::current();
        let electric = VehicleSettings {
            car_type: CarType::Electric,
            usual_occupants: 1,
        };
        annotate_footprint(&mut trips, table, &electric);
        let legs = &trips[0].legs;
        assert_eq!(legs[0].co2_g, Some(0.0));
        assert!(legs[0].kcal > 100.0, "30 min walking at 4 km/h");
        let car = table.leg_co2_g(Mode::Car, 10_000.0, &electric).unwrap();
        assert_eq!(legs[1].co2_g, Some(car.grams));
        assert_eq!(car.factor_slug, "voitureelectrique");
        assert_eq!(legs[1].kcal, 0.0);
        assert_eq!(legs[2].co2_g, None, "ferry: unknown");
        for l in legs {
            assert_eq!(l.co2_factor_version.as_deref(), Some(table.version()));
        }
        assert_eq!(
            trips[0].co2_g(),
            None,
            "an unknown leg makes the trip unknown"
        );
        trips[0].legs.pop();
        assert_eq!(trips[0].co2_g(), Some(car.grams));
        assert!((trips[0].kcal() - trips[0].legs[0].kcal).abs() < 1e-9);
    }
}
