//! The citizen's footprint over time, and their settings.

use crate::diary::corrupt;
use crate::{CitizenStore, StoreError};
use serde::{Deserialize, Serialize};
use sillage_model::{Mode, Timestamp};
use sqlx::Row;
use std::collections::BTreeMap;

/// How footprint rows are grouped in time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    /// Calendar days, `YYYY-MM-DD`.
    Day,
    /// Calendar months, `YYYY-MM`.
    Month,
    /// Calendar years, `YYYY`.
    Year,
}

impl Granularity {
    /// The stable name (`day`, `month`, `year`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Month => "month",
            Self::Year => "year",
        }
    }

    /// Inverse of [`Granularity::as_str`].
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Day, Self::Month, Self::Year]
            .into_iter()
            .find(|g| g.as_str() == name)
    }

    fn strftime(self) -> &'static str {
        match self {
            Self::Day => "%Y-%m-%d",
            Self::Month => "%Y-%m",
            Self::Year => "%Y",
        }
    }
}

/// What the legs of one mode add up to over one period.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FootprintRow {
    /// The period (`2024-03-01`, `2024-03` or `2024`, UTC), of the trips' start.
    pub period: String,
    /// The legs' mode.
    pub mode: Mode,
    /// Trips with at least one leg of this mode (a trip with legs of two
    /// modes counts under both).
    pub trips: u64,
    /// Distance of the legs, km.
    pub km: f64,
    /// Their emissions, gCO2e; `None` when any of them is unknown (ferry,
    /// unknown mode), since a partial sum would read as a smaller footprint.
    pub co2_g: Option<f64>,
    /// Their energy, kcal.
    pub kcal: f64,
}

impl CitizenStore {
    /// The footprint of the trips starting in `[from, to)`, one row per
    /// period and mode, in order. Periods are UTC calendar periods, like
    /// `sillage trips --day`.
    pub async fn footprint(
        &self,
        from: Timestamp,
        to: Timestamp,
        granularity: Granularity,
    ) -> Result<Vec<FootprintRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT strftime(?, t.start_ms / 1000.0, 'unixepoch') AS period, l.mode, COUNT(DISTINCT t.id), \
             SUM(l.distance_m) / 1000.0, CASE WHEN COUNT(l.co2_g) = COUNT(*) THEN SUM(l.co2_g) END, SUM(l.kcal) \
             FROM legs l JOIN trips t ON t.id = l.trip_id WHERE t.start_ms >= ? AND t.start_ms < ? \
             GROUP BY period, l.mode ORDER BY period, l.mode",
        )
        .bind(granularity.strftime())
        .bind(from.0)
        .bind(to.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let mode: String = row.get(1);
                Ok(FootprintRow {
                    period: row.get(0),
                    mode: Mode::from_name(&mode).ok_or_else(|| corrupt("mode", &mode))?,
                    trips: row.get::<i64, _>(2) as u64,
                    km: row.get(3),
                    co2_g: row.get(4),
                    kcal: row.get(5),
                })
            })
            .collect()
    }

    /// Every setting of the citizen, by key.
    pub async fn settings(&self) -> Result<BTreeMap<String, String>, StoreError> {
        let rows: Vec<(String, String)> = sqlx::query_as("SELECT key, value FROM settings")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().collect())
    }

    /// One setting, if set.
    pub async fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT value FROM settings WHERE key = ?")
                .bind(key)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Sets (or replaces) one setting.
    pub async fn set_setting(&self, key: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
