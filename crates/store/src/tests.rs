use super::*;
use sillage_model::{Fix, HintKind, RejectReason, SourceFormat, SourceHint, Timestamp};

fn fix(ms: i64, lat: f64) -> Fix {
    let mut f = Fix::new(Timestamp(ms), lat, -1.15);
    f.accuracy_m = Some(8.0);
    f
}

fn chunk(times: &[i64]) -> ImportChunk {
    ImportChunk {
        new_devices: vec!["phone".into()],
        fixes: times.iter().map(|&t| (0, fix(t, 46.16))).collect(),
        hints: vec![(
            0,
            SourceHint {
                start: Timestamp(times[0]),
                end: Timestamp(times[0]),
                kind: HintKind::Activity {
                    label: "WALKING".into(),
                    mode: Some(sillage_model::Mode::Walking),
                },
                confidence: Some(0.5),
            },
        )],
        rejected: [(RejectReason::NullIsland, 2)].into(),
    }
}

async fn store() -> (tempfile::TempDir, CitizenStore) {
    let dir = tempfile::tempdir().unwrap();
    let path = citizen_store_path(dir.path(), &CitizenName::new("ada").unwrap());
    let store = CitizenStore::open(&path).await.unwrap();
    (dir, store)
}

async fn import(
    store: &CitizenStore,
    name: &str,
    chunk: &ImportChunk,
) -> sillage_model::ImportBatch {
    let mut w = store.begin_import().await.unwrap();
    w.start_batch(name, SourceFormat::Gpx).await.unwrap();
    w.write(chunk).await.unwrap();
    let mut batches = w.commit().await.unwrap();
    assert_eq!(batches.len(), 1);
    batches.remove(0)
}

const DAY1: i64 = 1_709_280_000_000; // 2024-03-01T08:00:00Z

#[tokio::test]
async fn import_dedup_and_undo() {
    let (_dir, store) = store().await;
    let times: Vec<i64> = (0..450).map(|i| DAY1 + i * 1000).collect();
    let first = import(&store, "a.gpx", &chunk(&times)).await;
    assert_eq!(first.counts.accepted, 450);
    assert_eq!(first.counts.duplicates, 0);
    assert_eq!(first.counts.hints, 1);
    assert_eq!(first.counts.rejected[&RejectReason::NullIsland], 2);

    // Overlapping re-import: 200 known instants, 100 new ones, and an
    // in-chunk repeat of one new instant.
    let mut again: Vec<i64> = times[250..].to_vec();
    again.extend((450..550).map(|i| DAY1 + i * 1000));
    again.push(DAY1 + 500 * 1000);
    let second = import(&store, "b.gpx", &chunk(&again)).await;
    assert_eq!(
        (second.counts.accepted, second.counts.duplicates),
        (100, 201)
    );
    assert_eq!(second.counts.hints, 1, "a different hint instant");
    assert_eq!(store.fix_count().await.unwrap(), 550);

    let listed = store.imports().await.unwrap();
    assert_eq!(listed, vec![first.clone(), second.clone()]);

    // Undoing the second import removes only what it brought first.
    let undo = store.undo_import(second.id).await.unwrap();
    assert_eq!(
        undo,
        UndoOutcome {
            fixes: 100,
            hints: 1
        }
    );
    assert_eq!(store.fix_count().await.unwrap(), 450);
    assert_eq!(store.imports().await.unwrap(), vec![first]);
    assert!(matches!(
        store.undo_import(second.id).await,
        Err(StoreError::NoSuchImport(_))
    ));
}

#[tokio::test]
async fn an_abandoned_import_leaves_nothing() {
    let (_dir, store) = store().await;
    let mut w = store.begin_import().await.unwrap();
    w.start_batch("a.json", SourceFormat::GoogleRecords)
        .await
        .unwrap();
    w.write(&chunk(&[DAY1, DAY1 + 1000])).await.unwrap();
    w.start_batch("b.json", SourceFormat::GoogleRecords)
        .await
        .unwrap();
    drop(w);
    assert_eq!(store.fix_count().await.unwrap(), 0);
    assert!(store.imports().await.unwrap().is_empty());
    let mut w = store.begin_import().await.unwrap();
    w.start_batch("a.json", SourceFormat::GoogleRecords)
        .await
        .unwrap();
    w.write(&chunk(&[DAY1])).await.unwrap();
    w.rollback().await.unwrap();
    assert_eq!(store.fix_count().await.unwrap(), 0);
}

#[tokio::test]
async fn days_and_streaming_read() {
    let (_dir, store) = store().await;
    let late_evening = DAY1 + 15 * 3_600_000 + 30 * 60_000; // 23:30 UTC
    let mut c = chunk(&[DAY1, late_evening]);
    c.fixes[1].1.utc_offset_min = Some(60); // 00:30 local, next day
    import(&store, "x", &c).await;
    let days = store.fixes_per_day().await.unwrap();
    assert_eq!(
        days,
        vec![
            DayCount {
                date: "2024-03-01".into(),
                fixes: 1
            },
            DayCount {
                date: "2024-03-02".into(),
                fixes: 1
            }
        ]
    );
    let mut seen = Vec::new();
    let n = store
        .for_each_fix(None, |f| {
            seen.push(f);
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(n, 2);
    assert_eq!(seen[0].device, "phone");
    assert_eq!(seen[0].fix, fix(DAY1, 46.16));
    assert_eq!(seen[1].fix.utc_offset_min, Some(60));
}

#[test]
fn citizen_names_cannot_escape() {
    for bad in ["", "../x", ".hidden", "a/b", "é", &"x".repeat(65)] {
        assert!(CitizenName::new(bad).is_err(), "{bad}");
    }
    assert!(CitizenName::new("jane.doe-2_x").is_ok());
}

#[tokio::test]
async fn several_batches_commit_together() {
    let (_dir, store) = store().await;
    let mut w = store.begin_import().await.unwrap();
    w.start_batch("takeout.zip!/a.json", SourceFormat::GoogleSemantic)
        .await
        .unwrap();
    w.write(&chunk(&[DAY1])).await.unwrap();
    w.start_batch("takeout.zip!/b.json", SourceFormat::GoogleSemantic)
        .await
        .unwrap();
    let mut second = chunk(&[DAY1 + 1000]);
    second.new_devices.clear(); // device indices are per batch: announce again
    assert!(w.write(&second).await.is_err());
    w.write(&chunk(&[DAY1 + 1000])).await.unwrap();
    let batches = w.commit().await.unwrap();
    assert_eq!(
        batches
            .iter()
            .map(|b| b.counts.accepted)
            .collect::<Vec<_>>(),
        vec![1, 1]
    );
    assert_eq!(store.imports().await.unwrap(), batches);
}

fn place(id: i64, lat: f64, label: sillage_model::PlaceLabel, visits: u32) -> sillage_model::Place {
    sillage_model::Place {
        id,
        lat,
        lon: -1.15,
        label,
        label_source: sillage_model::LabelSource::Inferred,
        name: None,
        private: false,
        visits,
    }
}

fn stored_trip(
    start: i64,
    from: Option<i64>,
    to: Option<i64>,
    legs: Vec<sillage_model::Leg>,
) -> sillage_model::Trip {
    let at = sillage_model::GeoPoint {
        lat: 46.16,
        lon: -1.15,
    };
    sillage_model::Trip {
        id: 0,
        device: "phone".into(),
        start: Timestamp(start),
        end: Timestamp(start + 1_800_000),
        origin: at,
        destination: at,
        origin_place_id: from,
        destination_place_id: to,
        distance_m: legs.iter().map(|l| l.distance_m).sum(),
        purpose: None,
        purpose_source: None,
        private: false,
        legs,
    }
}

fn stored_leg(
    start: i64,
    km: f64,
    mode: sillage_model::Mode,
    co2_g: Option<f64>,
) -> sillage_model::Leg {
    sillage_model::Leg {
        start: Timestamp(start),
        end: Timestamp(start + 900_000),
        distance_m: km * 1000.0,
        mode,
        confidence: 0.8,
        mode_source: sillage_model::LabelSource::Inferred,
        inferred_mode: mode,
        inferred_confidence: 0.8,
        co2_g,
        co2_factor_version: Some("impactco2-2026-05".into()),
        kcal: if mode == sillage_model::Mode::Walking {
            50.0
        } else {
            0.0
        },
    }
}

#[tokio::test]
async fn places_keep_ids_and_the_citizens_word_across_refreshes() {
    use sillage_model::{LabelSource, PlaceLabel};
    let (_dir, store) = store().await;
    import(&store, "a.gpx", &chunk(&[DAY1])).await;
    // First analysis: three places.
    let ids = store
        .save_places(
            &[
                place(0, 46.16, PlaceLabel::Home, 10),
                place(0, 46.18, PlaceLabel::Work, 8),
                place(0, 46.20, PlaceLabel::Other, 2),
            ],
            &[],
        )
        .await
        .unwrap();
    assert_eq!(ids.len(), 3);
    let (home, work, shop) = (ids[0], ids[1], ids[2]);
    store
        .replace_trips(
            "phone",
            Timestamp(i64::MIN),
            Timestamp(i64::MAX),
            &[stored_trip(DAY1, Some(home), Some(shop), Vec::new())],
        )
        .await
        .unwrap();

    // The citizen names the shop, relabels work as study, hides home.
    let edited = store
        .edit_place(
            shop,
            &PlaceEdit {
                name: Some(Some("Bakery".into())),
                ..PlaceEdit::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(edited.name.as_deref(), Some("Bakery"));
    let study = store
        .edit_place(
            work,
            &PlaceEdit {
                label: Some(PlaceLabel::Study),
                ..PlaceEdit::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (study.label, study.label_source),
        (PlaceLabel::Study, LabelSource::Citizen)
    );
    store
        .edit_place(
            home,
            &PlaceEdit {
                private: Some(true),
                ..PlaceEdit::default()
            },
        )
        .await
        .unwrap();

    // A re-analysis that saves stale copies (no name, inferred Work) and
    // moved centres, and asks to delete everything: derived fields change,
    // the citizen's word does not, and touched places survive.
    let stale = [
        place(home, 46.1601, PlaceLabel::Home, 11),
        place(work, 46.1801, PlaceLabel::Work, 9),
        place(shop, 46.2001, PlaceLabel::Other, 3),
    ];
    let again = store
        .save_places(&stale, &[home, work, shop])
        .await
        .unwrap();
    assert_eq!(again, vec![home, work, shop]);
    let places = store.places().await.unwrap();
    assert_eq!(places.len(), 3);
    assert_eq!(
        (places[0].lat, places[0].visits, places[0].private),
        (46.1601, 11, true)
    );
    assert_eq!(
        (places[1].label, places[1].label_source),
        (PlaceLabel::Study, LabelSource::Citizen)
    );
    assert_eq!(places[2].name.as_deref(), Some("Bakery"));
    assert_eq!(places[2].label_source, LabelSource::Inferred);

    // An untouched place can go; so can a named one, by the citizen only.
    let extra = store
        .save_places(&[place(0, 46.3, PlaceLabel::Other, 1)], &[])
        .await
        .unwrap()[0];
    store.save_places(&[], &[extra]).await.unwrap();
    assert!(matches!(
        store.place(extra).await,
        Err(StoreError::NoSuchPlace(_))
    ));
    // Clearing the name.
    let cleared = store
        .edit_place(
            shop,
            &PlaceEdit {
                name: Some(None),
                ..PlaceEdit::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(cleared.name, None);
    store.delete_place(home).await.unwrap();
    assert!(matches!(
        store.delete_place(home).await,
        Err(StoreError::NoSuchPlace(_))
    ));
    assert!(matches!(
        store.edit_place(home, &PlaceEdit::default()).await,
        Err(StoreError::NoSuchPlace(_))
    ));
    let trips = store
        .trips_between(Timestamp(i64::MIN), Timestamp(i64::MAX))
        .await
        .unwrap();
    assert_eq!(
        (trips[0].origin_place_id, trips[0].destination_place_id),
        (None, Some(shop))
    );
    // A stored place deleted meanwhile is inserted afresh.
    let back = store
        .save_places(&[place(home, 46.16, PlaceLabel::Home, 4)], &[])
        .await
        .unwrap();
    assert_ne!(back[0], home);
}

#[tokio::test]
async fn footprint_sums_legs_per_period_and_mode() {
    use sillage_model::Mode;
    let (_dir, store) = store().await;
    import(&store, "a.gpx", &chunk(&[DAY1])).await;
    const DAY: i64 = 86_400_000;
    let day2 = DAY1 + DAY;
    let next_month = DAY1 + 31 * DAY; // 2024-04-01
    let trips = [
        stored_trip(
            DAY1,
            None,
            None,
            vec![
                stored_leg(DAY1, 0.5, Mode::Walking, Some(0.0)),
                stored_leg(DAY1 + 900_000, 10.0, Mode::Car, Some(1422.5)),
                stored_leg(DAY1 + 1_800_000, 0.3, Mode::Walking, Some(0.0)),
            ],
        ),
        stored_trip(
            day2,
            None,
            None,
            vec![stored_leg(day2, 12.0, Mode::Car, Some(1707.0))],
        ),
        stored_trip(
            next_month,
            None,
            None,
            vec![
                stored_leg(next_month, 4.0, Mode::Ferry, None),
                stored_leg(next_month + 900_000, 2.0, Mode::Bicycle, Some(0.34)),
            ],
        ),
    ];
    store
        .replace_trips("phone", Timestamp(i64::MIN), Timestamp(i64::MAX), &trips)
        .await
        .unwrap();
    let all = (Timestamp(i64::MIN), Timestamp(i64::MAX));

    let by_day = store
        .footprint(all.0, all.1, Granularity::Day)
        .await
        .unwrap();
    let summary: Vec<(&str, Mode, u64)> = by_day
        .iter()
        .map(|r| (r.period.as_str(), r.mode, r.trips))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("2024-03-01", Mode::Car, 1),
            ("2024-03-01", Mode::Walking, 1),
            ("2024-03-02", Mode::Car, 1),
            ("2024-04-01", Mode::Bicycle, 1),
            ("2024-04-01", Mode::Ferry, 1),
        ]
    );
    assert!((by_day[1].km - 0.8).abs() < 1e-9);
    assert_eq!(by_day[1].kcal, 100.0);
    assert_eq!(by_day[4].co2_g, None, "ferry: unknown, not zero");

    let by_month = store
        .footprint(all.0, all.1, Granularity::Month)
        .await
        .unwrap();
    let car = by_month
        .iter()
        .find(|r| r.period == "2024-03" && r.mode == Mode::Car)
        .unwrap();
    assert_eq!(
        (car.trips, car.km, car.co2_g),
        (2, 22.0, Some(1422.5 + 1707.0))
    );
    let by_year = store
        .footprint(all.0, all.1, Granularity::Year)
        .await
        .unwrap();
    assert!(by_year.iter().all(|r| r.period == "2024"));
    // Year totals equal the sum of every known leg value.
    let known: f64 = trips
        .iter()
        .flat_map(|t| &t.legs)
        .filter_map(|l| l.co2_g)
        .sum();
    let total: f64 = by_year.iter().filter_map(|r| r.co2_g).sum();
    assert!((total - known).abs() < 1e-9);
    // The window is on the trips' start.
    let march = store
        .footprint(Timestamp(DAY1), Timestamp(next_month), Granularity::Month)
        .await
        .unwrap();
    assert!(march.iter().all(|r| r.period == "2024-03"));
    assert_eq!(Granularity::from_name("month"), Some(Granularity::Month));
    assert_eq!(Granularity::from_name("week"), None);
}

#[tokio::test]
async fn settings_are_key_values() {
    let (_dir, store) = store().await;
    assert!(store.settings().await.unwrap().is_empty());
    assert_eq!(store.setting("car_type").await.unwrap(), None);
    store.set_setting("car_type", "electric").await.unwrap();
    store.set_setting("usual_occupants", "2").await.unwrap();
    store.set_setting("car_type", "hybrid").await.unwrap();
    assert_eq!(
        store.setting("car_type").await.unwrap().as_deref(),
        Some("hybrid")
    );
    let all = store.settings().await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all["usual_occupants"], "2");
}
