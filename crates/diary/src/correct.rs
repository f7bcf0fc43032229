//! The citizen's corrections of a trip: a leg's mode, the trip's purpose,
//! whether it is private. They are recorded against the trip's and leg's
//! times, not ids, so that they find their trip again after any
//! re-analysis; the next refresh applies them.

use sillage_model::{Correction, CorrectionValue, Mode, Purpose, Timestamp, Trip};

/// How far the next trip may start for a merge: a day.
const MERGE_WITHIN_MS: i64 = 24 * 3600 * 1000;
use sillage_store::{CitizenStore, StoreError};

/// What a citizen changes on one trip.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TripCorrection {
    /// A leg (by position in the trip) and its mode.
    pub leg_mode: Option<(usize, Mode)>,
    /// The trip's purpose.
    pub purpose: Option<Purpose>,
    /// Whether the trip is private (never part of any contribution).
    pub private: Option<bool>,
    /// Cut the trip in two at this instant (strictly inside it).
    pub split_at: Option<Timestamp>,
    /// Join the trip with the device's next one.
    pub merge_with_next: bool,
}

/// Why a correction was refused.
#[derive(Debug, thiserror::Error)]
pub enum CorrectError {
    /// No trip with that id.
    #[error("no trip #{0}")]
    NoSuchTrip(i64),
    /// The trip has fewer legs.
    #[error("trip #{trip} has no leg {leg}")]
    NoSuchLeg {
        /// The trip.
        trip: i64,
        /// The leg asked for.
        leg: usize,
    },
    /// Nothing to change.
    #[error("nothing to correct: give a leg's mode, a purpose, privacy, a split or a merge")]
    Empty,
    /// A split outside the trip.
    #[error("trip #{0} can only be cut strictly between its start and its end")]
    SplitOutside(i64),
    /// A merge without a next trip.
    #[error("trip #{0} has no next trip within a day to merge with")]
    NoNextTrip(i64),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Records the corrections of trip `trip_id`, all or none; returns the trip
/// as it was (the next refresh applies them).
pub async fn correct_trip(
    store: &CitizenStore,
    trip_id: i64,
    change: &TripCorrection,
) -> Result<Trip, CorrectError> {
    let trip = store
        .trip(trip_id)
        .await?
        .ok_or(CorrectError::NoSuchTrip(trip_id))?;
    let on_trip = |value| Correction {
        id: 0,
        device: trip.device.clone(),
        start: trip.start,
        end: trip.end,
        value,
    };
    let mut corrections = Vec::new();
    if let Some((index, mode)) = change.leg_mode {
        let leg = trip.legs.get(index).ok_or(CorrectError::NoSuchLeg {
            trip: trip_id,
            leg: index,
        })?;
        corrections.push(Correction {
            start: leg.start,
            end: leg.end,
            ..on_trip(CorrectionValue::Mode(mode))
        });
    }
    if let Some(purpose) = change.purpose {
        corrections.push(on_trip(CorrectionValue::Purpose(purpose)));
    }
    if let Some(private) = change.private {
        corrections.push(on_trip(CorrectionValue::Private(private)));
    }
    if let Some(at) = change.split_at {
        if !(trip.start < at && at < trip.end) {
            return Err(CorrectError::SplitOutside(trip_id));
        }
        corrections.push(Correction {
            start: at,
            end: at,
            ..on_trip(CorrectionValue::Split)
        });
    }
    if change.merge_with_next {
        let later = store
            .trips_between(
                Timestamp(trip.start.0 + 1),
                Timestamp(trip.end.0 + MERGE_WITHIN_MS),
            )
            .await?;
        let next = later
            .iter()
            .find(|t| t.device == trip.device && t.start >= trip.end)
            .ok_or(CorrectError::NoNextTrip(trip_id))?;
        corrections.push(Correction {
            end: next.end,
            ..on_trip(CorrectionValue::Merge)
        });
    }
    if corrections.is_empty() {
        return Err(CorrectError::Empty);
    }
    store.add_corrections(&corrections).await?;
    Ok(trip)
}
