//! The messages between citizen stores, aggregators and the collector,
//! shaped after DAP (draft-ietf-ppm-dap) and carried as JSON.

use crate::DapError;
use crate::bytes::{Bytes, Id};
use crate::hpke::{HpkeCiphertext, HpkeConfig, HpkeKeypair};
use crate::task::{Interval, Role, TaskId, TaskParams};
use crate::token::AnonymousToken;
use crate::vdaf::{self, NONCE_SIZE};
use prio::codec::Encode;
use prio::vdaf::Client;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Names a report; also the VDAF nonce, so it is random and never reused.
pub type ReportId = Id<NONCE_SIZE>;

/// Names an aggregation job.
pub type JobId = Id<16>;

/// A report's identity and (rounded) time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportMetadata {
    /// Random id.
    pub id: ReportId,
    /// UTC seconds, rounded down to the task's time precision.
    pub time: u64,
}

/// One citizen's contribution as uploaded to the leader.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// Id and time.
    pub metadata: ReportMetadata,
    /// The VDAF public share.
    pub public_share: Bytes,
    /// The leader's input share, encrypted to the leader.
    pub leader_share: HpkeCiphertext,
    /// The helper's input share, encrypted to the helper: the leader only
    /// forwards it.
    pub helper_share: HpkeCiphertext,
    /// Proof that the sender may contribute once to this task.
    pub token: AnonymousToken,
}

/// One report as the leader hands it to the helper.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportInit {
    /// Id and time.
    pub metadata: ReportMetadata,
    /// The VDAF public share.
    pub public_share: Bytes,
    /// The helper's encrypted input share.
    pub helper_share: HpkeCiphertext,
    /// The leader's verifier share for this report.
    pub leader_verifier_share: Bytes,
}

/// The leader asks the helper to verify and aggregate reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AggregationJobInit {
    /// Retrying a job sends the same id and reports: the helper answers
    /// from its record instead of aggregating twice.
    pub job_id: JobId,
    /// The reports, in order.
    pub reports: Vec<ReportInit>,
}

/// Why a report was not aggregated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum ReportRejection {
    /// The input share did not decrypt or decode.
    UndecryptableShare,
    /// The proof did not verify: an invalid measurement or tampered share.
    InvalidProof,
    /// The report id was already aggregated.
    Replayed,
    /// The report's time lies outside the task's wave.
    OutsideWave,
    /// The report arrived after its batch was collected.
    BatchCollected,
}

impl ReportRejection {
    /// Stable name for storage and counters.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportRejection::UndecryptableShare => "undecryptable_share",
            ReportRejection::InvalidProof => "invalid_proof",
            ReportRejection::Replayed => "replayed",
            ReportRejection::OutsideWave => "outside_wave",
            ReportRejection::BatchCollected => "batch_collected",
        }
    }
}

/// The helper's answer for one report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum ReportResult {
    /// Verified: the verifier message that lets the leader finish too.
    Continue {
        /// Encoded VDAF verifier message.
        message: Bytes,
    },
    /// Not aggregated, and why.
    Reject {
        /// The reason.
        reason: ReportRejection,
    },
}

/// The helper's answer to a job, one result per report, in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AggregationJobResp {
    /// Results.
    pub results: Vec<ReportResult>,
}

/// The leader asks the helper for its share of the batch's aggregate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AggregateShareReq {
    /// Reports the leader aggregated.
    pub report_count: u64,
    /// XOR of the SHA-256 of their ids: both aggregators must have summed
    /// the same reports.
    pub checksum: Bytes,
}

/// An aggregate share, encrypted to the collector.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AggregateShareResp {
    /// The (noisy) aggregate share.
    pub encrypted: HpkeCiphertext,
}

/// What the collector receives.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collection {
    /// Reports in the batch.
    pub report_count: u64,
    /// The batch: the task's wave.
    pub interval: Interval,
    /// Checksum of the batch's report ids.
    pub checksum: Bytes,
    /// The leader's aggregate share, encrypted to the collector.
    pub leader_share: HpkeCiphertext,
    /// The helper's aggregate share, encrypted to the collector.
    pub helper_share: HpkeCiphertext,
}

/// Running checksum of a set of report ids (order does not matter).
pub fn checksum_add(checksum: &mut [u8; 32], id: &ReportId) {
    let digest: [u8; 32] = Sha256::digest(id.0).into();
    for (c, d) in checksum.iter_mut().zip(digest) {
        *c ^= d;
    }
}

/// HPKE `info` of an input share for `role`.
pub fn input_share_info(role: Role) -> Vec<u8> {
    format!("sillage-dap input share to {}", role.label()).into_bytes()
}

/// HPKE associated data of an input share: the task, the report's id and
/// time and its public share, so a share cannot be moved to another report.
pub fn input_share_aad(
    task_id: &TaskId,
    metadata: &ReportMetadata,
    public_share: &[u8],
) -> Vec<u8> {
    let mut aad = task_id.0.to_vec();
    aad.extend_from_slice(&metadata.id.0);
    aad.extend_from_slice(&metadata.time.to_be_bytes());
    aad.extend_from_slice(public_share);
    aad
}

/// HPKE `info` of an aggregate share from `role`.
pub fn aggregate_share_info(role: Role) -> Vec<u8> {
    format!("sillage-dap aggregate share from {}", role.label()).into_bytes()
}

/// HPKE associated data of an aggregate share: the task and the batch it
/// sums.
pub fn aggregate_share_aad(task_id: &TaskId, report_count: u64, checksum: &[u8]) -> Vec<u8> {
    let mut aad = task_id.0.to_vec();
    aad.extend_from_slice(&report_count.to_be_bytes());
    aad.extend_from_slice(checksum);
    aad
}

/// Builds a citizen's report: shards `measurement`, encrypts each share to
/// its aggregator. `time` is the upload time in UTC seconds (rounded here).
pub fn build_report(
    task: &TaskParams,
    measurement: &[u32],
    token: AnonymousToken,
    time: u64,
) -> Result<Report, DapError> {
    let config = task.vdaf;
    if measurement.len() != config.length {
        return Err(DapError::Vdaf(format!(
            "measurement has {} cells, the task expects {}",
            measurement.len(),
            config.length
        )));
    }
    let weight: u64 = measurement.iter().map(|&v| u64::from(v)).sum();
    if weight > u64::from(config.max_weight) {
        return Err(DapError::Vdaf(format!(
            "measurement sums to {weight}, above the cap of {}",
            config.max_weight
        )));
    }
    let vdaf = vdaf::vdaf(&config)?;
    let metadata = ReportMetadata {
        id: ReportId::random(),
        time: task.round_time(time),
    };
    let values: Vec<u128> = measurement.iter().map(|&v| u128::from(v)).collect();
    let (public_share, input_shares) =
        vdaf.shard(&vdaf::context(&task.task_id), &values, &metadata.id.0)?;
    let public_share = public_share
        .get_encoded()
        .map_err(|e| DapError::malformed("public share", e))?;
    let aad = input_share_aad(&task.task_id, &metadata, &public_share);
    let seal = |role: Role, key: &HpkeConfig| -> Result<HpkeCiphertext, DapError> {
        let share = input_shares[role.index()]
            .get_encoded()
            .map_err(|e| DapError::malformed("input share", e))?;
        key.seal(&share, &input_share_info(role), &aad)
    };
    Ok(Report {
        leader_share: seal(Role::Leader, &task.leader.hpke)?,
        helper_share: seal(Role::Helper, &task.helper.hpke)?,
        metadata,
        public_share: Bytes(public_share),
        token,
    })
}

/// Opens an input share addressed to `role`.
pub fn open_input_share(
    keys: &HpkeKeypair,
    role: Role,
    task_id: &TaskId,
    metadata: &ReportMetadata,
    public_share: &[u8],
    share: &HpkeCiphertext,
) -> Result<Vec<u8>, DapError> {
    keys.open(
        share,
        &input_share_info(role),
        &input_share_aad(task_id, metadata, public_share),
    )
}
