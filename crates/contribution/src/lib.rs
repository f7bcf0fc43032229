//! The citizen's side of a campaign measurement.
//!
//! Inside the citizen's store: read the trips of the campaign's period with
//! their paths, leave out what the citizen marked private (trips, and trips
//! from or to a private place), compute the capped contribution the citizen
//! previews ([`preview`]), and, once they agree, send it ([`send`]) as a
//! report whose two shares only the two aggregators can open. Nothing else
//! about the citizen leaves: not a trip, not a time, not a place.

use rand::Rng;
use sillage_campaign::CampaignSpec;
use sillage_campaign::consent::{self, ConsentState, Disclosure, LogEntry};
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
    /// The citizen has not given (or has withdrawn) consent to the campaign.
    #[error("you have not agreed to this campaign (its state is {0:?}): nothing was sent")]
    NoConsent(ConsentState),
    /// The contribution would exceed the citizen's yearly privacy budget.
    #[error(
        "this contribution would spend ε {asked} with {spent} already spent this year (cap {cap}): nothing was sent"
    )]
    BudgetExceeded {
        /// Spent over the last 365 days.
        spent: f64,
        /// This contribution's ε.
        asked: f64,
        /// The yearly cap.
        cap: f64,
    },
    /// A consent change the state machine does not allow.
    #[error("cannot go from {from:?} to {to:?}")]
    Transition {
        /// Current state.
        from: ConsentState,
        /// Asked state.
        to: ConsentState,
    },
    /// The disclosure log does not verify: entry `0` was altered or removed.
    #[error("the log of what left your store was altered at entry {0}")]
    LogTampered(usize),
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

/// Where the citizen's consent to a campaign stands now.
pub async fn consent_state(
    store: &CitizenStore,
    campaign_id: &str,
) -> Result<ConsentState, ContributionError> {
    let history = store.consent_history(Some(campaign_id)).await?;
    match history.last() {
        None => Ok(ConsentState::Requested),
        Some(event) => ConsentState::from_name(&event.state).ok_or_else(|| {
            ContributionError::Store(StoreError::Corrupt(format!(
                "consent state {:?}",
                event.state
            )))
        }),
    }
}

/// Records the citizen's answer (or the campaign's expiry), if the state
/// machine allows it; returns the record kept.
pub async fn answer(
    store: &CitizenStore,
    spec: &CampaignSpec,
    principal: &str,
    lang: &str,
    state: ConsentState,
    now: u64,
) -> Result<consent::ConsentRecord, ContributionError> {
    let from = consent_state(store, &spec.id).await?;
    if !from.can_become(state) {
        return Err(ContributionError::Transition { from, to: state });
    }
    let record = consent::record(spec, principal, lang, state, now);
    let json = serde_json::to_string(&record).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    store
        .add_consent_event(&spec.id, state.as_str(), now as i64, &json)
        .await?;
    Ok(record)
}

/// The log of everything that left the store, checked.
pub async fn disclosure_log(store: &CitizenStore) -> Result<Vec<LogEntry>, ContributionError> {
    let log = store
        .disclosures()
        .await?
        .iter()
        .map(|json| {
            serde_json::from_str(json)
                .map_err(|e| StoreError::Corrupt(format!("disclosure log: {e}")))
        })
        .collect::<Result<Vec<LogEntry>, _>>()?;
    consent::verify_log(&log).map_err(ContributionError::LogTampered)?;
    Ok(log)
}

/// What a contribution discloses, for the checks and the log.
#[derive(Clone, Debug)]
pub struct Disclosing<'a> {
    /// The campaign.
    pub campaign_id: &'a str,
    /// The wave.
    pub wave_id: &'a str,
    /// The measurement.
    pub measurement_id: &'a str,
    /// The measurement's ε per wave.
    pub epsilon: f64,
    /// The aggregation task it goes to.
    pub task: &'a TaskParams,
}

/// Sends a previewed contribution, only if the citizen consented and the
/// yearly budget allows it; the disclosure is logged before it leaves (a
/// failed upload still counts against the budget: safer than the reverse).
pub async fn contribute(
    store: &CitizenStore,
    client: &reqwest::Client,
    what: &Disclosing<'_>,
    contribution: &Contribution,
    token: AnonymousToken,
    now: u64,
    yearly_cap: f64,
) -> Result<ReportId, ContributionError> {
    let state = consent_state(store, what.campaign_id).await?;
    if !state.allows_contributions() {
        return Err(ContributionError::NoConsent(state));
    }
    let mut log = disclosure_log(store).await?;
    if !consent::within_budget(&log, what.epsilon, yearly_cap, now) {
        return Err(ContributionError::BudgetExceeded {
            spent: consent::epsilon_spent(&log, now),
            asked: what.epsilon,
            cap: yearly_cap,
        });
    }
    consent::append(
        &mut log,
        Disclosure {
            time: now,
            campaign_id: what.campaign_id.into(),
            wave_id: what.wave_id.into(),
            measurement_id: what.measurement_id.into(),
            values: contribution.vector.len(),
            recipients: vec![
                what.task.leader.operator.clone(),
                what.task.helper.operator.clone(),
            ],
            epsilon: what.epsilon,
        },
    );
    let entry = log.last().expect("just appended");
    let json = serde_json::to_string(entry).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    store
        .append_disclosure(&json, &entry.previous, &entry.hash)
        .await?;
    send(client, what.task, contribution, token, now).await
}
