//! A synthetic population on the real Monaco extract: deterministic, with a
//! consistent ground truth, in real formats the importer reads, and scored
//! by `sillage eval` like a labelled dataset.

use sillage_synth::{ModeShares, Population, PopulationConfig, SimMode, SynthError, write_dataset};
use sillage_territory::Territory;
use std::path::Path;
use std::sync::OnceLock;

fn monaco() -> &'static Territory {
    static TERRITORY: OnceLock<Territory> = OnceLock::new();
    TERRITORY.get_or_init(|| {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/osm/monaco.osm.pbf");
        Territory::from_pbf(&path).expect("the Monaco extract loads")
    })
}

fn config(citizens: usize, seed: u64, days: u32) -> PopulationConfig {
    PopulationConfig {
        days,
        ..PopulationConfig::new(citizens, seed, (2026, 4, 6))
    }
}

#[test]
fn a_citizen_is_a_pure_function_of_seed_and_index() {
    let population = Population::new(monaco(), config(10, 42, 3)).unwrap();
    let a = population.citizen(4);
    let b = population.citizen(4);
    assert_eq!(a.fixes, b.fixes);
    assert_eq!(a.trips, b.trips);
    let other = population.citizen(5);
    assert_ne!(a.fixes, other.fixes);
    let reseeded = Population::new(monaco(), config(10, 43, 3)).unwrap();
    assert_ne!(reseeded.citizen(4).fixes, a.fixes);
}

#[test]
fn the_truth_is_consistent_and_the_phone_saw_it() {
    let population = Population::new(monaco(), config(12, 7, 7)).unwrap();
    let (start, end) = (population.period_start_ms(), population.period_end_ms());
    assert_eq!(end - start, 7 * 86_400_000, "no DST change in that week");
    let mut trips = 0;
    for index in 0..12 {
        let citizen = population.citizen(index);
        assert!(
            citizen
                .fixes
                .windows(2)
                .all(|w| w[0].time_ms <= w[1].time_ms),
            "{}",
            citizen.name
        );
        assert!(
            citizen
                .fixes
                .iter()
                .all(|f| (start..=end + 60_000).contains(&f.time_ms))
        );
        for pair in citizen.trips.windows(2) {
            assert!(pair[0].end_ms <= pair[1].start_ms, "trips never overlap");
        }
        for trip in &citizen.trips {
            trips += 1;
            assert_eq!(trip.device, citizen.name);
            assert_eq!(trip.legs.first().unwrap().start_ms, trip.start_ms);
            assert_eq!(trip.legs.last().unwrap().end_ms, trip.end_ms);
            for pair in trip.legs.windows(2) {
                assert_eq!(pair[0].end_ms, pair[1].start_ms, "legs follow each other");
            }
            assert!(trip.distance_m() > 50.0, "{trip:?}");
            assert!(trip.main_mode().is_some());
            // A moving citizen leaves fixes unless the phone slept or lost signal.
            let seen = citizen
                .fixes
                .iter()
                .filter(|f| (trip.start_ms..=trip.end_ms).contains(&f.time_ms))
                .count();
            let minutes = (trip.end_ms - trip.start_ms) as f64 / 60_000.0;
            if minutes > 10.0 && !citizen.phone.night_off {
                assert!(seen > 0, "{} trip {} unseen", citizen.name, trip.run_id);
            }
        }
    }
    // Two to four trips a day on average, as household surveys find.
    let per_day = trips as f64 / (12.0 * 7.0);
    assert!((1.5..4.5).contains(&per_day), "{per_day}");
}

#[test]
fn main_modes_follow_the_configured_shares() {
    let shares = ModeShares::parse("walk=1,car=1").unwrap();
    let population = Population::new(
        monaco(),
        PopulationConfig {
            shares,
            ..config(120, 9, 1)
        },
    )
    .unwrap();
    let cars = (0..120)
        .filter(|&i| population.citizen(i).main_mode == SimMode::Car)
        .count();
    assert!((40..=80).contains(&cars), "{cars} drivers of 120");
    let modes: Vec<SimMode> = (0..120).map(|i| population.citizen(i).main_mode).collect();
    assert!(
        modes
            .iter()
            .all(|m| matches!(m, SimMode::Walk | SimMode::Car))
    );
}

#[test]
fn bad_configurations_are_refused_with_the_field_named() {
    let error = ModeShares::parse("walk=1,horse=2").unwrap_err();
    assert!(error.to_string().contains("horse"), "{error}");
    let error = ModeShares::parse("walk=-1").unwrap_err();
    assert!(error.to_string().contains("negative"), "{error}");
    let error = Population::new(monaco(), config(0, 1, 1)).err().unwrap();
    assert!(
        matches!(error, SynthError::Config(ref m) if m.contains("citizens")),
        "{error}"
    );
    let error = Population::new(
        monaco(),
        PopulationConfig {
            first_day: (2026, 2, 30),
            ..config(1, 1, 1)
        },
    )
    .err()
    .unwrap();
    assert!(error.to_string().contains("2026-02-30"), "{error}");
}

#[test]
fn the_dataset_reads_back_and_scores_like_a_labelled_one() {
    let population = Population::new(monaco(), config(8, 11, 4)).unwrap();
    let citizens: Vec<_> = (0..8).map(|i| population.citizen(i)).collect();
    let dir = tempfile::tempdir().unwrap();
    write_dataset(dir.path(), &citizens).unwrap();
    let dataset = sillage_eval::load_dataset(dir.path()).unwrap();
    assert_eq!(dataset.devices.len(), 8);
    // Every format was read back whole.
    for (citizen, (device, fixes)) in citizens.iter().zip(&dataset.devices) {
        assert_eq!(&citizen.name, device);
        assert_eq!(
            fixes.len(),
            citizen.fixes.len(),
            "{device} ({:?})",
            citizen.format
        );
    }
    let truth_trips: usize = citizens.iter().map(|c| c.trips.len()).sum();
    assert_eq!(dataset.trips.len(), truth_trips);
    assert!(dataset.trips.iter().all(|t| t.device.is_some()));
    let report = sillage_eval::evaluate(
        &dataset,
        &sillage_analysis::AnalysisParams::default(),
        &sillage_analysis::model::ModelOrRules::bundled(),
    );
    assert!(report.trip_f1 > 0.75, "trip F1 {}", report.trip_f1);
    assert!(
        report.trip_precision > 0.75,
        "precision {}",
        report.trip_precision
    );
}
