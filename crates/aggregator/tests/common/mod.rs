//! A leader and a helper served on loopback, a token issuer and a
//! collector key: a whole deployment inside a test.

#![allow(dead_code)]

use sillage_aggregator::{Aggregator, AggregatorOptions, TaskSecrets, router};
use sillage_dap::hpke::HpkeKeypair;
use sillage_dap::messages::{Collection, Report, build_report};
use sillage_dap::noise::Epsilon;
use sillage_dap::task::{AggregatorEndpoint, Interval, Role, TaskId, TaskParams, VdafConfig};
use sillage_dap::token::{AnonymousToken, TokenIssuer, TokenRequest};
use std::sync::Arc;

pub struct Deployment {
    pub leader: Arc<Aggregator>,
    pub helper: Arc<Aggregator>,
    pub task: TaskParams,
    pub secrets: TaskSecrets,
    pub issuer: TokenIssuer,
    pub collector_keys: HpkeKeypair,
    pub client: reqwest::Client,
    pub dir: tempfile::TempDir,
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Serves `aggregator` on a fresh loopback port; returns its base URL.
pub async fn serve(aggregator: Arc<Aggregator>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, router(aggregator)).await.unwrap();
    });
    url
}

/// Where aggregators keep their data in a test.
#[derive(Clone, Debug)]
pub enum Backend {
    /// A SQLite file in the test's directory.
    Sqlite,
    /// A fresh database on this PostgreSQL server.
    Postgres(String),
}

/// SQLite always; PostgreSQL too when `scripts/test` started a server (and
/// then it must be there: `SILLAGE_REQUIRE_POSTGRES` makes its absence an
/// error, so CI cannot skip it silently).
pub fn backends() -> Vec<Backend> {
    let mut backends = vec![Backend::Sqlite];
    match std::env::var("SILLAGE_TEST_POSTGRES_URL") {
        Ok(url) => backends.push(Backend::Postgres(url)),
        Err(_) if std::env::var_os("SILLAGE_REQUIRE_POSTGRES").is_some() => {
            panic!("SILLAGE_REQUIRE_POSTGRES is set but SILLAGE_TEST_POSTGRES_URL is not")
        }
        Err(_) => eprintln!("PostgreSQL not tested here: run scripts/test, which starts a server"),
    }
    backends
}

/// A database URL for `role` on `backend`, created empty.
pub async fn database_url(dir: &std::path::Path, role: Role, backend: &Backend) -> String {
    match backend {
        Backend::Sqlite => format!(
            "sqlite://{}",
            dir.join(format!("{}.sqlite", role.label())).display()
        ),
        Backend::Postgres(server) => {
            use sqlx::Connection;
            let suffix: String = sillage_dap::bytes::Id::<6>::random()
                .0
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            let name = format!("sillage_{}_{suffix}", role.label());
            let mut admin = sqlx::PgConnection::connect(server).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut admin)
                .await
                .unwrap();
            let base = server.rsplit_once('/').unwrap().0;
            format!("{base}/{name}")
        }
    }
}

pub async fn open(
    dir: &std::path::Path,
    role: Role,
    backend: &Backend,
    job_size: usize,
) -> Arc<Aggregator> {
    let url = database_url(dir, role, backend).await;
    let mut options = AggregatorOptions::new(role);
    options.allow_noiseless = true;
    options.job_size = job_size;
    Arc::new(Aggregator::open(&url, options).await.unwrap())
}

/// A deployment whose wave ended a minute ago (so it can be collected).
pub async fn deploy(
    backend: &Backend,
    min_batch_size: u64,
    epsilon: Option<Epsilon>,
    vdaf: VdafConfig,
) -> Deployment {
    // Small jobs, so that tests run several.
    deploy_with(backend, min_batch_size, epsilon, vdaf, 7).await
}

/// [`deploy`] with the aggregators' job size.
pub async fn deploy_with(
    backend: &Backend,
    min_batch_size: u64,
    epsilon: Option<Epsilon>,
    vdaf: VdafConfig,
    job_size: usize,
) -> Deployment {
    let dir = tempfile::tempdir_in(
        std::env::var("SILLAGE_TEST_DIR")
            .unwrap_or_else(|_| std::env::temp_dir().display().to_string()),
    )
    .unwrap();
    let leader = open(dir.path(), Role::Leader, backend, job_size).await;
    let helper = open(dir.path(), Role::Helper, backend, job_size).await;
    let (leader_url, helper_url) = (serve(leader.clone()).await, serve(helper.clone()).await);
    let issuer = TokenIssuer::generate().unwrap();
    let collector_keys = HpkeKeypair::generate(7);
    let task = TaskParams {
        task_id: TaskId::random(),
        vdaf,
        wave: Interval {
            start: now() - 14 * 86_400,
            end: now() - 60,
        },
        time_precision_s: 3600,
        min_batch_size,
        epsilon,
        leader: AggregatorEndpoint {
            operator: "Leader operator".into(),
            url: leader_url,
            hpke: leader.hpke_config(),
        },
        helper: AggregatorEndpoint {
            operator: "Helper operator".into(),
            url: helper_url,
            hpke: helper.hpke_config(),
        },
        collector_hpke: collector_keys.config.clone(),
        token_issuer_key: issuer.public_key().unwrap(),
    };
    let secrets = TaskSecrets::generate();
    leader
        .provision(task.clone(), secrets.clone())
        .await
        .unwrap();
    let helper_secrets = TaskSecrets {
        collector_token: None,
        ..secrets.clone()
    };
    helper
        .provision(task.clone(), helper_secrets)
        .await
        .unwrap();
    Deployment {
        leader,
        helper,
        task,
        secrets,
        issuer,
        collector_keys,
        client: reqwest::Client::new(),
        dir,
    }
}

impl Deployment {
    /// A token as a consenting citizen gets it from the hub.
    pub fn token(&self) -> AnonymousToken {
        let key = &self.task.token_issuer_key;
        let request = TokenRequest::new(key, &self.task.task_id).unwrap();
        let signature = self.issuer.sign(&request.blinded).unwrap();
        request.finalize(key, &signature).unwrap()
    }

    /// A valid report of `measurement`, made during the wave.
    pub fn report(&self, measurement: &[u32]) -> Report {
        build_report(
            &self.task,
            measurement,
            self.token(),
            self.task.wave.start + 86_400,
        )
        .unwrap()
    }

    /// Uploads over HTTP; returns the status and the problem detail.
    pub async fn upload(&self, report: &Report) -> (u16, String) {
        let url = format!(
            "{}/tasks/{}/reports",
            self.task.leader.url, self.task.task_id
        );
        let response = self.client.put(url).json(report).send().await.unwrap();
        let status = response.status().as_u16();
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        (status, body["detail"].as_str().unwrap_or("").to_owned())
    }

    pub async fn collect(&self) -> Result<Collection, sillage_collector::CollectError> {
        let bearer = self.secrets.collector_token.as_deref().unwrap();
        sillage_collector::fetch_collection(&self.client, &self.task, bearer).await
    }

    pub fn totals(&self, collection: &Collection) -> Vec<i64> {
        sillage_collector::unshard(&self.task, &self.collector_keys, collection).unwrap()
    }
}

/// A deterministic pseudo-random measurement of `length` cells summing to
/// at most `cap`.
pub fn measurement(seed: u64, length: usize, cap: u32) -> Vec<u32> {
    let mut state = seed
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    let mut next = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        (state >> 33) as usize
    };
    let mut cells = vec![0u32; length];
    for _ in 0..(next() % (cap as usize + 1)) {
        cells[next() % length] += 1;
    }
    cells
}
