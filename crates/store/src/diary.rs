//! The diary tables: trips, legs (with their CO2 and kcal) and the
//! citizen's corrections.

use crate::{CitizenStore, StoreError};
use futures_util::TryStreamExt;
use sillage_model::{
    Correction, CorrectionValue, Fix, GeoPoint, LabelSource, Leg, Mode, Purpose, Timestamp, Trip,
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
        let mut rows = sqlx::query(
            "SELECT f.t_ms, f.lat, f.lon, f.accuracy_m, f.speed_mps, f.bearing_deg, f.altitude_m, f.utc_offset_min \
             FROM fixes f JOIN devices d ON d.id = f.device_id WHERE d.name = ? AND f.t_ms >= ? AND f.t_ms < ? ORDER BY f.t_ms",
        )
        .bind(device)
        .bind(from.0)
        .bind(to.0)
        .fetch(&self.pool);
        let mut fixes = Vec::new();
        while let Some(row) = rows.try_next().await? {
            fixes.push(Fix {
                time: Timestamp(row.get(0)),
                lat: row.get(1),
                lon: row.get(2),
                accuracy_m: row.get(3),
                speed_mps: row.get(4),
                bearing_deg: row.get(5),
                altitude_m: row.get(6),
                utc_offset_min: row.get(7),
            });
        }
        Ok(fixes)
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
        let mut tx = self.pool.begin().await?;
        let device_id: i64 = sqlx::query_scalar("SELECT id FROM devices WHERE name = ?")
            .bind(device)
            .fetch_one(&mut *tx)
            .await?;
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
            .fetch_one(&mut *tx)
            .await?;
            for (position, leg) in trip.legs.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO legs (trip_id, position, start_ms, end_ms, distance_m, mode, confidence, mode_source, \
                     co2_g, co2_factor_version, kcal) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                .execute(&mut *tx)
                .await?;
            }
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

    /// The legs of the trips starting in `[from, to)`, by trip id, in order.
    async fn legs_of_trips_between(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<std::collections::HashMap<i64, Vec<Leg>>, StoreError> {
        let rows = sqlx::query(
            "SELECT l.start_ms, l.end_ms, l.distance_m, l.mode, l.confidence, l.mode_source, l.co2_g, \
             l.co2_factor_version, l.kcal, l.trip_id FROM legs l JOIN trips t ON t.id = l.trip_id \
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
            };
            legs.entry(row.get::<i64, _>(9)).or_default().push(leg);
        }
        Ok(legs)
    }

    /// Records a correction; returns its id.
    pub async fn add_correction(&self, correction: &Correction) -> Result<i64, StoreError> {
        let (kind, value) = match &correction.value {
            CorrectionValue::Mode(m) => ("mode", m.as_str().to_owned()),
            CorrectionValue::Purpose(p) => ("purpose", p.as_str().to_owned()),
            CorrectionValue::Private(b) => ("private", b.to_string()),
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
        .fetch_one(&self.pool)
        .await?)
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
