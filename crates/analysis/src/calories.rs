//! Energy spent on active legs, with Coach CO2's formula so that figures
//! compare with the La Rochelle app (analysis.md §8).
//!
//! kcal = MET × 74.25 kg × 3.5 / 200 × minutes: the ACSM metabolic equation
//! for a fixed body mass, 74.25 kg being the mean of French women's and
//! men's weights (Obépi-Roche 2020) used by Coach CO2. The MET is chosen
//! from the leg's mean speed. Speed alone ignores slopes and loads, so
//! these figures are indicative.
//!
//! # Bands
//!
//! A speed equal to a band edge stays in the lower band (`<=`), as in Coach
//! CO2 (`src/constants/const.js`, `src/lib/metrics.js`).
//!
//! | Mode | km/h → MET | Source |
//! |---|---|---|
//! | Walking | ≤ 3: 2.0; ≤ 5: 3.5; ≤ 6.5: 5.0; above: 7.0 | Coach CO2 (Compendium of Physical Activities) |
//! | Bicycle | ≤ 15: 5.8; ≤ 22.4: 8.0; ≤ 25.6: 10.0; above: 15.8 | Coach CO2 |
//! | Running | ≤ 8.0: 6.0; ≤ 9.7: 8.3; ≤ 11.3: 9.8; ≤ 12.9: 11.0; above: 11.8 | Sillage, from the Compendium's running codes at 4, 5, 6, 7 and 8 mph |
//! | E-bike | 4.0 at any speed | Sillage assumption |
//! | Everything else | 0 | motorised or seated: not counted |
//!
//! Walking keeps Coach CO2's four bands rather than a finer grid so that
//! the same leg gives the same kcal in both apps. Coach CO2 counts no
//! calories for running or e-bikes; Sillage does, because leaving them at
//! zero would understate exactly the trips the platform encourages. The
//! running band uses each Compendium code from its own speed up to the next
//! one (conservative: a 7.5 km/h jog gets the 4 mph value). The e-bike
//! value is an assumption, not a measured figure: pedal assistance lowers
//! the effort, so it is set below conventional cycling's lowest band and an
//! e-bike leg never outscores the same leg on a bicycle. E-scooters are
//! ridden standing on a motor and count as motorised.

use sillage_model::Mode;

/// Body mass of Coach CO2's formula, kg.
pub const BODY_MASS_KG: f64 = 74.25;

/// MET assumed for pedal-assisted cycling (see the module documentation).
pub const EBIKE_MET: f64 = 4.0;

/// (upper edge in km/h, inclusive; MET), last band open-ended.
const WALKING: &[(f64, f64)] = &[(3.0, 2.0), (5.0, 3.5), (6.5, 5.0), (f64::INFINITY, 7.0)];
const CYCLING: &[(f64, f64)] = &[
    (15.0, 5.8),
    (22.4, 8.0),
    (25.6, 10.0),
    (f64::INFINITY, 15.8),
];
const RUNNING: &[(f64, f64)] = &[
    (8.0, 6.0),
    (9.7, 8.3),
    (11.3, 9.8),
    (12.9, 11.0),
    (f64::INFINITY, 11.8),
];

fn band(bands: &[(f64, f64)], speed_kmh: f64) -> f64 {
    bands
        .iter()
        .find(|(edge, _)| speed_kmh <= *edge)
        .map_or(0.0, |&(_, met)| met)
}

/// The MET of a leg of `mode` at a mean speed of `speed_kmh`; 0 for modes
/// that are not counted.
pub fn met(mode: Mode, speed_kmh: f64) -> f64 {
    match mode {
        Mode::Walking => band(WALKING, speed_kmh),
        Mode::Running => band(RUNNING, speed_kmh),
        Mode::Bicycle => band(CYCLING, speed_kmh),
        Mode::EBike => EBIKE_MET,
        Mode::EScooter
        | Mode::Moped
        | Mode::Car
        | Mode::ElectricCar
        | Mode::Carpool
        | Mode::Bus
        | Mode::Coach
        | Mode::Tram
        | Mode::Metro
        | Mode::RegionalTrain
        | Mode::HighSpeedTrain
        | Mode::Ferry
        | Mode::Plane
        | Mode::Unknown => 0.0,
    }
}

/// kcal spent on a leg of `distance_m` metres lasting `duration_s` seconds.
///
/// Returns 0 for uncounted modes and for a non-positive or non-finite
/// duration or distance (no speed, hence no MET band, can be read from them).
pub fn leg_kcal(mode: Mode, distance_m: f64, duration_s: f64) -> f64 {
    if !(duration_s.is_finite() && duration_s > 0.0 && distance_m.is_finite() && distance_m >= 0.0)
    {
        return 0.0;
    }
    // km / h rather than m/s × 3.6, so that round test speeds stay exact.
    let speed_kmh = (distance_m / 1000.0) / (duration_s / 3600.0);
    met(mode, speed_kmh) * BODY_MASS_KG * 3.5 / 200.0 * (duration_s / 60.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// kcal per minute per MET with Coach CO2's body mass.
    const PER_MET_MINUTE: f64 = 74.25 * 3.5 / 200.0;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    /// Half an hour at `kmh`: the distance is then exactly `kmh / 2` km.
    fn half_hour(mode: Mode, kmh: f64) -> f64 {
        leg_kcal(mode, kmh * 500.0, 1800.0)
    }

    #[test]
    fn coach_co2_formula() {
        assert!(close(PER_MET_MINUTE, 1.299_375));
        // 30 min walking at 4 km/h: MET 3.5.
        assert!(close(half_hour(Mode::Walking, 4.0), 136.434_375));
    }

    #[test]
    fn walking_band_edges() {
        assert!(close(half_hour(Mode::Walking, 3.0), 77.9625)); // 2.0
        assert!(close(half_hour(Mode::Walking, 3.2), 136.434_375)); // 3.5
        assert!(close(half_hour(Mode::Walking, 5.0), 136.434_375)); // 3.5
        assert!(close(half_hour(Mode::Walking, 5.2), 194.906_25)); // 5.0
        assert!(close(half_hour(Mode::Walking, 6.5), 194.906_25)); // 5.0
        assert!(close(half_hour(Mode::Walking, 6.6), 272.868_75)); // 7.0
        assert!(close(half_hour(Mode::Walking, 0.5), 77.9625)); // 2.0
    }

    #[test]
    fn cycling_band_edges() {
        assert!(close(half_hour(Mode::Bicycle, 15.0), 226.091_25)); // 5.8
        assert!(close(half_hour(Mode::Bicycle, 15.2), 311.85)); // 8.0
        assert!(close(half_hour(Mode::Bicycle, 22.4), 311.85)); // 8.0
        assert!(close(half_hour(Mode::Bicycle, 22.6), 389.8125)); // 10.0
        assert!(close(half_hour(Mode::Bicycle, 25.6), 389.8125)); // 10.0
        assert!(close(half_hour(Mode::Bicycle, 25.8), 615.903_75)); // 15.8
    }

    #[test]
    fn running_band_edges() {
        assert!(close(half_hour(Mode::Running, 8.0), 233.8875)); // 6.0
        assert!(close(half_hour(Mode::Running, 8.2), 323.544_375)); // 8.3
        assert!(close(half_hour(Mode::Running, 9.7), 323.544_375)); // 8.3
        assert!(close(half_hour(Mode::Running, 10.0), 382.016_25)); // 9.8
        assert!(close(half_hour(Mode::Running, 11.3), 382.016_25)); // 9.8
        assert!(close(half_hour(Mode::Running, 12.0), 428.793_75)); // 11.0
        assert!(close(half_hour(Mode::Running, 12.9), 428.793_75)); // 11.0
        assert!(close(half_hour(Mode::Running, 14.0), 459.978_75)); // 11.8
    }

    #[test]
    fn ebike_is_flat_and_below_cycling() {
        assert!(close(half_hour(Mode::EBike, 12.0), 155.925));
        assert!(close(half_hour(Mode::EBike, 24.0), 155.925));
        for kmh in [5.0, 15.0, 20.0, 30.0] {
            assert!(half_hour(Mode::EBike, kmh) < half_hour(Mode::Bicycle, kmh));
        }
    }

    #[test]
    fn motorised_modes_and_odd_inputs_are_zero() {
        for &mode in Mode::ALL {
            let counted = matches!(
                mode,
                Mode::Walking | Mode::Running | Mode::Bicycle | Mode::EBike
            );
            assert_eq!(half_hour(mode, 10.0) > 0.0, counted, "{mode}");
        }
        assert_eq!(leg_kcal(Mode::Walking, 1000.0, 0.0), 0.0);
        assert_eq!(leg_kcal(Mode::Walking, 1000.0, -60.0), 0.0);
        assert_eq!(leg_kcal(Mode::Walking, f64::NAN, 600.0), 0.0);
        assert_eq!(leg_kcal(Mode::Walking, -1.0, 600.0), 0.0);
        assert_eq!(leg_kcal(Mode::Bicycle, 1000.0, f64::INFINITY), 0.0);
        // Standing still for ten minutes while "walking" is slow walking.
        assert!(close(
            leg_kcal(Mode::Walking, 0.0, 600.0),
            2.0 * PER_MET_MINUTE * 10.0
        ));
    }
}
