//! Places: found by the analysis, named and labelled by the citizen.
//!
//! Two kinds of writes meet here and must not trample each other: the
//! diary refresh saves what it derived ([`CitizenStore::save_places`]:
//! position, visits, inferred label), the citizen edits what is theirs
//! ([`CitizenStore::edit_place`]: name, label, private flag). The store
//! enforces the split itself, so no caller can overwrite the citizen's
//! word by saving a stale [`Place`].

use crate::diary::corrupt;
use crate::{CitizenStore, StoreError};
use sillage_model::{LabelSource, Place, PlaceLabel};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

/// A citizen's edit of a place; `None` fields are left as they are.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PlaceEdit {
    /// A new name; `Some(None)` removes the name.
    pub name: Option<Option<String>>,
    /// A new label, recorded as the citizen's (re-analysis keeps it).
    pub label: Option<PlaceLabel>,
    /// Whether the place is private.
    pub private: Option<bool>,
}

/// A `SELECT` of every place column, then `$tail` (a literal: sqlx takes
/// only static SQL).
macro_rules! select_places {
    ($tail:literal) => {
        concat!(
            "SELECT id, lat, lon, label, label_source, name, private, visits FROM places ",
            $tail
        )
    };
}

fn place_from(row: &SqliteRow) -> Result<Place, StoreError> {
    let label: String = row.get(3);
    let source: String = row.get(4);
    Ok(Place {
        id: row.get(0),
        lat: row.get(1),
        lon: row.get(2),
        label: PlaceLabel::from_name(&label).ok_or_else(|| corrupt("place label", &label))?,
        label_source: LabelSource::from_name(&source)
            .ok_or_else(|| corrupt("label source", &source))?,
        name: row.get(5),
        private: row.get(6),
        visits: u32::try_from(row.get::<i64, _>(7)).unwrap_or(0),
    })
}

/// Unlinks the trips that start or end at a deleted place.
async fn unlink_trips(tx: &mut sqlx::SqliteConnection, place_id: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE trips SET origin_place_id = NULL WHERE origin_place_id = ?")
        .bind(place_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE trips SET destination_place_id = NULL WHERE destination_place_id = ?")
        .bind(place_id)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

impl CitizenStore {
    /// Every place, by id.
    pub async fn places(&self) -> Result<Vec<Place>, StoreError> {
        let rows = sqlx::query(select_places!("ORDER BY id"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(place_from).collect()
    }

    /// One place.
    pub async fn place(&self, id: i64) -> Result<Place, StoreError> {
        let row = sqlx::query(select_places!("WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NoSuchPlace(id))?;
        place_from(&row)
    }

    /// Saves what an analysis derived, in one transaction, and returns the
    /// id of each of `places` (same order).
    ///
    /// A place with id 0 is inserted with an inferred label. For a stored
    /// place only the derived fields are written — position, visits, and
    /// the label unless the citizen set it; its name and private flag are
    /// never touched. A stored place that has disappeared meanwhile is
    /// inserted afresh. Places in `delete` are deleted, and their trips
    /// unlinked, only if the citizen never named, relabelled or hid them.
    pub async fn save_places(
        &self,
        places: &[Place],
        delete: &[i64],
    ) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.write_transaction().await?;
        for &id in delete {
            let gone = sqlx::query(
                "DELETE FROM places WHERE id = ? AND name IS NULL AND private = 0 AND label_source = 'inferred'",
            )
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if gone > 0 {
                unlink_trips(&mut tx, id).await?;
            }
        }
        let mut ids = Vec::with_capacity(places.len());
        for place in places {
            let updated = place.id != 0
                && sqlx::query(
                    "UPDATE places SET lat = ?, lon = ?, visits = ?, \
                     label = CASE WHEN label_source = 'citizen' THEN label ELSE ? END WHERE id = ?",
                )
                .bind(place.lat)
                .bind(place.lon)
                .bind(i64::from(place.visits))
                .bind(place.label.as_str())
                .bind(place.id)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                    > 0;
            if updated {
                ids.push(place.id);
                continue;
            }
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO places (lat, lon, label, label_source, visits) VALUES (?, ?, ?, 'inferred', ?) RETURNING id",
            )
            .bind(place.lat)
            .bind(place.lon)
            .bind(place.label.as_str())
            .bind(i64::from(place.visits))
            .fetch_one(&mut *tx)
            .await?;
            ids.push(id);
        }
        tx.commit().await?;
        Ok(ids)
    }

    /// Applies the citizen's edit to a place and returns it as stored.
    pub async fn edit_place(&self, id: i64, edit: &PlaceEdit) -> Result<Place, StoreError> {
        let mut tx = self.write_transaction().await?;
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM places WHERE id = ?")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(StoreError::NoSuchPlace(id));
        }
        if let Some(name) = &edit.name {
            sqlx::query("UPDATE places SET name = ? WHERE id = ?")
                .bind(name.as_deref())
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(label) = edit.label {
            sqlx::query("UPDATE places SET label = ?, label_source = 'citizen' WHERE id = ?")
                .bind(label.as_str())
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(private) = edit.private {
            sqlx::query("UPDATE places SET private = ? WHERE id = ?")
                .bind(private)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        self.place(id).await
    }

    /// Deletes a place, with its name and labels; its trips then start or
    /// end at no place. A later analysis that still finds stays there
    /// creates a new, inferred place (with a new id).
    pub async fn delete_place(&self, id: i64) -> Result<(), StoreError> {
        let mut tx = self.write_transaction().await?;
        let gone = sqlx::query("DELETE FROM places WHERE id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if gone == 0 {
            return Err(StoreError::NoSuchPlace(id));
        }
        unlink_trips(&mut tx, id).await?;
        tx.commit().await?;
        Ok(())
    }
}
