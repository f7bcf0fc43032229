//! Writing one import batch, in one transaction.

use crate::{CitizenStore, StoreError};
use sillage_model::{
    Fix, HintKind, ImportBatch, ImportCounts, RejectReason, SourceFormat, SourceHint, Timestamp,
};
use sqlx::{Sqlite, Transaction};
use std::collections::BTreeMap;

/// A slice of an import's output, as the parser produced it.
///
/// Devices are referred to by an index into the import's device list, which
/// grows as `new_devices` are announced, so that fixes carry no strings.
#[derive(Debug, Default)]
pub struct ImportChunk {
    /// Device names first seen in this chunk, appended to the import's list.
    pub new_devices: Vec<String>,
    /// Plausible fixes, with the index of their device.
    pub fixes: Vec<(u32, Fix)>,
    /// Source hints, with the index of their device.
    pub hints: Vec<(u32, SourceHint)>,
    /// Records rejected by the parser, by reason.
    pub rejected: BTreeMap<RejectReason, u64>,
}

impl ImportChunk {
    /// True when the chunk carries nothing.
    pub fn is_empty(&self) -> bool {
        self.new_devices.is_empty()
            && self.fixes.is_empty()
            && self.hints.is_empty()
            && self.rejected.is_empty()
    }
}

/// An import in progress. Dropping it without [`ImportWriter::commit`] rolls
/// everything back, as does a crash: the store never holds half an import.
pub struct ImportWriter {
    tx: Transaction<'static, Sqlite>,
    finished: Vec<ImportBatch>,
    current: Option<OpenBatch>,
}

/// The batch being written and the store ids of its devices.
struct OpenBatch {
    batch: ImportBatch,
    device_ids: Vec<i64>,
    /// Per device id, the first and last instant of statements that
    /// inserted something: the diary must look at these days again.
    changed: BTreeMap<i64, (i64, i64)>,
}

/// Rows per multi-row INSERT: large enough to amortise statement overhead,
/// small enough to stay far below SQLite's bound-parameter limit.
const FIX_ROWS_PER_STATEMENT: usize = 200;
const FIX_COLUMNS: usize = 10;

fn insert_fixes_sql(rows: usize) -> String {
    let row = format!("({})", ["?"; FIX_COLUMNS].join(","));
    format!(
        "INSERT INTO fixes (device_id, t_ms, lat, lon, accuracy_m, speed_mps, bearing_deg, altitude_m, utc_offset_min, batch_id) \
         VALUES {} ON CONFLICT (device_id, t_ms) DO NOTHING",
        vec![row; rows].join(",")
    )
}

impl CitizenStore {
    /// Starts an import. Batches are opened with [`ImportWriter::start_batch`];
    /// all of them commit together or not at all.
    pub async fn begin_import(&self) -> Result<ImportWriter, StoreError> {
        Ok(ImportWriter {
            tx: self.write_transaction().await?,
            finished: Vec::new(),
            current: None,
        })
    }
}

impl ImportWriter {
    /// Opens a new batch for one source (a file, or one member of an
    /// archive); the previous batch, if any, is closed.
    pub async fn start_batch(
        &mut self,
        source_name: &str,
        format: SourceFormat,
    ) -> Result<(), StoreError> {
        self.close_batch().await?;
        let imported_at = Timestamp::now();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO import_batches (source_name, format, imported_at_ms) VALUES (?, ?, ?) RETURNING id",
        )
        .bind(source_name)
        .bind(format.as_str())
        .bind(imported_at.0)
        .fetch_one(&mut *self.tx)
        .await?;
        self.current = Some(OpenBatch {
            batch: ImportBatch {
                id,
                source_name: source_name.to_owned(),
                format,
                imported_at,
                counts: ImportCounts::default(),
            },
            device_ids: Vec::new(),
            changed: BTreeMap::new(),
        });
        Ok(())
    }

    /// Opens the most recent batch named `source_name` again, so that its
    /// counts grow, or starts it when there is none. Live tracker points
    /// arrive a few at a time: one batch per device and day keeps the
    /// citizen's list of imports readable and each day undoable.
    pub async fn resume_batch(
        &mut self,
        source_name: &str,
        format: SourceFormat,
    ) -> Result<(), StoreError> {
        self.close_batch().await?;
        let row = sqlx::query(
            "SELECT id, imported_at_ms, accepted, duplicates, hints, rejected_json FROM import_batches \
             WHERE source_name = ? AND format = ? ORDER BY id DESC LIMIT 1",
        )
        .bind(source_name)
        .bind(format.as_str())
        .fetch_optional(&mut *self.tx)
        .await?;
        let Some(row) = row else {
            return self.start_batch(source_name, format).await;
        };
        use sqlx::Row;
        let rejected: String = row.get(5);
        let counts = ImportCounts {
            accepted: row.get::<i64, _>(2) as u64,
            duplicates: row.get::<i64, _>(3) as u64,
            hints: row.get::<i64, _>(4) as u64,
            rejected: serde_json::from_str(&rejected)
                .map_err(|e| StoreError::Corrupt(format!("rejected counts of a batch: {e}")))?,
        };
        self.current = Some(OpenBatch {
            batch: ImportBatch {
                id: row.get(0),
                source_name: source_name.to_owned(),
                format,
                imported_at: Timestamp(row.get(1)),
                counts,
            },
            device_ids: Vec::new(),
            changed: BTreeMap::new(),
        });
        Ok(())
    }

    /// Counts of the open batch so far.
    pub fn counts(&self) -> Option<&ImportCounts> {
        self.current.as_ref().map(|open| &open.batch.counts)
    }

    /// Writes a chunk of the open batch inside the import's transaction.
    pub async fn write(&mut self, chunk: &ImportChunk) -> Result<(), StoreError> {
        let open = self.current.as_mut().ok_or_else(|| {
            StoreError::Corrupt("a chunk was written before any batch was started".into())
        })?;
        let tx = &mut self.tx;
        for name in &chunk.new_devices {
            open.device_ids.push(device_id(tx, name).await?);
        }
        let counts = &mut open.batch.counts;
        for (reason, n) in &chunk.rejected {
            *counts.rejected.entry(*reason).or_default() += n;
        }
        let full_sql = insert_fixes_sql(FIX_ROWS_PER_STATEMENT);
        for rows in chunk.fixes.chunks(FIX_ROWS_PER_STATEMENT) {
            let tail_sql;
            let sql = if rows.len() == FIX_ROWS_PER_STATEMENT {
                &full_sql
            } else {
                tail_sql = insert_fixes_sql(rows.len());
                &tail_sql
            };
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
            for (device, fix) in rows {
                query = query
                    .bind(device_of(&open.device_ids, *device)?)
                    .bind(fix.time.0)
                    .bind(fix.lat)
                    .bind(fix.lon)
                    .bind(fix.accuracy_m)
                    .bind(fix.speed_mps)
                    .bind(fix.bearing_deg)
                    .bind(fix.altitude_m)
                    .bind(fix.utc_offset_min)
                    .bind(open.batch.id);
            }
            let inserted = query.execute(&mut **tx).await?.rows_affected();
            if inserted > 0 {
                for (device, fix) in rows {
                    let id = device_of(&open.device_ids, *device)?;
                    let span = open.changed.entry(id).or_insert((fix.time.0, fix.time.0));
                    *span = (span.0.min(fix.time.0), span.1.max(fix.time.0));
                }
            }
            counts.accepted += inserted;
            counts.duplicates += rows.len() as u64 - inserted;
        }
        for (device, hint) in &chunk.hints {
            let device_id = device_of(&open.device_ids, *device)?;
            counts.hints += insert_hint(tx, open.batch.id, device_id, hint).await?;
        }
        Ok(())
    }

    /// Records the open batch's counts.
    async fn close_batch(&mut self) -> Result<(), StoreError> {
        let Some(open) = self.current.take() else {
            return Ok(());
        };
        let counts = &open.batch.counts;
        let rejected = serde_json::to_string(&counts.rejected)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        sqlx::query("UPDATE import_batches SET accepted = ?, duplicates = ?, hints = ?, rejected_json = ? WHERE id = ?")
            .bind(counts.accepted as i64)
            .bind(counts.duplicates as i64)
            .bind(counts.hints as i64)
            .bind(rejected)
            .bind(open.batch.id)
            .execute(&mut *self.tx)
            .await?;
        for (device_id, (first, last)) in &open.changed {
            sqlx::query("INSERT INTO diary_dirty (device_id, from_ms, to_ms) VALUES (?, ?, ?)")
                .bind(device_id)
                .bind(first)
                .bind(last.saturating_add(1))
                .execute(&mut *self.tx)
                .await?;
        }
        self.finished.push(open.batch);
        Ok(())
    }

    /// Commits every batch: from here on the import is visible and durable.
    pub async fn commit(mut self) -> Result<Vec<ImportBatch>, StoreError> {
        self.close_batch().await?;
        self.tx.commit().await?;
        Ok(self.finished)
    }

    /// Abandons the import explicitly (dropping the writer does the same).
    pub async fn rollback(self) -> Result<(), StoreError> {
        Ok(self.tx.rollback().await?)
    }
}

fn device_of(device_ids: &[i64], index: u32) -> Result<i64, StoreError> {
    device_ids
        .get(index as usize)
        .copied()
        .ok_or_else(|| StoreError::Corrupt(format!("device index {index} was never announced")))
}

async fn device_id(tx: &mut Transaction<'static, Sqlite>, name: &str) -> Result<i64, StoreError> {
    sqlx::query("INSERT INTO devices (name) VALUES (?) ON CONFLICT (name) DO NOTHING")
        .bind(name)
        .execute(&mut **tx)
        .await?;
    Ok(sqlx::query_scalar("SELECT id FROM devices WHERE name = ?")
        .bind(name)
        .fetch_one(&mut **tx)
        .await?)
}

async fn insert_hint(
    tx: &mut Transaction<'static, Sqlite>,
    batch_id: i64,
    device_id: i64,
    hint: &SourceHint,
) -> Result<u64, StoreError> {
    let (kind, label, mode, lat, lon) = match &hint.kind {
        HintKind::Activity { label, mode } => (
            "activity",
            label.as_str(),
            mode.map(|m| m.as_str()),
            None,
            None,
        ),
        HintKind::PlaceVisit { lat, lon, label } => (
            "place_visit",
            label.as_deref().unwrap_or(""),
            None,
            *lat,
            *lon,
        ),
    };
    let result = sqlx::query(
        "INSERT INTO source_hints (batch_id, device_id, start_ms, end_ms, kind, label, mode, lat, lon, confidence) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
    )
    .bind(batch_id)
    .bind(device_id)
    .bind(hint.start.0)
    .bind(hint.end.0)
    .bind(kind)
    .bind(label)
    .bind(mode)
    .bind(lat)
    .bind(lon)
    .bind(hint.confidence)
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected())
}
