//! Live ingestion from the tracker apps citizens already use: OwnTracks,
//! Overland, GPSLogger and Traccar Client / OsmAnd.
//!
//! Each request is authenticated by a device token (how each app can send
//! one differs), parsed by the pure `sillage_ingest::live` parsers, and
//! written in one transaction to the device's batch of the day; only then
//! does the app get its success answer, so an app never drops points the
//! store does not hold. Analysis is not on this path: the account is
//! marked and its diary refreshed in the background.

use crate::AppState;
use crate::citizens::LivePoints;
use crate::clock::local_date;
use crate::error::{ApiError, HubError};
use crate::registry::DeviceIdentity;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use sillage_ingest::IngestError;
use sillage_ingest::live::{self, LiveBatch};
use sillage_model::{SourceFormat, Timestamp};

/// The query string as name/value pairs, in order.
type Params = Vec<(String, String)>;

/// `POST /ingest/owntracks`: one OwnTracks message; the token is the HTTP
/// Basic password. Answers `[]` (no friends to share: Sillage never relays
/// anyone's position to anyone).
pub async fn owntracks(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<Params>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let token = basic_password(&headers).or_else(|| param(&params, "token").map(str::to_owned));
    let device = authenticate(&state, token.as_deref()).await?;
    let batch = live::owntracks_request(&body).map_err(bad_payload)?;
    store_batch(&state, &device, SourceFormat::OwnTracksJson, batch).await?;
    Ok(Json(serde_json::json!([])).into_response())
}

/// `POST /ingest/overland`: a batch of GeoJSON locations; the token is a
/// Bearer token or `?token=`. `{"result":"ok"}` only once stored: Overland
/// deletes what it was told was received.
pub async fn overland(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<Params>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let device = authenticate(&state, bearer(&headers).or(param(&params, "token"))).await?;
    let batch = live::overland_request(&body).map_err(bad_payload)?;
    store_batch(&state, &device, SourceFormat::Overland, batch).await?;
    Ok(Json(serde_json::json!({"result": "ok"})).into_response())
}

/// `GET|POST /ingest/gpslogger`: GPSLogger's custom URL, values in the query
/// string or a form body; the token as `?token=`, a Bearer token or the
/// Basic password (GPSLogger can send any of them).
pub async fn gpslogger(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Query(params): Query<Params>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request = LiveRequest::read(&method, &headers, params, body)?;
    let token = param(&request.params, "token")
        .or(bearer(&headers))
        .map(str::to_owned)
        .or_else(|| basic_password(&headers));
    let device = authenticate(&state, token.as_deref()).await?;
    let batch = match &request.json {
        // The setup Dawarich and Reitti recommend: an OwnTracks-style body.
        Some(body) => live::owntracks_request(body),
        None => live::gpslogger_request(&request.params),
    }
    .map_err(bad_payload)?;
    store_batch(&state, &device, SourceFormat::GpsLoggerLive, batch).await?;
    Ok("OK".into_response())
}

/// `GET|POST /ingest/traccar`: the OsmAnd protocol (query string or form;
/// the token is the `id` the app is configured with) or Traccar Client's
/// JSON body (the token is `device_id`).
pub async fn traccar(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Query(params): Query<Params>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request = LiveRequest::read(&method, &headers, params, body)?;
    let (parsed, format) = match &request.json {
        Some(body) => (live::traccar_json_request(body), SourceFormat::TraccarJson),
        None => (live::osmand_request(&request.params), SourceFormat::OsmAnd),
    };
    let (token, batch) = parsed.map_err(bad_payload)?;
    let device = authenticate(&state, Some(token.as_str())).await?;
    store_batch(&state, &device, format, batch).await?;
    Ok("OK".into_response())
}

/// What a GET or POST of the query-string protocols carries: parameters
/// from the query string and a form body, or a JSON body.
struct LiveRequest {
    params: Params,
    json: Option<Bytes>,
}

impl LiveRequest {
    fn read(
        method: &Method,
        headers: &HeaderMap,
        mut params: Params,
        body: Bytes,
    ) -> Result<Self, HubError> {
        let posted = method == Method::POST;
        if posted && is_json(headers) {
            return Ok(Self {
                params,
                json: Some(body),
            });
        }
        if posted && is_form(headers) {
            params.extend(form_pairs(&body)?);
        }
        Ok(Self { params, json: None })
    }
}

/// The device of a token; 401 for none or an unknown one.
async fn authenticate(state: &AppState, token: Option<&str>) -> Result<DeviceIdentity, HubError> {
    let token = token
        .filter(|t| !t.is_empty())
        .ok_or(HubError::DeviceToken)?;
    state
        .registry
        .device_by_token(token)
        .await?
        .ok_or(HubError::DeviceToken)
}

/// Writes a request's fixes to the device's batch of the (local) day and
/// returns once they are committed (in one transaction with whatever else
/// reached the store meanwhile); the diary is refreshed in the background.
async fn store_batch(
    state: &AppState,
    device: &DeviceIdentity,
    format: SourceFormat,
    batch: LiveBatch,
) -> Result<(), HubError> {
    let received = batch.fixes.len() as u64;
    if received == 0 && batch.hints.is_empty() && batch.rejected.is_empty() {
        return Ok(());
    }
    let day = batch.fixes.first().map_or_else(Timestamp::now, |f| f.time);
    let points = LivePoints {
        source: format!(
            "{} · {} · {}",
            format.as_str(),
            device.label,
            local_date(day)
        ),
        format,
        device: device.label.clone(),
        batch,
    };
    state.citizens.append_live(&device.account, points).await?;
    state.registry.device_seen(device.device_id, received);
    Ok(())
}

fn bad_payload(error: IngestError) -> HubError {
    HubError::BadRequest(format!("payload not understood: {error}"))
}

fn param<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    header_text(headers, header::AUTHORIZATION)?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// The password of HTTP Basic credentials (OwnTracks puts the device token
/// there; the user name is the app's own and is not trusted).
fn basic_password(headers: &HeaderMap) -> Option<String> {
    let encoded = header_text(headers, header::AUTHORIZATION)?.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (_, password) = text.split_once(':')?;
    Some(password.to_owned())
}

fn is_json(headers: &HeaderMap) -> bool {
    header_text(headers, header::CONTENT_TYPE).is_some_and(|t| t.contains("json"))
}

fn is_form(headers: &HeaderMap) -> bool {
    header_text(headers, header::CONTENT_TYPE)
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"))
}

fn form_pairs(body: &[u8]) -> Result<Params, HubError> {
    serde_urlencoded_pairs(body)
        .ok_or_else(|| HubError::BadRequest("form body: expected name=value pairs".into()))
}

/// Decodes `application/x-www-form-urlencoded`.
fn serde_urlencoded_pairs(body: &[u8]) -> Option<Params> {
    axum::extract::Query::<Params>::try_from_uri(
        &format!("/?{}", std::str::from_utf8(body).ok()?)
            .parse()
            .ok()?,
    )
    .ok()
    .map(|q| q.0)
}
