//! The diary tables: trips, legs (with their CO2 and kcal) and the
//! citizen's corrections.

use crate::{CitizenStore, StoreError};
use sillage_model::{
    Correction, CorrectionValue, Fix, GeoPoint, LabelSource, Leg, Mode, Purpose, StayPoint,
    Timestamp, Trip,
};
use sqlx::Row;

pub(crate) fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("unknown {what} {value:?}"))
}

impl CitizenStore {
    /// The names of the devices that have fixes.
    pub async fn devices(&self) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT name FROM devices ORDER BY name")
            .fetch_all(&self.pool)
            .await?)
    }

    /// One device's fixes in `[from, to)`, in time order.
    pub async fn device_fixes(
        &self,
        device: &str,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<Fix>, StoreError> {
        let device_id: Option<i64> = sqlx::query_scalar("SELECT id FROM devices WHERE name = ?")
            .bind(device)
            .fetch_optional(&self.pool)
            .await?;
        let Some(device_id) = device_id else {
            return Ok(Vec::new());
        };
        let mut connection = self.pool.acquire().await?;
        let mut handle = connection.lock_handle().await?;
        // SAFETY: the locked handle is valid and ours alone until dropped,
        // after the call.
        unsafe { crate::bulk::device_fixes(handle.as_raw_handle(), device_id, from, to) }
    }

    /// The time of the device's last fix before `before` and of its first
    /// fix after `after` (the silences around a trip, in one query).
    pub async fn fixes_around(
        &self,
        device: &str,
        before: Timestamp,
        after: Timestamp,
    ) -> Result<(Option<Timestamp>, Option<Timestamp>), StoreError> {
        let (last, next): (Option<i64>, Option<i64>) = sqlx::query_as(
            "SELECT (SELECT MAX(t_ms) FROM fixes WHERE device_id = d.id AND t_ms < ?1), \
                    (SELECT MIN(t_ms) FROM fixes WHERE device_id = d.id AND t_ms > ?2) \
             FROM devices d WHERE d.name = ?3",
        )
        .bind(before.0)
        .bind(after.0)
        .bind(device)
        .fetch_optional(&self.pool)
        .await?
        .unwrap_or((None, None));
        Ok((last.map(Timestamp), next.map(Timestamp)))
    }

    /// Replaces a device's trips starting in `[from, to)` with `trips`, in
    /// one transaction (readers see the old diary or the new one, never a mix).
    pub async fn replace_trips(
        &self,
        device: &str,
        from: Timestamp,
        to: Timestamp,
        trips: &[Trip],
    ) -> Result<(), StoreError> {
        let mut tx = self.write_transaction().await?;
        let device_id = existing_device_id(&mut tx, device).await?;
        sqlx::query("DELETE FROM legs WHERE trip_id IN (SELECT id FROM trips WHERE device_id = ? AND start_ms >= ? AND start_ms < ?)")
            .bind(device_id)
            .bind(from.0)
            .bind(to.0)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM trips WHERE device_id = ? AND start_ms >= ? AND start_ms < ?")
            .bind(device_id)
            .bind(from.0)
            .bind(to.0)
            .execute(&mut *tx)
            .await?;
        for trip in trips {
            insert_trip(&mut tx, device_id, trip).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The intervals whose fixes changed since the diary was last saved,
    /// merged per device, and the mark that [`DiaryUpdate::dirty_through`]
    /// takes to clear exactly these (marks added meanwhile survive).
    pub async fn dirty_windows(&self) -> Result<(Vec<DirtyWindow>, Option<i64>), StoreError> {
        let rows = sqlx::query(
            "SELECT d.name, w.from_ms, w.to_ms, w.id FROM diary_dirty w JOIN devices d ON d.id = w.device_id \
             ORDER BY d.name, w.from_ms",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut windows: Vec<DirtyWindow> = Vec::new();
        let mut through = None;
        for row in rows {
            let (device, from, to): (String, i64, i64) = (row.get(0), row.get(1), row.get(2));
            through = through.max(Some(row.get::<i64, _>(3)));
            match windows.last_mut() {
                Some(last) if last.device == device && from <= last.to.0 => {
                    last.to = last.to.max(Timestamp(to));
                }
                _ => windows.push(DirtyWindow {
                    device,
                    from: Timestamp(from),
                    to: Timestamp(to),
                }),
            }
        }
        Ok((windows, through))
    }

    /// Marks every device's whole history as changed: the next refresh
    /// analyses everything again (after a new model or new parameters).
    pub async fn mark_all_dirty(&self) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO diary_dirty (device_id, from_ms, to_ms) SELECT id, ?, ? FROM devices",
        )
        .bind(i64::MIN)
        .bind(i64::MAX)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every stay the analysis found, all devices, by device then time.
    pub async fn stays(&self) -> Result<Vec<DeviceStay>, StoreError> {
        let rows = sqlx::query(
            "SELECT d.name, s.start_ms, s.end_ms, s.lat, s.lon, s.utc_offset_min \
             FROM stays s JOIN devices d ON d.id = s.device_id ORDER BY d.name, s.start_ms",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|row| DeviceStay {
                device: row.get(0),
                point: StayPoint {
                    start: Timestamp(row.get(1)),
                    end: Timestamp(row.get(2)),
                    lat: row.get(3),
                    lon: row.get(4),
                    place_id: None,
                },
                utc_offset_min: row.get(5),
            })
            .collect())
    }

    /// Saves a refreshed diary in one transaction: the re-analysed windows'
    /// stays, every trip (the whole diary is rewritten, since places,
    /// purposes and suggestions reach beyond the re-analysed days), and the
    /// dirty marks it accounts for.
    pub async fn save_diary(&self, update: &DiaryUpdate<'_>) -> Result<(), StoreError> {
        let mut tx = self.write_transaction().await?;
        let device_ids: std::collections::HashMap<String, i64> =
            sqlx::query_as("SELECT name, id FROM devices")
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .collect();
        let id_of = |device: &str| {
            device_ids
                .get(device)
                .copied()
                .ok_or_else(|| StoreError::Corrupt(format!("no device named {device:?}")))
        };
        for window in &update.analysed {
            let device_id = id_of(&window.device)?;
            sqlx::query(
                "DELETE FROM stays WHERE device_id = ? AND start_ms >= ? AND start_ms <= ?",
            )
            .bind(device_id)
            .bind(window.from.0)
            .bind(window.to.0)
            .execute(&mut *tx)
            .await?;
            for stay in &window.stays {
                sqlx::query(
                    "INSERT INTO stays (device_id, start_ms, end_ms, lat, lon, utc_offset_min) VALUES (?, ?, ?, ?, ?, ?) \
                     ON CONFLICT (device_id, start_ms) DO UPDATE SET end_ms = excluded.end_ms, lat = excluded.lat, \
                     lon = excluded.lon, utc_offset_min = excluded.utc_offset_min",
                )
                .bind(device_id)
                .bind(stay.point.start.0)
                .bind(stay.point.end.0)
                .bind(stay.point.lat)
                .bind(stay.point.lon)
                .bind(stay.utc_offset_min)
                .execute(&mut *tx)
                .await?;
            }
        }
        sqlx::query("DELETE FROM legs").execute(&mut *tx).await?;
        sqlx::query("DELETE FROM trips").execute(&mut *tx).await?;
        for trip in update.trips {
            insert_trip(&mut tx, id_of(&trip.device)?, trip).await?;
        }
        if let Some(through) = update.dirty_through {
            sqlx::query("DELETE FROM diary_dirty WHERE id <= ?")
                .bind(through)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Trips (with legs) starting in `[from, to)`, all devices, in time order.
    pub async fn trips_between(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<Trip>, StoreError> {
        let rows = sqlx::query(
            "SELECT t.id, d.name, t.start_ms, t.end_ms, t.origin_lat, t.origin_lon, t.destination_lat, t.destination_lon, \
             t.origin_place_id, t.destination_place_id, t.distance_m, t.purpose, t.purpose_source, t.private \
             FROM trips t JOIN devices d ON d.id = t.device_id WHERE t.start_ms >= ? AND t.start_ms < ? ORDER BY t.start_ms",
        )
        .bind(from.0)
        .bind(to.0)
        .fetch_all(&self.pool)
        .await?;
        // All legs of those trips in one query, not one query per trip.
        let mut legs = self.legs_of_trips_between(from, to).await?;
        let mut trips = Vec::with_capacity(rows.len());
        for row in rows {
            let purpose: Option<String> = row.get(11);
            let purpose_source: Option<String> = row.get(12);
            let id: i64 = row.get(0);
            trips.push(Trip {
                id,
                device: row.get(1),
                start: Timestamp(row.get(2)),
                end: Timestamp(row.get(3)),
                origin: GeoPoint {
                    lat: row.get(4),
                    lon: row.get(5),
                },
                destination: GeoPoint {
                    lat: row.get(6),
                    lon: row.get(7),
                },
                origin_place_id: row.get(8),
                destination_place_id: row.get(9),
                distance_m: row.get(10),
                purpose: purpose
                    .map(|p| Purpose::from_name(&p).ok_or_else(|| corrupt("purpose", &p)))
                    .transpose()?,
                purpose_source: purpose_source
                    .map(|s| LabelSource::from_name(&s).ok_or_else(|| corrupt("label source", &s)))
                    .transpose()?,
                private: row.get(13),
                legs: legs.remove(&id).unwrap_or_default(),
            });
        }
        Ok(trips)
    }

    /// When the most recent trip started, if there is any.
    pub async fn last_trip_start(&self) -> Result<Option<Timestamp>, StoreError> {
        let start: Option<i64> = sqlx::query_scalar("SELECT MAX(start_ms) FROM trips")
            .fetch_one(&self.pool)
            .await?;
        Ok(start.map(Timestamp))
    }

    /// The trip with this id, with its legs.
    pub async fn trip(&self, id: i64) -> Result<Option<Trip>, StoreError> {
        let start: Option<i64> = sqlx::query_scalar("SELECT start_ms FROM trips WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(start) = start else { return Ok(None) };
        let trips = self
            .trips_between(Timestamp(start), Timestamp(start + 1))
            .await?;
        Ok(trips.into_iter().find(|t| t.id == id))
    }

    /// The legs of the trips starting in `[from, to)`, by trip id, in order.
    async fn legs_of_trips_between(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<std::collections::HashMap<i64, Vec<Leg>>, StoreError> {
        let rows = sqlx::query(
            "SELECT l.start_ms, l.end_ms, l.distance_m, l.mode, l.confidence, l.mode_source, l.co2_g, \
             l.co2_factor_version, l.kcal, l.trip_id, l.inferred_mode, l.inferred_confidence FROM legs l JOIN trips t ON t.id = l.trip_id \
             WHERE t.start_ms >= ? AND t.start_ms < ? ORDER BY l.trip_id, l.position",
        )
        .bind(from.0)
        .bind(to.0)
        .fetch_all(&self.pool)
        .await?;
        let mut legs: std::collections::HashMap<i64, Vec<Leg>> = std::collections::HashMap::new();
        for row in &rows {
            let mode: String = row.get(3);
            let source: String = row.get(5);
            let inferred: String = row.get(10);
            let leg = Leg {
                start: Timestamp(row.get(0)),
                end: Timestamp(row.get(1)),
                distance_m: row.get(2),
                mode: Mode::from_name(&mode).ok_or_else(|| corrupt("mode", &mode))?,
                confidence: row.get(4),
                mode_source: LabelSource::from_name(&source)
                    .ok_or_else(|| corrupt("label source", &source))?,
                co2_g: row.get(6),
                co2_factor_version: row.get(7),
                kcal: row.get(8),
                inferred_mode: Mode::from_name(&inferred)
                    .ok_or_else(|| corrupt("mode", &inferred))?,
                inferred_confidence: row.get(11),
            };
            legs.entry(row.get::<i64, _>(9)).or_default().push(leg);
        }
        Ok(legs)
    }

    /// Records a correction; returns its id.
    pub async fn add_correction(&self, correction: &Correction) -> Result<i64, StoreError> {
        let mut conn = self.pool.acquire().await?;
        insert_correction(&mut conn, correction).await
    }

    /// Records several corrections in one transaction: all or none.
    pub async fn add_corrections(&self, corrections: &[Correction]) -> Result<(), StoreError> {
        let mut tx = self.write_transaction().await?;
        for correction in corrections {
            insert_correction(&mut tx, correction).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A device's corrections, oldest first (later ones win when re-applied).
    pub async fn corrections(&self, device: &str) -> Result<Vec<Correction>, StoreError> {
        let rows = sqlx::query(
            "SELECT c.id, c.start_ms, c.end_ms, c.kind, c.value FROM corrections c JOIN devices d ON d.id = c.device_id \
             WHERE d.name = ? ORDER BY c.id",
        )
        .bind(device)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let (kind, value): (String, String) = (row.get(3), row.get(4));
                let value = match kind.as_str() {
                    "mode" => CorrectionValue::Mode(
                        Mode::from_name(&value).ok_or_else(|| corrupt("mode", &value))?,
                    ),
                    "purpose" => CorrectionValue::Purpose(
                        Purpose::from_name(&value).ok_or_else(|| corrupt("purpose", &value))?,
                    ),
                    "split" => CorrectionValue::Split,
                    "merge" => CorrectionValue::Merge,
                    _ => CorrectionValue::Private(value == "true"),
                };
                Ok(Correction {
                    id: row.get(0),
                    device: device.to_owned(),
                    start: Timestamp(row.get(1)),
                    end: Timestamp(row.get(2)),
                    value,
                })
            })
            .collect()
    }
}

/// An interval of one device whose fixes changed, `[from, to)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirtyWindow {
    /// The device.
    pub device: String,
    /// First changed instant.
    pub from: Timestamp,
    /// Just after the last changed instant.
    pub to: Timestamp,
}

/// A stay the analysis found, with its device and the UTC offset of its
/// first fix (for the local-time rules that label places).
#[derive(Clone, Debug, PartialEq)]
pub struct DeviceStay {
    /// The device.
    pub device: String,
    /// Where and when.
    pub point: StayPoint,
    /// UTC offset, minutes, when the source gave one.
    pub utc_offset_min: Option<i16>,
}

/// A device interval analysed again: its stored stays starting in
/// `[from, to]` are replaced by `stays`.
#[derive(Clone, Debug)]
pub struct AnalysedWindow {
    /// The device.
    pub device: String,
    /// Start of the interval.
    pub from: Timestamp,
    /// End of the interval (inclusive).
    pub to: Timestamp,
    /// The stays found in it.
    pub stays: Vec<DeviceStay>,
}

/// Everything a refresh writes, at once.
#[derive(Clone, Debug)]
pub struct DiaryUpdate<'a> {
    /// Re-analysed windows and their stays.
    pub analysed: Vec<AnalysedWindow>,
    /// The whole diary: every trip of every device.
    pub trips: &'a [Trip],
    /// Dirty marks up to this id are accounted for.
    pub dirty_through: Option<i64>,
}

async fn existing_device_id(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    device: &str,
) -> Result<i64, StoreError> {
    sqlx::query_scalar("SELECT id FROM devices WHERE name = ?")
        .bind(device)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("no device named {device:?}")))
}

async fn insert_trip(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    device_id: i64,
    trip: &Trip,
) -> Result<(), StoreError> {
    let trip_id: i64 = sqlx::query_scalar(
        "INSERT INTO trips (device_id, start_ms, end_ms, origin_lat, origin_lon, destination_lat, destination_lon, \
         origin_place_id, destination_place_id, distance_m, purpose, purpose_source, private) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(device_id)
    .bind(trip.start.0)
    .bind(trip.end.0)
    .bind(trip.origin.lat)
    .bind(trip.origin.lon)
    .bind(trip.destination.lat)
    .bind(trip.destination.lon)
    .bind(trip.origin_place_id)
    .bind(trip.destination_place_id)
    .bind(trip.distance_m)
    .bind(trip.purpose.map(Purpose::as_str))
    .bind(trip.purpose_source.map(LabelSource::as_str))
    .bind(trip.private)
    .fetch_one(&mut **tx)
    .await?;
    for (position, leg) in trip.legs.iter().enumerate() {
        sqlx::query(
            "INSERT INTO legs (trip_id, position, start_ms, end_ms, distance_m, mode, confidence, mode_source, \
             co2_g, co2_factor_version, kcal, inferred_mode, inferred_confidence) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(trip_id)
        .bind(position as i64)
        .bind(leg.start.0)
        .bind(leg.end.0)
        .bind(leg.distance_m)
        .bind(leg.mode.as_str())
        .bind(leg.confidence)
        .bind(leg.mode_source.as_str())
        .bind(leg.co2_g)
        .bind(leg.co2_factor_version.as_deref())
        .bind(leg.kcal)
        .bind(leg.inferred_mode.as_str())
        .bind(leg.inferred_confidence)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

async fn insert_correction(
    conn: &mut sqlx::SqliteConnection,
    correction: &Correction,
) -> Result<i64, StoreError> {
    let (kind, value) = match &correction.value {
        CorrectionValue::Mode(m) => ("mode", m.as_str().to_owned()),
        CorrectionValue::Purpose(p) => ("purpose", p.as_str().to_owned()),
        CorrectionValue::Private(b) => ("private", b.to_string()),
        CorrectionValue::Split => ("split", String::new()),
        CorrectionValue::Merge => ("merge", String::new()),
    };
    Ok(sqlx::query_scalar(
        "INSERT INTO corrections (device_id, start_ms, end_ms, kind, value, created_at_ms) \
         SELECT id, ?, ?, ?, ?, ? FROM devices WHERE name = ? RETURNING id",
    )
    .bind(correction.start.0)
    .bind(correction.end.0)
    .bind(kind)
    .bind(value)
    .bind(Timestamp::now().0)
    .bind(&correction.device)
    .fetch_one(conn)
    .await?)
}
