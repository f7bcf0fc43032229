//! The citizen's corrections of a trip: a leg's mode, the trip's purpose,
//! whether it is private. They are recorded against the trip's and leg's
//! times, not ids, so that they find their trip again after any
//! re-analysis; the next refresh applies them.

use sillage_model::{Correction, CorrectionValue, Mode, Purpose};
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
    #[error("nothing to correct: give a leg's mode, a purpose or privacy")]
    Empty,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Records the corrections of trip `trip_id`, all or none.
pub async fn correct_trip(
    store: &CitizenStore,
    trip_id: i64,
    change: &TripCorrection,
) -> Result<(), CorrectError> {
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
    if corrections.is_empty() {
        return Err(CorrectError::Empty);
    }
    store.add_corrections(&corrections).await?;
    Ok(())
}
