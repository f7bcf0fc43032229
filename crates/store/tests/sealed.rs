//! Sealed stores through the public API: nothing readable on disk, the same
//! store back with the right key, a clear refusal otherwise, crash recovery,
//! concurrency; and (ignored) the cost of sealing.

use sillage_model::{Fix, HintKind, SourceFormat, SourceHint, Timestamp};
use sillage_store::{CitizenStore, DataKey, ImportChunk, StoreError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const KEY: [u8; 32] = [0x5A; 32];
const DEVICE: &str = "secret-device-name";
const LABEL: &str = "Secret Place Label 42";
const LAT: f64 = 46.161_234_567_8;
const DAY1: i64 = 1_709_280_000_000;

fn key() -> DataKey {
    DataKey::from_bytes(KEY)
}

fn fix(ms: i64, lat: f64) -> Fix {
    let mut f = Fix::new(Timestamp(ms), lat, -1.151_234_5);
    f.accuracy_m = Some(8.0);
    f
}

/// `n` fixes of one device from `start`, one a second.
fn chunk(device: &str, start: i64, n: i64) -> ImportChunk {
    ImportChunk {
        new_devices: vec![device.into()],
        fixes: (0..n)
            .map(|i| (0, fix(start + i * 1000, LAT + i as f64 * 1e-6)))
            .collect(),
        hints: vec![(
            0,
            SourceHint {
                start: Timestamp(start),
                end: Timestamp(start + 60_000),
                kind: HintKind::PlaceVisit {
                    lat: Some(LAT),
                    lon: Some(-1.15),
                    label: Some(LABEL.into()),
                },
                confidence: Some(0.9),
            },
        )],
        ..ImportChunk::default()
    }
}

async fn import(store: &CitizenStore, chunk: &ImportChunk) {
    let mut w = store.begin_import().await.unwrap();
    w.start_batch("takeout.json", SourceFormat::GoogleSemantic)
        .await
        .unwrap();
    w.write(chunk).await.unwrap();
    w.commit().await.unwrap();
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The secrets written by `chunk` (SQLite stores REAL big-endian).
fn leaks(bytes: &[u8]) -> Vec<&'static str> {
    let probes: [(&str, Vec<u8>); 5] = [
        ("SQLite header", b"SQLite format 3".to_vec()),
        ("device name", DEVICE.as_bytes().to_vec()),
        ("place label", LABEL.as_bytes().to_vec()),
        ("latitude (big-endian)", LAT.to_be_bytes().to_vec()),
        ("latitude (little-endian)", LAT.to_le_bytes().to_vec()),
    ];
    probes
        .into_iter()
        .filter(|(_, probe)| contains(bytes, probe))
        .map(|(name, _)| name)
        .collect()
}

fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

#[tokio::test]
async fn nothing_readable_reaches_the_disk_and_everything_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    // The probes do find a plain store's data, so their absence means something.
    let plain_path = dir.path().join("plain.sqlite");
    let plain = CitizenStore::open(&plain_path).await.unwrap();
    import(&plain, &chunk(DEVICE, DAY1, 500)).await;
    plain.close().await;
    assert_eq!(leaks(&std::fs::read(&plain_path).unwrap()).len(), 4);

    let path = dir.path().join("ada.sqlite");
    let store = CitizenStore::open_sealed(&path, &key()).await.unwrap();
    import(&store, &chunk(DEVICE, DAY1, 500)).await;
    import(&store, &chunk("watch", DAY1 + 86_400_000, 300)).await;
    let wal = std::fs::read(sidecar(&path, "-wal")).unwrap();
    assert!(wal.len() > 4096, "the imports are in the WAL");
    assert_eq!(leaks(&wal), Vec::<&str>::new(), "WAL");
    assert_eq!(leaks(&std::fs::read(&path).unwrap()), Vec::<&str>::new());
    let before = everything(&store).await;
    store.close().await;
    assert_eq!(
        leaks(&std::fs::read(&path).unwrap()),
        Vec::<&str>::new(),
        "checkpointed file"
    );

    let store = CitizenStore::open_sealed(&path, &key()).await.unwrap();
    assert_eq!(everything(&store).await, before);
    assert_eq!(store.fix_count().await.unwrap(), 800);
    assert_eq!(store.devices().await.unwrap(), vec![DEVICE, "watch"]);
    // The bulk reader steps SQLite directly, through the same seal.
    let fixes = store
        .device_fixes(DEVICE, Timestamp(0), Timestamp(i64::MAX))
        .await
        .unwrap();
    assert_eq!(
        fixes,
        chunk(DEVICE, DAY1, 500)
            .fixes
            .into_iter()
            .map(|(_, f)| f)
            .collect::<Vec<_>>()
    );
    store.close().await;

    // A sealed store is not a plain one.
    assert!(CitizenStore::open(&path).await.is_err());
}

/// What a citizen sees of their store: imports and every fix.
async fn everything(store: &CitizenStore) -> (Vec<sillage_model::ImportBatch>, Vec<(String, Fix)>) {
    let mut fixes = Vec::new();
    store
        .for_each_fix(None, |f| {
            fixes.push((f.device, f.fix));
            Ok(())
        })
        .await
        .unwrap();
    (store.imports().await.unwrap(), fixes)
}

#[tokio::test]
async fn a_wrong_key_is_refused_clearly_and_harms_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bob.sqlite");
    let store = CitizenStore::open_sealed(&path, &key()).await.unwrap();
    import(&store, &chunk(DEVICE, DAY1, 200)).await;

    // While the store is open in this process...
    let wrong = DataKey::from_bytes([1; 32]);
    let refused = CitizenStore::open_sealed(&path, &wrong).await.unwrap_err();
    assert!(
        matches!(refused, StoreError::WrongKeyOrTampered),
        "{refused:?}"
    );
    assert_eq!(refused.to_string(), "wrong key or tampered store");
    // ...and once every open of it is closed.
    let second = CitizenStore::open_sealed(&path, &key()).await.unwrap();
    import(&second, &chunk("watch", DAY1, 100)).await;
    second.close().await;
    store.close().await;
    let refused = CitizenStore::open_sealed(&path, &wrong).await.unwrap_err();
    assert!(
        matches!(refused, StoreError::WrongKeyOrTampered),
        "{refused:?}"
    );

    let store = CitizenStore::open_sealed(&path, &key()).await.unwrap();
    assert_eq!(store.fix_count().await.unwrap(), 300);
    store.close().await;
}

#[tokio::test]
async fn tampering_is_detected_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("eve.sqlite");
    let store = CitizenStore::open_sealed(&path, &key()).await.unwrap();
    import(&store, &chunk(DEVICE, DAY1, 3000)).await;
    store.close().await;
    let original = std::fs::read(&path).unwrap();
    let pages = original.len() / 4096;
    assert!(pages > 5);

    let reopen = || async {
        let store = CitizenStore::open_sealed(&path, &key()).await?;
        let result = store
            .device_fixes(DEVICE, Timestamp(0), Timestamp(i64::MAX))
            .await;
        store.close().await;
        result
    };
    // One flipped bit: in page 1 (checked before SQLite opens the file), in
    // the body of every other page, or in the last page's nonce.
    for (page, at) in [(0, 10), (1, 100), (pages - 1, 4060)] {
        let mut bytes = original.clone();
        for p in page..if page == 0 { 1 } else { pages } {
            bytes[p * 4096 + at] ^= 0x01;
        }
        std::fs::write(&path, &bytes).unwrap();
        let error = reopen().await.unwrap_err();
        assert!(
            matches!(error, StoreError::WrongKeyOrTampered),
            "{page}: {error:?}"
        );
    }
    // Two pages swapped: each is bound to its place.
    let mut bytes = original.clone();
    let (a, b) = (pages - 2, pages - 1);
    let page_a = bytes[a * 4096..(a + 1) * 4096].to_vec();
    bytes.copy_within(b * 4096..(b + 1) * 4096, a * 4096);
    bytes[b * 4096..(b + 1) * 4096].copy_from_slice(&page_a);
    std::fs::write(&path, &bytes).unwrap();
    let check = async {
        let store = CitizenStore::open_sealed(&path, &key()).await?;
        let n = store.fix_count().await;
        let fixes = store
            .device_fixes(DEVICE, Timestamp(0), Timestamp(i64::MAX))
            .await;
        store.close().await;
        n.and(fixes)
    };
    assert!(matches!(check.await, Err(StoreError::WrongKeyOrTampered)));

    std::fs::write(&path, &original).unwrap();
    assert_eq!(reopen().await.unwrap().len(), 3000);
}

const CHILD_DIR: &str = "SILLAGE_SEALED_CHILD_DIR";
const COMMITS: i64 = 3;
const PER_COMMIT: i64 = 2000;

/// Not a test on its own: the child process of
/// `a_store_left_with_its_wal_reopens_consistently`, which imports and then
/// exits without closing anything, as a killed hub would.
#[tokio::test]
async fn child_imports_then_exits() {
    let Some(dir) = std::env::var_os(CHILD_DIR) else {
        return;
    };
    let store = CitizenStore::open_sealed(&Path::new(&dir).join("crash.sqlite"), &key())
        .await
        .unwrap();
    for commit in 0..COMMITS {
        import(
            &store,
            &chunk(DEVICE, DAY1 + commit * 10_000_000, PER_COMMIT),
        )
        .await;
    }
    std::process::exit(0);
}

/// Copies the store and its WAL (not the `-shm`, as after a reboot).
fn copy_store(from: &Path, to: &Path) -> PathBuf {
    let path = to.join("crash.sqlite");
    std::fs::copy(from.join("crash.sqlite"), &path).unwrap();
    std::fs::copy(from.join("crash.sqlite-wal"), sidecar(&path, "-wal")).unwrap();
    path
}

#[tokio::test]
async fn a_store_left_with_its_wal_reopens_consistently() {
    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_imports_then_exits", "--test-threads=1"])
        .env(CHILD_DIR, dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    let wal = std::fs::read(dir.path().join("crash.sqlite-wal")).unwrap();
    assert!(wal.len() > 32, "the child left its WAL un-checkpointed");
    assert_eq!((wal.len() - 32) % (24 + 4096), 0, "whole frames");
    assert_eq!(leaks(&wal), Vec::<&str>::new());

    // A wrong key is refused before SQLite may recover, or discard, the WAL.
    let copy = tempfile::tempdir().unwrap();
    let path = copy_store(dir.path(), copy.path());
    let wrong = DataKey::from_bytes([1; 32]);
    let refused = CitizenStore::open_sealed(&path, &wrong).await.unwrap_err();
    assert!(
        matches!(refused, StoreError::WrongKeyOrTampered),
        "{refused:?}"
    );
    assert_eq!(std::fs::read(sidecar(&path, "-wal")).unwrap(), wal);

    // As left: every committed import is there.
    let store = CitizenStore::open_sealed(&path, &key()).await.unwrap();
    assert_eq!(
        store.fix_count().await.unwrap(),
        (COMMITS * PER_COMMIT) as u64
    );
    assert_eq!(store.imports().await.unwrap().len(), COMMITS as usize);
    store.close().await;
    assert!(!sidecar(&path, "-wal").exists(), "checkpointed on close");
    let store = CitizenStore::open_sealed(&path, &key()).await.unwrap();
    assert_eq!(
        store.fix_count().await.unwrap(),
        (COMMITS * PER_COMMIT) as u64
    );
    store.close().await;

    // A torn last frame (its page failing authentication, or cut short):
    // the last transaction is dropped, as a plain WAL's would be.
    for damage in ["flipped", "cut"] {
        let copy = tempfile::tempdir().unwrap();
        let path = copy_store(dir.path(), copy.path());
        let wal_path = sidecar(&path, "-wal");
        let mut wal = std::fs::read(&wal_path).unwrap();
        let len = wal.len();
        match damage {
            "flipped" => wal[len - 100] ^= 0x40,
            _ => wal.truncate(len - 1000),
        }
        std::fs::write(&wal_path, &wal).unwrap();
        let store = CitizenStore::open_sealed(&path, &key()).await.unwrap();
        assert_eq!(
            store.fix_count().await.unwrap(),
            ((COMMITS - 1) * PER_COMMIT) as u64,
            "{damage}"
        );
        assert_eq!(store.imports().await.unwrap().len(), COMMITS as usize - 1);
        store.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_and_readers_through_the_pool() {
    const WRITERS: usize = 6;
    const IMPORTS: i64 = 3;
    // Enough for the WAL to pass 1000 pages: checkpoints run meanwhile.
    const FIXES: i64 = 4000;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("busy.sqlite");
    let store = CitizenStore::open_sealed(&path, &key()).await.unwrap();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));

    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let store = store.clone();
        writers.push(tokio::spawn(async move {
            for i in 0..IMPORTS {
                let device = format!("device-{w}");
                import(&store, &chunk(&device, DAY1 + i * 10_000_000, FIXES)).await;
            }
        }));
    }
    let mut readers = Vec::new();
    for r in 0..4 {
        let (store, done) = (store.clone(), done.clone());
        readers.push(tokio::spawn(async move {
            let mut reads = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                // Imports are atomic: a reader sees whole ones only.
                let device = format!("device-{}", (r + reads) % WRITERS);
                let fixes = store
                    .device_fixes(&device, Timestamp(0), Timestamp(i64::MAX))
                    .await
                    .unwrap();
                assert_eq!(fixes.len() as i64 % FIXES, 0);
                assert_eq!(store.fix_count().await.unwrap() % FIXES as u64, 0);
                reads += 1;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            reads
        }));
    }
    for writer in writers {
        writer.await.unwrap();
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    for reader in readers {
        assert!(reader.await.unwrap() > 0);
    }
    let total = (WRITERS as i64 * IMPORTS * FIXES) as u64;
    assert_eq!(store.fix_count().await.unwrap(), total);
    let checkpointed = std::fs::metadata(&path).unwrap().len() / 4096;
    assert!(checkpointed > 100, "only {checkpointed} pages checkpointed");
    store.close().await;

    let store = CitizenStore::open_sealed(&path, &key()).await.unwrap();
    assert_eq!(store.fix_count().await.unwrap(), total);
    for w in 0..WRITERS {
        let fixes = store
            .device_fixes(&format!("device-{w}"), Timestamp(0), Timestamp(i64::MAX))
            .await
            .unwrap();
        assert_eq!(fixes.len() as i64, IMPORTS * FIXES);
    }
    store.close().await;
    assert_eq!(leaks(&std::fs::read(&path).unwrap()), Vec::<&str>::new());
}

/// Timings of one import of `n` fixes (to commit, then close with its
/// checkpoint) and of reading them back in bulk from a freshly opened store.
async fn timings(sealed: bool, n: i64) -> (Duration, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.sqlite");
    let open = || async {
        if sealed {
            CitizenStore::open_sealed(&path, &key()).await.unwrap()
        } else {
            CitizenStore::open(&path).await.unwrap()
        }
    };
    let store = open().await;
    let started = Instant::now();
    let mut w = store.begin_import().await.unwrap();
    w.start_batch("bench.json", SourceFormat::GoogleRecords)
        .await
        .unwrap();
    for part in 0..n / 10_000 {
        let mut c = chunk(DEVICE, DAY1 + part * 10_000_000, 10_000);
        if part > 0 {
            c.new_devices.clear();
            c.fixes.iter_mut().for_each(|(d, _)| *d = 0);
        }
        w.write(&c).await.unwrap();
    }
    w.commit().await.unwrap();
    store.close().await;
    let import = started.elapsed();

    let store = open().await;
    let started = Instant::now();
    let fixes = store
        .device_fixes(DEVICE, Timestamp(0), Timestamp(i64::MAX))
        .await
        .unwrap();
    let read = started.elapsed();
    assert_eq!(fixes.len() as i64, n);
    store.close().await;
    (import, read)
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

/// `cargo test -p sillage-store --release --test sealed -- --ignored sealing_overhead --nocapture`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run in release"]
async fn sealing_overhead() {
    const N: i64 = 200_000;
    const ROUNDS: usize = 7;
    let (mut plain, mut sealed) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        // Alternate the order so that neither always runs on a warm cache.
        if round % 2 == 0 {
            plain.push(timings(false, N).await);
            sealed.push(timings(true, N).await);
        } else {
            sealed.push(timings(true, N).await);
            plain.push(timings(false, N).await);
        }
    }
    let import = |runs: &[(Duration, Duration)]| median(runs.iter().map(|r| r.0).collect());
    let read = |runs: &[(Duration, Duration)]| median(runs.iter().map(|r| r.1).collect());
    println!(
        "import of {N} fixes (median of {ROUNDS}): plain {:?}, sealed {:?}, ratio {:.2}",
        import(&plain),
        import(&sealed),
        import(&sealed).as_secs_f64() / import(&plain).as_secs_f64()
    );
    println!(
        "bulk read of {N} fixes after reopening (median of {ROUNDS}): plain {:?}, sealed {:?}, ratio {:.2}",
        read(&plain),
        read(&sealed),
        read(&sealed).as_secs_f64() / read(&plain).as_secs_f64()
    );
}
