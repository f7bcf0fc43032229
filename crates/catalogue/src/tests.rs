use super::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use sillage_model::{GeoPoint, ModeGroup, Timestamp};

const SQUARES: &str = include_str!("../fixtures/two-zones.geojson");

const CENTRE: GeoPoint = GeoPoint {
    lat: 46.16,
    lon: -1.15,
};
const PORT: GeoPoint = GeoPoint {
    lat: 46.15,
    lon: -1.19,
};
const FAR: GeoPoint = GeoPoint {
    lat: 45.0,
    lon: 2.0,
};

fn bands() -> TimeBands {
    TimeBands::peaks(60)
}

/// 4 March 2024 at `hour` local time (UTC+1).
fn at(hour: i64) -> Timestamp {
    Timestamp(Timestamp::from_civil(2024, 3, 4, 0, 0, 0, 0).unwrap().0 + (hour - 1) * 3_600_000)
}

fn trip(hour: i64, from: GeoPoint, to: GeoPoint, group: ModeGroup, km: f64) -> ContributableTrip {
    ContributableTrip {
        start: at(hour),
        origin: from,
        destination: to,
        distance_m: km * 1000.0,
        main_group: group,
        distance_by_group: vec![(group, km * 1000.0)],
        path: vec![from, to],
        private: false,
    }
}

fn od() -> MeasurementSpec {
    MeasurementSpec::OdMatrix {
        zones: Zones::from_geojson(SQUARES).unwrap(),
        mode_groups: vec![ModeGroup::Bike, ModeGroup::Car],
        time_bands: bands(),
        cap: 4,
    }
}

fn rng() -> StdRng {
    StdRng::seed_from_u64(7)
}

#[test]
fn od_matrix_counts_trips_and_says_why_others_do_not_count() {
    let spec = od();
    assert_eq!(spec.validate(), Ok(16));
    let mut private = trip(8, CENTRE, PORT, ModeGroup::Bike, 3.0);
    private.private = true;
    let trips = vec![
        trip(8, CENTRE, PORT, ModeGroup::Bike, 3.0),
        trip(17, PORT, CENTRE, ModeGroup::Car, 3.2),
        private,
        trip(8, CENTRE, FAR, ModeGroup::Car, 300.0),
        trip(3, CENTRE, PORT, ModeGroup::Bike, 3.0),
        trip(8, CENTRE, PORT, ModeGroup::Walk, 3.0),
        trip(9, CENTRE, PORT, ModeGroup::Bike, 3.0),
    ];
    let c = encode(&spec, &trips, &[6], &mut rng()).unwrap();
    // Centre→Port, bike, morning = ((0·2+1)·2+0)·2+0 = 4; Port→Centre,
    // car, evening = ((1·2+0)·2+1)·2+1 = 11.
    let mut expected = vec![0; 16];
    expected[4] = 1;
    expected[11] = 1;
    assert_eq!(c.vector, expected);
    assert_eq!(
        c.excluded,
        vec![
            (2, Exclusion::Private),
            (3, Exclusion::OutsideArea),
            (4, Exclusion::OutsideTimeBands),
            (5, Exclusion::ModeNotCounted),
            (6, Exclusion::ExcludedByCitizen),
        ]
    );
    assert_eq!(
        spec.label(4).describe(1, "fr"),
        "1 trajet à vélo de Centre vers Port, pointe du matin"
    );
    assert_eq!(
        spec.label(11).describe(3, "en"),
        "3 trips by car from Port to Centre, pointe du soir"
    );
}

#[test]
fn the_cap_drops_units_at_random_and_says_which() {
    let trips: Vec<_> = (0..10)
        .map(|_| trip(8, CENTRE, PORT, ModeGroup::Bike, 3.0))
        .collect();
    let c = encode(&od(), &trips, &[], &mut rng()).unwrap();
    assert_eq!(c.vector.iter().sum::<u32>(), 4);
    assert_eq!((c.units.len(), c.dropped_by_cap.len()), (4, 6));
    let mut all: Vec<usize> = c
        .units
        .iter()
        .chain(&c.dropped_by_cap)
        .map(|u| u.trip)
        .collect();
    all.sort_unstable();
    assert_eq!(all, (0..10).collect::<Vec<_>>());
    // Another draw keeps other trips, the same total.
    let other = encode(&od(), &trips, &[], &mut StdRng::seed_from_u64(8)).unwrap();
    assert_eq!(other.vector, c.vector);
    assert_ne!(other.units, c.units);
}

#[test]
fn modal_share_in_km_and_distance_bands() {
    let km = MeasurementSpec::ModalShare {
        unit: ShareUnit::Km,
        mode_groups: vec![ModeGroup::Walk, ModeGroup::Bike],
        cap: 50,
    };
    let mut mixed = trip(8, CENTRE, PORT, ModeGroup::Bike, 3.0);
    mixed.distance_by_group = vec![(ModeGroup::Bike, 2400.0), (ModeGroup::Walk, 600.0)];
    assert_eq!(
        encode(&km, &[mixed.clone()], &[], &mut rng())
            .unwrap()
            .vector,
        vec![1, 2]
    );
    assert_eq!(km.label(1).describe(2, "fr"), "2 km à vélo");

    let histogram = MeasurementSpec::DistanceHistogram {
        bounds_km: vec![0.0, 1.0, 3.0, 10.0],
        mode_groups: vec![ModeGroup::Bike, ModeGroup::Car],
        cap: 4,
    };
    let trips = [
        trip(8, CENTRE, PORT, ModeGroup::Car, 5.0),
        trip(8, CENTRE, PORT, ModeGroup::Bike, 12.0),
    ];
    let v = encode(&histogram, &trips, &[], &mut rng()).unwrap().vector;
    assert_eq!(v, vec![0, 0, 0, 1, 0, 0, 1, 0]);
    assert_eq!(
        histogram.label(6).describe(1, "en"),
        "1 trip by car of 3 to 10 km"
    );
    assert_eq!(
        histogram.label(3).describe(1, "fr"),
        "1 trajet à vélo de plus de 10 km"
    );
}

#[test]
fn h3_cells_count_each_cell_a_trip_passes_through_once() {
    let origin = h3o::LatLng::new(CENTRE.lat, CENTRE.lon)
        .unwrap()
        .to_cell(h3o::Resolution::Eight);
    let area: Vec<h3o::CellIndex> = origin.grid_disk::<Vec<_>>(10);
    let spec = MeasurementSpec::H3Cells {
        cells: area.iter().map(|c| c.to_string()).collect(),
        time_bands: bands(),
        mode_groups: vec![ModeGroup::Bike],
        cap: 100,
    };
    let mut ride = trip(8, CENTRE, PORT, ModeGroup::Bike, 3.2);
    ride.path = (0..=40)
        .map(|k| {
            let f = f64::from(k) / 40.0;
            GeoPoint {
                lat: CENTRE.lat + (PORT.lat - CENTRE.lat) * f,
                lon: CENTRE.lon + (PORT.lon - CENTRE.lon) * f,
            }
        })
        .collect();
    let c = encode(&spec, &[ride.clone(), ride], &[], &mut rng()).unwrap();
    let per_trip = c.units.len() / 2;
    // About 3.2 km across cells ~0.9 km wide: a handful of cells, each once.
    assert!((3..=8).contains(&per_trip), "{per_trip} cells");
    assert!(c.vector.iter().all(|&v| v == 0 || v == 2));
    let first = c.units[0].cell;
    assert!(
        spec.label(first)
            .describe(2, "fr")
            .starts_with("2 trajets à vélo passant par la maille 88")
    );
}

#[test]
fn street_segments_are_named_but_not_computed_yet() {
    let spec = MeasurementSpec::StreetSegments {
        segments: vec!["way/1".into()],
        cap: 8,
    };
    assert_eq!(spec.validate(), Ok(1));
    assert!(matches!(
        encode(&spec, &[], &[], &mut rng()),
        Err(CatalogueError::Unavailable(_))
    ));
}

#[test]
fn specifications_are_checked() {
    let bad = MeasurementSpec::ModalShare {
        unit: ShareUnit::Trips,
        mode_groups: vec![],
        cap: 4,
    };
    assert!(bad.validate().is_err());
    let zero = MeasurementSpec::ModalShare {
        unit: ShareUnit::Trips,
        mode_groups: vec![ModeGroup::Bike],
        cap: 0,
    };
    assert!(zero.validate().is_err());
    let json = serde_json::to_string(&od()).unwrap();
    assert!(json.starts_with(r#"{"kind":"od_matrix""#));
    assert_eq!(
        serde_json::from_str::<MeasurementSpec>(&json).unwrap(),
        od()
    );
}
