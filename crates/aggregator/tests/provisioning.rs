//! The operators' provisioning API (`PUT /tasks/{task}`) over HTTP on
//! loopback: off without an admin token, the token checked, the body
//! checked against the path and the aggregator's role, idempotent for the
//! very same task, a conflict for another one with the same id.

mod common;

use common::{Backend, backends, database_url, now, serve};
use sillage_aggregator::{Aggregator, AggregatorOptions, Provisioning, TaskSecrets};
use sillage_collector::{ProvisionError, provision};
use sillage_dap::bytes::Bytes;
use sillage_dap::hpke::HpkeKeypair;
use sillage_dap::noise::Epsilon;
use sillage_dap::task::{AggregatorEndpoint, Interval, Role, TaskId, TaskParams, VdafConfig};
use sillage_dap::token::TokenIssuer;
use std::sync::Arc;

const ADMIN: &str = "operator-admin-token-for-tests";

/// An aggregator of `role` served on loopback, with `admin_token`.
async fn start(
    dir: &std::path::Path,
    role: Role,
    backend: &Backend,
    admin_token: Option<&str>,
) -> (Arc<Aggregator>, String) {
    let url = database_url(dir, role, backend).await;
    let mut options = AggregatorOptions::new(role);
    options.admin_token = admin_token.map(str::to_owned);
    let aggregator = Arc::new(Aggregator::open(&url, options).await.unwrap());
    let base = serve(aggregator.clone()).await;
    (aggregator, base)
}

/// A task naming these two aggregators.
fn task(
    leader: &Aggregator,
    leader_url: &str,
    helper: &Aggregator,
    helper_url: &str,
) -> TaskParams {
    TaskParams {
        task_id: TaskId::random(),
        vdaf: VdafConfig {
            length: 4,
            max_weight: 2,
        },
        wave: Interval {
            start: now() - 86_400,
            end: now() + 86_400,
        },
        time_precision_s: 3600,
        min_batch_size: 10,
        epsilon: Some(Epsilon { num: 1, den: 1 }),
        leader: AggregatorEndpoint {
            operator: "Leader operator".into(),
            url: leader_url.into(),
            hpke: leader.hpke_config(),
        },
        helper: AggregatorEndpoint {
            operator: "Helper operator".into(),
            url: helper_url.into(),
            hpke: helper.hpke_config(),
        },
        collector_hpke: HpkeKeypair::generate(3).config,
        token_issuer_key: TokenIssuer::generate().unwrap().public_key().unwrap(),
    }
}

/// `PUT {base}/tasks/{path_task}` with `body` and an optional bearer token;
/// returns the status and the problem's detail.
async fn put(
    client: &reqwest::Client,
    base: &str,
    path_task: &TaskId,
    token: Option<&str>,
    body: Vec<u8>,
) -> (u16, String) {
    let mut request = client
        .put(format!("{base}/tasks/{path_task}"))
        .header("content-type", "application/json")
        .body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    (status, body["detail"].as_str().unwrap_or("").to_owned())
}

fn json(provisioning: &Provisioning) -> Vec<u8> {
    serde_json::to_vec(provisioning).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provisioning_over_http_answers_each_case_with_its_status() {
    for backend in backends() {
        provisioning_over_http_on(&backend).await;
    }
}

async fn provisioning_over_http_on(backend: &Backend) {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let (leader, leader_url) = start(dir.path(), Role::Leader, backend, Some(ADMIN)).await;
    let (helper, helper_url) = start(dir.path(), Role::Helper, backend, Some(ADMIN)).await;
    let params = task(&leader, &leader_url, &helper, &helper_url);
    let id = params.task_id;
    let secrets = TaskSecrets::generate();
    let for_leader = Provisioning {
        params: params.clone(),
        secrets: secrets.clone(),
    };
    let for_helper = Provisioning {
        params: params.clone(),
        secrets: TaskSecrets {
            collector_token: None,
            ..secrets.clone()
        },
    };

    // Without or with a wrong admin token: 401, before the body matters.
    for token in [None, Some("wrong"), Some("")] {
        let (status, _) = put(&client, &leader_url, &id, token, json(&for_leader)).await;
        assert_eq!(status, 401, "token {token:?}");
    }
    // The path and the body must name the same task.
    let (status, detail) = put(
        &client,
        &leader_url,
        &TaskId::random(),
        Some(ADMIN),
        json(&for_leader),
    )
    .await;
    assert_eq!(status, 400);
    assert!(detail.contains("the path names task"), "{detail}");
    // A body that is not a provisioning.
    let (status, detail) = put(
        &client,
        &leader_url,
        &id,
        Some(ADMIN),
        b"{\"params\":1}".into(),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        detail.starts_with("expected a task provisioning"),
        "{detail}"
    );
    // The city's token belongs with the leader only.
    let (status, detail) = put(&client, &helper_url, &id, Some(ADMIN), json(&for_leader)).await;
    assert_eq!(status, 400);
    assert!(detail.contains("collector token"), "{detail}");
    let (status, detail) = put(&client, &leader_url, &id, Some(ADMIN), json(&for_helper)).await;
    assert_eq!(status, 400);
    assert!(detail.contains("collector token"), "{detail}");
    // A verify key of the wrong size is refused before anything is stored.
    let short_key = Provisioning {
        params: params.clone(),
        secrets: TaskSecrets {
            verify_key: Bytes(vec![7; 16]),
            ..secrets.clone()
        },
    };
    let (status, _) = put(&client, &leader_url, &id, Some(ADMIN), json(&short_key)).await;
    assert_eq!(status, 400);
    assert!(leader.task_ids().is_empty());

    // Provisioned: 201, then 200 for the very same task (a retry).
    let (status, _) = put(&client, &leader_url, &id, Some(ADMIN), json(&for_leader)).await;
    assert_eq!(status, 201);
    let (status, _) = put(&client, &leader_url, &id, Some(ADMIN), json(&for_leader)).await;
    assert_eq!(status, 200);
    assert_eq!(leader.task_ids(), vec![id]);
    // The city's client does the same for the helper (and a retry passes).
    provision(&client, &helper_url, ADMIN, &for_helper)
        .await
        .unwrap();
    provision(&client, &helper_url, ADMIN, &for_helper)
        .await
        .unwrap();
    assert_eq!(helper.task_ids(), vec![id]);

    // Another task under the same id: 409, whether the parameters or the
    // secrets differ; the first one stays.
    let mut other_params = for_leader.clone();
    other_params.params.min_batch_size = 20;
    let (status, detail) = put(&client, &leader_url, &id, Some(ADMIN), json(&other_params)).await;
    assert_eq!(status, 409);
    assert!(detail.contains("other parameters"), "{detail}");
    let other_secrets = Provisioning {
        params: params.clone(),
        secrets: TaskSecrets::generate(),
    };
    match provision(&client, &leader_url, ADMIN, &other_secrets).await {
        Err(ProvisionError::Refused { status, detail }) => {
            assert_eq!(status, 409);
            assert!(detail.contains("other secrets"), "{detail}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    // The task provisioned over HTTP is stored: it is there on reopening
    // (SQLite here: on PostgreSQL `database_url` makes a new database).
    if matches!(backend, Backend::Sqlite) {
        let url = database_url(dir.path(), Role::Leader, backend).await;
        let reopened = Aggregator::open(&url, AggregatorOptions::new(Role::Leader))
            .await
            .unwrap();
        assert_eq!(reopened.task_ids(), vec![id]);
    }
}

#[tokio::test]
async fn provisioning_is_off_without_an_admin_token() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let (leader, leader_url) = start(dir.path(), Role::Leader, &Backend::Sqlite, None).await;
    let (helper, helper_url) = start(dir.path(), Role::Helper, &Backend::Sqlite, None).await;
    let params = task(&leader, &leader_url, &helper, &helper_url);
    let provisioning = Provisioning {
        params,
        secrets: TaskSecrets::generate(),
    };
    for token in [None, Some(ADMIN)] {
        let (status, detail) = put(
            &client,
            &leader_url,
            &provisioning.params.task_id,
            token,
            json(&provisioning),
        )
        .await;
        assert_eq!(status, 404, "token {token:?}");
        assert!(detail.contains("no admin token"), "{detail}");
    }
    match provision(&client, &leader_url, ADMIN, &provisioning).await {
        Err(ProvisionError::Refused { status: 404, .. }) => {}
        other => panic!("expected 404, got {other:?}"),
    }
    assert!(leader.task_ids().is_empty());
    // An aggregator nobody listens at is unreachable, not refused.
    let closed = format!("http://{}", free_addr());
    assert!(matches!(
        provision(&client, &closed, ADMIN, &provisioning).await,
        Err(ProvisionError::Unreachable(_))
    ));
}

/// A loopback address with nothing listening (bound, then released).
fn free_addr() -> std::net::SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}
