//! The aggregator's database, through sqlx's `Any` driver: SQLite by
//! default, PostgreSQL for deployments, one set of portable SQL.

use crate::{AggregatorError, TaskSecrets};
use prio::codec::{Encode, ParameterizedDecode};
use prio::vdaf::Aggregatable;
use sillage_dap::hpke::HpkeKeypair;
use sillage_dap::messages::JobId;
use sillage_dap::task::{TaskId, TaskParams};
use sillage_dap::vdaf::{AggregateShare, Vdaf};
use sqlx::AnyConnection;
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Row};

/// Batch totals as stored: the encoded aggregate share, the number of
/// reports in it and the checksum of their ids.
pub(crate) struct BatchRow {
    pub aggregate: Vec<u8>,
    pub report_count: u64,
    pub checksum: [u8; 32],
}

/// A release as stored.
pub(crate) struct ReleaseRow {
    pub report_count: u64,
    pub checksum: [u8; 32],
    /// Empty while the leader is still collecting (uploads are closed).
    pub released: String,
}

impl ReleaseRow {
    /// What was released, as stored.
    pub fn decode<T: serde::de::DeserializeOwned>(&self) -> Result<T, AggregatorError> {
        serde_json::from_str(&self.released).map_err(|e| AggregatorError::Internal(e.to_string()))
    }
}

pub(crate) struct Storage {
    pool: AnyPool,
}

fn checksum_of(bytes: Vec<u8>) -> Result<[u8; 32], AggregatorError> {
    bytes
        .try_into()
        .map_err(|_| AggregatorError::Internal("stored checksum is not 32 bytes".into()))
}

impl Storage {
    pub async fn open(url: &str) -> Result<Self, AggregatorError> {
        sqlx::any::install_default_drivers();
        let url = if url.starts_with("sqlite:") && !url.contains('?') {
            format!("{url}?mode=rwc")
        } else {
            url.to_owned()
        };
        let pool = AnyPoolOptions::new()
            .max_connections(if url.starts_with("sqlite:") { 1 } else { 8 })
            .connect(&url)
            .await?;
        if url.starts_with("sqlite:") {
            // Readers never block the writer. NORMAL in WAL mode: a killed
            // process loses nothing committed and the file stays consistent;
            // only a power cut can lose the last commits (uploads the
            // citizens' stores then send again).
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await?;
            sqlx::query("PRAGMA synchronous = NORMAL")
                .execute(&pool)
                .await?;
        }
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Storage { pool })
    }

    pub async fn hpke_keypair(&self) -> Result<HpkeKeypair, AggregatorError> {
        let stored: Option<String> =
            sqlx::query_scalar("SELECT keypair FROM hpke_keys ORDER BY id LIMIT 1")
                .fetch_optional(&self.pool)
                .await?;
        if let Some(json) = stored {
            return serde_json::from_str(&json)
                .map_err(|e| AggregatorError::Internal(e.to_string()));
        }
        let keys = HpkeKeypair::generate(1);
        let json =
            serde_json::to_string(&keys).map_err(|e| AggregatorError::Internal(e.to_string()))?;
        sqlx::query("INSERT INTO hpke_keys (id, keypair) VALUES ($1, $2)")
            .bind(i64::from(keys.config.id))
            .bind(json)
            .execute(&self.pool)
            .await?;
        Ok(keys)
    }

    /// Stores a task; `true` when it is new, `false` when the very same
    /// task (parameters and secrets) was already there.
    pub async fn provision(
        &self,
        params: &TaskParams,
        secrets: &TaskSecrets,
    ) -> Result<bool, AggregatorError> {
        let (params_json, secrets_json) = (params.json()?, secrets.json()?);
        let inserted = sqlx::query(
            "INSERT INTO tasks (task_id, params, secrets) VALUES ($1, $2, $3) ON CONFLICT (task_id) DO NOTHING",
        )
        .bind(params.task_id.to_text())
        .bind(&params_json)
        .bind(&secrets_json)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if inserted == 1 {
            return Ok(true);
        }
        let row = sqlx::query("SELECT params, secrets FROM tasks WHERE task_id = $1")
            .bind(params.task_id.to_text())
            .fetch_one(&self.pool)
            .await?;
        let (existing_params, existing_secrets): (String, String) =
            (row.try_get(0)?, row.try_get(1)?);
        if existing_params != params_json {
            return Err(AggregatorError::Conflict(format!(
                "task {} is already provisioned with other parameters",
                params.task_id
            )));
        }
        // Same parameters, other secrets: keeping the stored ones while
        // the caller believes its own are in place would break verification
        // or collection later, far from the cause.
        if existing_secrets != secrets_json {
            return Err(AggregatorError::Conflict(format!(
                "task {} is already provisioned with other secrets",
                params.task_id
            )));
        }
        Ok(false)
    }

    pub async fn tasks(&self) -> Result<Vec<(TaskParams, TaskSecrets)>, AggregatorError> {
        let rows = sqlx::query("SELECT params, secrets FROM tasks")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let parse = |i: usize| -> Result<String, AggregatorError> { Ok(row.try_get(i)?) };
                Ok((
                    serde_json::from_str(&parse(0)?)
                        .map_err(|e| AggregatorError::Internal(e.to_string()))?,
                    serde_json::from_str(&parse(1)?)
                        .map_err(|e| AggregatorError::Internal(e.to_string()))?,
                ))
            })
            .collect()
    }

    pub async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, AggregatorError> {
        Ok(self.pool.begin().await?)
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub async fn count_rejection(
        &self,
        task_id: &TaskId,
        reason: &str,
    ) -> Result<(), AggregatorError> {
        sqlx::query(
            "INSERT INTO upload_rejections (task_id, reason, count) VALUES ($1, $2, 1) \
             ON CONFLICT (task_id, reason) DO UPDATE SET count = upload_rejections.count + 1",
        )
        .bind(task_id.to_text())
        .bind(reason)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn release(&self, task_id: &TaskId) -> Result<Option<ReleaseRow>, AggregatorError> {
        release_in(&mut *self.pool.acquire().await?, task_id).await
    }

    /// What was released for the task, as first stored (whoever stored
    /// first wins a race, and everyone answers with that).
    pub async fn released<T: serde::de::DeserializeOwned>(
        &self,
        task_id: &TaskId,
    ) -> Result<T, AggregatorError> {
        let stored = self
            .release(task_id)
            .await?
            .ok_or_else(|| AggregatorError::Internal("release vanished".into()))?;
        stored.decode()
    }

    pub async fn batch(
        &self,
        task_id: &TaskId,
        vdaf: &Vdaf,
    ) -> Result<Option<BatchRow>, AggregatorError> {
        batch_in(&mut *self.pool.acquire().await?, task_id, vdaf).await
    }
}

pub(crate) async fn release_in(
    conn: &mut AnyConnection,
    task_id: &TaskId,
) -> Result<Option<ReleaseRow>, AggregatorError> {
    let row =
        sqlx::query("SELECT report_count, checksum, released FROM releases WHERE task_id = $1")
            .bind(task_id.to_text())
            .fetch_optional(&mut *conn)
            .await?;
    row.map(|row| {
        Ok(ReleaseRow {
            report_count: row.try_get::<i64, _>(0)? as u64,
            checksum: checksum_of(row.try_get(1)?)?,
            released: row.try_get(2)?,
        })
    })
    .transpose()
}

/// The batch: the total of every job's partial sum (`None` before any).
pub(crate) async fn batch_in(
    conn: &mut AnyConnection,
    task_id: &TaskId,
    vdaf: &Vdaf,
) -> Result<Option<BatchRow>, AggregatorError> {
    let rows = sqlx::query(
        "SELECT aggregate, report_count, checksum FROM job_aggregates WHERE task_id = $1",
    )
    .bind(task_id.to_text())
    .fetch_all(&mut *conn)
    .await?;
    let mut total: Option<(AggregateShare, u64, [u8; 32])> = None;
    for row in rows {
        let share = decode_aggregate(vdaf, &row.try_get::<Vec<u8>, _>(0)?)?;
        let (count, checksum) = (
            row.try_get::<i64, _>(1)? as u64,
            checksum_of(row.try_get(2)?)?,
        );
        total = Some(match total {
            None => (share, count, checksum),
            Some((mut sum, n, mut c)) => {
                sum.merge(&share)
                    .map_err(|e| AggregatorError::Internal(e.to_string()))?;
                c.iter_mut().zip(checksum).for_each(|(a, b)| *a ^= b);
                (sum, n + count, c)
            }
        });
    }
    total
        .map(|(sum, report_count, checksum)| {
            Ok(BatchRow {
                aggregate: sum
                    .get_encoded()
                    .map_err(|e| AggregatorError::Internal(e.to_string()))?,
                report_count,
                checksum,
            })
        })
        .transpose()
}

/// Records one job's partial sum.
pub(crate) async fn save_job_aggregate(
    conn: &mut AnyConnection,
    task_id: &TaskId,
    job_id: &JobId,
    partial: &BatchRow,
) -> Result<(), AggregatorError> {
    sqlx::query(
        "INSERT INTO job_aggregates (task_id, job_id, aggregate, report_count, checksum) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(task_id.to_text())
    .bind(job_id.to_text())
    .bind(partial.aggregate.clone())
    .bind(partial.report_count as i64)
    .bind(partial.checksum.to_vec())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Decodes a stored aggregate share.
pub(crate) fn decode_aggregate(
    vdaf: &Vdaf,
    bytes: &[u8],
) -> Result<AggregateShare, AggregatorError> {
    AggregateShare::get_decoded_with_param(&(vdaf, &()), bytes)
        .map_err(|e| AggregatorError::Internal(format!("stored aggregate: {e}")))
}

/// Serialising anything serde can, with the error type of this crate.
mod erased {
    use crate::AggregatorError;

    pub trait Json {
        fn json(&self) -> Result<String, AggregatorError>;
    }

    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> Result<String, AggregatorError> {
            serde_json::to_string(self).map_err(|e| AggregatorError::Internal(e.to_string()))
        }
    }
}

pub(crate) use erased::Json;
