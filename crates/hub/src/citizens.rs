//! The citizens' stores: creating, opening (unwrapping their keys),
//! refreshing their diaries, and deleting them for good.

use crate::keys::MasterKey;
use crate::registry::{Account, Registry, RegistryError};
use sillage_analysis::AnalysisParams;
use sillage_analysis::model::ModelOrRules;
use sillage_diary::RefreshSummary;
use sillage_store::{CitizenName, CitizenStore, DataKey, StoreError, citizen_store_path};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};

/// Live points of one request, waiting to be written.
pub struct LivePoints {
    /// The import batch they join (protocol, device and day).
    pub source: String,
    /// Their protocol.
    pub format: sillage_model::SourceFormat,
    /// The device's name in the store.
    pub device: String,
    /// What the request carried.
    pub batch: sillage_ingest::live::LiveBatch,
}

/// A request's points and who waits for them to be stored.
struct Pending {
    points: LivePoints,
    stored: oneshot::Sender<Result<(), String>>,
}

/// Requests written together in one transaction, at most.
const GROUP_COMMIT: usize = 512;

/// Why a citizen operation failed.
#[derive(Debug, thiserror::Error)]
pub enum CitizenError {
    /// The registry failed or refused.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The store's key did not unwrap.
    #[error(transparent)]
    Key(#[from] crate::keys::KeyError),
    /// Live points could not be written.
    #[error("live points not stored: {0}")]
    Live(String),
    /// Removing the store's files failed.
    #[error("deleting {path}: {source}")]
    Delete {
        /// The file.
        path: String,
        /// What the system said.
        source: std::io::Error,
    },
}

/// Every citizen store of a hub.
pub struct Citizens {
    data_dir: PathBuf,
    master: MasterKey,
    open: Mutex<HashMap<i64, CitizenStore>>,
    /// Accounts whose live points await a diary refresh.
    dirty: Mutex<HashSet<i64>>,
    /// One diary refresh at a time: analysis is CPU-bound and ingestion
    /// must keep its share of a small machine.
    refreshing: tokio::sync::Mutex<()>,
    classifier: ModelOrRules,
    /// One writer per store receiving live points: requests that arrive
    /// while a transaction commits are written together in the next one
    /// (group commit), so a busy device costs one commit per batch of
    /// requests rather than per point.
    live_writers: Mutex<HashMap<i64, mpsc::Sender<Pending>>>,
}

impl Citizens {
    /// The stores under `data_dir`, opened with keys wrapped by `master`.
    pub fn new(data_dir: &Path, master: MasterKey) -> Self {
        Self {
            data_dir: data_dir.to_owned(),
            master,
            open: Mutex::new(HashMap::new()),
            dirty: Mutex::new(HashSet::new()),
            refreshing: tokio::sync::Mutex::new(()),
            classifier: ModelOrRules::bundled(),
            live_writers: Mutex::new(HashMap::new()),
        }
    }

    /// The master key (to seal the hub's other secrets).
    pub(crate) fn master(&self) -> &MasterKey {
        &self.master
    }

    /// Creates an account and its empty encrypted store.
    pub async fn create(
        &self,
        registry: &Registry,
        name: &str,
        password: &str,
    ) -> Result<Account, CitizenError> {
        let citizen = CitizenName::new(name)?;
        let key = DataKey::generate();
        let wrapped = self.master.wrap(name, &key);
        let account = registry.create_account(name, password, &wrapped).await?;
        // A store file left by an account deleted half-way would otherwise
        // be reopened (and fail) under the new key.
        remove_store_files(&citizen_store_path(&self.data_dir, &citizen))?;
        let store =
            CitizenStore::open_sealed(&citizen_store_path(&self.data_dir, &citizen), &key).await?;
        self.open
            .lock()
            .expect("store cache")
            .insert(account.id, store);
        Ok(account)
    }

    /// The account's store, opened on first use.
    pub async fn store(&self, account: &Account) -> Result<CitizenStore, CitizenError> {
        if let Some(store) = self.open.lock().expect("store cache").get(&account.id) {
            return Ok(store.clone());
        }
        let key = self.master.unwrap(&account.name, &account.wrapped_key)?;
        let path = citizen_store_path(&self.data_dir, &CitizenName::new(&account.name)?);
        let store = CitizenStore::open_sealed(&path, &key).await?;
        // Two requests may have opened it at once: keep the first.
        let mut open = self.open.lock().expect("store cache");
        Ok(open.entry(account.id).or_insert(store).clone())
    }

    /// Re-analyses what changed in the account's store.
    pub async fn refresh(&self, account: &Account) -> Result<RefreshSummary, CitizenError> {
        let store = self.store(account).await?;
        let _turn = self.refreshing.lock().await;
        self.dirty.lock().expect("dirty set").remove(&account.id);
        Ok(sillage_diary::refresh(&store, &AnalysisParams::default(), &self.classifier).await?)
    }

    /// Stores a request's live points in the account's store; returns once
    /// they are committed.
    pub async fn append_live(
        &self,
        account: &Account,
        points: LivePoints,
    ) -> Result<(), CitizenError> {
        let sender = self.live_writer(account).await?;
        let (stored, done) = oneshot::channel();
        sender
            .send(Pending { points, stored })
            .await
            .map_err(|_| CitizenError::Live("the store's writer stopped".into()))?;
        done.await
            .map_err(|_| CitizenError::Live("the store's writer stopped".into()))?
            .map_err(CitizenError::Live)?;
        self.mark_dirty(account);
        Ok(())
    }

    async fn live_writer(&self, account: &Account) -> Result<mpsc::Sender<Pending>, CitizenError> {
        if let Some(sender) = self
            .live_writers
            .lock()
            .expect("live writers")
            .get(&account.id)
            && !sender.is_closed()
        {
            return Ok(sender.clone());
        }
        let store = self.store(account).await?;
        let mut writers = self.live_writers.lock().expect("live writers");
        if let Some(sender) = writers.get(&account.id)
            && !sender.is_closed()
        {
            return Ok(sender.clone());
        }
        let (sender, receiver) = mpsc::channel(GROUP_COMMIT * 4);
        tokio::spawn(write_live_points(store, receiver));
        writers.insert(account.id, sender.clone());
        Ok(sender)
    }

    /// Notes that live points arrived for the account.
    pub fn mark_dirty(&self, account: &Account) {
        self.dirty.lock().expect("dirty set").insert(account.id);
    }

    /// Refreshes every account that received live points since the last
    /// call; run periodically by the server so that analysis never sits on
    /// the ingestion path.
    pub async fn refresh_dirty(&self, registry: &Registry) {
        let ids: Vec<i64> = self.dirty.lock().expect("dirty set").drain().collect();
        for id in ids {
            // An account deleted meanwhile has nothing left to refresh.
            if let Ok(account) = registry.account_by_id(id).await
                && let Err(error) = self.refresh(&account).await
            {
                crate::error::report("live diary refresh failed", &error);
            }
        }
    }

    /// Deletes the account, its sessions, devices and store: the store's
    /// files are removed from disk, not just forgotten.
    pub async fn delete(&self, registry: &Registry, account: &Account) -> Result<(), CitizenError> {
        // Closing the channel ends the writer once what it holds is written.
        self.live_writers
            .lock()
            .expect("live writers")
            .remove(&account.id);
        let store = self.open.lock().expect("store cache").remove(&account.id);
        if let Some(store) = store {
            // Waits for every connection to be returned, so no write can
            // recreate the file after it is removed.
            store.close().await;
        }
        registry.delete_account(account.id).await?;
        self.dirty.lock().expect("dirty set").remove(&account.id);
        let path = citizen_store_path(&self.data_dir, &CitizenName::new(&account.name)?);
        remove_store_files(&path)
    }
}

/// Writes live points as they come, each group of waiting requests in one
/// transaction, and tells every request of the group how it went.
async fn write_live_points(store: CitizenStore, mut receiver: mpsc::Receiver<Pending>) {
    while let Some(first) = receiver.recv().await {
        let mut group = vec![first];
        while group.len() < GROUP_COMMIT {
            match receiver.try_recv() {
                Ok(next) => group.push(next),
                Err(_) => break,
            }
        }
        let outcome = write_group(&store, &group).await.map_err(|e| e.to_string());
        for pending in group {
            // The request may have gone (client timeout): nothing to tell.
            let _ = pending.stored.send(outcome.clone());
        }
    }
}

async fn write_group(store: &CitizenStore, group: &[Pending]) -> Result<(), StoreError> {
    let mut order: Vec<&LivePoints> = group.iter().map(|p| &p.points).collect();
    order.sort_by(|a, b| (&a.source, a.format.as_str()).cmp(&(&b.source, b.format.as_str())));
    let mut writer = store.begin_import().await?;
    let mut current: Option<(&str, &str)> = None;
    for points in order {
        let key = (points.source.as_str(), points.format.as_str());
        if current != Some(key) {
            writer.resume_batch(&points.source, points.format).await?;
            current = Some(key);
        }
        writer
            .write(&sillage_store::ImportChunk {
                new_devices: vec![points.device.clone()],
                fixes: points.batch.fixes.iter().map(|f| (0, *f)).collect(),
                hints: points.batch.hints.iter().map(|h| (0, h.clone())).collect(),
                rejected: points.batch.rejected.clone(),
            })
            .await?;
    }
    writer.commit().await?;
    Ok(())
}

/// Removes a store file and its SQLite companions, if present.
fn remove_store_files(path: &Path) -> Result<(), CitizenError> {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let file = PathBuf::from(format!("{}{suffix}", path.display()));
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(CitizenError::Delete {
                    path: file.display().to_string(),
                    source,
                });
            }
        }
    }
    Ok(())
}

/// Shared handle.
pub type SharedCitizens = Arc<Citizens>;
