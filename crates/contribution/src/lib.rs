//! The citizen's side of a campaign measurement.
//!
//! Inside the citizen's store: read the trips of the campaign's period with
//! their paths, leave out what the citizen marked private (trips, and trips
//! from or to a private place), compute the capped contribution the citizen
//! previews ([`preview`]), and, once they agree, send it ([`send`]) as a
//! report whose two shares only the two aggregators can open. Nothing else
//! about the citizen leaves: not a trip, not a time, not a place.

use rand::Rng;
use sillage_catalogue::{ContributableTrip, Contribution, MeasurementSpec, encode};
use sillage_dap::messages::{ReportId, build_report};
use sillage_dap::task::TaskParams;
use sillage_dap::token::AnonymousToken;
use sillage_model::{GeoPoint, Timestamp, Trip};
use sillage_store::{CitizenStore, StoreError};

/// Why contributing failed.
#[derive(Debug, thiserror::Error)]
pub enum ContributionError {
    /// Reading the citizen's store failed.
    #[error("reading your data: {0}")]
    Store(#[from] StoreError),
    /// The measurement cannot be computed.
    #[error("{0}")]
    Catalogue(#[from] sillage_catalogue::CatalogueError),
    /// The contribution does not fit the task (length or cap).
    #[error("the contribution does not fit the campaign's task: {0}")]
    Protocol(#[from] sillage_dap::DapError),
    /// The leader could not be reached.
    #[error("the aggregator is unreachable: {0}")]
    Unreachable(String),
    /// The leader refused the report; its explanation is kept.
    #[error("the aggregator refused the contribution ({status}): {detail}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The leader's words.
        detail: String,
    },
}

/// Most path points kept per trip: enough to follow a trip through H3
/// cells of a few hundred metres, few enough to stay cheap.
const PATH_POINTS: usize = 400;

/// The citizen's trips departing in `[from, to)`, each with what the
/// catalogue needs (path and privacy).
pub async fn contributable_trips(
    store: &CitizenStore,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<(Trip, ContributableTrip)>, StoreError> {
    let private_places: Vec<i64> = store
        .places()
        .await?
        .into_iter()
        .filter(|p| p.private)
        .map(|p| p.id)
        .collect();
    let mut out = Vec::new();
    for trip in store.trips_between(from, to).await? {
        let fixes = store
            .device_fixes(&trip.device, trip.start, Timestamp(trip.end.0 + 1))
            .await?;
        let step = fixes.len().div_ceil(PATH_POINTS).max(1);
        let path = fixes
            .iter()
            .step_by(step)
            .map(|f| GeoPoint {
                lat: f.lat,
                lon: f.lon,
            })
            .collect();
        let contributable = ContributableTrip::from_trip(&trip, path, &private_places);
        out.push((trip, contributable));
    }
    Ok(out)
}

/// What would leave, for the citizen to see before anything does; the
/// trips whose index is in `left_out` are the ones they chose to exclude.
pub fn preview(
    spec: &MeasurementSpec,
    trips: &[(Trip, ContributableTrip)],
    left_out: &[usize],
    rng: &mut impl Rng,
) -> Result<Contribution, ContributionError> {
    let catalogue_trips: Vec<ContributableTrip> = trips.iter().map(|(_, c)| c.clone()).collect();
    Ok(encode(spec, &catalogue_trips, left_out, rng)?)
}

/// Sends the previewed contribution to the task's leader with the
/// citizen's anonymous token; `now` is the upload time (UTC seconds).
pub async fn send(
    client: &reqwest::Client,
    task: &TaskParams,
    contribution: &Contribution,
    token: AnonymousToken,
    now: u64,
) -> Result<ReportId, ContributionError> {
    let report = build_report(task, &contribution.vector, token, now)?;
    let url = format!(
        "{}/tasks/{}/reports",
        task.leader.url.trim_end_matches('/'),
        task.task_id
    );
    let response = client
        .put(url)
        .json(&report)
        .send()
        .await
        .map_err(|e| ContributionError::Unreachable(e.to_string()))?;
    let status = response.status();
    if !status.is_success() {
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        return Err(ContributionError::Refused {
            status: status.as_u16(),
            detail: body["detail"].as_str().unwrap_or("").to_owned(),
        });
    }
    Ok(report.metadata.id)
}
