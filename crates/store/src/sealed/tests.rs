//! The seal itself, and the SQLite paths the public tests cannot reach
//! (rollback journal, temporary files, VACUUM, the on-disk layout).

use super::*;
use crate::{CitizenStore, ImportChunk};
use sillage_model::{Fix, SourceFormat, Timestamp};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode};
use sqlx::{ConnectOptions, Connection, Row};

const KEY: [u8; 32] = [7; 32];

fn place(pgno: u32, slot: u64) -> Place {
    Place {
        kind: Kind::Db,
        pgno,
        slot,
    }
}

fn plaintext_page() -> Vec<u8> {
    let mut page: Vec<u8> = (0..PAGE).map(|i| (i % 251) as u8).collect();
    page[BODY..].fill(0);
    page
}

#[test]
fn pages_round_trip_and_are_bound_to_their_place() {
    let key = DataKey::from_bytes(KEY);
    let plain = plaintext_page();
    let mut page = plain.clone();
    seal(&key, &mut page, place(3, 2)).unwrap();
    assert_ne!(page[..BODY], plain[..BODY]);
    let mut again = plain.clone();
    seal(&key, &mut again, place(3, 2)).unwrap();
    assert_ne!(page, again, "a fresh nonce for every write");

    let mut opened = page.clone();
    unseal(&key, &mut opened, place(3, 2)).unwrap();
    assert_eq!(opened, plain, "reserved bytes read back as zeros");

    let moved = [
        place(4, 2),
        place(3, 3),
        Place {
            kind: Kind::Wal,
            pgno: 3,
            slot: 2,
        },
    ];
    for at in moved {
        assert!(unseal(&key, &mut page.clone(), at).is_err(), "{at:?}");
    }
    let other = DataKey::from_bytes([8; 32]);
    assert!(unseal(&other, &mut page.clone(), place(3, 2)).is_err());
    let mut flipped = page.clone();
    flipped[100] ^= 1;
    assert!(unseal(&key, &mut flipped, place(3, 2)).is_err());
}

#[test]
fn pages_using_the_reserved_bytes_are_refused() {
    let key = DataKey::from_bytes(KEY);
    let mut page = plaintext_page();
    page[PAGE - 1] = 1;
    assert_eq!(
        seal(&key, &mut page, place(1, 0)),
        Err(SealError::ReservedBytesInUse)
    );
}

#[test]
fn keys_never_show_in_debug_output() {
    let key = DataKey::from_bytes([0xAB; 32]);
    let shown = format!("{key:?}");
    assert_eq!(shown, "DataKey(..)");
    assert!(DataKey::generate().as_bytes() != DataKey::generate().as_bytes());
    assert!(key.matches(&DataKey::from_bytes([0xAB; 32])));
    assert!(!key.matches(&DataKey::from_bytes([0xAA; 32])));
}

#[test]
fn the_wal_grid_finds_the_pages_a_range_touches() {
    let frame = |n: u64| WAL_HEADER + (n - 1) * (FRAME_HEADER + PAGE as u64);
    // Header only, a frame header only, a page alone, a whole frame.
    assert!(WAL_GRID.overlapping(0, 32).is_empty());
    assert!(WAL_GRID.overlapping(frame(2), frame(2) + 24).is_empty());
    assert!(
        WAL_GRID
            .overlapping(frame(2) + 16, frame(2) + 24)
            .is_empty()
    );
    assert_eq!(
        WAL_GRID.overlapping(frame(2) + 24, frame(2) + 24 + 4096),
        1..2
    );
    assert_eq!(WAL_GRID.overlapping(frame(2), frame(3)), 1..2);
    assert_eq!(WAL_GRID.overlapping(frame(2) + 30, frame(4) + 30), 1..4);
    assert_eq!(WAL_GRID.start(1), frame(2) + 24);
    assert_eq!(DB_GRID.overlapping(24, 40), 0..1);
    assert_eq!(DB_GRID.overlapping(4096, 8192), 1..2);
}

fn fixes(n: i64) -> ImportChunk {
    ImportChunk {
        new_devices: vec!["phone".into()],
        fixes: (0..n)
            .map(|i| {
                (
                    0,
                    Fix::new(
                        Timestamp(1_709_280_000_000 + i * 1000),
                        46.16 + i as f64 * 1e-5,
                        -1.15,
                    ),
                )
            })
            .collect(),
        ..ImportChunk::default()
    }
}

async fn import(store: &CitizenStore, n: i64) {
    let mut w = store.begin_import().await.unwrap();
    w.start_batch("a.gpx", SourceFormat::Gpx).await.unwrap();
    w.write(&fixes(n)).await.unwrap();
    w.commit().await.unwrap();
}

fn page_one(path: &Path) -> Vec<u8> {
    let mut page = std::fs::read(path).unwrap()[..PAGE].to_vec();
    unseal(&DataKey::from_bytes(KEY), &mut page, place(1, 0)).unwrap();
    page
}

#[tokio::test]
async fn new_stores_have_the_sealed_layout() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    let store = CitizenStore::open_sealed(&path, &DataKey::from_bytes(KEY))
        .await
        .unwrap();
    import(&store, 10).await;
    store.close().await;
    let page = page_one(&path);
    assert_eq!(&page[..16], MAGIC);
    assert_eq!(u16::from_be_bytes([page[16], page[17]]), 4096);
    assert_eq!((page[18], page[19]), (2, 2), "WAL mode");
    assert_eq!(usize::from(page[20]), RESERVED);
}

#[tokio::test]
async fn vacuum_and_integrity_check_go_through_the_seal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    let key = DataKey::from_bytes(KEY);
    let store = CitizenStore::open_sealed(&path, &key).await.unwrap();
    import(&store, 5000).await;
    sqlx::query("DELETE FROM fixes WHERE t_ms % 2000 = 0")
        .execute(&store.pool)
        .await
        .unwrap();
    sqlx::query("VACUUM").execute(&store.pool).await.unwrap();
    store.close().await;

    let store = CitizenStore::open_sealed(&path, &key).await.unwrap();
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&store.pool)
        .await
        .unwrap();
    assert_eq!(check, "ok");
    assert_eq!(store.fix_count().await.unwrap(), 2500);
    store.close().await;
    assert_eq!(usize::from(page_one(&path)[20]), RESERVED);
}

/// A connection to a sealed store with its own settings (the store's key
/// must be registered by the caller holding a `Sealing`).
async fn connect(path: &Path, options: SqliteConnectOptions) -> SqliteConnection {
    options
        .filename(path)
        .vfs(VFS_NAME)
        .connect()
        .await
        .unwrap()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn rollback_journal_pages_are_sealed_and_played_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.sqlite");
    let key = DataKey::from_bytes(KEY);
    let _sealing = Sealing::acquire(&path, &key).unwrap();
    // Leaving WAL for a rollback journal, with a cache small enough that
    // changed pages reach the file before commit.
    let options = SqliteConnectOptions::new()
        .journal_mode(SqliteJournalMode::Delete)
        .pragma("cache_size", "5")
        .pragma("temp_store", "memory");
    let mut conn = connect(&path, options).await;
    sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY, secret TEXT)")
        .execute(&mut conn)
        .await
        .unwrap();
    let mut tx = conn.begin().await.unwrap();
    for i in 0..400 {
        sqlx::query("INSERT INTO t (secret) VALUES (?)")
            .bind(format!("secret-journal-text-{i:04}-{}", "z".repeat(150)))
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();

    let committed = std::fs::read(&path).unwrap();
    sqlx::query("BEGIN").execute(&mut conn).await.unwrap();
    sqlx::query("UPDATE t SET secret = upper(secret)")
        .execute(&mut conn)
        .await
        .unwrap();
    let journal = std::fs::read(dir.path().join("j.sqlite-journal")).unwrap();
    assert!(journal.len() > 10 * PAGE, "pages were journaled");
    assert!(!contains(&journal, b"secret-journal-text"));
    assert!(!contains(&journal, b"SQLite format 3"));
    // A crash now: the file has changed pages, the journal the old ones.
    assert_ne!(std::fs::read(&path).unwrap(), committed, "pages spilled");
    let copy = tempfile::tempdir().unwrap();
    let copy_path = copy.path().join("j.sqlite");
    std::fs::copy(&path, &copy_path).unwrap();
    std::fs::write(copy.path().join("j.sqlite-journal"), &journal).unwrap();

    sqlx::query("ROLLBACK").execute(&mut conn).await.unwrap();
    let unchanged: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM t WHERE secret LIKE 'secret-journal-text-%'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(unchanged, 400);
    conn.close().await.unwrap();

    // SQLite plays the hot journal back, reading sealed page images.
    let _copy_sealing = Sealing::acquire(&copy_path, &key).unwrap();
    let mut conn = connect(&copy_path, SqliteConnectOptions::new()).await;
    let rows = sqlx::query("SELECT secret FROM t ORDER BY id")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(rows.len(), 400);
    assert!(
        rows.iter()
            .all(|row| row.get::<String, _>(0).starts_with("secret-journal-text-"))
    );
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(check, "ok");
    conn.close().await.unwrap();
    assert!(
        !copy.path().join("j.sqlite-journal").exists(),
        "played back"
    );
}

#[tokio::test]
async fn temporary_files_are_refused_not_written_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sqlite");
    let _sealing = Sealing::acquire(&path, &DataKey::from_bytes(KEY)).unwrap();
    let mut conn = connect(
        &path,
        SqliteConnectOptions::new().pragma("temp_store", "file"),
    )
    .await;
    sqlx::query("CREATE TABLE big (x BLOB)")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 6000) \
         INSERT INTO big SELECT randomblob(1000) FROM n",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    // A sort larger than the cache spills to a temporary file.
    let sort = "SELECT length(x) FROM big ORDER BY x";
    let refused = sqlx::query(sort).fetch_all(&mut conn).await.unwrap_err();
    let code = refused
        .as_database_error()
        .and_then(|e| e.code())
        .unwrap()
        .into_owned();
    assert_eq!(code.parse::<i32>().unwrap() & 0xff, ffi::SQLITE_CANTOPEN);
    // As the store runs it, in memory.
    sqlx::query("PRAGMA temp_store = memory")
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        sqlx::query(sort).fetch_all(&mut conn).await.unwrap().len(),
        6000
    );
    conn.close().await.unwrap();
}

#[tokio::test]
async fn files_of_unknown_stores_are_refused() {
    register_vfs().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let result = SqliteConnectOptions::new()
        .filename(dir.path().join("nobody.sqlite"))
        .create_if_missing(true)
        .vfs(VFS_NAME)
        .connect()
        .await;
    let error = result.unwrap_err();
    let code = error.as_database_error().and_then(|e| e.code()).unwrap();
    assert_eq!(code, ffi::SQLITE_AUTH.to_string());
    assert!(!dir.path().join("nobody.sqlite").exists());
}
