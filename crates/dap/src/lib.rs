//! The secure-aggregation protocol, shared by the three trust domains.
//!
//! A citizen store (the *client*) turns its contribution into two secret
//! shares with Prio3 ([`vdaf`]), encrypts each to one aggregator with HPKE
//! ([`hpke`]), attaches a one-per-wave anonymous token ([`token`]) and
//! uploads a [`messages::Report`] to the leader. The leader and the helper
//! verify every report's proof together, sum the valid ones, add
//! differential-privacy noise to their aggregate shares ([`noise`]) and
//! release them, encrypted to the city (the *collector*), once and only
//! when the batch holds at least the task's minimum of reports.
//!
//! The messages follow the shape of DAP (draft-ietf-ppm-dap): report ids
//! and times, a public share and two HPKE-encrypted input shares,
//! aggregation jobs, aggregate-share requests bound to a report count and
//! checksum, collection. Everything here is pure: no I/O, no clock; the
//! services that use it live in `sillage-aggregator` and `sillage-collector`.

pub mod bytes;
pub mod hpke;
pub mod messages;
pub mod noise;
pub mod task;
pub mod token;
pub mod vdaf;

/// Why a protocol step failed.
#[derive(Debug, thiserror::Error)]
pub enum DapError {
    /// A task parameter is out of its allowed range.
    #[error("invalid task: {0}")]
    InvalidTask(String),
    /// A message could not be decoded.
    #[error("malformed {what}: {detail}")]
    Malformed {
        /// Which message or field.
        what: &'static str,
        /// What the decoder said.
        detail: String,
    },
    /// HPKE sealing or opening failed (wrong key, tampered ciphertext or
    /// associated data).
    #[error("HPKE {0} failed")]
    Hpke(&'static str),
    /// The VDAF refused an input (invalid measurement, failed proof).
    #[error("VDAF: {0}")]
    Vdaf(String),
    /// An anonymous token is invalid.
    #[error("token: {0}")]
    Token(String),
}

impl DapError {
    /// A decoding failure of `what`.
    pub fn malformed(what: &'static str, detail: impl std::fmt::Display) -> Self {
        DapError::Malformed {
            what,
            detail: detail.to_string(),
        }
    }
}

impl From<prio::vdaf::VdafError> for DapError {
    fn from(error: prio::vdaf::VdafError) -> Self {
        DapError::Vdaf(error.to_string())
    }
}
