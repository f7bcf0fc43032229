//! What the city's portal pushes to the hub over HTTP: its signed
//! campaigns, and the results released to it, signed.
//!
//! No citizen session is involved: the city's Ed25519 signature is the
//! authentication, checked against the keys the hub's operator trusts
//! ([`crate::HubConfig::city_keys`]). Without any trusted key both routes
//! refuse everything. A signed document can be replayed by whoever saw it,
//! so neither route lets a replay change anything: a campaign version once
//! replaced by a newer one is refused, and a task's result is recorded once.

use crate::AppState;
use crate::error::{ApiError, HubError};
use axum::Json;
use axum::body::Bytes as Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::Serialize;
use sillage_campaign::{SignedCampaign, SpecError};
use sillage_dap::bytes::Bytes;
use sillage_model::Timestamp;
use utoipa::ToSchema;

/// The header carrying the city's signature of a results body
/// ([`sillage_campaign::CitySigningKey::sign_document`]), as base64url text
/// ([`Bytes::to_text`]).
pub const SIGNATURE_HEADER: &str = "Sillage-Signature";

/// The keys the hub trusts, or a refusal when it trusts none.
fn city_keys(state: &AppState) -> Result<&[Bytes], HubError> {
    let keys = state.config.city_keys.as_slice();
    if keys.is_empty() {
        return Err(HubError::Forbidden(
            "this hub trusts no city key, so it accepts nothing a city sends: \
             its operator must start it with --city-key"
                .into(),
        ));
    }
    Ok(keys)
}

/// The body as text, or why not.
fn utf8<'a>(body: &'a [u8], expected: &str) -> Result<&'a str, HubError> {
    std::str::from_utf8(body)
        .map_err(|_| HubError::BadRequest(format!("expected {expected}: the body is not UTF-8")))
}

/// A campaign the hub now shows its citizens.
#[derive(Serialize, ToSchema)]
pub struct PublishedCampaign {
    /// The campaign's id.
    pub id: String,
}

/// `POST /api/city/campaigns`: a campaign signed by a city this hub trusts
/// (the JSON `sillage campaign publish` takes) is shown to its citizens. A
/// new version of a campaign replaces the one published; sending the very
/// same signed campaign again changes nothing; a version once replaced is
/// refused.
#[utoipa::path(post, path = "/api/city/campaigns", tag = "city",
    request_body(content = String, content_type = "application/json",
        description = "a signed campaign: {\"spec\": the exact JSON text signed, \"signature\": base64url, \"signer\": the city's public key, base64url}"),
    responses((status = 201, body = PublishedCampaign, description = "published"),
        (status = 200, body = PublishedCampaign, description = "the very same campaign was already published"),
        (status = 400, description = "not a signed campaign, expired, or invalid"),
        (status = 403, description = "no trusted city key, or the signature does not verify with one"),
        (status = 409, description = "this version of the campaign was replaced by a newer one")))]
pub async fn post_campaign(
    State(state): State<AppState>,
    body: Body,
) -> Result<(StatusCode, Json<PublishedCampaign>), ApiError> {
    let keys = city_keys(&state)?;
    let expected = "a signed campaign (JSON with \"spec\", \"signature\" and \"signer\")";
    let text = utf8(&body, expected)?;
    let signed: SignedCampaign = serde_json::from_str(text)
        .map_err(|e| HubError::BadRequest(format!("expected {expected}: {e}")))?;
    let now = (Timestamp::now().0 / 1000) as u64;
    let spec = sillage_campaign::verify(&signed, keys, now).map_err(|e| match e {
        SpecError::Unsigned | SpecError::UnknownSigner | SpecError::Tampered => {
            HubError::Forbidden(e.to_string())
        }
        SpecError::Expired(_) | SpecError::Invalid(_) => HubError::BadRequest(e.to_string()),
    })?;
    // A signed campaign can be replayed by whoever saw it: a version the
    // city has since replaced must not come back.
    if state
        .registry
        .campaign_superseded(&spec.id, &signed.signature)
        .await?
    {
        return Err(HubError::Conflict(format!(
            "this version of campaign {} was replaced by a newer one: it cannot be published again",
            spec.id
        ))
        .into());
    }
    let current = state.registry.campaign(&spec.id).await?;
    let current = current.and_then(|json| serde_json::from_str::<SignedCampaign>(&json).ok());
    if let Some(current) = &current {
        // Only the city that published a campaign may replace it.
        if current.signer != signed.signer {
            return Err(HubError::Forbidden(format!(
                "campaign {} was published by another city's key: it cannot be replaced with this one",
                spec.id
            ))
            .into());
        }
        if current.signature == signed.signature {
            return Ok((StatusCode::OK, Json(PublishedCampaign { id: spec.id })));
        }
    }
    state.registry.publish_campaign(&spec.id, text).await?;
    Ok((StatusCode::CREATED, Json(PublishedCampaign { id: spec.id })))
}

/// How many released results were recorded.
#[derive(Serialize, ToSchema)]
pub struct RecordedResults {
    /// Releases in the body (a task's result already recorded stays as it
    /// was).
    pub recorded: usize,
}

/// `POST /api/city/results`: the results released to the city (its
/// portal's `results.json`), signed by the city over the exact body, are
/// shown to the citizens of the campaigns published here.
#[utoipa::path(post, path = "/api/city/results", tag = "city",
    params(("Sillage-Signature" = String, Header, description = "the city's Ed25519 signature of the body (document signature), base64url")),
    request_body(content = String, content_type = "application/json",
        description = "the portal's results.json: an array of releases (task, campaign, wave and measurement ids, and the published result)"),
    responses((status = 200, body = RecordedResults),
        (status = 400, description = "not the portal's results.json, or a release does not match a campaign published here"),
        (status = 403, description = "no trusted city key, or a missing or wrong signature")))]
pub async fn post_results(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<RecordedResults>, ApiError> {
    let keys = city_keys(&state)?;
    let signature = headers
        .get(SIGNATURE_HEADER)
        .ok_or_else(|| {
            HubError::Forbidden(format!(
                "missing {SIGNATURE_HEADER} header: expected the city's signature of the body"
            ))
        })?
        .to_str()
        .ok()
        .and_then(|text| Bytes::from_text(text.trim()))
        .ok_or_else(|| {
            HubError::Forbidden(format!(
                "{SIGNATURE_HEADER}: expected the signature as base64url text"
            ))
        })?;
    // The signature covers the bytes as received, before anything reads them.
    sillage_campaign::verify_document(keys, &body, &signature)
        .map_err(|e| HubError::Forbidden(e.to_string()))?;
    let signer = keys
        .iter()
        .find(|key| {
            sillage_campaign::verify_document(std::slice::from_ref(key), &body, &signature).is_ok()
        })
        .ok_or_else(|| HubError::Forbidden("no trusted key verifies the signature".into()))?;
    let text = utf8(&body, "the portal's results.json")?;
    // Each city speaks for its own campaigns only.
    let named: Vec<serde_json::Value> = serde_json::from_str(text).unwrap_or_default();
    for campaign_id in named.iter().filter_map(|r| r["campaign_id"].as_str()) {
        let published = state.registry.campaign(campaign_id).await?;
        let published =
            published.and_then(|json| serde_json::from_str::<SignedCampaign>(&json).ok());
        if published.is_some_and(|p| &p.signer != signer) {
            return Err(HubError::Forbidden(format!(
                "campaign {campaign_id} was published by another city's key: its results must be signed by that key"
            ))
            .into());
        }
    }
    let recorded = crate::campaigns::accept_results(&state, text).await?;
    Ok(Json(RecordedResults { recorded }))
}
