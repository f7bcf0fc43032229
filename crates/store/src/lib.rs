//! The citizen's personal store.
//!
//! Each citizen's data lives in one SQLite file under the data directory, so
//! that it is theirs to take away or to erase. Callers only ever see
//! [`CitizenStore`] and the domain types: SQL stays inside this crate, which
//! is what lets another backend (PostgreSQL for a hosted hub) be added without
//! touching callers.
//!
//! Writes of an import happen in one transaction ([`ImportWriter`]): a failed
//! or killed import leaves the store exactly as it was.
//!
//! A hub opens stores sealed ([`CitizenStore::open_sealed`]): the same store,
//! encrypted at rest under the citizen's own [`DataKey`] (see `sealed`).

mod bulk;
mod consent;
mod diary;
mod directory;
mod footprint;
mod import;
mod places;
mod read;
mod sealed;

pub use consent::StoredConsentEvent;
pub use diary::{AnalysedWindow, DeviceStay, DiaryUpdate, DirtyWindow};
pub use directory::{CitizenName, citizen_store_path, list_citizens};
pub use footprint::{FootprintRow, Granularity};
pub use import::{ImportChunk, ImportWriter};
pub use places::PlaceEdit;
pub use read::{DayCount, StoredFix, UndoOutcome};
pub use sealed::DataKey;

use sealed::Sealing;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database reported an error.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    /// A schema migration failed.
    #[error("migration error: {0}")]
    Migration(#[source] sqlx::migrate::MigrateError),
    /// A sealed store could not be opened with the key given, or one of its
    /// pages failed authentication: the key is wrong or the files were
    /// altered. Nothing read from the store is ever returned in that case.
    #[error("wrong key or tampered store")]
    WrongKeyOrTampered,
    /// A citizen name is not acceptable as a store name.
    #[error(
        "invalid citizen name {0:?}: use 1 to 64 letters, digits, '-', '_' or '.', not starting with '.'"
    )]
    InvalidCitizenName(String),
    /// No import batch with that id.
    #[error("no import batch with id {0}")]
    NoSuchImport(i64),
    /// No place with that id.
    #[error("no place with id {0}")]
    NoSuchPlace(i64),
    /// Data in the store that this version cannot read.
    #[error("corrupt store data: {0}")]
    Corrupt(String),
    /// File system error around the store file.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        if is_authentication_failure(&error) {
            Self::WrongKeyOrTampered
        } else {
            Self::Database(error)
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(error: sqlx::migrate::MigrateError) -> Self {
        use sqlx::migrate::MigrateError;
        match &error {
            MigrateError::Execute(e) | MigrateError::ExecuteMigration(e, _)
                if is_authentication_failure(e) =>
            {
                Self::WrongKeyOrTampered
            }
            _ => Self::Migration(error),
        }
    }
}

/// A page of a sealed store failed authentication (SQLITE_IOERR_DATA, which
/// only the sealing VFS reports in this process).
fn is_authentication_failure(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .and_then(|e| e.code())
        .is_some_and(|code| code == libsqlite3_sys::SQLITE_IOERR_DATA.to_string())
}

/// One citizen's store.
#[derive(Clone, Debug)]
pub struct CitizenStore {
    pool: SqlitePool,
    path: PathBuf,
    /// The key of a sealed store, held for as long as any clone lives.
    _sealing: Option<Arc<Sealing>>,
}

impl CitizenStore {
    /// Opens (creating if needed) the store file at `path` and brings its
    /// schema up to date.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_with(path, None).await
    }

    /// Opens (creating if needed) the store at `path` encrypted under `key`,
    /// as [`CitizenStore::open`] does otherwise.
    ///
    /// A store created sealed stays sealed: it cannot be opened with
    /// [`CitizenStore::open`], nor with another key
    /// ([`StoreError::WrongKeyOrTampered`]), and a plain store cannot be
    /// opened sealed.
    pub async fn open_sealed(path: &Path, key: &DataKey) -> Result<Self, StoreError> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let (path_buf, key_copy) = (path.to_owned(), DataKey::from_bytes(*key.as_bytes()));
        // Checking the key and creating the file are blocking file work.
        let sealing = tokio::task::spawn_blocking(move || Sealing::acquire(&path_buf, &key_copy))
            .await
            .map_err(std::io::Error::other)??;
        Self::open_with(path, Some(sealing)).await
    }

    async fn open_with(path: &Path, sealing: Option<Arc<Sealing>>) -> Result<Self, StoreError> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .foreign_keys(true)
            // WAL lets the app read while an import writes; NORMAL is
            // durable at each commit boundary in WAL mode up to power loss.
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(30))
            .pragma("cache_size", "-16000")
            .pragma("temp_store", "memory");
        if sealing.is_some() {
            // Only the VFS's name goes in the URI; it finds the key itself.
            options = options.vfs(sealed::VFS_NAME);
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Self {
            pool,
            path: path.to_owned(),
            _sealing: sealing,
        })
    }

    /// Starts a transaction that writes. `BEGIN IMMEDIATE` takes the write
    /// lock up front: a deferred transaction that reads first and writes
    /// later fails with SQLITE_BUSY when another writer committed in
    /// between (WAL snapshots cannot be upgraded), whereas an immediate one
    /// waits its turn under the busy timeout. Every write of the store goes
    /// through here, so concurrent imports and live points queue instead of
    /// failing.
    pub(crate) async fn write_transaction(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, StoreError> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// The file holding this store.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Closes every connection; the file is then complete on disk
    /// (the write-ahead log is checkpointed and removed).
    pub async fn close(self) {
        self.pool.close().await;
    }
}

#[cfg(test)]
mod tests;
