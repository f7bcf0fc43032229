//! What an aggregation task is: one measurement of one campaign wave.

use crate::DapError;
use crate::bytes::{Bytes, Id};
use crate::hpke::HpkeConfig;
use crate::noise::Epsilon;
use crate::vdaf::VERIFY_KEY_SIZE;
use serde::{Deserialize, Serialize};

/// Names a task (a campaign wave's measurement), 32 bytes as in DAP.
pub type TaskId = Id<32>;

/// The smallest minimum batch size any task may have: below this, the
/// noise alone would have to protect individuals.
pub const MIN_BATCH_SIZE_FLOOR: u64 = 10;

/// A half-open time interval `[start, end)`, UTC seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interval {
    /// First second inside.
    pub start: u64,
    /// First second after.
    pub end: u64,
}

impl Interval {
    /// True when `time` lies inside.
    pub fn contains(&self, time: u64) -> bool {
        self.start <= time && time < self.end
    }
}

/// The shape of the measurement: a vector of `length` non-negative
/// counts whose sum (L1 norm) is at most `max_weight`, so that one citizen's
/// influence on the totals is capped whatever they report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VdafConfig {
    /// Number of cells.
    pub length: usize,
    /// Per-citizen cap on the sum of the cells.
    pub max_weight: u32,
}

/// An aggregator as the others see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AggregatorEndpoint {
    /// Who runs it (shown to citizens at consent time).
    pub operator: String,
    /// Base URL of its DAP endpoints.
    pub url: String,
    /// Its HPKE public key: input shares are encrypted to it.
    pub hpke: HpkeConfig,
}

/// Everything public about a task: what citizens' stores, both aggregators
/// and the collector agree on. Secrets (the verify key, private keys,
/// bearer tokens) live with their owner, never here.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskParams {
    /// The task.
    pub task_id: TaskId,
    /// The measurement's shape.
    pub vdaf: VdafConfig,
    /// Reports are accepted only with a time inside the wave.
    pub wave: Interval,
    /// Report times are rounded down to a multiple of this (seconds), so
    /// that a report's time says little about its sender.
    pub time_precision_s: u64,
    /// Nothing is released from a batch with fewer valid reports.
    pub min_batch_size: u64,
    /// Privacy loss of one release; `None` disables noise, which only
    /// tests may do (the aggregator refuses such tasks unless told otherwise).
    pub epsilon: Option<Epsilon>,
    /// The first aggregator: receives uploads, drives aggregation.
    pub leader: AggregatorEndpoint,
    /// The second aggregator, run by an independent operator.
    pub helper: AggregatorEndpoint,
    /// The city's key: aggregate shares are encrypted to it.
    pub collector_hpke: HpkeConfig,
    /// The anonymous-token issuer's RSA public key (DER, SPKI).
    pub token_issuer_key: Bytes,
}

impl TaskParams {
    /// Checks the ranges every party relies on.
    pub fn validate(&self) -> Result<(), DapError> {
        let fail = |m: String| Err(DapError::InvalidTask(m));
        if self.vdaf.length == 0 || self.vdaf.length > 1_000_000 {
            return fail(format!(
                "vdaf.length {} outside 1..=1000000",
                self.vdaf.length
            ));
        }
        if self.vdaf.max_weight == 0 || self.vdaf.max_weight > 1_000 {
            return fail(format!(
                "vdaf.max_weight {} outside 1..=1000",
                self.vdaf.max_weight
            ));
        }
        if self.wave.end <= self.wave.start {
            return fail("wave.end must come after wave.start".into());
        }
        if self.time_precision_s == 0 {
            return fail("time_precision_s must be positive".into());
        }
        if self.min_batch_size < MIN_BATCH_SIZE_FLOOR {
            return fail(format!(
                "min_batch_size {} is below the floor of {MIN_BATCH_SIZE_FLOOR}",
                self.min_batch_size
            ));
        }
        if let Some(epsilon) = self.epsilon {
            epsilon.validate()?;
        }
        Ok(())
    }

    /// `time` rounded down to the task's precision.
    pub fn round_time(&self, time: u64) -> u64 {
        time - time % self.time_precision_s
    }
}

/// Which aggregator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Aggregator 0.
    Leader,
    /// Aggregator 1.
    Helper,
}

impl Role {
    /// The VDAF aggregator index.
    pub fn index(self) -> usize {
        match self {
            Role::Leader => 0,
            Role::Helper => 1,
        }
    }

    /// The role's name in HPKE `info` strings.
    pub fn label(self) -> &'static str {
        match self {
            Role::Leader => "leader",
            Role::Helper => "helper",
        }
    }
}

/// What an aggregator holds secret for one task.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSecrets {
    /// The VDAF verify key, shared by the two aggregators and nobody else.
    pub verify_key: Bytes,
    /// Bearer token the leader presents to the helper.
    pub aggregator_token: String,
    /// Bearer token the city presents to the leader (leader only).
    pub collector_token: Option<String>,
}

// Written by hand so that no log line or panic message ever shows a key or
// a token.
impl std::fmt::Debug for TaskSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TaskSecrets { .. }")
    }
}

impl TaskSecrets {
    /// Fresh secrets for a new task: what the two operators exchange once,
    /// out of band, before the campaign opens.
    pub fn generate() -> Self {
        let mut verify_key = vec![0u8; VERIFY_KEY_SIZE];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut verify_key);
        TaskSecrets {
            verify_key: Bytes(verify_key),
            aggregator_token: random_token(),
            collector_token: Some(random_token()),
        }
    }
}

/// A random bearer token (32 random bytes, base64url).
pub fn random_token() -> String {
    Id::<32>::random().to_text()
}

/// A task as an operator provisions it: public parameters and this
/// aggregator's secrets (a JSON file handed over out of band, or the body
/// of an aggregator's `PUT /tasks/{task}`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Provisioning {
    /// What everyone knows.
    pub params: TaskParams,
    /// What this aggregator keeps.
    pub secrets: TaskSecrets,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_show_in_debug_output_and_keep_their_json_names() {
        let secrets = TaskSecrets::generate();
        let shown = format!("{secrets:?}");
        assert_eq!(shown, "TaskSecrets { .. }");
        let json = serde_json::to_value(&secrets).unwrap();
        let token = secrets.collector_token.as_deref().unwrap();
        assert_eq!(json["collector_token"], token);
        assert_eq!(json["aggregator_token"], secrets.aggregator_token.as_str());
        assert_eq!(secrets.verify_key.0.len(), VERIFY_KEY_SIZE);
        let back: TaskSecrets = serde_json::from_value(json).unwrap();
        assert_eq!(back, secrets);
    }
}
