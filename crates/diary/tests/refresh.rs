//! A refresh over a store on disk: places, purposes, suggestions and the
//! footprint, and what survives the next refresh.

use sillage_analysis::AnalysisParams;
use sillage_analysis::co2::{CarType, EmissionFactors, VehicleSettings};
use sillage_analysis::mode::RuleClassifier;
use sillage_diary::{RefreshSummary, refresh};
use sillage_model::{
    Correction, CorrectionValue, Fix, LabelSource, Mode, PlaceLabel, Purpose, SourceFormat,
    Timestamp, Trip,
};
use sillage_store::{CitizenName, CitizenStore, ImportChunk, PlaceEdit, citizen_store_path};

const HOME: (f64, f64) = (46.1603, -1.1511);
/// About 3 km north of home.
const WORK: (f64, f64) = (46.1873, -1.1511);
/// About 2 km west of home.
const SHOP: (f64, f64) = (46.1603, -1.1771);
const MINUTE: i64 = 60_000;

/// Monday 4 to Friday 8 March 2024 (UTC): home until 08:00, six minutes
/// by car to work, work until 17:00, back home. Stationary fixes every
/// minute with a few metres of noise, moving ones every 5 s. On Saturday
/// the citizen leaves home at 10:00 for a shop 2 km west, where the data
/// ends (so Friday night's stay at home is closed).
fn commuting_week() -> Vec<Fix> {
    let mut fixes = Vec::new();
    let mut seed: u64 = 42;
    let mut still = |fixes: &mut Vec<Fix>, from: i64, to: i64, (lat, lon): (f64, f64)| {
        let mut t = from;
        while t < to {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let noise = ((seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.00008;
            fixes.push(fix(t, lat + noise, lon));
            t += MINUTE;
        }
    };
    let moving = |fixes: &mut Vec<Fix>, start: i64, from: (f64, f64), to: (f64, f64)| {
        for k in 0..=72 {
            let share = k as f64 / 72.0;
            let lat = from.0 + (to.0 - from.0) * share;
            let lon = from.1 + (to.1 - from.1) * share;
            fixes.push(fix(start + k * 5_000, lat, lon));
        }
    };
    for day in 4..=9 {
        let midnight = Timestamp::from_civil(2024, 3, day, 0, 0, 0, 0).unwrap().0;
        let at = |h: i64, m: i64| midnight + h * 60 * MINUTE + m * MINUTE;
        let f = &mut fixes;
        if day == 9 {
            still(f, at(0, 0), at(10, 0), HOME);
            moving(f, at(10, 0), HOME, SHOP);
            still(f, at(10, 6), at(10, 40), SHOP);
            continue;
        }
        still(f, at(0, 0), at(8, 0), HOME);
        moving(f, at(8, 0), HOME, WORK);
        still(f, at(8, 6), at(17, 0), WORK);
        moving(f, at(17, 0), WORK, HOME);
        still(f, at(17, 6), at(24, 0), HOME);
    }
    fixes.sort_by_key(|f| f.time);
    fixes.dedup_by_key(|f| f.time);
    fixes
}

fn fix(t: i64, lat: f64, lon: f64) -> Fix {
    let mut f = Fix::new(Timestamp(t), lat, lon);
    f.accuracy_m = Some(10.0);
    f
}

async fn store_with_week(dir: &std::path::Path) -> CitizenStore {
    let path = citizen_store_path(dir, &CitizenName::new("ada").unwrap());
    let store = CitizenStore::open(&path).await.unwrap();
    let mut writer = store.begin_import().await.unwrap();
    writer
        .start_batch("week.gpx", SourceFormat::Gpx)
        .await
        .unwrap();
    writer
        .write(&ImportChunk {
            new_devices: vec!["phone".into()],
            fixes: commuting_week().into_iter().map(|f| (0, f)).collect(),
            hints: Vec::new(),
            rejected: Default::default(),
        })
        .await
        .unwrap();
    writer.commit().await.unwrap();
    store
}

async fn run(store: &CitizenStore) -> RefreshSummary {
    refresh(store, &AnalysisParams::default(), &RuleClassifier)
        .await
        .unwrap()
}

async fn all_trips(store: &CitizenStore) -> Vec<Trip> {
    store
        .trips_between(Timestamp(i64::MIN), Timestamp(i64::MAX))
        .await
        .unwrap()
}

#[tokio::test]
async fn places_purposes_suggestions_and_footprint() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with_week(dir.path()).await;
    let summary = run(&store).await;
    // Home, work, and the shop where the data ends (a stay of its own).
    assert_eq!((summary.trips, summary.places), (11, 3), "{summary:?}");

    let places = store.places().await.unwrap();
    let id_of = |label| places.iter().find(|p| p.label == label).unwrap().id;
    let (home, work) = (id_of(PlaceLabel::Home), id_of(PlaceLabel::Work));
    let trips = all_trips(&store).await;
    let table = EmissionFactors::current();
    for (i, trip) in trips[..10].iter().enumerate() {
        let ends = if i % 2 == 0 {
            (home, work)
        } else {
            (work, home)
        };
        assert_eq!(
            (trip.origin_place_id, trip.destination_place_id),
            (Some(ends.0), Some(ends.1)),
            "trip {i}"
        );
        assert_eq!(
            (trip.purpose, trip.purpose_source),
            (Some(Purpose::Commute), Some(LabelSource::Inferred))
        );
        for leg in &trip.legs {
            let expected = table
                .leg_co2_g(leg.mode, leg.distance_m, &VehicleSettings::default())
                .map(|e| e.grams);
            assert_eq!(leg.co2_g, expected, "{:?}", leg.mode);
            assert_eq!(leg.co2_factor_version.as_deref(), Some(table.version()));
        }
    }
    assert!(
        trips
            .iter()
            .flat_map(|t| &t.legs)
            .any(|l| l.mode == Mode::Car)
    );
    assert_eq!(summary.purposes_inferred, 10);

    // The citizen names home, drives an electric car, and says Monday
    // morning's drive was a bicycle ride for sport.
    store
        .edit_place(
            home,
            &PlaceEdit {
                name: Some(Some("Maison".into())),
                ..PlaceEdit::default()
            },
        )
        .await
        .unwrap();
    store
        .set_setting(VehicleSettings::CAR_TYPE_KEY, CarType::Electric.as_str())
        .await
        .unwrap();
    let monday = &trips[0];
    let longest = monday
        .legs
        .iter()
        .max_by(|a, b| a.distance_m.total_cmp(&b.distance_m))
        .unwrap();
    for value in [
        CorrectionValue::Mode(Mode::Bicycle),
        CorrectionValue::Purpose(Purpose::LeisureSport),
    ] {
        let (start, end) = match value {
            CorrectionValue::Mode(_) => (longest.start, longest.end),
            _ => (monday.start, monday.end),
        };
        store
            .add_correction(&Correction {
                id: 0,
                device: "phone".into(),
                start,
                end,
                value,
            })
            .await
            .unwrap();
    }
    let summary = run(&store).await;
    assert_eq!(
        summary.purposes_suggested, 9,
        "every other commute, both ways"
    );
    assert!(summary.modes_suggested >= 9, "{summary:?}");

    let places = store.places().await.unwrap();
    assert_eq!(places.len(), 3);
    let named = places.iter().find(|p| p.id == home).unwrap();
    assert_eq!(named.name.as_deref(), Some("Maison"));
    assert_eq!(named.label, PlaceLabel::Home);
    assert!(places.iter().any(|p| p.id == work));

    let trips = all_trips(&store).await;
    assert_eq!(trips[0].purpose_source, Some(LabelSource::Citizen));
    for trip in &trips[1..10] {
        assert_eq!(
            (trip.purpose, trip.purpose_source),
            (Some(Purpose::LeisureSport), Some(LabelSource::Suggested))
        );
    }
    let electric = VehicleSettings {
        car_type: CarType::Electric,
        usual_occupants: 1,
    };
    for leg in trips.iter().flat_map(|t| &t.legs) {
        let expected = table
            .leg_co2_g(leg.mode, leg.distance_m, &electric)
            .map(|e| e.grams);
        assert_eq!(leg.co2_g, expected, "{:?}", leg.mode);
        if leg.distance_m > 2000.0 {
            assert_eq!(leg.mode, Mode::Bicycle);
            assert_ne!(leg.mode_source, LabelSource::Inferred);
        }
    }

    // Deleting a place unlinks its trips; the next refresh finds it again
    // as a new, inferred place.
    store.delete_place(work).await.unwrap();
    let unlinked = all_trips(&store).await;
    assert!(
        unlinked
            .iter()
            .all(|t| t.destination_place_id != Some(work))
    );
    run(&store).await;
    let places = store.places().await.unwrap();
    assert_eq!(places.len(), 3);
    let new_work = places.iter().find(|p| p.label == PlaceLabel::Work).unwrap();
    assert_ne!(new_work.id, work);
    assert_eq!(new_work.label_source, LabelSource::Inferred);
}
