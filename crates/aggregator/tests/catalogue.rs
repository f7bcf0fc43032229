//! Every computable entry of the measurement catalogue, end to end: trips
//! in citizens' stores become capped vectors, go through both aggregators,
//! and come out at the city as labelled totals equal to the exact sums.

mod common;

use common::{Backend, deploy};
use rand::SeedableRng;
use sillage_catalogue::{
    ContributableTrip, MeasurementSpec, ShareUnit, TimeBand, TimeBands, Zones, encode, h3_area,
};
use sillage_dap::task::VdafConfig;
use sillage_model::{GeoPoint, ModeGroup, Timestamp};

/// Centre and Port, two squares of La Rochelle.
const ZONES: &str = include_str!("../../catalogue/fixtures/two-zones.geojson");
const CENTRE: GeoPoint = GeoPoint {
    lat: 46.16,
    lon: -1.15,
};
const PORT: GeoPoint = GeoPoint {
    lat: 46.15,
    lon: -1.19,
};

fn bands() -> TimeBands {
    TimeBands {
        utc_offset_min: 0,
        bands: vec![
            TimeBand {
                name: "morning".into(),
                start_hour: 6,
                end_hour: 12,
            },
            TimeBand {
                name: "afternoon".into(),
                start_hour: 12,
                end_hour: 20,
            },
        ],
    }
}

fn catalogue() -> Vec<MeasurementSpec> {
    let groups = vec![
        ModeGroup::Walk,
        ModeGroup::Bike,
        ModeGroup::Car,
        ModeGroup::Bus,
    ];
    vec![
        MeasurementSpec::OdMatrix {
            zones: Zones::from_geojson(ZONES).unwrap(),
            mode_groups: groups.clone(),
            time_bands: bands(),
            cap: 4,
        },
        MeasurementSpec::H3Cells {
            cells: h3_area(CENTRE, 8, 6).unwrap(),
            time_bands: bands(),
            mode_groups: groups.clone(),
            cap: 16,
        },
        MeasurementSpec::ModalShare {
            unit: ShareUnit::Trips,
            mode_groups: groups.clone(),
            cap: 4,
        },
        MeasurementSpec::ModalShare {
            unit: ShareUnit::Km,
            mode_groups: groups.clone(),
            cap: 40,
        },
        MeasurementSpec::DistanceHistogram {
            bounds_km: vec![0.0, 1.0, 3.0, 10.0],
            mode_groups: groups,
            cap: 4,
        },
    ]
}

/// Citizen `i`'s trips of the wave: commutes between Centre and Port by a
/// mode that depends on them.
fn trips_of(i: u64, wave_start: u64) -> Vec<ContributableTrip> {
    let group = [
        ModeGroup::Walk,
        ModeGroup::Bike,
        ModeGroup::Car,
        ModeGroup::Bus,
    ][(i % 4) as usize];
    (0..(1 + i % 5))
        .map(|k| {
            let (from, to) = if k % 2 == 0 {
                (CENTRE, PORT)
            } else {
                (PORT, CENTRE)
            };
            let day = wave_start as i64 * 1000 + (k as i64) * 86_400_000;
            let midnight = day - day.rem_euclid(86_400_000);
            let km = 3.2 + (i % 3) as f64;
            ContributableTrip {
                start: Timestamp(midnight + if k % 2 == 0 { 8 } else { 17 } * 3_600_000),
                origin: from,
                destination: to,
                distance_m: km * 1000.0,
                main_group: group,
                distance_by_group: vec![(group, km * 1000.0)],
                path: (0..=20)
                    .map(|s| {
                        let f = f64::from(s) / 20.0;
                        GeoPoint {
                            lat: from.lat + (to.lat - from.lat) * f,
                            lon: from.lon + (to.lon - from.lon) * f,
                        }
                    })
                    .collect(),
                private: false,
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_catalogue_entry_flows_to_the_city_as_exact_labelled_totals() {
    for spec in catalogue() {
        let len = spec.validate().unwrap();
        let d = deploy(
            &Backend::Sqlite,
            10,
            None,
            VdafConfig {
                length: len,
                max_weight: spec.cap(),
            },
        )
        .await;
        let mut exact = vec![0i64; len];
        for citizen in 0..12 {
            let trips = trips_of(citizen, d.task.wave.start);
            let mut rng = rand::rngs::StdRng::seed_from_u64(citizen);
            let contribution = encode(&spec, &trips, &[], &mut rng).unwrap();
            assert!(contribution.vector.iter().sum::<u32>() <= spec.cap());
            for (e, v) in exact.iter_mut().zip(&contribution.vector) {
                *e += i64::from(*v);
            }
            assert_eq!(d.upload(&d.report(&contribution.vector)).await.0, 201);
        }
        let collection = d.collect().await.unwrap();
        let totals = d.totals(&collection);
        assert_eq!(totals, exact, "{spec:?}");
        assert!(exact.iter().sum::<i64>() > 0);
        let busiest = (0..len).max_by_key(|&i| totals[i]).unwrap();
        let words = spec.label(busiest).describe(totals[busiest] as u64, "en");
        assert!(words.starts_with(&totals[busiest].to_string()), "{words}");
    }
}
