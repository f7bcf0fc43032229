//! A refresh over a store on disk: places, purposes, suggestions and the
//! footprint, and what survives the next refresh.

use sillage_analysis::AnalysisParams;
use sillage_analysis::co2::{CarType, EmissionFactors, VehicleSettings};
use sillage_analysis::mode::RuleClassifier;
use sillage_diary::{RefreshSummary, refresh, refresh_all};
use sillage_model::{
    Correction, CorrectionValue, Fix, LabelSource, Mode, PlaceLabel, Purpose, Timestamp, Trip,
};
use sillage_store::{CitizenStore, PlaceEdit};

mod common;
use common::{import, leg_co2, open_store, seen};

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
    let store = open_store(dir, "ada").await;
    import(&store, "week.gpx", &commuting_week()).await;
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

/// The week before Thursday, and from Thursday on.
fn week_halves() -> (Vec<Fix>, Vec<Fix>) {
    let thursday = Timestamp::from_civil(2024, 3, 7, 0, 0, 0, 0).unwrap();
    commuting_week()
        .into_iter()
        .partition(|f| f.time < thursday)
}

#[tokio::test]
async fn new_days_are_analysed_alone_and_give_the_full_analysis() {
    let dir = tempfile::tempdir().unwrap();
    let week = commuting_week();
    let (first_days, last_days) = week_halves();

    // The citizen imports Monday–Wednesday, corrects a trip, then imports
    // the rest of the week.
    let store = open_store(dir.path(), "ada").await;
    import(&store, "first.gpx", &first_days).await;
    let first = run(&store).await;
    assert_eq!(first.fixes, first_days.len());
    let monday_evening = all_trips(&store).await[1].clone();
    let by_bus = Correction {
        id: 0,
        device: "phone".into(),
        start: monday_evening.start,
        end: monday_evening.end,
        value: CorrectionValue::Mode(Mode::Bus),
    };
    store.add_correction(&by_bus).await.unwrap();
    run(&store).await;
    import(&store, "rest.gpx", &last_days).await;
    let incremental = run(&store).await;
    // Only Wednesday evening onwards is read again: from the start of the
    // last activity before Thursday (home, Wednesday 17:06).
    let wednesday_home = Timestamp::from_civil(2024, 3, 6, 17, 6, 0, 0).unwrap();
    let reread = week.iter().filter(|f| f.time >= wednesday_home).count();
    assert_eq!((incremental.windows, incremental.fixes), (1, reread));
    assert!(incremental.fixes < week.len() / 2, "{incremental:?}");

    // The same week analysed at once, with the same correction.
    let whole = open_store(dir.path(), "bob").await;
    import(&whole, "week.gpx", &week).await;
    run(&whole).await;
    whole.add_correction(&by_bus).await.unwrap();
    let full = run(&whole).await;
    assert_eq!(full.fixes, 0, "a correction alone re-reads no fix");
    let incremental_trips = all_trips(&store).await;
    assert_eq!(seen(&incremental_trips), seen(&all_trips(&whole).await));
    assert_eq!(
        leg_co2(&incremental_trips),
        leg_co2(&all_trips(&whole).await)
    );
    assert_eq!(incremental_trips[1].legs[0].mode, Mode::Bus);
    assert_eq!(store.places().await.unwrap().len(), 3);

    // Nothing changed: nothing is read, nothing moves.
    let idle = run(&store).await;
    assert_eq!((idle.windows, idle.fixes), (0, 0));
    assert_eq!(seen(&all_trips(&store).await), seen(&incremental_trips));

    // A full re-analysis reads everything and agrees.
    let again = refresh_all(&store, &AnalysisParams::default(), &RuleClassifier)
        .await
        .unwrap();
    assert_eq!(again.fixes, week.len());
    assert_eq!(seen(&all_trips(&store).await), seen(&incremental_trips));
}

#[tokio::test]
async fn undoing_an_import_removes_its_days_from_the_diary() {
    let dir = tempfile::tempdir().unwrap();
    let (first_days, last_days) = week_halves();
    let store = open_store(dir.path(), "ada").await;
    import(&store, "first.gpx", &first_days).await;
    run(&store).await;
    let before = seen(&all_trips(&store).await);
    import(&store, "rest.gpx", &last_days).await;
    run(&store).await;
    assert_eq!(all_trips(&store).await.len(), 11);

    let rest = store.imports().await.unwrap().last().unwrap().id;
    store.undo_import(rest).await.unwrap();
    let summary = run(&store).await;
    assert_eq!(summary.windows, 1);
    assert_eq!(seen(&all_trips(&store).await), before);
}

#[test]
fn a_change_is_widened_to_the_activities_around_it() {
    let minute = |m: i64| Timestamp(m * MINUTE);
    let stay = |from: i64, to: i64| sillage_model::StayPoint {
        start: minute(from),
        end: minute(to),
        lat: 0.0,
        lon: 0.0,
        place_id: None,
    };
    // Activities 0–60, 100–200 and 300–400, a short stop at 250–255.
    let stays = [stay(0, 60), stay(100, 200), stay(250, 255), stay(300, 400)];
    let trip = |from: i64, to: i64| sillage_diary::TripBounds {
        start: minute(from),
        end: minute(to),
        silence_before: false,
        silence_after: false,
    };
    let trips = [trip(60, 100), trip(200, 300)];
    let changed = |from: i64, to: i64| sillage_store::DirtyWindow {
        device: "phone".into(),
        from: minute(from),
        to: minute(to),
    };
    let windows = |changed: &[sillage_store::DirtyWindow]| {
        sillage_diary::analysis_windows(changed, &stays, &trips, 15 * MINUTE)
    };
    // Inside the trip 200–300: from the activity before to the one after;
    // the short stop is no boundary.
    assert_eq!(
        windows(&[changed(220, 260)]),
        vec![(minute(100), minute(400))]
    );
    // Inside an activity: that activity is the change's, so the window
    // runs from the one before to the one after.
    assert_eq!(
        windows(&[changed(120, 121)]),
        vec![(minute(0), minute(400))]
    );
    // Before everything, after everything: open on that side.
    assert_eq!(
        windows(&[changed(-50, -40)]),
        vec![(Timestamp(i64::MIN), minute(60))]
    );
    assert_eq!(
        windows(&[changed(500, 600)]),
        vec![(minute(300), Timestamp(i64::MAX))]
    );
    // Two changes far apart stay two windows; close ones merge.
    assert_eq!(
        windows(&[changed(70, 80), changed(500, 600)]),
        vec![(minute(0), minute(200)), (minute(300), Timestamp(i64::MAX))]
    );
    assert_eq!(
        windows(&[changed(70, 80), changed(210, 220)]),
        vec![(minute(0), minute(400))]
    );
    // The data ended on a stop in the middle of a trip (the stay 100–200
    // within the trip 50–250): the window reaches back before the trip.
    let cut = [trip(60, 250)];
    assert_eq!(
        sillage_diary::analysis_windows(&[changed(260, 270)], &stays, &cut, 15 * MINUTE),
        vec![(minute(0), minute(400))]
    );
    // A long silence after a trip is a boundary too, and so is one before
    // a trip (a phone that only records while travelling has no stays).
    let silent = [
        sillage_diary::TripBounds {
            silence_after: true,
            ..trip(500, 520)
        },
        trip(600, 620),
        sillage_diary::TripBounds {
            silence_before: true,
            ..trip(700, 720)
        },
    ];
    assert_eq!(
        sillage_diary::analysis_windows(&[changed(610, 611)], &[], &silent, 15 * MINUTE),
        vec![(minute(520), minute(700))]
    );
    // A store with no stays yet: everything.
    assert_eq!(
        sillage_diary::analysis_windows(&[changed(70, 80)], &[], &[], 15 * MINUTE),
        vec![(Timestamp(i64::MIN), Timestamp(i64::MAX))]
    );
}
