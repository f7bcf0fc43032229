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

mod bulk;
mod consent;
mod diary;
mod directory;
mod footprint;
mod import;
mod places;
mod read;

pub use consent::StoredConsentEvent;
pub use diary::{AnalysedWindow, DeviceStay, DiaryUpdate, DirtyWindow};
pub use directory::{CitizenName, citizen_store_path, list_citizens};
pub use footprint::{FootprintRow, Granularity};
pub use import::{ImportChunk, ImportWriter};
pub use places::PlaceEdit;
pub use read::{DayCount, StoredFix, UndoOutcome};

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database reported an error.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A schema migration failed.
    #[error("migration error: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
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

/// One citizen's store.
#[derive(Clone, Debug)]
pub struct CitizenStore {
    pool: SqlitePool,
    path: PathBuf,
}

impl CitizenStore {
    /// Opens (creating if needed) the store file at `path` and brings its
    /// schema up to date.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let options = SqliteConnectOptions::new()
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
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Self {
            pool,
            path: path.to_owned(),
        })
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
