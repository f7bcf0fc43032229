//! The JSON API: everything the pages do, for scripts and other clients,
//! described by an OpenAPI document at `/api/openapi.json` (Swagger UI at
//! `/api/docs/`, served from the binary: it works offline).
//!
//! The operations the pages share with the API live here, so that both
//! paths run the same code.

use crate::AppState;
use crate::auth::CitizenSession;
use crate::error::{ApiError, HubError};
use crate::i18n::{Lang, Tr};
use crate::registry::{Account, Device};
use crate::views::{self, BikeDays, Dashboard, DayView, Period, TripView};
use axum::Json;
use axum::body::Body;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use sillage_diary::{CorrectError, TripCorrection};
use sillage_model::{Mode, Place, PlaceLabel, Purpose, Timestamp, ValidationRules};
use sillage_store::PlaceEdit;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use utoipa::{IntoParams, OpenApi, ToSchema};

/// A signed-in API caller: like [`CitizenSession`], answering 401 in JSON.
pub struct ApiSession(pub CitizenSession);

impl FromRequestParts<AppState> for ApiSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(Self(
            CitizenSession::from_request_parts(parts, state).await?,
        ))
    }
}

impl ApiSession {
    /// The account, after checking the CSRF header of a write.
    fn writer(&self, headers: &HeaderMap) -> Result<&Account, HubError> {
        self.0.check_csrf_header(headers)?;
        Ok(&self.0.session.account)
    }

    fn account(&self) -> &Account {
        &self.0.session.account
    }
}

// ---------------------------------------------------------------- shared operations

/// Reads a correction's fields, refusing unknown names.
pub fn trip_correction(body: &CorrectionBody) -> Result<TripCorrection, HubError> {
    // An empty form field means "unchanged".
    let mode = body.mode.as_deref().filter(|m| !m.is_empty());
    let purpose = body.purpose.as_deref().filter(|p| !p.is_empty());
    let leg_mode = match (body.leg, mode) {
        (Some(leg), Some(mode)) => Some((
            leg,
            Mode::from_name(mode)
                .ok_or_else(|| HubError::BadRequest(format!("mode {mode:?}: unknown")))?,
        )),
        (None, Some(_)) => {
            return Err(HubError::BadRequest(
                "mode: needs the leg it applies to".into(),
            ));
        }
        _ => None,
    };
    let purpose = purpose
        .map(|p| {
            Purpose::from_name(p)
                .ok_or_else(|| HubError::BadRequest(format!("purpose {p:?}: unknown")))
        })
        .transpose()?;
    let split_at = body
        .split_at
        .as_deref()
        .filter(|t| !t.is_empty())
        .map(|t| {
            Timestamp::parse_iso8601(t).map(|(t, _)| t).map_err(|_| {
                HubError::BadRequest(format!("split_at {t:?}: expected an RFC 3339 instant"))
            })
        })
        .transpose()?;
    Ok(TripCorrection {
        leg_mode,
        purpose,
        private: body.private,
        split_at,
        merge_with_next: body.merge_with_next.unwrap_or(false),
    })
}

/// Records a correction, refreshes the diary, and returns the id the trip
/// has afterwards (a refresh may rebuild trips).
pub async fn apply_correction(
    state: &AppState,
    account: &Account,
    trip_id: i64,
    change: &TripCorrection,
) -> Result<i64, HubError> {
    let store = state.citizens.store(account).await?;
    let trip = sillage_diary::correct_trip(&store, trip_id, change)
        .await
        .map_err(|e| match e {
            CorrectError::NoSuchTrip(_) => HubError::NotFound("trip"),
            CorrectError::Store(e) => e.into(),
            other => HubError::BadRequest(other.to_string()),
        })?;
    state.citizens.refresh(account).await?;
    let after = store
        .trips_between(trip.start, Timestamp(trip.end.0 + 1))
        .await?;
    Ok(after
        .iter()
        .find(|t| t.device == trip.device && t.start == trip.start)
        .or_else(|| after.iter().find(|t| t.device == trip.device))
        .map_or(trip_id, |t| t.id))
}

/// Adds a device after checking its name; returns it and its token.
pub async fn new_device(
    state: &AppState,
    account: &Account,
    label: &str,
) -> Result<(Device, crate::secrets::Token), HubError> {
    let label = label.trim();
    if label.is_empty() || label.chars().count() > 64 {
        return Err(HubError::BadRequest(
            "device name: 1 to 64 characters".into(),
        ));
    }
    Ok(state.registry.add_device(account.id, label).await?)
}

/// Reads a place edit's fields.
pub fn place_edit(
    name: Option<&str>,
    label: Option<&str>,
    private: Option<bool>,
) -> Result<PlaceEdit, HubError> {
    let label = label
        .map(|l| {
            PlaceLabel::from_name(l)
                .ok_or_else(|| HubError::BadRequest(format!("label {l:?}: unknown")))
        })
        .transpose()?;
    let name = name.map(|n| {
        let n = n.trim();
        (!n.is_empty()).then(|| n.chars().take(80).collect())
    });
    Ok(PlaceEdit {
        name,
        label,
        private,
    })
}

/// Edits one of the citizen's places and re-derives what depends on it.
pub async fn apply_place_edit(
    state: &AppState,
    account: &Account,
    id: i64,
    edit: &PlaceEdit,
) -> Result<Place, HubError> {
    let store = state.citizens.store(account).await?;
    let place = store.edit_place(id, edit).await?;
    state.citizens.refresh(account).await?;
    Ok(place)
}

/// Deletes one of the citizen's places.
pub async fn remove_place(state: &AppState, account: &Account, id: i64) -> Result<(), HubError> {
    let store = state.citizens.store(account).await?;
    store.delete_place(id).await?;
    state.citizens.refresh(account).await?;
    Ok(())
}

/// Undoes an import; returns the fixes removed.
pub async fn undo(state: &AppState, account: &Account, id: i64) -> Result<u64, HubError> {
    let store = state.citizens.store(account).await?;
    let outcome = store.undo_import(id).await?;
    state.citizens.refresh(account).await?;
    Ok(outcome.fixes)
}

/// Saves the bike-days goal and the attestation's name and employer.
pub async fn save_bike_settings(
    state: &AppState,
    account: &Account,
    target: u32,
    name: &str,
    employer: &str,
) -> Result<(), HubError> {
    if !(1..=366).contains(&target) {
        return Err(HubError::BadRequest(
            "target: expected 1 to 366 days".into(),
        ));
    }
    let store = state.citizens.store(account).await?;
    store
        .set_setting(views::TARGET_SETTING, &target.to_string())
        .await?;
    store.set_setting(views::NAME_SETTING, name.trim()).await?;
    store
        .set_setting(views::EMPLOYER_SETTING, employer.trim())
        .await?;
    Ok(())
}

/// The bike-days attestation of a year, as a PDF download.
pub async fn attestation_pdf(
    state: &AppState,
    account: &Account,
    year: i64,
    lang: Lang,
) -> Result<Response, HubError> {
    let store = state.citizens.store(account).await?;
    let goal = views::bike_days(&store, year).await?;
    let name = store
        .setting(views::NAME_SETTING)
        .await?
        .unwrap_or_default();
    let employer = store
        .setting(views::EMPLOYER_SETTING)
        .await?
        .unwrap_or_default();
    let pdf = crate::pdf::attestation(Tr(lang), &goal, &name, &employer);
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"attestation-velo-{year}.pdf\""),
            ),
        ],
        pdf,
    )
        .into_response())
}

// ---------------------------------------------------------------- routes

/// A day, `YYYY-MM-DD` (local time).
#[derive(Deserialize, IntoParams)]
pub struct DayPath {
    /// The local date.
    day: String,
}

/// `GET /api/days/{day}`.
#[utoipa::path(get, path = "/api/days/{day}", params(DayPath), tag = "diary",
    responses((status = 200, body = DayView), (status = 400, description = "bad date"), (status = 401, description = "login required")))]
pub async fn get_day(
    State(state): State<AppState>,
    session: ApiSession,
    Path(path): Path<DayPath>,
) -> Result<Json<DayView>, ApiError> {
    let store = state.citizens.store(session.account()).await?;
    Ok(Json(views::day(&store, &path.day).await?.0))
}

/// `GET /api/days/{day}/geojson`: the day's trips as GeoJSON.
#[utoipa::path(get, path = "/api/days/{day}/geojson", params(DayPath), tag = "diary",
    responses((status = 200, description = "GeoJSON FeatureCollection: one LineString per leg, ends as Points")))]
pub async fn get_day_geojson(
    State(state): State<AppState>,
    session: ApiSession,
    Path(path): Path<DayPath>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let store = state.citizens.store(session.account()).await?;
    let (_, trips) = views::day(&store, &path.day).await?;
    Ok(Json(views::trip_geojson(&store, &trips).await?))
}

/// `GET /api/trips/{id}`.
#[utoipa::path(get, path = "/api/trips/{id}", params(("id" = i64, Path, description = "trip id")), tag = "diary",
    responses((status = 200, body = TripView), (status = 404, description = "no such trip of yours")))]
pub async fn get_trip(
    State(state): State<AppState>,
    session: ApiSession,
    Path(id): Path<i64>,
) -> Result<Json<TripView>, ApiError> {
    let store = state.citizens.store(session.account()).await?;
    let trip = views::trip(&store, id).await?;
    Ok(Json(views::trip_view(
        &trip,
        &views::places_by_id(&store).await?,
    )))
}

/// `GET /api/trips/{id}/geojson`.
#[utoipa::path(get, path = "/api/trips/{id}/geojson", params(("id" = i64, Path, description = "trip id")), tag = "diary",
    responses((status = 200, description = "GeoJSON FeatureCollection"), (status = 404, description = "no such trip of yours")))]
pub async fn get_trip_geojson(
    State(state): State<AppState>,
    session: ApiSession,
    Path(id): Path<i64>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let store = state.citizens.store(session.account()).await?;
    let trip = views::trip(&store, id).await?;
    Ok(Json(
        views::trip_geojson(&store, std::slice::from_ref(&trip)).await?,
    ))
}

/// A correction of a trip; absent fields are left as they are.
#[derive(Default, Deserialize, ToSchema)]
pub struct CorrectionBody {
    /// The leg whose mode is corrected.
    pub leg: Option<usize>,
    /// Its mode (`walking`, `bicycle`, `e_bike`, `car`, `bus`…).
    pub mode: Option<String>,
    /// The trip's purpose (`commute`, `shopping`…).
    pub purpose: Option<String>,
    /// Whether the trip is private.
    pub private: Option<bool>,
    /// Cut the trip in two at this instant (RFC 3339, inside the trip).
    pub split_at: Option<String>,
    /// Join the trip with the device's next one.
    pub merge_with_next: Option<bool>,
}

/// `POST /api/trips/{id}/corrections`: returns the corrected trip (its id
/// may change when the diary is rebuilt).
#[utoipa::path(post, path = "/api/trips/{id}/corrections", params(("id" = i64, Path, description = "trip id")), request_body = CorrectionBody, tag = "diary",
    responses((status = 200, body = TripView), (status = 400, description = "unknown mode, purpose or leg"), (status = 403, description = "missing X-CSRF-Token"), (status = 404, description = "no such trip of yours")))]
pub async fn post_correction(
    State(state): State<AppState>,
    session: ApiSession,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Json(body): Json<CorrectionBody>,
) -> Result<Json<TripView>, ApiError> {
    let account = session.writer(&headers)?;
    let change = trip_correction(&body)?;
    let new_id = apply_correction(&state, account, id, &change).await?;
    let store = state.citizens.store(account).await?;
    let trip = views::trip(&store, new_id).await?;
    Ok(Json(views::trip_view(
        &trip,
        &views::places_by_id(&store).await?,
    )))
}

/// `?period=week|month|year`.
#[derive(Deserialize, IntoParams)]
pub struct DashboardQuery {
    /// `week`, `month` (default) or `year`.
    period: Option<String>,
}

/// `GET /api/dashboard`: the last 12 periods by mode group.
#[utoipa::path(get, path = "/api/dashboard", params(DashboardQuery), tag = "diary", responses((status = 200, body = Dashboard)))]
pub async fn get_dashboard(
    State(state): State<AppState>,
    session: ApiSession,
    Query(query): Query<DashboardQuery>,
) -> Result<Json<Dashboard>, ApiError> {
    let name = query.period.as_deref().unwrap_or("month");
    let period = Period::from_name(name).ok_or_else(|| {
        HubError::BadRequest(format!("period {name:?}: expected week, month or year"))
    })?;
    let store = state.citizens.store(session.account()).await?;
    Ok(Json(views::dashboard(&store, period, 12).await?))
}

/// A place as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct PlaceView {
    /// Place id.
    id: i64,
    /// Latitude.
    lat: f64,
    /// Longitude.
    lon: f64,
    /// `home`, `work`, `study` or `other`.
    label: String,
    /// Who set the label.
    label_source: String,
    /// The citizen's name for it.
    name: Option<String>,
    /// Never part of any contribution.
    private: bool,
    /// Stays clustered into it.
    visits: u32,
}

impl From<Place> for PlaceView {
    fn from(p: Place) -> Self {
        Self {
            id: p.id,
            lat: p.lat,
            lon: p.lon,
            label: p.label.as_str().to_owned(),
            label_source: p.label_source.as_str().to_owned(),
            name: p.name,
            private: p.private,
            visits: p.visits,
        }
    }
}

/// `GET /api/places`.
#[utoipa::path(get, path = "/api/places", tag = "places", responses((status = 200, body = [PlaceView])))]
pub async fn get_places(
    State(state): State<AppState>,
    session: ApiSession,
) -> Result<Json<Vec<PlaceView>>, ApiError> {
    let store = state.citizens.store(session.account()).await?;
    Ok(Json(
        store
            .places()
            .await?
            .into_iter()
            .map(PlaceView::from)
            .collect(),
    ))
}

/// A place edit; absent fields are left as they are.
#[derive(Deserialize, ToSchema)]
pub struct PlaceBody {
    /// A new name (empty removes it).
    name: Option<String>,
    /// `home`, `work`, `study` or `other`.
    label: Option<String>,
    /// Whether the place is private.
    private: Option<bool>,
}

/// `PATCH /api/places/{id}`.
#[utoipa::path(patch, path = "/api/places/{id}", params(("id" = i64, Path, description = "place id")), request_body = PlaceBody, tag = "places",
    responses((status = 200, body = PlaceView), (status = 404, description = "no such place of yours")))]
pub async fn patch_place(
    State(state): State<AppState>,
    session: ApiSession,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Json(body): Json<PlaceBody>,
) -> Result<Json<PlaceView>, ApiError> {
    let account = session.writer(&headers)?;
    let edit = place_edit(body.name.as_deref(), body.label.as_deref(), body.private)?;
    Ok(Json(
        apply_place_edit(&state, account, id, &edit).await?.into(),
    ))
}

/// `DELETE /api/places/{id}`.
#[utoipa::path(delete, path = "/api/places/{id}", params(("id" = i64, Path, description = "place id")), tag = "places",
    responses((status = 204, description = "deleted"), (status = 404, description = "no such place of yours")))]
pub async fn delete_place(
    State(state): State<AppState>,
    session: ApiSession,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<axum::http::StatusCode, ApiError> {
    remove_place(&state, session.writer(&headers)?, id).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// `?year=`.
#[derive(Deserialize, IntoParams)]
pub struct YearQuery {
    /// Calendar year (default: this year).
    year: Option<i64>,
}

/// `GET /api/bike-days`.
#[utoipa::path(get, path = "/api/bike-days", params(YearQuery), tag = "bike days", responses((status = 200, body = BikeDays)))]
pub async fn get_bike_days(
    State(state): State<AppState>,
    session: ApiSession,
    Query(query): Query<YearQuery>,
) -> Result<Json<BikeDays>, ApiError> {
    let store = state.citizens.store(session.account()).await?;
    Ok(Json(
        views::bike_days(&store, query.year.unwrap_or_else(views::this_year)).await?,
    ))
}

/// The bike-days settings.
#[derive(Deserialize, ToSchema)]
pub struct BikeSettingsBody {
    /// Days aimed for in a year.
    target: u32,
    /// Name on the attestation.
    name: String,
    /// Employer on the attestation.
    employer: String,
}

/// `PUT /api/bike-days/settings`.
#[utoipa::path(put, path = "/api/bike-days/settings", request_body = BikeSettingsBody, tag = "bike days", responses((status = 204, description = "saved")))]
pub async fn put_bike_settings(
    State(state): State<AppState>,
    session: ApiSession,
    headers: HeaderMap,
    Json(body): Json<BikeSettingsBody>,
) -> Result<axum::http::StatusCode, ApiError> {
    save_bike_settings(
        &state,
        session.writer(&headers)?,
        body.target,
        &body.name,
        &body.employer,
    )
    .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// `GET /api/bike-days/attestation.pdf`.
#[utoipa::path(get, path = "/api/bike-days/attestation.pdf", params(YearQuery), tag = "bike days", responses((status = 200, description = "the attestation", content_type = "application/pdf")))]
pub async fn get_attestation(
    State(state): State<AppState>,
    session: ApiSession,
    Query(query): Query<YearQuery>,
) -> Result<Response, ApiError> {
    let year = query.year.unwrap_or_else(views::this_year);
    Ok(attestation_pdf(&state, session.account(), year, session.0.lang()).await?)
}

/// An import as listed.
#[derive(Serialize, ToSchema)]
pub struct ImportView {
    /// Batch id (to undo it).
    id: i64,
    /// File, archive member, or live source and day.
    source_name: String,
    /// Format name.
    format: String,
    /// When (RFC 3339).
    imported_at: String,
    /// Fixes stored for the first time.
    accepted: u64,
    /// Fixes already present.
    duplicates: u64,
    /// Records refused, all reasons.
    rejected: u64,
}

/// `GET /api/imports`.
#[utoipa::path(get, path = "/api/imports", tag = "data", responses((status = 200, body = [ImportView])))]
pub async fn get_imports(
    State(state): State<AppState>,
    session: ApiSession,
) -> Result<Json<Vec<ImportView>>, ApiError> {
    let store = state.citizens.store(session.account()).await?;
    Ok(Json(
        store
            .imports()
            .await?
            .into_iter()
            .map(|b| ImportView {
                id: b.id,
                source_name: b.source_name,
                format: b.format.as_str().to_owned(),
                imported_at: b.imported_at.to_rfc3339(),
                accepted: b.counts.accepted,
                duplicates: b.counts.duplicates,
                rejected: b.counts.rejected_total(),
            })
            .collect(),
    ))
}

/// `?filename=` of an upload.
#[derive(Deserialize, IntoParams)]
pub struct UploadQuery {
    /// The file's name (its extension helps recognise archives).
    filename: String,
}

/// What an upload did.
#[derive(Serialize, ToSchema)]
pub struct UploadResult {
    /// Fixes stored.
    accepted: u64,
    /// Fixes already present.
    duplicates: u64,
    /// Records refused.
    rejected: u64,
    /// Trips in the diary afterwards.
    trips: usize,
    /// The local date of the most recent trip (to show it).
    latest_day: String,
}

/// `POST /api/imports?filename=`: the body is the file (Takeout archive,
/// GPX…). Imported in one transaction, then analysed.
#[utoipa::path(post, path = "/api/imports", params(UploadQuery), request_body(content = Vec<u8>, content_type = "application/octet-stream"), tag = "data",
    responses((status = 200, body = UploadResult), (status = 400, description = "not a location history file; the message names the file and offset")))]
pub async fn post_import(
    State(state): State<AppState>,
    session: ApiSession,
    headers: HeaderMap,
    Query(query): Query<UploadQuery>,
    body: Body,
) -> Result<Json<UploadResult>, ApiError> {
    let account = session.writer(&headers)?.clone();
    let file_name = safe_file_name(&query.filename);
    let folder = state
        .config
        .data_dir
        .join("uploads")
        .join(crate::secrets::Token::generate().as_str());
    tokio::fs::create_dir_all(&folder).await.map_err(internal)?;
    let path = folder.join(&file_name);
    let outcome = receive_and_import(&state, &account, &path, body).await;
    // The upload is plaintext on disk until here: remove it whatever happened.
    let _ = tokio::fs::remove_dir_all(&folder).await;
    Ok(Json(outcome?))
}

async fn receive_and_import(
    state: &AppState,
    account: &Account,
    path: &std::path::Path,
    body: Body,
) -> Result<UploadResult, HubError> {
    let mut file = tokio::fs::File::create(path).await.map_err(internal)?;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| HubError::BadRequest(format!("upload interrupted: {e}")))?;
        file.write_all(&chunk).await.map_err(internal)?;
    }
    file.flush().await.map_err(internal)?;
    drop(file);
    let store = state.citizens.store(account).await?;
    let options = sillage_import::ImportOptions {
        rules: ValidationRules::for_import_now(),
        default_device: None,
    };
    let report = sillage_import::import_paths(&store, &[path.to_owned()], &options, Arc::default())
        .await
        .map_err(|e| match e {
            sillage_import::ImportError::Store(e) => HubError::from(e),
            other => HubError::BadRequest(other.to_string()),
        })?;
    let totals = report.totals();
    let summary = state.citizens.refresh(account).await?;
    Ok(UploadResult {
        accepted: totals.accepted,
        duplicates: totals.duplicates,
        rejected: totals.rejected_total(),
        trips: summary.trips,
        latest_day: views::latest_day(&store).await?,
    })
}

/// The last path component, restricted to harmless characters.
fn safe_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(120)
        .collect();
    let clean = clean.trim_start_matches('.');
    if clean.is_empty() {
        "upload".to_owned()
    } else {
        clean.to_owned()
    }
}

fn internal(error: impl std::fmt::Display) -> HubError {
    HubError::Internal(error.to_string())
}

/// `DELETE /api/imports/{id}`: undoes an import.
#[utoipa::path(delete, path = "/api/imports/{id}", params(("id" = i64, Path, description = "batch id")), tag = "data",
    responses((status = 200, description = "fixes removed", body = u64), (status = 404, description = "no such import of yours")))]
pub async fn delete_import(
    State(state): State<AppState>,
    session: ApiSession,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Json<u64>, ApiError> {
    Ok(Json(undo(&state, session.writer(&headers)?, id).await?))
}

/// `GET /api/devices`.
#[utoipa::path(get, path = "/api/devices", tag = "devices", responses((status = 200, body = [Device])))]
pub async fn get_devices(
    State(state): State<AppState>,
    session: ApiSession,
) -> Result<Json<Vec<Device>>, ApiError> {
    Ok(Json(state.registry.devices(session.account().id).await?))
}

/// A new device.
#[derive(Deserialize, ToSchema)]
pub struct DeviceBody {
    /// Its name (1–64 characters).
    label: String,
}

/// A device and its token, shown once.
#[derive(Serialize, ToSchema)]
pub struct NewDevice {
    /// The device.
    device: Device,
    /// Its token: the HTTP Basic password for OwnTracks, `?token=` for
    /// Overland and GPSLogger, the device `id` for Traccar Client.
    token: String,
    /// The endpoints, by app.
    endpoints: std::collections::BTreeMap<String, String>,
}

/// `POST /api/devices`.
#[utoipa::path(post, path = "/api/devices", request_body = DeviceBody, tag = "devices", responses((status = 200, body = NewDevice), (status = 409, description = "name taken")))]
pub async fn post_device(
    State(state): State<AppState>,
    session: ApiSession,
    headers: HeaderMap,
    Json(body): Json<DeviceBody>,
) -> Result<Json<NewDevice>, ApiError> {
    let account = session.writer(&headers)?;
    let (device, token) = new_device(&state, account, &body.label).await?;
    let base = state.config.public_url();
    let endpoints = ["owntracks", "overland", "gpslogger", "traccar"]
        .into_iter()
        .map(|app| (app.to_owned(), format!("{base}/ingest/{app}")))
        .collect();
    Ok(Json(NewDevice {
        device,
        token: token.as_str().to_owned(),
        endpoints,
    }))
}

/// `DELETE /api/devices/{id}`: revokes the device's token.
#[utoipa::path(delete, path = "/api/devices/{id}", params(("id" = i64, Path, description = "device id")), tag = "devices",
    responses((status = 204, description = "revoked"), (status = 404, description = "no such device of yours")))]
pub async fn delete_device(
    State(state): State<AppState>,
    session: ApiSession,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<axum::http::StatusCode, ApiError> {
    state
        .registry
        .remove_device(session.writer(&headers)?.id, id)
        .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// `GET /api/export`: everything, as a ZIP (GDPR Art. 20).
#[utoipa::path(get, path = "/api/export", tag = "data", responses((status = 200, description = "ZIP archive; its README.md documents every file", content_type = "application/zip")))]
pub async fn get_export(
    State(state): State<AppState>,
    session: ApiSession,
) -> Result<Response, ApiError> {
    let store = state.citizens.store(session.account()).await?;
    let archive = sillage_export::write_archive(&store, std::io::Cursor::new(Vec::new()))
        .await
        .map_err(internal)?
        .into_inner();
    let date = crate::clock::local_date(Timestamp::now());
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"sillage-{}-{date}.zip\"",
                    session.account().name
                ),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        archive,
    )
        .into_response())
}

/// Confirmation of account deletion.
#[derive(Deserialize, ToSchema)]
pub struct DeleteBody {
    /// The account name, typed again.
    confirm: String,
}

/// `DELETE /api/account`: deletes the account, its devices, sessions and
/// store files.
#[utoipa::path(delete, path = "/api/account", request_body = DeleteBody, tag = "data",
    responses((status = 204, description = "everything is gone"), (status = 400, description = "confirmation does not match")))]
pub async fn delete_account(
    State(state): State<AppState>,
    session: ApiSession,
    headers: HeaderMap,
    Json(body): Json<DeleteBody>,
) -> Result<axum::http::StatusCode, ApiError> {
    let account = session.writer(&headers)?;
    if body.confirm != account.name {
        return Err(HubError::BadRequest("confirm: type the account name".into()).into());
    }
    state.citizens.delete(&state.registry, account).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// The hub's anonymous-token issuer.
#[derive(Serialize, ToSchema)]
pub struct IssuerKey {
    /// RSA public key (DER, SPKI), base64url: what the city puts in a
    /// campaign's `token_issuer_key`.
    #[schema(value_type = String)]
    public_key: sillage_dap::bytes::Bytes,
}

/// `GET /api/token-issuer`: public, for the city designing a campaign.
#[utoipa::path(get, path = "/api/token-issuer", tag = "campaigns", responses((status = 200, body = IssuerKey)))]
pub async fn get_token_issuer(State(state): State<AppState>) -> Result<Json<IssuerKey>, ApiError> {
    Ok(Json(IssuerKey {
        public_key: state.tokens.public_key(&state).await?,
    }))
}

/// A blinded token request for one aggregation task.
#[derive(Deserialize, ToSchema)]
pub struct TokenBody {
    /// The task (base64url, 32 bytes).
    #[schema(value_type = String)]
    task_id: sillage_dap::task::TaskId,
    /// The blinded message (RFC 9474), base64url.
    #[schema(value_type = String)]
    blinded: sillage_dap::bytes::Bytes,
}

/// The blind signature to unblind into the token.
#[derive(Serialize, ToSchema)]
pub struct TokenAnswer {
    /// base64url.
    #[schema(value_type = String)]
    blind_signature: sillage_dap::bytes::Bytes,
}

/// `POST /api/tokens`: one anonymous token per consenting citizen per task.
#[utoipa::path(post, path = "/api/tokens", request_body = TokenBody, tag = "campaigns",
    responses((status = 200, body = TokenAnswer), (status = 403, description = "no consent to the campaign"),
        (status = 404, description = "no published campaign has this task"), (status = 409, description = "already issued, wave closed, or another hub's campaign")))]
pub async fn post_token(
    State(state): State<AppState>,
    session: ApiSession,
    headers: HeaderMap,
    Json(body): Json<TokenBody>,
) -> Result<Json<TokenAnswer>, ApiError> {
    let account = session.writer(&headers)?;
    let blind_signature = state
        .tokens
        .issue(&state, account, &body.task_id, &body.blinded)
        .await?;
    Ok(Json(TokenAnswer { blind_signature }))
}

/// A campaign in the citizen's inbox.
#[derive(Serialize, ToSchema)]
pub struct CampaignItem {
    /// Campaign id.
    pub id: String,
    /// Title in the citizen's language.
    pub title: String,
    /// Who asks.
    pub controller: String,
    /// The citizen's consent state (`requested`, `given`, `refused`…).
    pub state: String,
}

/// `GET /api/campaigns`: the campaigns published here, with the citizen's answer.
#[utoipa::path(get, path = "/api/campaigns", tag = "campaigns", responses((status = 200, body = [CampaignItem])))]
pub async fn get_campaigns(
    State(state): State<AppState>,
    session: ApiSession,
) -> Result<Json<Vec<CampaignItem>>, ApiError> {
    Ok(Json(
        crate::campaigns::inbox_items(&state, &session.0).await?,
    ))
}

/// A consent answer.
#[derive(Deserialize, ToSchema)]
pub struct ConsentBody {
    /// `given`, `refused`, `deferred` or `withdrawn`.
    state: String,
}

/// `POST /api/campaigns/{id}/consent`: records the citizen's answer (ISO/IEC
/// TS 27560 record with the notice shown) in their store; returns the record.
#[utoipa::path(post, path = "/api/campaigns/{id}/consent", params(("id" = String, Path, description = "campaign id")), request_body = ConsentBody, tag = "campaigns",
    responses((status = 200, description = "the consent record"), (status = 400, description = "not a possible answer from the current state"), (status = 404, description = "no such campaign")))]
pub async fn post_consent(
    State(state): State<AppState>,
    session: ApiSession,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<ConsentBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    session.writer(&headers)?;
    let record = crate::campaigns::record_answer(&state, &session.0, &id, &body.state).await?;
    Ok(Json(record))
}

/// Who is signed in, and the token API writes must send.
#[derive(Serialize, ToSchema)]
pub struct Me {
    /// Account name.
    name: String,
    /// Interface language.
    lang: String,
    /// Send as `X-CSRF-Token` with every write.
    csrf_token: String,
}

/// `GET /api/me`.
#[utoipa::path(get, path = "/api/me", tag = "account", responses((status = 200, body = Me), (status = 401, description = "login required")))]
pub async fn get_me(session: ApiSession) -> Json<Me> {
    Json(Me {
        name: session.account().name.clone(),
        lang: session.account().lang.clone(),
        csrf_token: session.0.session.csrf_token.clone(),
    })
}

/// The OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Sillage citizen API",
        description = "Everything the citizen's pages do. Authenticate with the session cookie of /login; send the session's CSRF token (GET /api/me) as X-CSRF-Token with every write. Tracker apps use /ingest/* with a device token instead. The city's portal uses /api/city/* without a session: the city's Ed25519 signature authenticates what it sends."
    ),
    paths(
        get_me,
        get_day,
        get_day_geojson,
        get_trip,
        get_trip_geojson,
        post_correction,
        get_dashboard,
        get_places,
        patch_place,
        delete_place,
        get_bike_days,
        put_bike_settings,
        get_attestation,
        get_imports,
        post_import,
        delete_import,
        get_devices,
        post_device,
        delete_device,
        get_export,
        delete_account,
        crate::city::post_campaign,
        crate::city::post_results
    )
)]
pub struct ApiDoc;

/// `GET /api/openapi.json`.
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
