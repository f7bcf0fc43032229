//! The city's side of secure aggregation.
//!
//! The collector asks the leader for a task's batch once the wave is over,
//! receives both aggregators' noisy aggregate shares sealed to its own key,
//! adds them up, and publishes every cell with what a reader needs to trust
//! it: the number of contributors, ε, the noise's scale and a 95 %
//! interval. A cell whose noisy value falls below the campaign's
//! suppression threshold is published as suppressed, never as a number:
//! a territory prefers no indicator to an imprecise one.
//!
//! The collector never sees a report, a share of one, or anything about a
//! single citizen.

use prio::codec::ParameterizedDecode;
use prio::vdaf::Collector as _;
use serde::{Deserialize, Serialize};
use sillage_dap::hpke::HpkeKeypair;
use sillage_dap::messages::{Collection, aggregate_share_aad, aggregate_share_info};
use sillage_dap::noise::{interval_half_width, noise_scale, published_noise_sd, signed_count};
use sillage_dap::task::{Provisioning, Role, TaskParams};
use sillage_dap::vdaf::{self, Vdaf};

/// Why collecting failed.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// The leader answered with an error (not enough reports, wave not
    /// over…); its words are kept.
    #[error("the leader refused: {status}: {detail}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The leader's explanation.
        detail: String,
    },
    /// The leader could not be reached.
    #[error("the leader is unreachable: {0}")]
    Unreachable(String),
    /// The collection does not decrypt or decode for this task.
    #[error("the collection is invalid: {0}")]
    Invalid(String),
}

/// Why provisioning a task on an aggregator failed.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    /// The aggregator answered with an error; its words are kept (404: its
    /// provisioning API is off; 401: wrong admin token; 400: the task is
    /// invalid for it; 409: another task already has this id).
    #[error("the aggregator refused the task: {status}: {detail}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The aggregator's explanation.
        detail: String,
    },
    /// The aggregator could not be reached.
    #[error("the aggregator is unreachable: {0}")]
    Unreachable(String),
}

/// One published cell.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PublishedCell {
    /// The noisy total, or `None` when suppressed.
    pub value: Option<i64>,
    /// 95 % interval around the value (the true total lies inside with
    /// 95 % probability), `None` when suppressed.
    pub interval_95: Option<(i64, i64)>,
    /// Whether the cell is withheld, and so shown without a number.
    pub suppressed: bool,
}

/// A task's published result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PublishedResult {
    /// Contributors (valid reports) in the batch.
    pub contributors: u64,
    /// The privacy budget of this release (`None`: no noise, tests only).
    pub epsilon: Option<f64>,
    /// Scale of the discrete Laplace noise each aggregator added (0 without noise).
    pub noise_scale: f64,
    /// Standard deviation of a cell's published noise (both aggregators').
    pub noise_sd: f64,
    /// Half-width of every cell's 95 % interval.
    pub interval_half_width: u64,
    /// Cells whose noisy value is below this (or below twice the
    /// interval's half-width) are suppressed.
    pub suppression_threshold: i64,
    /// The cells, in the measurement's order.
    pub cells: Vec<PublishedCell>,
}

/// The noisy totals before suppression: for the collector's own checks
/// (never published as such).
pub fn unshard(
    task: &TaskParams,
    keys: &HpkeKeypair,
    collection: &Collection,
) -> Result<Vec<i64>, CollectError> {
    let invalid = |e: &dyn std::fmt::Display| CollectError::Invalid(e.to_string());
    let vdaf: Vdaf = vdaf::vdaf(&task.vdaf).map_err(|e| invalid(&e))?;
    let aad = aggregate_share_aad(
        &task.task_id,
        collection.report_count,
        &collection.checksum.0,
    );
    let open = |role: Role, sealed| -> Result<_, CollectError> {
        let plain = keys
            .open(sealed, &aggregate_share_info(role), &aad)
            .map_err(|e| invalid(&e))?;
        <Vdaf as prio::vdaf::Vdaf>::AggregateShare::get_decoded_with_param(&(&vdaf, &()), &plain)
            .map_err(|e| invalid(&e))
    };
    let shares = [
        open(Role::Leader, &collection.leader_share)?,
        open(Role::Helper, &collection.helper_share)?,
    ];
    let totals = vdaf
        .unshard(&(), shares, collection.report_count as usize)
        .map_err(|e| invalid(&e))?;
    let modulus = vdaf::modulus();
    Ok(totals
        .into_iter()
        .map(|v| signed_count(v, modulus).clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
        .collect())
}

/// Publishes noisy totals: intervals from the task's noise; a cell is
/// suppressed when its noisy value is below `suppression_threshold` or
/// below twice its interval's half-width (no published figure is more
/// than ±50 % uncertain, and an empty cell is published only in the rare
/// case its noise alone exceeds that).
pub fn publish(
    task: &TaskParams,
    contributors: u64,
    totals: &[i64],
    suppression_threshold: i64,
) -> PublishedResult {
    let scale = task
        .epsilon
        .map_or(0.0, |e| noise_scale(task.vdaf.max_weight, e));
    let half_width = if scale > 0.0 {
        interval_half_width(scale, 0.95)
    } else {
        0
    };
    let cells = totals
        .iter()
        .map(|&value| {
            // Below twice the half-width a figure would be more than ±50 %
            // uncertain, and cells with nothing in them would show up
            // whenever their noise alone crossed the threshold.
            if value < suppression_threshold || value < 2 * half_width as i64 {
                PublishedCell {
                    value: None,
                    interval_95: None,
                    suppressed: true,
                }
            } else {
                let h = half_width as i64;
                PublishedCell {
                    value: Some(value),
                    interval_95: Some((value - h, value + h)),
                    suppressed: false,
                }
            }
        })
        .collect();
    PublishedResult {
        contributors,
        epsilon: task.epsilon.map(|e| e.value()),
        noise_scale: scale,
        noise_sd: if scale > 0.0 {
            published_noise_sd(scale)
        } else {
            0.0
        },
        interval_half_width: half_width,
        suppression_threshold,
        cells,
    }
}

/// Provisions a task on one aggregator over its operator API
/// (`PUT {aggregator_url}/tasks/{task}` with the aggregator's admin
/// token). Succeeds when the task is new there and when the very same task
/// already is (so it can be retried); the leader's provisioning carries the
/// city's collector token, the helper's must not.
pub async fn provision(
    client: &reqwest::Client,
    aggregator_url: &str,
    admin_token: &str,
    provisioning: &Provisioning,
) -> Result<(), ProvisionError> {
    let url = format!(
        "{}/tasks/{}",
        aggregator_url.trim_end_matches('/'),
        provisioning.params.task_id
    );
    let response = client
        .put(url)
        .bearer_auth(admin_token)
        .json(provisioning)
        .send()
        .await
        .map_err(|e| ProvisionError::Unreachable(e.to_string()))?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let (status, detail) = refusal(response).await;
    Err(ProvisionError::Refused { status, detail })
}

/// The status and the `detail` of an aggregator's problem answer (empty
/// when the body is not one).
async fn refusal(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    (status, body["detail"].as_str().unwrap_or("").to_owned())
}

/// Asks the leader for the task's batch (`bearer` is the city's token).
pub async fn fetch_collection(
    client: &reqwest::Client,
    task: &TaskParams,
    bearer: &str,
) -> Result<Collection, CollectError> {
    let url = format!(
        "{}/tasks/{}/collect",
        task.leader.url.trim_end_matches('/'),
        task.task_id
    );
    let response = client
        .post(url)
        .bearer_auth(bearer)
        .send()
        .await
        .map_err(|e| CollectError::Unreachable(e.to_string()))?;
    if !response.status().is_success() {
        let (status, detail) = refusal(response).await;
        return Err(CollectError::Refused { status, detail });
    }
    let collection: Collection = response
        .json()
        .await
        .map_err(|e| CollectError::Invalid(e.to_string()))?;
    if collection.interval != task.wave {
        return Err(CollectError::Invalid(
            "the collection is for another interval".into(),
        ));
    }
    Ok(collection)
}
