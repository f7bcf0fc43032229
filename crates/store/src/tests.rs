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
