//! The city's database (SQLite).

use serde::{Deserialize, Serialize};
use sillage_campaign::{CampaignSpec, SignedCampaign};
use sillage_collector::PublishedResult;
use sqlx::Row;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use std::path::Path;

/// Why the city's database failed.
#[derive(Debug, thiserror::Error)]
pub enum CityError {
    /// SQLite failed.
    #[error("city database: {0}")]
    Database(#[from] sqlx::Error),
    /// Its schema could not be brought up to date.
    #[error("city database migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A stored document does not decode (the message names it).
    #[error("city database: {0}")]
    Corrupt(String),
    /// An input is not acceptable (the message names it and what was
    /// expected).
    #[error("{0}")]
    Invalid(String),
}

/// One released result, as the city stores it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Release {
    /// The aggregation task.
    pub task_id: String,
    /// The campaign.
    pub campaign_id: String,
    /// The wave.
    pub wave_id: String,
    /// The measurement.
    pub measurement_id: String,
    /// What the aggregators released.
    pub result: PublishedResult,
    /// When it was collected, epoch s.
    pub collected_at: i64,
}

/// The city's database.
#[derive(Clone, Debug)]
pub struct CityStore {
    pub(crate) pool: SqlitePool,
}

impl CityStore {
    /// Opens (creating if needed) `city.sqlite` under `dir`.
    pub async fn open(dir: &Path) -> Result<Self, CityError> {
        std::fs::create_dir_all(dir).map_err(|e| CityError::Database(e.into()))?;
        let options = SqliteConnectOptions::new()
            .filename(dir.join("city.sqlite"))
            .create_if_missing(true)
            .foreign_keys(true)
            .journal_mode(SqliteJournalMode::Wal);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(CityStore { pool })
    }

    /// Records a published campaign (replacing an earlier version).
    pub async fn save_campaign(
        &self,
        spec: &CampaignSpec,
        signed: &SignedCampaign,
        published_at: i64,
    ) -> Result<(), CityError> {
        let text = serde_json::to_string(signed).map_err(|e| CityError::Corrupt(e.to_string()))?;
        sqlx::query(
            "INSERT INTO campaigns (id, signed, published_at) VALUES (?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET signed = excluded.signed, published_at = excluded.published_at",
        )
        .bind(&spec.id)
        .bind(text)
        .bind(published_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every published campaign with its specification, newest first.
    pub async fn campaigns(&self) -> Result<Vec<(CampaignSpec, SignedCampaign)>, CityError> {
        let rows = sqlx::query("SELECT id, signed FROM campaigns ORDER BY published_at DESC, id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| decode_campaign(row.get("id"), row.get("signed")))
            .collect()
    }

    /// The campaign `id` with what the city signed, if published.
    pub async fn campaign(
        &self,
        id: &str,
    ) -> Result<Option<(CampaignSpec, SignedCampaign)>, CityError> {
        let signed: Option<String> =
            sqlx::query_scalar("SELECT signed FROM campaigns WHERE id = ?")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        signed
            .map(|signed| decode_campaign(id, &signed))
            .transpose()
    }

    /// A secret of the city's, if set.
    pub async fn secret(&self, name: &str) -> Result<Option<String>, CityError> {
        Ok(
            sqlx::query_scalar("SELECT secret FROM city_keys WHERE name = ?")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Sets a secret of the city's.
    pub async fn set_secret(&self, name: &str, secret: &str) -> Result<(), CityError> {
        sqlx::query(
            "INSERT INTO city_keys (name, secret) VALUES (?, ?)
             ON CONFLICT (name) DO UPDATE SET secret = excluded.secret",
        )
        .bind(name)
        .bind(secret)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records a released result (a task is released once).
    pub async fn save_release(&self, release: &Release) -> Result<(), CityError> {
        let result = serde_json::to_string(&release.result)
            .map_err(|e| CityError::Corrupt(e.to_string()))?;
        sqlx::query(
            "INSERT INTO releases (task_id, campaign_id, wave_id, measurement_id, result, collected_at)
             VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (task_id) DO NOTHING",
        )
        .bind(&release.task_id)
        .bind(&release.campaign_id)
        .bind(&release.wave_id)
        .bind(&release.measurement_id)
        .bind(result)
        .bind(release.collected_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The released results of a campaign.
    pub async fn releases(&self, campaign_id: &str) -> Result<Vec<Release>, CityError> {
        let rows = sqlx::query(
            "SELECT task_id, campaign_id, wave_id, measurement_id, result, collected_at
             FROM releases WHERE campaign_id = ? ORDER BY wave_id, measurement_id",
        )
        .bind(campaign_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let task_id: String = row.get("task_id");
                Ok(Release {
                    result: serde_json::from_str(row.get("result"))
                        .map_err(|e| CityError::Corrupt(format!("release {task_id}: {e}")))?,
                    task_id,
                    campaign_id: row.get("campaign_id"),
                    wave_id: row.get("wave_id"),
                    measurement_id: row.get("measurement_id"),
                    collected_at: row.get("collected_at"),
                })
            })
            .collect()
    }

    /// Closes the database.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A stored signed campaign and the specification inside it.
fn decode_campaign(id: &str, signed: &str) -> Result<(CampaignSpec, SignedCampaign), CityError> {
    let corrupt = |e: serde_json::Error| CityError::Corrupt(format!("campaign {id}: {e}"));
    let signed: SignedCampaign = serde_json::from_str(signed).map_err(corrupt)?;
    let spec: CampaignSpec = serde_json::from_str(&signed.spec).map_err(corrupt)?;
    Ok((spec, signed))
}
