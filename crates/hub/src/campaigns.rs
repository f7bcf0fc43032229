//! The citizen's side of campaigns in the app: the inbox, the consent
//! screen generated from the signed spec, the preview of exactly what would
//! leave (with trips the citizen leaves out), sending, withdrawal, the
//! consent receipt, and the transparency log with the privacy budget.

use crate::AppState;
use crate::api::CampaignItem;
use crate::auth::CitizenSession;
use crate::error::HubError;
use crate::i18n::Tr;
use crate::pages::{Nav, render};
use crate::registry::Account;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use sillage_campaign::consent::{self, ConsentState, DEFAULT_YEARLY_EPSILON};
use sillage_campaign::{CampaignSpec, Wave};
use sillage_collector::PublishedResult;
use sillage_model::Timestamp;

crate::signed_in_pages!(CampaignPage, PreviewPage);

fn now_s() -> u64 {
    (Timestamp::now().0 / 1000) as u64
}

/// The pseudonymous principal of consent records: stable per citizen and
/// campaign, meaningless elsewhere.
pub fn principal(account: &Account, campaign_id: &str) -> String {
    let digest = Sha256::digest(format!(
        "sillage-principal\0{}\0{campaign_id}",
        account.name
    ));
    crate::keys::hex(&digest[..16])
}

async fn campaign(state: &AppState, id: &str) -> Result<CampaignSpec, HubError> {
    crate::tokens::published_campaigns(state)
        .await?
        .into_iter()
        .find(|s| s.id == id)
        .ok_or(HubError::NotFound("campaign"))
}

/// One result as the city's portal lists them (`results.json`).
#[derive(Deserialize)]
struct ReleasedByCity {
    task_id: String,
    campaign_id: String,
    wave_id: String,
    measurement_id: String,
    result: PublishedResult,
}

/// Records the results the city released (its portal's `results.json`: a
/// JSON array) for campaigns published here, so that citizens see how
/// their data was used. Each must name a campaign, wave and measurement
/// of a published campaign and its task; returns how many were recorded.
pub async fn accept_results(state: &AppState, json: &str) -> Result<usize, HubError> {
    let releases: Vec<ReleasedByCity> = serde_json::from_str(json).map_err(|e| {
        HubError::BadRequest(format!(
            "results: expected the portal's results.json (an array of releases): {e}"
        ))
    })?;
    for (k, release) in releases.iter().enumerate() {
        let spec = campaign(state, &release.campaign_id).await.map_err(|_| {
            HubError::BadRequest(format!(
                "results[{k}]: campaign {:?} is not published here",
                release.campaign_id
            ))
        })?;
        let wave = spec.waves.iter().find(|w| w.id == release.wave_id);
        let measurement = spec
            .measurements
            .iter()
            .find(|m| m.id == release.measurement_id);
        let (Some(wave), Some(measurement)) = (wave, measurement) else {
            return Err(HubError::BadRequest(format!(
                "results[{k}]: no wave {:?} or measurement {:?} in {}",
                release.wave_id, release.measurement_id, spec.id
            )));
        };
        if spec.task_id(wave, measurement).to_string() != release.task_id
            || release.result.cells.len() != measurement.spec.len()
        {
            return Err(HubError::BadRequest(format!(
                "results[{k}]: task or cells do not match the campaign's {} / {}",
                wave.id, measurement.id
            )));
        }
    }
    for release in &releases {
        state
            .registry
            .publish_result(&crate::registry::CampaignResult {
                task_id: release.task_id.clone(),
                campaign_id: release.campaign_id.clone(),
                wave_id: release.wave_id.clone(),
                measurement_id: release.measurement_id.clone(),
                result_json: serde_json::to_string(&release.result).map_err(internal)?,
            })
            .await?;
    }
    Ok(releases.len())
}

/// What the city published for a measurement, in the citizen's words.
struct ResultBlock {
    title: String,
    summary: String,
    cells: Vec<String>,
    suppressed: String,
}

/// The released results of `spec`, biggest cells first (at most 12 per
/// measurement), each with its 95 % interval.
async fn result_blocks(
    state: &AppState,
    spec: &CampaignSpec,
    t: &Tr,
) -> Result<Vec<ResultBlock>, HubError> {
    let lang = t.code();
    let mut blocks = Vec::new();
    for stored in state.registry.results(&spec.id).await? {
        let Some(measurement) = spec
            .measurements
            .iter()
            .find(|m| m.id == stored.measurement_id)
        else {
            continue;
        };
        let result: PublishedResult =
            serde_json::from_str(&stored.result_json).map_err(internal)?;
        let mut released: Vec<(i64, String)> = result
            .cells
            .iter()
            .enumerate()
            .filter_map(|(index, cell)| {
                let (value, (low, high)) = (cell.value?, cell.interval_95?);
                let words = measurement
                    .spec
                    .label(index)
                    .describe(value.max(0) as u64, lang);
                Some((value, format!("{words} [{}–{high}]", low.max(0))))
            })
            .collect();
        released.sort_by_key(|cell| std::cmp::Reverse(cell.0));
        let hidden = result.cells.len() - released.len();
        blocks.push(ResultBlock {
            title: format!("{} — {}", measurement.title.get(lang), stored.wave_id),
            summary: t
                .s("campaign.result_summary")
                .replacen("{}", &result.contributors.to_string(), 1)
                .replacen(
                    "{}",
                    &result.epsilon.map_or("—".into(), |e| e.to_string()),
                    1,
                ),
            cells: released
                .into_iter()
                .take(12)
                .map(|(_, words)| words)
                .collect(),
            suppressed: t.f("campaign.result_suppressed", hidden),
        });
    }
    Ok(blocks)
}

/// The wave accepting contributions now, else the last one that started.
fn current_wave(spec: &CampaignSpec, now: u64) -> Option<&Wave> {
    spec.waves
        .iter()
        .find(|w| (w.start..w.reports_until).contains(&now))
        .or_else(|| spec.waves.iter().rev().find(|w| w.start <= now))
}

fn date(seconds: u64) -> String {
    crate::clock::local_date(Timestamp(seconds as i64 * 1000))
}

fn internal(error: impl std::fmt::Display) -> HubError {
    HubError::Internal(error.to_string())
}

// ---------------------------------------------------------------- inbox

#[derive(Template)]
#[template(path = "campaigns.html")]
struct InboxPage {
    t: Tr,
    nav: Option<Nav>,
    items: Vec<CampaignItem>,
}

/// The citizen's consent to `spec`, moved to `expired` first (a system
/// event, recorded like the citizen's) once the campaign's last wave stopped
/// taking contributions: consent never outlives what it was given for.
async fn current_consent(
    store: &sillage_store::CitizenStore,
    account: &Account,
    spec: &CampaignSpec,
) -> Result<ConsentState, HubError> {
    let current = sillage_contribution::consent_state(store, &spec.id)
        .await
        .map_err(internal)?;
    let over = spec
        .waves
        .iter()
        .map(|w| w.reports_until)
        .max()
        .unwrap_or(0);
    let now = now_s();
    if now < over || current == ConsentState::Expired || current == ConsentState::Refused {
        return Ok(current);
    }
    let principal = principal(account, &spec.id);
    sillage_contribution::answer(store, spec, &principal, "fr", ConsentState::Expired, now)
        .await
        .map_err(internal)?;
    Ok(ConsentState::Expired)
}

/// The campaigns published here, with the citizen's answer to each.
pub async fn inbox_items(
    state: &AppState,
    citizen: &CitizenSession,
) -> Result<Vec<CampaignItem>, HubError> {
    let store = state.citizens.store(&citizen.session.account).await?;
    let lang = citizen.lang().code();
    let mut items = Vec::new();
    for spec in crate::tokens::published_campaigns(state).await? {
        let consent = current_consent(&store, &citizen.session.account, &spec).await?;
        items.push(CampaignItem {
            title: spec.title.get(lang).to_owned(),
            controller: spec.controller.name.clone(),
            state: consent.as_str().to_owned(),
            id: spec.id,
        });
    }
    Ok(items)
}

/// `GET /campaigns`.
pub async fn inbox(
    State(state): State<AppState>,
    citizen: CitizenSession,
) -> Result<Response, HubError> {
    let items = inbox_items(&state, &citizen).await?;
    render(&InboxPage {
        t: Tr(citizen.lang()),
        nav: crate::pages::nav(&citizen, "campaigns", "/campaigns".into()),
        items,
    })
}

// ---------------------------------------------------------------- consent screen

struct WaveLine {
    id: String,
    from: String,
    to: String,
    reports_until: String,
}

#[derive(Template)]
#[template(path = "campaign.html")]
pub(crate) struct CampaignPage {
    t: Tr,
    nav: Option<Nav>,
    id: String,
    title: String,
    notice: Vec<String>,
    notice_hash: String,
    state: String,
    can_give: bool,
    can_refuse: bool,
    can_defer: bool,
    can_withdraw: bool,
    waves: Vec<WaveLine>,
    k: u64,
    open_data: bool,
    retention_months: u32,
    recipients: Vec<String>,
    results: Vec<ResultBlock>,
    took_part: bool,
}

/// `GET /campaigns/{id}`: who asks, why, what is computed, what never
/// leaves, the guarantee, the waves, how to withdraw; the answer buttons.
pub async fn show(
    State(state): State<AppState>,
    citizen: CitizenSession,
    Path(id): Path<String>,
) -> Result<Response, HubError> {
    let spec = campaign(&state, &id).await?;
    let store = state.citizens.store(&citizen.session.account).await?;
    let current = current_consent(&store, &citizen.session.account, &spec).await?;
    let lang = citizen.lang().code();
    let notice = consent::notice(&spec, lang);
    let notice_hash = crate::keys::hex(&Sha256::digest(notice.as_bytes()));
    let results = result_blocks(&state, &spec, &Tr(citizen.lang())).await?;
    let took_part = sillage_contribution::disclosure_log(&store)
        .await
        .map_err(internal)?
        .iter()
        .any(|entry| entry.disclosure.campaign_id == spec.id);
    render(&CampaignPage {
        t: Tr(citizen.lang()),
        nav: crate::pages::nav(&citizen, "campaigns", format!("/campaigns/{id}")),
        title: spec.title.get(lang).to_owned(),
        notice: notice.lines().map(str::to_owned).collect(),
        notice_hash,
        state: current.as_str().to_owned(),
        can_give: current.can_become(ConsentState::Given),
        can_refuse: current.can_become(ConsentState::Refused),
        can_defer: current.can_become(ConsentState::Deferred),
        can_withdraw: current.can_become(ConsentState::Withdrawn),
        waves: spec
            .waves
            .iter()
            .map(|w| WaveLine {
                id: w.id.clone(),
                from: date(w.start),
                to: date(w.end.saturating_sub(1)),
                reports_until: date(w.reports_until.saturating_sub(1)),
            })
            .collect(),
        k: spec.min_contributors,
        open_data: spec.open_data,
        retention_months: spec.retention_months,
        recipients: spec.recipients.clone(),
        results,
        took_part,
        id,
    })
}

/// The answer form.
#[derive(Deserialize)]
pub struct AnswerForm {
    csrf: String,
    state: String,
}

/// `POST /campaigns/{id}/answer`: given, refused, deferred or withdrawn,
/// recorded (ISO/IEC TS 27560) with the notice the citizen just read.
pub async fn answer(
    State(state): State<AppState>,
    citizen: CitizenSession,
    Path(id): Path<String>,
    Form(form): Form<AnswerForm>,
) -> Result<Response, HubError> {
    citizen.check_csrf(&form.csrf)?;
    record_answer(&state, &citizen, &id, &form.state).await?;
    Ok(Redirect::to(&format!("/campaigns/{id}")).into_response())
}

/// Records a citizen's answer to a campaign; returns the record (JSON).
pub async fn record_answer(
    state: &AppState,
    citizen: &CitizenSession,
    id: &str,
    answer: &str,
) -> Result<serde_json::Value, HubError> {
    answer_for(
        state,
        &citizen.session.account,
        id,
        answer,
        citizen.lang().code(),
    )
    .await
}

/// Records `account`'s answer to campaign `id`, with the notice in `lang`;
/// returns the record (JSON). What the consent screen's buttons do.
pub async fn answer_for(
    state: &AppState,
    account: &Account,
    id: &str,
    answer: &str,
    lang: &str,
) -> Result<serde_json::Value, HubError> {
    let spec = campaign(state, id).await?;
    let answer = ConsentState::from_name(answer).ok_or_else(|| {
        HubError::BadRequest(format!(
            "state {answer:?}: expected given, refused, deferred or withdrawn"
        ))
    })?;
    let store = state.citizens.store(account).await?;
    let record = sillage_contribution::answer(
        &store,
        &spec,
        &principal(account, &spec.id),
        lang,
        answer,
        now_s(),
    )
    .await
    .map_err(|e| match e {
        sillage_contribution::ContributionError::Transition { .. } => {
            HubError::BadRequest(e.to_string())
        }
        other => internal(other),
    })?;
    serde_json::to_value(record).map_err(internal)
}

// ---------------------------------------------------------------- preview and send

struct TripLine {
    index: usize,
    when: String,
    km: f64,
    modes: String,
    left_out: bool,
    excluded: Option<String>,
}

struct MeasurementPreview {
    title: String,
    cells: Vec<String>,
    dropped_by_cap: usize,
    cap: u32,
}

#[derive(Template)]
#[template(path = "preview.html")]
pub(crate) struct PreviewPage {
    t: Tr,
    nav: Option<Nav>,
    id: String,
    title: String,
    wave: Option<String>,
    can_send: bool,
    measurements: Vec<MeasurementPreview>,
    trips: Vec<TripLine>,
    left_out: String,
    notice: Option<String>,
}

/// `?exclude=1,4` (trips left out) and `?sent=N` after sending.
#[derive(Deserialize)]
pub struct PreviewQuery {
    exclude: Option<String>,
    sent: Option<usize>,
}

fn parse_excluded(text: Option<&str>) -> Vec<usize> {
    text.unwrap_or("")
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect()
}

/// What the preview and the send share: the wave, the trips, and each
/// measurement's contribution.
struct Computed {
    wave: Option<Wave>,
    trips: Vec<(sillage_model::Trip, sillage_catalogue::ContributableTrip)>,
    contributions: Vec<sillage_catalogue::Contribution>,
}

async fn compute(
    state: &AppState,
    account: &Account,
    spec: &CampaignSpec,
    left_out: &[usize],
) -> Result<Computed, HubError> {
    let store = state.citizens.store(account).await?;
    let wave = current_wave(spec, now_s()).cloned();
    let trips = match &wave {
        Some(w) => {
            sillage_contribution::contributable_trips(
                &store,
                Timestamp(w.start as i64 * 1000),
                Timestamp(w.end as i64 * 1000),
            )
            .await?
        }
        None => Vec::new(),
    };
    // Units over the cap are dropped at random so no kind of trip is
    // always the one left out; the draw is seeded by citizen, campaign and
    // wave so that what is sent is exactly what the preview showed.
    let seed: [u8; 32] = Sha256::digest(format!(
        "sillage-clipping\0{}\0{}",
        principal(account, &spec.id),
        wave.as_ref().map_or("", |w| w.id.as_str())
    ))
    .into();
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::from_seed(seed);
    let contributions = spec
        .measurements
        .iter()
        .map(|m| sillage_contribution::preview(&m.spec, &trips, left_out, &mut rng))
        .collect::<Result<Vec<_>, _>>()
        .map_err(internal)?;
    Ok(Computed {
        wave,
        trips,
        contributions,
    })
}

/// `GET /campaigns/{id}/preview`: exactly what would leave, in words.
pub async fn preview(
    State(state): State<AppState>,
    citizen: CitizenSession,
    Path(id): Path<String>,
    Query(query): Query<PreviewQuery>,
) -> Result<Response, HubError> {
    let spec = campaign(&state, &id).await?;
    let left_out = parse_excluded(query.exclude.as_deref());
    let account = &citizen.session.account;
    let computed = compute(&state, account, &spec, &left_out).await?;
    let t = Tr(citizen.lang());
    let lang = t.code();
    let store = state.citizens.store(account).await?;
    let consent = sillage_contribution::consent_state(&store, &spec.id)
        .await
        .map_err(internal)?;
    let mut exclusions = std::collections::HashMap::new();
    for c in &computed.contributions {
        for (trip, why) in &c.excluded {
            exclusions.entry(*trip).or_insert(*why);
        }
    }
    let measurements = spec
        .measurements
        .iter()
        .zip(&computed.contributions)
        .map(|(m, c)| MeasurementPreview {
            title: m.title.get(lang).to_owned(),
            cells: c
                .vector
                .iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .map(|(cell, n)| m.spec.label(cell).describe(u64::from(*n), lang))
                .collect(),
            dropped_by_cap: c.dropped_by_cap.len(),
            cap: m.spec.cap(),
        })
        .collect();
    let trips = computed
        .trips
        .iter()
        .enumerate()
        .map(|(index, (trip, _))| TripLine {
            index,
            when: format!(
                "{} {}",
                crate::clock::local_date(trip.start),
                crate::clock::local_clock(trip.start)
            ),
            km: (trip.distance_m / 100.0).round() / 10.0,
            modes: trip
                .legs
                .iter()
                .map(|l| t.k("mode", l.mode.as_str()))
                .collect::<Vec<_>>()
                .join(", "),
            left_out: left_out.contains(&index),
            excluded: exclusions
                .get(&index)
                .filter(|why| !matches!(why, sillage_catalogue::Exclusion::ExcludedByCitizen))
                .map(|why| {
                    t.k(
                        "exclusion",
                        serde_json::to_value(why)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_owned))
                            .unwrap_or_default(),
                    )
                }),
        })
        .collect();
    let now = now_s();
    render(&PreviewPage {
        t,
        nav: crate::pages::nav(&citizen, "campaigns", format!("/campaigns/{id}/preview")),
        title: spec.title.get(lang).to_owned(),
        wave: computed.wave.as_ref().map(|w| w.id.clone()),
        can_send: consent.allows_contributions()
            && computed
                .wave
                .as_ref()
                .is_some_and(|w| (w.start..w.reports_until).contains(&now)),
        measurements,
        trips,
        left_out: left_out
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(","),
        notice: query.sent.map(|n| t.f("preview.sent", n)),
        id,
    })
}

/// The send form: the trips left out.
#[derive(Deserialize)]
pub struct SendForm {
    csrf: String,
    #[serde(default)]
    exclude: String,
}

/// `POST /campaigns/{id}/send`: for each measurement of the open wave, the
/// previewed contribution leaves as secret shares with an anonymous token
/// (consent and budget checked, logged before it leaves).
pub async fn send(
    State(state): State<AppState>,
    citizen: CitizenSession,
    Path(id): Path<String>,
    Form(form): Form<SendForm>,
) -> Result<Response, HubError> {
    citizen.check_csrf(&form.csrf)?;
    let left_out = parse_excluded(Some(&form.exclude));
    let sent = send_contributions(&state, &citizen.session.account, &id, &left_out)
        .await?
        .len();
    Ok(Redirect::to(&format!("/campaigns/{id}/preview?sent={sent}")).into_response())
}

/// Sends `account`'s contribution to each measurement of campaign `id`'s
/// open wave, leaving out the trips in `left_out`: what the send button
/// does. Returns what left, per measurement id (the citizen's own copy).
pub async fn send_contributions(
    state: &AppState,
    account: &Account,
    id: &str,
    left_out: &[usize],
) -> Result<Vec<(String, sillage_catalogue::Contribution)>, HubError> {
    let spec = campaign(state, id).await?;
    let computed = compute(state, account, &spec, left_out).await?;
    let wave = computed
        .wave
        .clone()
        .filter(|w| (w.start..w.reports_until).contains(&now_s()))
        .ok_or_else(|| HubError::Conflict("no wave accepts contributions now".into()))?;
    let store = state.citizens.store(account).await?;
    let client = reqwest::Client::new();
    let tasks = spec.tasks();
    let mut sent = Vec::new();
    for (measurement, contribution) in spec.measurements.iter().zip(computed.contributions) {
        let task_id = spec.task_id(&wave, measurement);
        let task = tasks
            .iter()
            .find(|t| t.task_id == task_id)
            .ok_or_else(|| internal("a measurement without its task"))?;
        let request = sillage_dap::token::TokenRequest::new(&task.token_issuer_key, &task_id)
            .map_err(internal)?;
        let blind = state
            .tokens
            .issue(state, account, &task_id, &request.blinded)
            .await?;
        let token = request
            .finalize(&task.token_issuer_key, &blind)
            .map_err(internal)?;
        let disclosing = sillage_contribution::Disclosing {
            campaign_id: &spec.id,
            wave_id: &wave.id,
            measurement_id: &measurement.id,
            epsilon: measurement.epsilon.value(),
            task,
        };
        sillage_contribution::contribute(
            &store,
            &client,
            &disclosing,
            &contribution,
            token,
            now_s(),
            DEFAULT_YEARLY_EPSILON,
        )
        .await
        .map_err(|e| HubError::Conflict(e.to_string()))?;
        sent.push((measurement.id.clone(), contribution));
    }
    Ok(sent)
}

// ---------------------------------------------------------------- receipt and log

#[derive(Template)]
#[template(path = "receipt.html")]
struct ReceiptPage {
    t: Tr,
    nav: Option<Nav>,
    id: String,
    records: Vec<consent::ConsentRecord>,
}

async fn records(
    state: &AppState,
    account: &Account,
    id: &str,
) -> Result<Vec<consent::ConsentRecord>, HubError> {
    let store = state.citizens.store(account).await?;
    store
        .consent_history(Some(id))
        .await?
        .iter()
        .map(|event| serde_json::from_str(&event.record).map_err(internal))
        .collect()
}

/// `GET /campaigns/{id}/receipt`: every consent record of the campaign.
pub async fn receipt(
    State(state): State<AppState>,
    citizen: CitizenSession,
    Path(id): Path<String>,
) -> Result<Response, HubError> {
    let records = records(&state, &citizen.session.account, &id).await?;
    if records.is_empty() {
        return Err(HubError::NotFound("consent record"));
    }
    render(&ReceiptPage {
        t: Tr(citizen.lang()),
        nav: crate::pages::nav(&citizen, "campaigns", format!("/campaigns/{id}/receipt")),
        id,
        records,
    })
}

/// `GET /campaigns/{id}/receipt.json`: the records, signed by the hub
/// (Ed25519 over the records' JSON) so the citizen can prove them.
pub async fn receipt_json(
    State(state): State<AppState>,
    citizen: CitizenSession,
    Path(id): Path<String>,
) -> Result<Response, HubError> {
    let records = records(&state, &citizen.session.account, &id).await?;
    if records.is_empty() {
        return Err(HubError::NotFound("consent record"));
    }
    // Signed in a form anyone can rebuild: compact JSON, keys sorted (as
    // serde_json writes a parsed value), so a verifier re-serialises the
    // `records` it received and checks the signature over that text.
    let records = serde_json::to_value(&records).map_err(internal)?;
    let (signature, public_key) = state
        .receipts
        .sign(&state, records.to_string().as_bytes())
        .await?;
    let receipt = serde_json::json!({
        "records": records,
        "signature": {
            "algorithm": "Ed25519",
            "over": "`records` as compact JSON with object keys sorted",
            "value": signature,
            "public_key": public_key,
        },
    });
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"consent-{id}.json\""),
            ),
        ],
        receipt.to_string(),
    )
        .into_response())
}

struct LogLine {
    time: String,
    campaign: String,
    wave: String,
    measurement: String,
    values: usize,
    recipients: String,
    epsilon: f64,
}

#[derive(Template)]
#[template(path = "transparency.html")]
struct TransparencyPage {
    t: Tr,
    nav: Option<Nav>,
    lines: Vec<LogLine>,
    intact: bool,
    spent: f64,
    cap: f64,
}

/// `GET /transparency`: everything that left, and the budget.
pub async fn transparency(
    State(state): State<AppState>,
    citizen: CitizenSession,
) -> Result<Response, HubError> {
    let store = state.citizens.store(&citizen.session.account).await?;
    let (log, intact) = match sillage_contribution::disclosure_log(&store).await {
        Ok(log) => (log, true),
        Err(sillage_contribution::ContributionError::LogTampered(_)) => (Vec::new(), false),
        Err(other) => return Err(internal(other)),
    };
    let now = now_s();
    render(&TransparencyPage {
        t: Tr(citizen.lang()),
        nav: crate::pages::nav(&citizen, "transparency", "/transparency".into()),
        spent: consent::epsilon_spent(&log, now),
        cap: DEFAULT_YEARLY_EPSILON,
        lines: log
            .iter()
            .rev()
            .map(|e| LogLine {
                time: Timestamp(e.disclosure.time as i64 * 1000).to_rfc3339(),
                campaign: e.disclosure.campaign_id.clone(),
                wave: e.disclosure.wave_id.clone(),
                measurement: e.disclosure.measurement_id.clone(),
                values: e.disclosure.values,
                recipients: e.disclosure.recipients.join(", "),
                epsilon: e.disclosure.epsilon,
            })
            .collect(),
        intact,
    })
}
