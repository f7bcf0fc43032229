//! CO2 per leg from a versioned, vendored copy of ADEME's Impact CO2
//! transport factors (`incubateur-ademe/impactco2`, MIT).
//!
//! Tables live in `crates/analysis/data/` as JSON, one file per upstream
//! version, embedded at build time. Every estimate carries the version of
//! the table it came from, so stored results can be recomputed when the
//! table changes and compared across versions, as territories will ask why
//! "the same trip" changed value.
//!
//! # Conventions
//!
//! * Car, scooter and motorbike factors are **per vehicle-km**; everything
//!   else is per passenger-km. [`Mode::Car`] and [`Mode::ElectricCar`] mean
//!   the driver alone (divided by 1); [`Mode::Carpool`] divides the
//!   citizen's car factor by their usual number of occupants, at least 2,
//!   as Impact CO2 does for car-sharing. Two-wheelers are never divided.
//! * A mode without a factor in the table (ferry, unknown, or a car type
//!   absent from an older table) gives `None`: the emission is **unknown,
//!   not zero**, and must not be summed as zero.
//! * Walking and running use the table's zero `marche` row, so they give
//!   `Some` with 0 g: known to be zero.

use serde::{Deserialize, Serialize};
use sillage_model::Mode;
use std::sync::LazyLock;

const TABLE_FILES: [&str; 2] = [
    include_str!("../data/emission-factors-impactco2-2026-05.json"),
    include_str!("../data/emission-factors-impactco2-2025-01.json"),
];

/// Parsed once; the first table is the current one. The embedded files are
/// checked by this module's tests, so a parse failure is a build defect.
static TABLES: LazyLock<Vec<EmissionFactors>> = LazyLock::new(|| {
    TABLE_FILES
        .iter()
        .map(|text| serde_json::from_str(text).expect("embedded emission-factor table is valid"))
        .collect()
});

/// Where a table was copied from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FactorSource {
    /// Upstream repository (`owner/name`).
    pub repository: String,
    /// File in that repository.
    pub path: String,
    /// Upstream commit the values were copied from.
    pub commit: String,
    /// Upstream licence.
    pub licence: String,
    /// When upstream last changed the values, with its pull requests.
    pub values_updated: String,
    /// How the values were transcribed.
    pub note: String,
}

/// The distance range a factor applies to (planes only), as upstream displays it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct DistanceBand {
    /// Lower bound in km, when upstream gives one.
    pub min: Option<f64>,
    /// Upper bound in km; `None` for the open-ended band.
    pub max: Option<f64>,
}

/// One factor of a table, in gCO2e per km, split by life-cycle stage.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Factor {
    /// Upstream slug (plane bands are `avion-<subtitle>`).
    pub slug: String,
    /// Human-readable name.
    pub label: String,
    /// True when the factor is per vehicle-km (cars, two-wheelers), false
    /// when per passenger-km.
    pub per_vehicle: bool,
    /// Vehicle and infrastructure construction (upstream stage 5), g/km.
    pub construction: f64,
    /// Fuel or electricity (upstream stage 6), g/km.
    pub energy: f64,
    /// Contrails (upstream stage 7, planes only), g/km.
    pub contrails: f64,
    /// Distance band, for plane factors.
    #[serde(default)]
    pub distance_km: Option<DistanceBand>,
}

impl Factor {
    /// Total gCO2e per km (sum of the stages, as upstream computes it).
    pub fn total_g_per_km(&self) -> f64 {
        self.construction + self.energy + self.contrails
    }
}

/// A versioned emission-factor table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EmissionFactors {
    version: String,
    source: FactorSource,
    unit: String,
    factors: Vec<Factor>,
}

/// The engine of the citizen's car, from their settings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CarType {
    /// Petrol or diesel (Impact CO2 `voiturethermique`, a compact diesel).
    #[default]
    Combustion,
    /// Battery electric (`voitureelectrique`).
    Electric,
    /// Non-rechargeable hybrid (`voiturehybride`; absent from the 2025-01 table).
    Hybrid,
}

impl CarType {
    /// Every car type, in a stable order.
    pub const ALL: &'static [CarType] = &[Self::Combustion, Self::Electric, Self::Hybrid];

    /// The stable name used in settings and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Combustion => "combustion",
            Self::Electric => "electric",
            Self::Hybrid => "hybrid",
        }
    }

    /// Inverse of [`CarType::as_str`].
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.as_str() == name)
    }
}

/// What the citizen told us about their car.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VehicleSettings {
    /// Engine of their car.
    pub car_type: CarType,
    /// Usual number of people in the car when carpooling, driver included.
    /// Values below 1 are read as 1; carpooling always counts at least 2.
    pub usual_occupants: u8,
}

impl Default for VehicleSettings {
    fn default() -> Self {
        Self {
            car_type: CarType::Combustion,
            usual_occupants: 1,
        }
    }
}

impl VehicleSettings {
    /// Settings key of the car type (a [`CarType`] name).
    pub const CAR_TYPE_KEY: &'static str = "car_type";
    /// Settings key of the usual number of occupants (a positive integer).
    pub const OCCUPANTS_KEY: &'static str = "usual_occupants";

    /// Reads the citizen's key/value settings; a missing key takes its
    /// default (combustion, 1 occupant). A value this version cannot read
    /// is an error rather than a silent default, since it would change every
    /// CO2 figure.
    pub fn from_settings(
        settings: &std::collections::BTreeMap<String, String>,
    ) -> Result<Self, String> {
        let mut vehicle = Self::default();
        if let Some(value) = settings.get(Self::CAR_TYPE_KEY) {
            vehicle.car_type =
                CarType::from_name(value).ok_or_else(|| format!("unknown car type {value:?}"))?;
        }
        if let Some(value) = settings.get(Self::OCCUPANTS_KEY) {
            vehicle.usual_occupants = value
                .parse::<u8>()
                .ok()
                .filter(|&n| n >= 1)
                .ok_or_else(|| format!("usual occupants {value:?}: expected 1 to 255"))?;
        }
        Ok(vehicle)
    }
}

/// Emissions of one leg for the citizen.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Co2Estimate {
    /// gCO2e attributed to the citizen (after dividing a per-vehicle factor
    /// by the occupants).
    pub grams: f64,
    /// Construction share of `grams`.
    pub construction_g: f64,
    /// Energy share of `grams`.
    pub energy_g: f64,
    /// Contrails share of `grams`.
    pub contrails_g: f64,
    /// Slug of the factor used.
    pub factor_slug: String,
    /// True when the factor is per vehicle-km (so `shared_by` matters).
    pub per_vehicle: bool,
    /// Number of people the vehicle's emissions were divided by (1 unless carpooling).
    pub shared_by: u8,
    /// Version of the table, to be stored with the estimate.
    pub version: String,
}

impl EmissionFactors {
    /// The table Sillage computes new estimates with.
    pub fn current() -> &'static EmissionFactors {
        &TABLES[0]
    }

    /// A vendored table by version (e.g. `"impactco2-2025-01"`), to recompute
    /// or compare stored estimates.
    pub fn by_version(version: &str) -> Option<&'static EmissionFactors> {
        TABLES.iter().find(|t| t.version == version)
    }

    /// Every vendored table, the current one first.
    pub fn all() -> &'static [EmissionFactors] {
        &TABLES
    }

    /// The table's version, e.g. `"impactco2-2026-05"`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Where the values come from.
    pub fn source(&self) -> &FactorSource {
        &self.source
    }

    /// Every factor of the table.
    pub fn factors(&self) -> &[Factor] {
        &self.factors
    }

    /// The factor with this slug.
    pub fn factor(&self, slug: &str) -> Option<&Factor> {
        self.factors.iter().find(|f| f.slug == slug)
    }

    /// The plane factor for a flight of `km`.
    ///
    /// Bands are tried by increasing upper bound and the first that covers
    /// the distance wins. With the current table that gives ≤ 1000 km short
    /// haul, ≤ 2000 medium, ≤ 5000 medium-long and > 5000 long haul: upstream
    /// shows long haul "from 2001 km", overlapping medium-long, and we
    /// resolve the overlap in favour of the bounded band (analysis.md §7).
    /// Flights under upstream's 300 km display minimum still use short haul.
    pub fn plane_factor(&self, km: f64) -> Option<&Factor> {
        let mut bands: Vec<&Factor> = self
            .factors
            .iter()
            .filter(|f| f.slug.starts_with("avion-"))
            .collect();
        let upper = |f: &Factor| f.distance_km.and_then(|b| b.max).unwrap_or(f64::INFINITY);
        bands.sort_by(|a, b| upper(a).total_cmp(&upper(b)));
        bands.into_iter().find(|f| km <= upper(f))
    }

    /// Emissions of a leg of `distance_m` metres travelled by `mode`.
    ///
    /// `None` when the table has no factor for the mode (ferry, unknown, a
    /// car type missing from this version): unknown, never zero. A negative
    /// or non-finite distance counts as 0 m. Bus legs use the combustion bus
    /// (`busthermique`), the common case for French networks, since GPS
    /// cannot tell the fleet.
    pub fn leg_co2_g(
        &self,
        mode: Mode,
        distance_m: f64,
        vehicle: &VehicleSettings,
    ) -> Option<Co2Estimate> {
        let km = if distance_m.is_finite() && distance_m > 0.0 {
            distance_m / 1000.0
        } else {
            0.0
        };
        let car_slug = match vehicle.car_type {
            CarType::Combustion => "voiturethermique",
            CarType::Electric => "voitureelectrique",
            CarType::Hybrid => "voiturehybride",
        };
        let (factor, shared_by) = match mode {
            Mode::Walking | Mode::Running => (self.factor("marche")?, 1),
            Mode::Bicycle => (self.factor("velo")?, 1),
            Mode::EBike => (self.factor("veloelectrique")?, 1),
            Mode::EScooter => (self.factor("trottinette")?, 1),
            // A light combustion two-wheeler: GPS cannot tell a 50 cc scooter
            // from a large motorbike, and `moto` would double the figure.
            Mode::Moped => (self.factor("scooter")?, 1),
            Mode::Car => (self.factor(car_slug)?, 1),
            Mode::ElectricCar => (self.factor("voitureelectrique")?, 1),
            Mode::Carpool => (self.factor(car_slug)?, vehicle.usual_occupants.max(2)),
            Mode::Bus => (self.factor("busthermique")?, 1),
            Mode::Coach => (self.factor("autocar")?, 1),
            Mode::Tram => (self.factor("tramway")?, 1),
            Mode::Metro => (self.factor("metro")?, 1),
            Mode::RegionalTrain => (self.factor("ter")?, 1),
            Mode::HighSpeedTrain => (self.factor("tgv")?, 1),
            Mode::Plane => (self.plane_factor(km)?, 1),
            // Impact CO2 has no ferry factor; an invented one would be worse
            // than an honest gap.
            Mode::Ferry | Mode::Unknown => return None,
        };
        // Per-passenger factors already include occupancy; only a vehicle's
        // emissions are shared.
        let shared_by = if factor.per_vehicle { shared_by } else { 1 };
        let scale = km / f64::from(shared_by);
        Some(Co2Estimate {
            grams: factor.total_g_per_km() * scale,
            construction_g: factor.construction * scale,
            energy_g: factor.energy * scale,
            contrails_g: factor.contrails * scale,
            factor_slug: factor.slug.clone(),
            per_vehicle: factor.per_vehicle,
            shared_by,
            version: self.version.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CURRENT: &str = "impactco2-2026-05";
    const PREVIOUS: &str = "impactco2-2025-01";

    fn previous() -> &'static EmissionFactors {
        EmissionFactors::by_version(PREVIOUS).unwrap()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-6
    }

    #[test]
    fn embedded_tables_parse_with_versions_and_sources() {
        let current = EmissionFactors::current();
        assert_eq!(current.version(), CURRENT);
        assert_eq!(current.source().commit, "8076a48");
        assert_eq!(previous().version(), PREVIOUS);
        assert_eq!(previous().source().commit, "6b5ce0d4");
        assert_eq!(EmissionFactors::all().len(), 2);
        assert!(EmissionFactors::by_version("impactco2-1999-01").is_none());
        for table in EmissionFactors::all() {
            assert_eq!(table.unit, "gCO2e/km");
            for f in table.factors() {
                assert!(f.construction >= 0.0 && f.energy >= 0.0 && f.contrails >= 0.0);
                assert_eq!(
                    table.factors().iter().filter(|g| g.slug == f.slug).count(),
                    1
                );
            }
        }
    }

    #[test]
    fn totals_match_the_rounded_values_of_analysis_md() {
        // gCO2e/km as tabulated (rounded to 0.1 g) in docs/analysis.md §7.
        let current = [
            ("voiturethermique", 142.3),
            ("voitureelectrique", 67.4),
            ("voiturehybride", 146.6),
            ("busthermique", 122.4),
            ("autocar", 37.6),
            ("tramway", 4.3),
            ("metro", 4.4),
            ("ter", 27.7),
            ("tgv", 2.9),
            ("velo", 0.2),
            ("veloelectrique", 11.0),
            ("trottinette", 24.9),
            ("scooter", 76.3),
            ("moto", 214.7),
            ("avion-courtcourrier", 224.6),
            ("avion-moyencourrier", 184.7),
            ("avion-moyenlongcourrier", 166.8),
            ("avion-longcourrier", 177.9),
        ];
        for (slug, total) in current {
            let f = EmissionFactors::current().factor(slug).unwrap();
            assert!((f.total_g_per_km() - total).abs() < 0.05 + 1e-9, "{slug}");
        }
        let older = [
            ("voiturethermique", 217.6),
            ("voitureelectrique", 103.4),
            ("busthermique", 113.2),
            ("autocar", 29.4),
            ("moto", 191.3),
            ("avion-courtcourrier", 258.6),
            ("avion-moyencourrier", 187.6),
            ("avion-longcourrier", 152.0),
        ];
        for (slug, total) in older {
            let f = previous().factor(slug).unwrap();
            assert!((f.total_g_per_km() - total).abs() < 0.05 + 1e-9, "{slug}");
        }
    }

    #[test]
    fn car_10_km_current_and_previous() {
        let v = VehicleSettings::default();
        let now = EmissionFactors::current()
            .leg_co2_g(Mode::Car, 10_000.0, &v)
            .unwrap();
        // Upstream's unrounded values: 10 × (31.695… + 110.557…) g.
        assert!(close(now.grams, 1_422.534_122_295), "{}", now.grams);
        assert_eq!(now.grams.round(), 1423.0);
        assert!(close(now.construction_g + now.energy_g, now.grams));
        assert_eq!(now.factor_slug, "voiturethermique");
        assert!(now.per_vehicle);
        assert_eq!(now.shared_by, 1);
        assert_eq!(now.version, CURRENT);

        let then = previous().leg_co2_g(Mode::Car, 10_000.0, &v).unwrap();
        assert!(close(then.grams, 2176.0), "{}", then.grams);
        assert_eq!(then.version, PREVIOUS);
    }

    #[test]
    fn carpool_divides_by_usual_occupants_at_least_two() {
        let table = EmissionFactors::current();
        let three = VehicleSettings {
            car_type: CarType::Combustion,
            usual_occupants: 3,
        };
        let car = table.leg_co2_g(Mode::Car, 10_000.0, &three).unwrap();
        let pool = table.leg_co2_g(Mode::Carpool, 10_000.0, &three).unwrap();
        assert!(
            close(car.grams, 1_422.534_122_295),
            "driver alone whatever the setting"
        );
        assert!(close(pool.grams, 1_422.534_122_295 / 3.0));
        assert_eq!(pool.shared_by, 3);
        for occupants in [0, 1, 2] {
            let v = VehicleSettings {
                car_type: CarType::Combustion,
                usual_occupants: occupants,
            };
            let pool = table.leg_co2_g(Mode::Carpool, 10_000.0, &v).unwrap();
            assert_eq!(pool.shared_by, 2, "{occupants}");
        }
        // An electric carpool uses the citizen's electric factor.
        let ev = VehicleSettings {
            car_type: CarType::Electric,
            usual_occupants: 4,
        };
        let pool = table.leg_co2_g(Mode::Carpool, 10_000.0, &ev).unwrap();
        assert_eq!(pool.factor_slug, "voitureelectrique");
        assert!(close(
            pool.grams,
            (55.276_902_173_913_06 + 12.088_360_055_630_31) * 10.0 / 4.0
        ));
    }

    #[test]
    fn electric_and_hybrid_cars() {
        let table = EmissionFactors::current();
        let v = VehicleSettings::default();
        let ev = table.leg_co2_g(Mode::ElectricCar, 10_000.0, &v).unwrap();
        assert_eq!(ev.factor_slug, "voitureelectrique");
        assert!(close(ev.grams, 673.652_622_295), "{}", ev.grams);
        assert_eq!(ev.grams.round(), 674.0);
        let own_ev = VehicleSettings {
            car_type: CarType::Electric,
            usual_occupants: 1,
        };
        let car = table.leg_co2_g(Mode::Car, 10_000.0, &own_ev).unwrap();
        assert_eq!(car.factor_slug, "voitureelectrique");
        let hybrid = VehicleSettings {
            car_type: CarType::Hybrid,
            usual_occupants: 1,
        };
        let car = table.leg_co2_g(Mode::Car, 10_000.0, &hybrid).unwrap();
        assert_eq!(car.factor_slug, "voiturehybride");
        assert_eq!(car.grams.round(), 1466.0);
        // The previous table has no hybrid row: unknown, not a substitute.
        assert_eq!(previous().leg_co2_g(Mode::Car, 10_000.0, &hybrid), None);
    }

    #[test]
    fn regional_train_and_public_transport() {
        let table = EmissionFactors::current();
        let v = VehicleSettings {
            car_type: CarType::Combustion,
            usual_occupants: 4,
        };
        let ter = table.leg_co2_g(Mode::RegionalTrain, 50_000.0, &v).unwrap();
        assert_eq!(ter.factor_slug, "ter");
        assert!(close(ter.grams, 50.0 * 27.69), "{}", ter.grams);
        assert!(!ter.per_vehicle);
        assert_eq!(ter.shared_by, 1, "per-passenger factors are never divided");
        let cases = [
            (Mode::Bus, "busthermique", 122.42),
            (Mode::Coach, "autocar", 37.56),
            (Mode::Tram, "tramway", 4.28),
            (Mode::Metro, "metro", 4.44),
            (Mode::HighSpeedTrain, "tgv", 2.93),
            (Mode::Bicycle, "velo", 0.17),
            (Mode::EBike, "veloelectrique", 10.95),
            (Mode::EScooter, "trottinette", 24.9),
            (Mode::Moped, "scooter", 76.3),
        ];
        for (mode, slug, per_km) in cases {
            let e = table.leg_co2_g(mode, 1000.0, &v).unwrap();
            assert_eq!(e.factor_slug, slug, "{mode}");
            assert!(close(e.grams, per_km), "{mode}: {}", e.grams);
        }
    }

    #[test]
    fn plane_distance_bands() {
        let table = EmissionFactors::current();
        let v = VehicleSettings::default();
        let short = table.leg_co2_g(Mode::Plane, 800_000.0, &v).unwrap();
        assert_eq!(short.factor_slug, "avion-courtcourrier");
        assert!(
            close(short.grams, 800.0 * (0.372 + 123.2 + 101.0)),
            "{}",
            short.grams
        );
        assert!(close(short.contrails_g, 800.0 * 101.0));
        let long = table.leg_co2_g(Mode::Plane, 6_000_000.0, &v).unwrap();
        assert_eq!(long.factor_slug, "avion-longcourrier");
        assert!(
            close(long.grams, 6000.0 * (0.294 + 97.6 + 80.0)),
            "{}",
            long.grams
        );

        let slug = |km: f64| table.plane_factor(km).unwrap().slug.as_str();
        assert_eq!(slug(150.0), "avion-courtcourrier");
        assert_eq!(slug(1000.0), "avion-courtcourrier");
        assert_eq!(slug(1000.5), "avion-moyencourrier");
        assert_eq!(slug(2000.0), "avion-moyencourrier");
        assert_eq!(
            slug(2500.0),
            "avion-moyenlongcourrier",
            "overlap goes to the bounded band"
        );
        assert_eq!(slug(5000.0), "avion-moyenlongcourrier");
        assert_eq!(slug(5000.1), "avion-longcourrier");

        // The previous table's bands: ≤ 1000, ≤ 3500, beyond.
        let prev = |km: f64| previous().plane_factor(km).unwrap().slug.as_str();
        assert_eq!(prev(800.0), "avion-courtcourrier");
        assert_eq!(prev(3500.0), "avion-moyencourrier");
        assert_eq!(prev(3600.0), "avion-longcourrier");
        let then = previous().leg_co2_g(Mode::Plane, 800_000.0, &v).unwrap();
        assert!(close(then.grams, 800.0 * 258.58));
    }

    #[test]
    fn walking_is_zero_ferry_and_unknown_are_none() {
        let table = EmissionFactors::current();
        let v = VehicleSettings::default();
        for mode in [Mode::Walking, Mode::Running] {
            let e = table.leg_co2_g(mode, 5000.0, &v).unwrap();
            assert_eq!(e.grams, 0.0);
            assert_eq!(e.factor_slug, "marche");
        }
        assert_eq!(table.leg_co2_g(Mode::Ferry, 5000.0, &v), None);
        assert_eq!(table.leg_co2_g(Mode::Unknown, 5000.0, &v), None);
    }

    #[test]
    fn odd_distances_count_as_zero() {
        let table = EmissionFactors::current();
        let v = VehicleSettings::default();
        for d in [0.0, -5.0, f64::NAN, f64::INFINITY] {
            let e = table.leg_co2_g(Mode::Car, d, &v).unwrap();
            assert_eq!(e.grams, 0.0, "{d}");
        }
    }

    #[test]
    fn every_mode_is_handled_and_carries_the_version() {
        let v = VehicleSettings::default();
        for table in EmissionFactors::all() {
            for &mode in Mode::ALL {
                let e = table.leg_co2_g(mode, 12_345.0, &v);
                match mode {
                    Mode::Ferry | Mode::Unknown => assert_eq!(e, None, "{mode}"),
                    _ => {
                        let e = e.unwrap_or_else(|| panic!("{mode} in {}", table.version()));
                        assert_eq!(e.version, table.version());
                        assert!(e.grams.is_finite() && e.grams >= 0.0);
                        assert!(
                            close(e.construction_g + e.energy_g + e.contrails_g, e.grams),
                            "{mode}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn vehicle_settings_from_key_values() {
        use std::collections::BTreeMap;
        let mut settings = BTreeMap::new();
        assert_eq!(
            VehicleSettings::from_settings(&settings),
            Ok(VehicleSettings::default())
        );
        settings.insert("car_type".to_owned(), "hybrid".to_owned());
        settings.insert("usual_occupants".to_owned(), "3".to_owned());
        assert_eq!(
            VehicleSettings::from_settings(&settings),
            Ok(VehicleSettings {
                car_type: CarType::Hybrid,
                usual_occupants: 3
            })
        );
        for &car in CarType::ALL {
            assert_eq!(CarType::from_name(car.as_str()), Some(car));
            assert_eq!(
                serde_json::to_string(&car).unwrap(),
                format!("\"{}\"", car.as_str())
            );
        }
        settings.insert("usual_occupants".to_owned(), "0".to_owned());
        assert!(VehicleSettings::from_settings(&settings).is_err());
        settings.insert("usual_occupants".to_owned(), "2".to_owned());
        settings.insert("car_type".to_owned(), "diesel".to_owned());
        assert!(VehicleSettings::from_settings(&settings).is_err());
    }

    #[test]
    fn estimates_serialise_with_their_version() {
        let e = EmissionFactors::current()
            .leg_co2_g(Mode::Tram, 2000.0, &VehicleSettings::default())
            .unwrap();
        let json = serde_json::to_string(&e).unwrap();
        assert!(json.contains("\"version\":\"impactco2-2026-05\""), "{json}");
        let back: Co2Estimate = serde_json::from_str(&json).unwrap();
        assert_eq!(back, e);
        let settings: VehicleSettings =
            serde_json::from_str(r#"{"car_type":"hybrid","usual_occupants":2}"#).unwrap();
        assert_eq!(settings.car_type, CarType::Hybrid);
    }
}
