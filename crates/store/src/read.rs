//! Reading a store: import batches, fixes, per-day counts; undoing imports.

use crate::{CitizenStore, StoreError};
use futures_util::TryStreamExt;
use sillage_model::{Fix, ImportBatch, ImportCounts, SourceFormat, Timestamp};
use sqlx::Row;

/// How many fixes a local day holds.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DayCount {
    /// The local calendar date (`YYYY-MM-DD`), using each fix's own UTC offset.
    pub date: String,
    /// Number of fixes that day.
    pub fixes: u64,
}

/// A fix as stored, with the device it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredFix {
    /// The device's name.
    pub device: String,
    /// The fix.
    pub fix: Fix,
}

/// What undoing an import removed.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct UndoOutcome {
    /// Fixes removed (those the batch brought in first).
    pub fixes: u64,
    /// Hints removed.
    pub hints: u64,
}

const MS_PER_DAY: i64 = 86_400_000;

impl CitizenStore {
    /// Every import batch, oldest first.
    pub async fn imports(&self) -> Result<Vec<ImportBatch>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, source_name, format, imported_at_ms, accepted, duplicates, hints, rejected_json \
             FROM import_batches ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let format: String = row.get("format");
                let rejected: String = row.get("rejected_json");
                Ok(ImportBatch {
                    id: row.get("id"),
                    source_name: row.get("source_name"),
                    format: SourceFormat::from_name(&format)
                        .ok_or_else(|| StoreError::Corrupt(format!("unknown format {format:?}")))?,
                    imported_at: Timestamp(row.get("imported_at_ms")),
                    counts: ImportCounts {
                        accepted: row.get::<i64, _>("accepted") as u64,
                        duplicates: row.get::<i64, _>("duplicates") as u64,
                        hints: row.get::<i64, _>("hints") as u64,
                        rejected: serde_json::from_str(&rejected)
                            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    },
                })
            })
            .collect()
    }

    /// Removes what an import batch brought in, in one transaction.
    pub async fn undo_import(&self, batch_id: i64) -> Result<UndoOutcome, StoreError> {
        let mut tx = self.write_transaction().await?;
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM import_batches WHERE id = ?")
            .bind(batch_id)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(StoreError::NoSuchImport(batch_id));
        }
        sqlx::query(
            "INSERT INTO diary_dirty (device_id, from_ms, to_ms) \
             SELECT device_id, MIN(t_ms), MAX(t_ms) + 1 FROM fixes WHERE batch_id = ? GROUP BY device_id",
        )
        .bind(batch_id)
        .execute(&mut *tx)
        .await?;
        let fixes = sqlx::query("DELETE FROM fixes WHERE batch_id = ?")
            .bind(batch_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let hints = sqlx::query("DELETE FROM source_hints WHERE batch_id = ?")
            .bind(batch_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query("DELETE FROM import_batches WHERE id = ?")
            .bind(batch_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(UndoOutcome { fixes, hints })
    }

    /// Total number of stored fixes.
    pub async fn fix_count(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM fixes")
            .fetch_one(&self.pool)
            .await?;
        Ok(n as u64)
    }

    /// Fixes per local day, in date order.
    pub async fn fixes_per_day(&self) -> Result<Vec<DayCount>, StoreError> {
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT (t_ms + COALESCE(utc_offset_min, 0) * 60000) / ? AS day, COUNT(*) FROM fixes GROUP BY day ORDER BY day",
        )
        .bind(MS_PER_DAY)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(day, n)| DayCount {
                date: Timestamp(day * MS_PER_DAY).local_date(0),
                fixes: n as u64,
            })
            .collect())
    }

    /// Streams the fixes in `[from, to)` (all when `None`) in time order,
    /// without holding them all in memory.
    pub async fn for_each_fix(
        &self,
        range: Option<(Timestamp, Timestamp)>,
        mut each: impl FnMut(StoredFix) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError> {
        let (from, to) = range.map_or((i64::MIN, i64::MAX), |(a, b)| (a.0, b.0));
        let mut rows = sqlx::query(
            "SELECT d.name, f.t_ms, f.lat, f.lon, f.accuracy_m, f.speed_mps, f.bearing_deg, f.altitude_m, f.utc_offset_min \
             FROM fixes f JOIN devices d ON d.id = f.device_id WHERE f.t_ms >= ? AND f.t_ms < ? ORDER BY f.t_ms, d.name",
        )
        .bind(from)
        .bind(to)
        .fetch(&self.pool);
        let mut count = 0;
        while let Some(row) = rows.try_next().await? {
            let fix = Fix {
                time: Timestamp(row.get(1)),
                lat: row.get(2),
                lon: row.get(3),
                accuracy_m: row.get(4),
                speed_mps: row.get(5),
                bearing_deg: row.get(6),
                altitude_m: row.get(7),
                utc_offset_min: row.get(8),
            };
            each(StoredFix {
                device: row.get(0),
                fix,
            })?;
            count += 1;
        }
        Ok(count)
    }
}
