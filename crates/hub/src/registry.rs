//! The hub's registry (`hub.sqlite`): accounts, sessions and devices.
//!
//! Secrets are stored only as what verifies them: Argon2id hashes for
//! passwords, SHA-256 digests for session and device tokens (both are 256
//! random bits, so a fast digest is enough), and wrapped keys for stores.

use crate::secrets::{Token, digest};
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use sillage_model::Timestamp;
use sqlx::Row;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// How long a session lasts without logging in again.
pub const SESSION_LIFETIME_MS: i64 = 14 * 24 * 3600 * 1000;
/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// Why a registry operation failed.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The database reported an error.
    #[error("registry database: {0}")]
    Database(#[from] sqlx::Error),
    /// A schema migration failed.
    #[error("registry migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// The account name is taken.
    #[error("the name {0:?} is already taken")]
    NameTaken(String),
    /// A device of that citizen already has this label.
    #[error("a device is already called {0:?}")]
    DeviceLabelTaken(String),
    /// No such account, device or session.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The password is too weak to accept.
    #[error("the password must have at least {MIN_PASSWORD_CHARS} characters")]
    WeakPassword,
    /// Argon2 failed (never expected with valid parameters).
    #[error("password hashing failed")]
    Hashing,
}

/// An account as the hub sees it.
#[derive(Clone, Debug)]
pub struct Account {
    /// Registry id.
    pub id: i64,
    /// Login name, also the name of the store file.
    pub name: String,
    /// The wrapped data key of the store.
    pub wrapped_key: Vec<u8>,
    /// Preferred language ("fr" or "en").
    pub lang: String,
}

/// A live session.
#[derive(Clone, Debug)]
pub struct Session {
    /// The account.
    pub account: Account,
    /// The token forms and API writes must echo.
    pub csrf_token: String,
}

/// A tracker device as listed to its owner.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Device {
    /// Registry id.
    pub id: i64,
    /// The citizen's name for it.
    pub label: String,
    /// When it was added (ms since the epoch).
    pub created_at_ms: i64,
    /// When it last sent a point, if ever.
    pub last_seen_ms: Option<i64>,
    /// Points it has sent.
    pub fixes_received: i64,
}

/// A device authenticated by its token.
#[derive(Clone, Debug)]
pub struct DeviceIdentity {
    /// Registry id of the device.
    pub device_id: i64,
    /// Its label, the device name in the store.
    pub label: String,
    /// Its owner.
    pub account: Account,
}

/// A result the city released, as the hub keeps it for its citizens.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CampaignResult {
    /// The aggregation task (campaign × wave × measurement).
    pub task_id: String,
    /// The campaign.
    pub campaign_id: String,
    /// The wave.
    pub wave_id: String,
    /// The measurement.
    pub measurement_id: String,
    /// The released result (`sillage_collector::PublishedResult` as JSON).
    pub result_json: String,
}

/// The registry.
#[derive(Clone)]
pub struct Registry {
    pool: SqlitePool,
    argon2: Argon2<'static>,
    /// Devices by token digest: trackers post thousands of times a minute,
    /// and a registry query per point would dominate ingestion.
    devices_by_token: Arc<Mutex<HashMap<[u8; 32], DeviceIdentity>>>,
    /// Points received per device since the last flush, and when.
    pending_seen: Arc<Mutex<HashMap<i64, (u64, i64)>>>,
}

impl Registry {
    /// Opens (creating if needed) `hub.sqlite` under `data_dir`.
    pub async fn open(data_dir: &Path) -> Result<Self, RegistryError> {
        std::fs::create_dir_all(data_dir).map_err(|e| RegistryError::Database(e.into()))?;
        let options = SqliteConnectOptions::new()
            .filename(data_dir.join("hub.sqlite"))
            .create_if_missing(true)
            .foreign_keys(true)
            .journal_mode(SqliteJournalMode::Wal);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Self {
            pool,
            argon2: Argon2::default(),
            devices_by_token: Arc::default(),
            pending_seen: Arc::default(),
        })
    }

    /// Creates an account; `wrapped_key` is its store's wrapped data key.
    pub async fn create_account(
        &self,
        name: &str,
        password: &str,
        wrapped_key: &[u8],
    ) -> Result<Account, RegistryError> {
        if password.chars().count() < MIN_PASSWORD_CHARS {
            return Err(RegistryError::WeakPassword);
        }
        let hash = self.hash_password(password).await?;
        let inserted = sqlx::query(
            "INSERT INTO accounts (name, password_hash, wrapped_key, created_at_ms) VALUES (?, ?, ?, ?) \
             ON CONFLICT (name) DO NOTHING RETURNING id",
        )
        .bind(name)
        .bind(&hash)
        .bind(wrapped_key)
        .bind(Timestamp::now().0)
        .fetch_optional(&self.pool)
        .await?;
        let id: i64 = inserted
            .ok_or_else(|| RegistryError::NameTaken(name.to_owned()))?
            .get(0);
        Ok(Account {
            id,
            name: name.to_owned(),
            wrapped_key: wrapped_key.to_owned(),
            lang: "fr".into(),
        })
    }

    /// Hashes on a blocking thread: Argon2id costs tens of milliseconds of
    /// CPU by design, which must not stall the async workers.
    async fn hash_password(&self, password: &str) -> Result<String, RegistryError> {
        let argon2 = self.argon2.clone();
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || {
            argon2
                .hash_password(password.as_bytes())
                .map(|h| h.to_string())
                .map_err(|_| RegistryError::Hashing)
        })
        .await
        .map_err(|_| RegistryError::Hashing)?
    }

    /// The account of `name` if `password` is its password. Unknown names
    /// cost the same Argon2 work as wrong passwords, so timing does not
    /// tell which names exist.
    pub async fn verify_login(
        &self,
        name: &str,
        password: &str,
    ) -> Result<Option<Account>, RegistryError> {
        let row = sqlx::query(
            "SELECT id, name, wrapped_key, lang, password_hash FROM accounts WHERE name = ?",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        let stored = match &row {
            Some(row) => row.get::<String, _>(4),
            None => dummy_hash().to_owned(),
        };
        let argon2 = self.argon2.clone();
        let password = password.to_owned();
        let ok = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&stored)
                .is_ok_and(|hash| argon2.verify_password(password.as_bytes(), &hash).is_ok())
        })
        .await
        .map_err(|_| RegistryError::Hashing)?;
        Ok(row.filter(|_| ok).map(|row| account_from_row(&row)))
    }

    /// Looks an account up by name.
    pub async fn account_by_name(&self, name: &str) -> Result<Account, RegistryError> {
        let row = sqlx::query("SELECT id, name, wrapped_key, lang FROM accounts WHERE name = ?")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(RegistryError::NotFound("account"))?;
        Ok(account_from_row(&row))
    }

    /// Looks an account up by id.
    pub async fn account_by_id(&self, id: i64) -> Result<Account, RegistryError> {
        let row = sqlx::query("SELECT id, name, wrapped_key, lang FROM accounts WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(RegistryError::NotFound("account"))?;
        Ok(account_from_row(&row))
    }

    /// Sets an account's language.
    pub async fn set_lang(&self, account_id: i64, lang: &str) -> Result<(), RegistryError> {
        sqlx::query("UPDATE accounts SET lang = ? WHERE id = ?")
            .bind(lang)
            .bind(account_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Deletes an account with its sessions and devices.
    pub async fn delete_account(&self, account_id: i64) -> Result<(), RegistryError> {
        sqlx::query("DELETE FROM accounts WHERE id = ?")
            .bind(account_id)
            .execute(&self.pool)
            .await?;
        self.devices_by_token
            .lock()
            .expect("device cache")
            .retain(|_, d| d.account.id != account_id);
        Ok(())
    }

    /// Opens a session; returns the cookie value and the session.
    pub async fn open_session(&self, account: &Account) -> Result<(Token, Session), RegistryError> {
        let token = Token::generate();
        let csrf = Token::generate();
        let now = Timestamp::now().0;
        sqlx::query(
            "INSERT INTO sessions (token_hash, account_id, csrf_token, created_at_ms, expires_at_ms) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(digest(token.as_str()).as_slice())
        .bind(account.id)
        .bind(csrf.as_str())
        .bind(now)
        .bind(now + SESSION_LIFETIME_MS)
        .execute(&self.pool)
        .await?;
        // Expired sessions are swept whenever one opens: no timer needed.
        sqlx::query("DELETE FROM sessions WHERE expires_at_ms < ?")
            .bind(now)
            .execute(&self.pool)
            .await?;
        let session = Session {
            account: account.clone(),
            csrf_token: csrf.as_str().to_owned(),
        };
        Ok((token, session))
    }

    /// The live session of a cookie value, if any.
    pub async fn session(&self, cookie: &str) -> Result<Option<Session>, RegistryError> {
        let row = sqlx::query(
            "SELECT a.id, a.name, a.wrapped_key, a.lang, s.csrf_token FROM sessions s JOIN accounts a ON a.id = s.account_id \
             WHERE s.token_hash = ? AND s.expires_at_ms > ?",
        )
        .bind(digest(cookie).as_slice())
        .bind(Timestamp::now().0)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|row| Session {
            account: account_from_row(&row),
            csrf_token: row.get(4),
        }))
    }

    /// Ends a session.
    pub async fn close_session(&self, cookie: &str) -> Result<(), RegistryError> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = ?")
            .bind(digest(cookie).as_slice())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Adds a device to an account; returns it and its token (shown once).
    pub async fn add_device(
        &self,
        account_id: i64,
        label: &str,
    ) -> Result<(Device, Token), RegistryError> {
        let token = Token::generate();
        let now = Timestamp::now().0;
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO devices (account_id, label, token_hash, created_at_ms) VALUES (?, ?, ?, ?) \
             ON CONFLICT (account_id, label) DO NOTHING RETURNING id",
        )
        .bind(account_id)
        .bind(label)
        .bind(digest(token.as_str()).as_slice())
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        let id = id.ok_or_else(|| RegistryError::DeviceLabelTaken(label.to_owned()))?;
        let device = Device {
            id,
            label: label.to_owned(),
            created_at_ms: now,
            last_seen_ms: None,
            fixes_received: 0,
        };
        Ok((device, token))
    }

    /// The devices of an account.
    pub async fn devices(&self, account_id: i64) -> Result<Vec<Device>, RegistryError> {
        self.flush_seen().await?;
        let rows = sqlx::query(
            "SELECT id, label, created_at_ms, last_seen_ms, fixes_received FROM devices WHERE account_id = ? ORDER BY id",
        )
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|row| Device {
                id: row.get(0),
                label: row.get(1),
                created_at_ms: row.get(2),
                last_seen_ms: row.get(3),
                fixes_received: row.get(4),
            })
            .collect())
    }

    /// Revokes one of an account's devices. Another account's device id is
    /// "not found", exactly like a missing one.
    pub async fn remove_device(
        &self,
        account_id: i64,
        device_id: i64,
    ) -> Result<(), RegistryError> {
        let done = sqlx::query("DELETE FROM devices WHERE id = ? AND account_id = ?")
            .bind(device_id)
            .bind(account_id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(RegistryError::NotFound("device"));
        }
        self.devices_by_token
            .lock()
            .expect("device cache")
            .retain(|_, d| d.device_id != device_id);
        Ok(())
    }

    /// The device a token belongs to, if any.
    pub async fn device_by_token(
        &self,
        token: &str,
    ) -> Result<Option<DeviceIdentity>, RegistryError> {
        let key = digest(token);
        if let Some(device) = self
            .devices_by_token
            .lock()
            .expect("device cache")
            .get(&key)
        {
            return Ok(Some(device.clone()));
        }
        let row = sqlx::query(
            "SELECT a.id, a.name, a.wrapped_key, a.lang, d.id, d.label FROM devices d JOIN accounts a ON a.id = d.account_id \
             WHERE d.token_hash = ?",
        )
        .bind(key.as_slice())
        .fetch_optional(&self.pool)
        .await?;
        let device = row.map(|row| DeviceIdentity {
            account: account_from_row(&row),
            device_id: row.get(4),
            label: row.get(5),
        });
        if let Some(device) = &device {
            self.devices_by_token
                .lock()
                .expect("device cache")
                .insert(key, device.clone());
        }
        Ok(device)
    }

    /// Records that a device delivered `fixes` points now. Counted in
    /// memory and written by [`Registry::flush_seen`], so that ingestion
    /// never waits on the registry.
    pub fn device_seen(&self, device_id: i64, fixes: u64) {
        let mut pending = self.pending_seen.lock().expect("pending counts");
        let entry = pending.entry(device_id).or_insert((0, 0));
        entry.0 += fixes;
        entry.1 = Timestamp::now().0;
    }

    /// Writes the pending delivery counts.
    pub async fn flush_seen(&self) -> Result<(), RegistryError> {
        let pending: Vec<(i64, (u64, i64))> = self
            .pending_seen
            .lock()
            .expect("pending counts")
            .drain()
            .collect();
        if pending.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        for (device_id, (fixes, seen)) in pending {
            sqlx::query(
                "UPDATE devices SET last_seen_ms = MAX(COALESCE(last_seen_ms, 0), ?), fixes_received = fixes_received + ? WHERE id = ?",
            )
            .bind(seen)
            .bind(fixes as i64)
            .bind(device_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Publishes a campaign (already verified) to this hub's citizens;
    /// publishing the same id again replaces it, and the version replaced
    /// is remembered by its signature ([`Registry::campaign_superseded`]).
    pub async fn publish_campaign(&self, id: &str, signed_json: &str) -> Result<(), RegistryError> {
        // IMMEDIATE: the read below must not turn into a write after
        // another writer (say, `sillage campaign publish`) committed.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let previous: Option<String> =
            sqlx::query_scalar("SELECT signed_json FROM campaigns WHERE id = ?")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        // Callers store only verified campaigns, so both parse; were one not
        // to, it could not be replayed as a campaign either.
        let signature = |json: &str| {
            serde_json::from_str::<sillage_campaign::SignedCampaign>(json)
                .ok()
                .map(|signed| signed.signature.to_text())
        };
        if let Some(replaced) = previous.as_deref().and_then(signature)
            && signature(signed_json).as_ref() != Some(&replaced)
        {
            sqlx::query(
                "INSERT INTO superseded_campaigns (campaign_id, signature, superseded_at_ms) \
                 VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(replaced)
            .bind(Timestamp::now().0)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO campaigns (id, signed_json, published_at_ms) VALUES (?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET signed_json = excluded.signed_json, published_at_ms = excluded.published_at_ms",
        )
        .bind(id)
        .bind(signed_json)
        .bind(Timestamp::now().0)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether the version of campaign `id` signed with `signature` was
    /// replaced by another one (and so must not come back).
    pub async fn campaign_superseded(
        &self,
        id: &str,
        signature: &sillage_dap::bytes::Bytes,
    ) -> Result<bool, RegistryError> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM superseded_campaigns WHERE campaign_id = ? AND signature = ?",
        )
        .bind(id)
        .bind(signature.to_text())
        .fetch_optional(&self.pool)
        .await?;
        Ok(found.is_some())
    }

    /// The signed JSON of the campaign published under `id`, if any.
    pub async fn campaign(&self, id: &str) -> Result<Option<String>, RegistryError> {
        Ok(
            sqlx::query_scalar("SELECT signed_json FROM campaigns WHERE id = ?")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// The published campaigns (signed JSON), oldest first.
    pub async fn campaigns(&self) -> Result<Vec<String>, RegistryError> {
        Ok(
            sqlx::query_scalar("SELECT signed_json FROM campaigns ORDER BY published_at_ms, id")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Records a result the city released for a campaign hosted here
    /// (a task's result is recorded once; a repeat changes nothing).
    pub async fn publish_result(&self, result: &CampaignResult) -> Result<(), RegistryError> {
        sqlx::query(
            "INSERT INTO campaign_results (task_id, campaign_id, wave_id, measurement_id, result_json, published_at_ms) \
             VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (task_id) DO NOTHING",
        )
        .bind(&result.task_id)
        .bind(&result.campaign_id)
        .bind(&result.wave_id)
        .bind(&result.measurement_id)
        .bind(&result.result_json)
        .bind(Timestamp::now().0)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The results published for a campaign, by wave then measurement.
    pub async fn results(&self, campaign_id: &str) -> Result<Vec<CampaignResult>, RegistryError> {
        let rows = sqlx::query(
            "SELECT task_id, campaign_id, wave_id, measurement_id, result_json FROM campaign_results \
             WHERE campaign_id = ? ORDER BY wave_id, measurement_id",
        )
        .bind(campaign_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|row| CampaignResult {
                task_id: row.get(0),
                campaign_id: row.get(1),
                wave_id: row.get(2),
                measurement_id: row.get(3),
                result_json: row.get(4),
            })
            .collect())
    }

    /// One of the hub's keys: wrapped private key and public key.
    pub async fn hub_key(&self, name: &str) -> Result<Option<(Vec<u8>, Vec<u8>)>, RegistryError> {
        let row = sqlx::query("SELECT wrapped_key, public_key FROM hub_keys WHERE name = ?")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|row| (row.get(0), row.get(1))))
    }

    /// Saves one of the hub's keys unless it exists.
    pub async fn save_hub_key(
        &self,
        name: &str,
        wrapped: &[u8],
        public: &[u8],
    ) -> Result<(), RegistryError> {
        sqlx::query(
            "INSERT INTO hub_keys (name, wrapped_key, public_key, created_at_ms) VALUES (?, ?, ?, ?) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(wrapped)
        .bind(public)
        .bind(Timestamp::now().0)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records that `account_id` receives its token for `task_id`; false if
    /// it already had one.
    pub async fn record_issuance(
        &self,
        account_id: i64,
        task_id: &str,
    ) -> Result<bool, RegistryError> {
        let done = sqlx::query(
            "INSERT INTO token_issuances (account_id, task_id, issued_at_ms) VALUES (?, ?, ?) \
             ON CONFLICT DO NOTHING",
        )
        .bind(account_id)
        .bind(task_id)
        .bind(Timestamp::now().0)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Writes what is pending and closes the database.
    pub async fn close(&self) {
        if let Err(error) = self.flush_seen().await {
            crate::error::report("device counts not saved", &error);
        }
        self.pool.close().await;
    }
}

fn account_from_row(row: &sqlx::sqlite::SqliteRow) -> Account {
    Account {
        id: row.get(0),
        name: row.get(1),
        wrapped_key: row.get(2),
        lang: row.get(3),
    }
}

/// A valid Argon2id hash of a password nobody has, verified against when
/// the name is unknown.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        Argon2::default()
            .hash_password(Token::generate().as_str().as_bytes())
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}
