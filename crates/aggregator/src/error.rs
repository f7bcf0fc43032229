//! What can go wrong, and what the HTTP caller is told.

use sillage_dap::task::TaskId;

/// An aggregator operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AggregatorError {
    /// No such task here.
    #[error("unknown task {0}")]
    UnknownTask(TaskId),
    /// The provisioning API is off: no admin token is configured.
    #[error("this aggregator takes no tasks over HTTP: its operator configured no admin token")]
    ProvisioningOff,
    /// Missing or wrong bearer token.
    #[error("unauthorized")]
    Unauthorized,
    /// The request is malformed or not allowed.
    #[error("{0}")]
    BadRequest(String),
    /// An upload refused, with the reason counted for the task.
    #[error("report rejected: {0}")]
    ReportRejected(&'static str),
    /// The batch cannot be released yet (or ever).
    #[error("{0}")]
    NotReady(String),
    /// The request contradicts what was already recorded.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The other aggregator failed or answered wrongly.
    #[error("peer aggregator: {0}")]
    Peer(String),
    /// The database failed.
    #[error("storage: {0}")]
    Storage(#[from] sqlx::Error),
    /// Migrating the database failed.
    #[error("migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// Anything else.
    #[error("internal: {0}")]
    Internal(String),
}

impl AggregatorError {
    /// The HTTP status this error maps to.
    pub fn status(&self) -> u16 {
        match self {
            AggregatorError::UnknownTask(_) | AggregatorError::ProvisioningOff => 404,
            AggregatorError::Unauthorized => 401,
            AggregatorError::BadRequest(_) | AggregatorError::ReportRejected(_) => 400,
            AggregatorError::NotReady(_) => 425,
            AggregatorError::Conflict(_) => 409,
            AggregatorError::Peer(_) => 502,
            _ => 500,
        }
    }
}
