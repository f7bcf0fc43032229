//! The aggregators' HTTP endpoints (axum), DAP-shaped:
//!
//! | role   | method and path                                  | caller    |
//! |--------|--------------------------------------------------|-----------|
//! | both   | `GET /hpke_config`                               | anyone    |
//! | both   | `PUT /tasks/{task}` (provisioning, when enabled)  | operator  |
//! | leader | `PUT /tasks/{task}/reports`                      | citizens  |
//! | leader | `POST /tasks/{task}/collect`                     | the city  |
//! | leader | `GET /tasks/{task}/status`                       | the city  |
//! | helper | `PUT /tasks/{task}/aggregation_jobs/{job}`       | leader    |
//! | helper | `POST /tasks/{task}/aggregate_shares`            | leader    |
//!
//! Errors are `application/problem+json` with a `detail` in plain words.
//!
//! Provisioning takes a [`Provisioning`] JSON body and the operator's admin
//! bearer token ([`crate::AggregatorOptions::admin_token`]; without one the
//! route answers 404). It answers 201 for a new task, 200 when the very
//! same task is already there, 409 when another task has that id.

use crate::helper::constant_time_eq;
use crate::{Aggregator, AggregatorError};
use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use sillage_dap::messages::{AggregateShareReq, AggregationJobInit, JobId, Report};
use sillage_dap::task::{Provisioning, Role, TaskId};
use std::sync::Arc;

impl IntoResponse for AggregatorError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let body = serde_json::json!({
            "type": format!("urn:sillage:dap:{}", status.as_u16()),
            "detail": self.to_string(),
        });
        (
            status,
            [("content-type", "application/problem+json")],
            body.to_string(),
        )
            .into_response()
    }
}

fn task_id(text: &str) -> Result<TaskId, AggregatorError> {
    TaskId::from_text(text)
        .ok_or_else(|| AggregatorError::BadRequest(format!("{text:?} is not a task id")))
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

/// Accepts a request whose bearer token is `expected` (compared in
/// constant time). No token expected, or an empty one, accepts nobody: an
/// empty token would match a bare `Bearer `.
fn check_bearer(expected: Option<&str>, headers: &HeaderMap) -> Result<(), AggregatorError> {
    match (expected, bearer(headers)) {
        (Some(expected), Some(given))
            if !expected.is_empty() && constant_time_eq(expected, given) =>
        {
            Ok(())
        }
        _ => Err(AggregatorError::Unauthorized),
    }
}

/// The aggregator's routes. Bodies up to 16 MiB (a 10,000-cell report is
/// about 1 MB of JSON; a job of 100 such reports, 100 MB would be too much,
/// so jobs of large tasks should be smaller).
pub fn router(aggregator: Arc<Aggregator>) -> Router {
    Router::new()
        .route("/hpke_config", get(hpke_config))
        .route("/tasks/{task}", put(provision))
        .route("/tasks/{task}/reports", put(upload))
        .route("/tasks/{task}/collect", post(collect))
        .route("/tasks/{task}/status", get(status))
        .route("/tasks/{task}/aggregation_jobs/{job}", put(aggregation_job))
        .route("/tasks/{task}/aggregate_shares", post(aggregate_share))
        .layer(DefaultBodyLimit::max(64 * 1024 * 1024))
        .with_state(aggregator)
}

async fn hpke_config(State(agg): State<Arc<Aggregator>>) -> impl IntoResponse {
    Json(agg.hpke_config())
}

/// The operator, recognised by the admin bearer token. Checked before the
/// body is read.
struct Operator;

impl FromRequestParts<Arc<Aggregator>> for Operator {
    type Rejection = AggregatorError;

    async fn from_request_parts(
        parts: &mut Parts,
        agg: &Arc<Aggregator>,
    ) -> Result<Self, Self::Rejection> {
        let expected = agg.options.admin_token.as_deref();
        if expected.is_none_or(str::is_empty) {
            return Err(AggregatorError::ProvisioningOff);
        }
        check_bearer(expected, &parts.headers).map(|()| Operator)
    }
}

async fn provision(
    State(agg): State<Arc<Aggregator>>,
    _operator: Operator,
    Path(task): Path<String>,
    body: axum::body::Bytes,
) -> Result<StatusCode, AggregatorError> {
    let task = task_id(&task)?;
    let Provisioning { params, secrets } = serde_json::from_slice(&body).map_err(|e| {
        AggregatorError::BadRequest(format!(
            "expected a task provisioning (JSON with \"params\" and \"secrets\"): {e}"
        ))
    })?;
    if params.task_id != task {
        return Err(AggregatorError::BadRequest(format!(
            "the path names task {task} but the body provisions task {}",
            params.task_id
        )));
    }
    // Only the leader answers the city: a helper holding the city's token
    // would be a secret in one place too many, and a leader without it
    // could never release the batch.
    match (agg.role(), secrets.collector_token.is_some()) {
        (Role::Helper, true) => {
            return Err(AggregatorError::BadRequest(
                "a helper's task must not carry the city's collector token".into(),
            ));
        }
        (Role::Leader, false) => {
            return Err(AggregatorError::BadRequest(
                "a leader's task needs the city's collector token, or it can never be collected"
                    .into(),
            ));
        }
        _ => {}
    }
    Ok(if agg.provision_checked(params, secrets).await? {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    })
}

async fn upload(
    State(agg): State<Arc<Aggregator>>,
    Path(task): Path<String>,
    Json(report): Json<Report>,
) -> Result<StatusCode, AggregatorError> {
    agg.upload(&task_id(&task)?, report).await?;
    Ok(StatusCode::CREATED)
}

/// A task named in the path, requested by its collector (the city's
/// bearer token checked).
struct CollectorTask(TaskId);

impl FromRequestParts<Arc<Aggregator>> for CollectorTask {
    type Rejection = AggregatorError;

    async fn from_request_parts(
        parts: &mut Parts,
        agg: &Arc<Aggregator>,
    ) -> Result<Self, Self::Rejection> {
        let Path(task) = Path::<String>::from_request_parts(parts, agg)
            .await
            .map_err(|e| AggregatorError::BadRequest(e.to_string()))?;
        let task = task_id(&task)?;
        let expected = agg.task(&task)?.secrets.collector_token.clone();
        check_bearer(expected.as_deref(), &parts.headers).map(|()| CollectorTask(task))
    }
}

async fn collect(
    State(agg): State<Arc<Aggregator>>,
    CollectorTask(task): CollectorTask,
) -> Result<impl IntoResponse, AggregatorError> {
    Ok(Json(agg.collect(&task).await?))
}

async fn status(
    State(agg): State<Arc<Aggregator>>,
    CollectorTask(task): CollectorTask,
) -> Result<impl IntoResponse, AggregatorError> {
    Ok(Json(agg.status(&task).await?))
}

async fn aggregation_job(
    State(agg): State<Arc<Aggregator>>,
    Path((task, job)): Path<(String, String)>,
    headers: HeaderMap,
    Json(init): Json<AggregationJobInit>,
) -> Result<impl IntoResponse, AggregatorError> {
    let task = task_id(&task)?;
    agg.check_leader(&*agg.task(&task)?, bearer(&headers))?;
    let job =
        JobId::from_text(&job).ok_or_else(|| AggregatorError::BadRequest("bad job id".into()))?;
    Ok(Json(agg.aggregate_job(&task, &job, init).await?))
}

async fn aggregate_share(
    State(agg): State<Arc<Aggregator>>,
    Path(task): Path<String>,
    headers: HeaderMap,
    Json(request): Json<AggregateShareReq>,
) -> Result<impl IntoResponse, AggregatorError> {
    let task = task_id(&task)?;
    agg.check_leader(&*agg.task(&task)?, bearer(&headers))?;
    Ok(Json(agg.aggregate_share(&task, request).await?))
}
