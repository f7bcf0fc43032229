//! Subcommands of secure aggregation: the aggregators and the collector.

use anyhow::{Context, Result, bail};
use sillage_aggregator::{Aggregator, AggregatorOptions, Provisioning};
use sillage_dap::hpke::HpkeKeypair;
use sillage_dap::task::{Role, TaskParams};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Which aggregator, as a command-line value.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum RoleArg {
    /// Receives reports and drives aggregation.
    Leader,
    /// Verifies and sums with the leader, run by another operator.
    Helper,
}

impl From<RoleArg> for Role {
    fn from(role: RoleArg) -> Role {
        match role {
            RoleArg::Leader => Role::Leader,
            RoleArg::Helper => Role::Helper,
        }
    }
}

/// The aggregator's own database.
#[derive(clap::Args)]
pub struct AggregatorDb {
    /// Leader or helper.
    #[arg(long, value_enum)]
    role: RoleArg,
    /// Its database: `sqlite://PATH` (created if missing) or `postgres://…`.
    #[arg(long, env = "SILLAGE_AGGREGATOR_DATABASE")]
    database: String,
}

/// What an aggregator does.
#[derive(clap::Subcommand)]
pub enum AggregatorAction {
    /// Serve the aggregator's HTTP endpoints (and, for the leader, drive
    /// aggregation in the background).
    Serve {
        #[command(flatten)]
        db: AggregatorDb,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8701")]
        listen: String,
        /// Task files to provision (`{"params": …, "secrets": …}`).
        #[arg(long)]
        provision: Vec<PathBuf>,
        /// Reports per aggregation job.
        #[arg(long, default_value_t = 100)]
        job_size: usize,
        /// Pause between aggregation rounds, milliseconds.
        #[arg(long, default_value_t = 1000)]
        drive_every_ms: u64,
        /// Accept tasks without noise. Exact counts would leave: for tests only.
        #[arg(long)]
        allow_noiseless: bool,
        /// A file holding the operator's admin token: turns on provisioning
        /// over HTTP (`PUT /tasks/{task}` with `Authorization: Bearer`).
        /// Off without it.
        #[arg(long)]
        admin_token_file: Option<PathBuf>,
    },
    /// Print this aggregator's HPKE public key as JSON (creating the key
    /// pair on first use), for the task parameters.
    HpkeConfig {
        #[command(flatten)]
        db: AggregatorDb,
    },
}

/// Collecting a task's results.
#[derive(clap::Args)]
pub struct CollectArgs {
    /// The task's public parameters (JSON).
    #[arg(long)]
    task: PathBuf,
    /// The city's HPKE key pair (JSON).
    #[arg(long)]
    keys: PathBuf,
    /// The city's bearer token for the leader.
    #[arg(long, env = "SILLAGE_COLLECTOR_TOKEN", hide_env_values = true)]
    token: String,
    /// Cells whose noisy value is below this are published as suppressed.
    #[arg(long, default_value_t = 10)]
    suppress_below: i64,
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not valid: expected JSON of the right shape",
            path.display()
        )
    })
}

/// The admin token in `path`, without surrounding whitespace. Errors name
/// the file, never its content.
fn read_admin_token(path: &Path) -> Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the admin token file {}", path.display()))?;
    let token = text.trim();
    if token.is_empty() {
        bail!(
            "the admin token file {} is empty: expected the token on one line",
            path.display()
        );
    }
    if token.contains(char::is_whitespace) {
        bail!(
            "the admin token file {} holds more than one word: expected the token alone",
            path.display()
        );
    }
    Ok(token.to_owned())
}

/// Runs an aggregator subcommand.
pub async fn aggregator(action: AggregatorAction) -> Result<()> {
    match action {
        AggregatorAction::HpkeConfig { db } => {
            let aggregator =
                Aggregator::open(&db.database, AggregatorOptions::new(db.role.into())).await?;
            println!(
                "{}",
                serde_json::to_string_pretty(&aggregator.hpke_config())?
            );
            Ok(())
        }
        AggregatorAction::Serve {
            db,
            listen,
            provision,
            job_size,
            drive_every_ms,
            allow_noiseless,
            admin_token_file,
        } => {
            let role: Role = db.role.into();
            let mut options = AggregatorOptions::new(role);
            options.job_size = job_size;
            options.allow_noiseless = allow_noiseless;
            options.admin_token = admin_token_file
                .as_deref()
                .map(read_admin_token)
                .transpose()?;
            let aggregator = Arc::new(Aggregator::open(&db.database, options).await?);
            for path in &provision {
                let task: Provisioning = read_json(path)?;
                aggregator
                    .provision(task.params, task.secrets)
                    .await
                    .with_context(|| format!("cannot provision {}", path.display()))?;
            }
            let listener = tokio::net::TcpListener::bind(&listen)
                .await
                .with_context(|| format!("cannot listen on {listen}"))?;
            eprintln!(
                "{} aggregator listening on http://{} with {} task(s){}",
                role.label(),
                listener.local_addr()?,
                aggregator.task_ids().len(),
                if admin_token_file.is_some() {
                    "; provisioning over HTTP on"
                } else {
                    ""
                }
            );
            if role == Role::Leader {
                tokio::spawn(
                    aggregator
                        .clone()
                        .run_driver(std::time::Duration::from_millis(drive_every_ms)),
                );
            }
            axum::serve(listener, sillage_aggregator::router(aggregator)).await?;
            Ok(())
        }
    }
}

/// Collects a task and prints the published result as JSON.
pub async fn collect(args: CollectArgs) -> Result<()> {
    let task: TaskParams = read_json(&args.task)?;
    let keys: HpkeKeypair = read_json(&args.keys)?;
    let client = reqwest::Client::new();
    let collection = sillage_collector::fetch_collection(&client, &task, &args.token).await?;
    let totals = sillage_collector::unshard(&task, &keys, &collection)?;
    let published =
        sillage_collector::publish(&task, collection.report_count, &totals, args.suppress_below);
    println!("{}", serde_json::to_string_pretty(&published)?);
    Ok(())
}
