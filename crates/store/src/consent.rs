//! The citizen's answers to campaigns and the log of what left their store.
//! The store keeps them as opaque JSON documents in append-only tables;
//! their meaning (ISO/IEC TS 27560 records, hash-chained log entries) is
//! `sillage-campaign`'s.

use crate::{CitizenStore, StoreError};
use sqlx::Row;

/// A consent event as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredConsentEvent {
    /// Store-assigned order.
    pub id: i64,
    /// The campaign.
    pub campaign_id: String,
    /// The state it moved to (a `ConsentState` name).
    pub state: String,
    /// When (UTC seconds).
    pub event_time: i64,
    /// The full record, JSON.
    pub record: String,
}

impl CitizenStore {
    /// Appends a consent event.
    pub async fn add_consent_event(
        &self,
        campaign_id: &str,
        state: &str,
        event_time: i64,
        record: &str,
    ) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "INSERT INTO consent_events (campaign_id, state, event_time, record) VALUES (?, ?, ?, ?) RETURNING id",
        )
        .bind(campaign_id)
        .bind(state)
        .bind(event_time)
        .bind(record)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Every consent event, oldest first; one campaign's when `campaign_id` is given.
    pub async fn consent_history(
        &self,
        campaign_id: Option<&str>,
    ) -> Result<Vec<StoredConsentEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, campaign_id, state, event_time, record FROM consent_events \
             WHERE ?1 IS NULL OR campaign_id = ?1 ORDER BY id",
        )
        .bind(campaign_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|row| StoredConsentEvent {
                id: row.get(0),
                campaign_id: row.get(1),
                state: row.get(2),
                event_time: row.get(3),
                record: row.get(4),
            })
            .collect())
    }

    /// The hash of the last disclosure-log entry, if any.
    pub async fn last_disclosure_hash(&self) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT hash FROM disclosures ORDER BY id DESC LIMIT 1")
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Appends a log entry chained to the current last one: refused (as
    /// corrupt) if `previous` is not the current last hash, so two writers
    /// can never fork the chain.
    pub async fn append_disclosure(
        &self,
        entry: &str,
        previous: &str,
        hash: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_transaction().await?;
        let last: Option<String> =
            sqlx::query_scalar("SELECT hash FROM disclosures ORDER BY id DESC LIMIT 1")
                .fetch_optional(&mut *tx)
                .await?;
        let expected = last.unwrap_or_else(|| "0".repeat(64));
        if expected != previous {
            return Err(StoreError::Corrupt(format!(
                "disclosure log: the entry follows {previous}, the log ends at {expected}"
            )));
        }
        sqlx::query("INSERT INTO disclosures (entry, hash, previous) VALUES (?, ?, ?)")
            .bind(entry)
            .bind(hash)
            .bind(previous)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The disclosure log's entries (JSON), oldest first.
    pub async fn disclosures(&self) -> Result<Vec<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT entry FROM disclosures ORDER BY id")
                .fetch_all(&self.pool)
                .await?,
        )
    }
}
