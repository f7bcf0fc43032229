//! The two aggregators of secure aggregation.
//!
//! One binary, two roles, two operators, two databases. The **leader**
//! receives citizens' reports, checks their anonymous tokens, and drives
//! aggregation jobs: for each report it opens its own input share, starts
//! the proof verification, and sends the helper its half of the work. The
//! **helper** opens the share encrypted to it (the leader only ever
//! forwards ciphertext), finishes verification for both, and sums. Each
//! keeps its own running sum of the batch; neither learns anything about a
//! single report beyond whether it was valid.
//!
//! At collection, once the wave is over and only if the batch holds at
//! least the task's minimum of valid reports, each aggregator adds its own
//! discrete Laplace noise to its sum and seals it to the city. What was
//! released is stored and returned as is to any repeated request: a batch
//! yields exactly one noisy answer.
//!
//! Jobs are recorded before they run: a leader that crashes resumes its
//! running jobs with the same ids and reports, and the helper answers a
//! job it already did from its record. Nothing is counted twice.

mod error;
mod failpoint;
mod helper;
mod http;
mod leader;
mod storage;

pub use error::AggregatorError;
pub use http::router;
pub use leader::{DriveSummary, TaskStatus};
// The provisioning types moved to `sillage-dap` so that the city can send
// them without depending on this crate; they stay reachable here.
pub use sillage_dap::task::{Provisioning, TaskSecrets, random_token};

use sillage_dap::hpke::{HpkeConfig, HpkeKeypair};
use sillage_dap::task::{Role, TaskId, TaskParams};
use sillage_dap::vdaf::{self, VERIFY_KEY_SIZE, Vdaf};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use storage::Storage;

/// How an aggregator runs.
#[derive(Clone)]
pub struct AggregatorOptions {
    /// Which one it is.
    pub role: Role,
    /// Reports per aggregation job.
    pub job_size: usize,
    /// Jobs the leader runs at once (so that its work and the helper's
    /// overlap).
    pub concurrent_jobs: usize,
    /// Accept tasks without noise (tests only: a deployment must never).
    pub allow_noiseless: bool,
    /// The bearer token of the operator's provisioning API
    /// (`PUT /tasks/{task}`); `None` turns that API off.
    pub admin_token: Option<String>,
}

// By hand: the admin token must never reach a log line.
impl std::fmt::Debug for AggregatorOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AggregatorOptions")
            .field("role", &self.role)
            .field("job_size", &self.job_size)
            .field("concurrent_jobs", &self.concurrent_jobs)
            .field("allow_noiseless", &self.allow_noiseless)
            .field(
                "admin_token",
                &self.admin_token.as_ref().map(|_| "(redacted)"),
            )
            .finish()
    }
}

impl AggregatorOptions {
    /// Defaults for `role`.
    pub fn new(role: Role) -> Self {
        AggregatorOptions {
            role,
            job_size: 100,
            concurrent_jobs: 2,
            allow_noiseless: false,
            admin_token: None,
        }
    }
}

/// A provisioned task, ready to use.
pub(crate) struct Task {
    pub params: TaskParams,
    pub secrets: TaskSecrets,
    pub vdaf: Vdaf,
    pub ctx: Vec<u8>,
    pub verify_key: [u8; VERIFY_KEY_SIZE],
}

/// One aggregator: its database, its HPKE keys, its tasks.
pub struct Aggregator {
    options: AggregatorOptions,
    storage: Storage,
    keys: HpkeKeypair,
    tasks: RwLock<HashMap<TaskId, Arc<Task>>>,
    http: reqwest::Client,
    driving: tokio::sync::Mutex<()>,
}

impl Aggregator {
    /// Opens (creating and migrating) the aggregator's database at
    /// `database_url` (`sqlite://…` or `postgres://…`), creating its HPKE
    /// key pair on first use, and loads its tasks.
    pub async fn open(
        database_url: &str,
        options: AggregatorOptions,
    ) -> Result<Self, AggregatorError> {
        let storage = Storage::open(database_url).await?;
        let keys = storage.hpke_keypair().await?;
        let aggregator = Aggregator {
            options,
            storage,
            keys,
            tasks: RwLock::new(HashMap::new()),
            driving: tokio::sync::Mutex::new(()),
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(120))
                .build()
                .map_err(|e| AggregatorError::Internal(e.to_string()))?,
        };
        for (params, secrets) in aggregator.storage.tasks().await? {
            aggregator.load(params, secrets)?;
        }
        Ok(aggregator)
    }

    /// This aggregator's role.
    pub fn role(&self) -> Role {
        self.options.role
    }

    /// The public key citizens encrypt this aggregator's shares to.
    pub fn hpke_config(&self) -> HpkeConfig {
        self.keys.config.clone()
    }

    /// Adds a task (idempotent for identical parameters and secrets).
    pub async fn provision(
        &self,
        params: TaskParams,
        secrets: TaskSecrets,
    ) -> Result<(), AggregatorError> {
        self.provision_checked(params, secrets).await.map(|_| ())
    }

    /// [`Aggregator::provision`], telling whether the task is new (`true`)
    /// or was already there, identical (`false`). A task with the same id
    /// and other parameters or secrets is a conflict.
    pub(crate) async fn provision_checked(
        &self,
        params: TaskParams,
        secrets: TaskSecrets,
    ) -> Result<bool, AggregatorError> {
        params
            .validate()
            .map_err(|e| AggregatorError::BadRequest(e.to_string()))?;
        if params.epsilon.is_none() && !self.options.allow_noiseless {
            return Err(AggregatorError::BadRequest(
                "a task without epsilon releases exact counts: refused".into(),
            ));
        }
        let own = match self.options.role {
            Role::Leader => &params.leader.hpke,
            Role::Helper => &params.helper.hpke,
        };
        if own != &self.keys.config {
            return Err(AggregatorError::BadRequest(
                "the task names another HPKE key for this aggregator".into(),
            ));
        }
        // Everything `load` checks is checked before the task is stored: a
        // stored task that does not load would stop the aggregator from
        // opening again.
        let task = Self::prepare(params, secrets)?;
        let created = self.storage.provision(&task.params, &task.secrets).await?;
        self.insert(task);
        Ok(created)
    }

    fn load(&self, params: TaskParams, secrets: TaskSecrets) -> Result<(), AggregatorError> {
        self.insert(Self::prepare(params, secrets)?);
        Ok(())
    }

    /// A task ready to use, or why its parameters or secrets cannot be.
    fn prepare(params: TaskParams, secrets: TaskSecrets) -> Result<Task, AggregatorError> {
        let vdaf =
            vdaf::vdaf(&params.vdaf).map_err(|e| AggregatorError::BadRequest(e.to_string()))?;
        let verify_key: [u8; VERIFY_KEY_SIZE] = secrets
            .verify_key
            .0
            .as_slice()
            .try_into()
            .map_err(|_| AggregatorError::BadRequest("verify key must be 32 bytes".into()))?;
        Ok(Task {
            ctx: vdaf::context(&params.task_id),
            vdaf,
            verify_key,
            params,
            secrets,
        })
    }

    fn insert(&self, task: Task) {
        self.tasks
            .write()
            .expect("task map poisoned")
            .insert(task.params.task_id, Arc::new(task));
    }

    /// The tasks provisioned here.
    pub fn task_ids(&self) -> Vec<TaskId> {
        self.tasks
            .read()
            .expect("task map poisoned")
            .keys()
            .copied()
            .collect()
    }

    /// Drives aggregation of every task, forever, pausing `every` between
    /// rounds (leader only; errors are logged and retried next round).
    pub async fn run_driver(self: Arc<Self>, every: std::time::Duration) {
        loop {
            for task_id in self.task_ids() {
                if let Err(error) = self.drive_jobs(&task_id, false).await {
                    tracing::warn!(%task_id, %error, "aggregation round failed");
                }
            }
            tokio::time::sleep(every).await;
        }
    }

    pub(crate) fn task(&self, task_id: &TaskId) -> Result<Arc<Task>, AggregatorError> {
        self.tasks
            .read()
            .expect("task map poisoned")
            .get(task_id)
            .cloned()
            .ok_or(AggregatorError::UnknownTask(*task_id))
    }
}

/// Current UTC time in seconds.
pub(crate) fn now_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
