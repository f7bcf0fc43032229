//! What the city's portal pushes over HTTP, with no citizen session: a
//! campaign signed by a trusted city reaches the hub's citizens, released
//! results signed by it are recorded; anything unsigned, signed by another
//! key, altered or replayed after a newer version is refused.

mod common;

use common::TestHub;
use serde_json::json;
use sillage_campaign::{CampaignSpec, CitySigningKey};
use sillage_collector::{PublishedCell, PublishedResult};

/// The cycle-lane campaign, open since yesterday, naming the hub's issuer.
async fn campaign(citizen: &common::Citizen) -> CampaignSpec {
    common::cycle_lane(
        citizen,
        1,
        "https://leader.example",
        "https://helper.example",
    )
    .await
}

/// `POST {hub}{path}` with `body` and an optional `Sillage-Signature`;
/// returns the status and the JSON answer.
async fn post(
    hub: &TestHub,
    path: &str,
    body: &str,
    signature: Option<&str>,
) -> (u16, serde_json::Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{}{path}", hub.url))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(signature) = signature {
        request = request.header("Sillage-Signature", signature);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

/// Checks that an answer is a refusal with `status` whose error says `words`.
fn refused((status, answer): (u16, serde_json::Value), expected: u16, words: &str) {
    assert_eq!(status, expected, "{answer}");
    let error = answer["error"].as_str().unwrap_or_default();
    assert!(error.contains(words), "{words:?} not in {error:?}");
}

fn signed_text(city: &CitySigningKey, spec: &CampaignSpec) -> String {
    serde_json::to_string(&city.sign(spec).unwrap()).unwrap()
}

/// The city's portal publishing `spec`, signed by `city`.
async fn publish(
    hub: &TestHub,
    city: &CitySigningKey,
    spec: &CampaignSpec,
) -> (u16, serde_json::Value) {
    post(hub, "/api/city/campaigns", &signed_text(city, spec), None).await
}

/// A city, a hub trusting its key with a citizen, and the city's campaign
/// (not yet published).
async fn trusting_hub() -> (CitySigningKey, TestHub, common::Citizen, CampaignSpec) {
    let city = CitySigningKey::generate();
    let key = city.public_key();
    let hub = TestHub::start_with(|config| config.city_keys = vec![key]).await;
    let alice = hub.signup("alice").await;
    let spec = campaign(&alice).await;
    (city, hub, alice, spec)
}

#[tokio::test]
async fn a_campaign_signed_by_a_trusted_city_reaches_citizens_over_http() {
    let (city, hub, alice, spec) = trusting_hub().await;
    let body = signed_text(&city, &spec);

    // Another city's signature, or an altered text: refused, nothing shown.
    let stranger = signed_text(&CitySigningKey::generate(), &spec);
    let answer = post(&hub, "/api/city/campaigns", &stranger, None).await;
    refused(answer, 403, "unknown key");
    let altered = body.replacen("La Rochelle", "La Rochelle ", 1);
    assert_ne!(altered, body);
    let answer = post(&hub, "/api/city/campaigns", &altered, None).await;
    refused(answer, 403, "altered");
    // Not a signed campaign at all.
    let answer = post(&hub, "/api/city/campaigns", "{\"spec\": 3}", None).await;
    refused(answer, 400, "expected a signed campaign");
    assert_eq!(alice.json("/api/campaigns").await, json!([]));

    // Signed by the trusted city: published, and in the citizen's inbox.
    let (status, answer) = post(&hub, "/api/city/campaigns", &body, None).await;
    assert_eq!((status, answer), (201, json!({ "id": spec.id })));
    let inbox = alice.json("/api/campaigns").await;
    assert_eq!(inbox[0]["id"], spec.id);
    assert_eq!(inbox[0]["state"], "requested");
    // Sent again: nothing changes.
    let (status, _) = post(&hub, "/api/city/campaigns", &body, None).await;
    assert_eq!(status, 200);

    // A new version replaces it; the old one, replayed, is refused.
    let mut amended = spec.clone();
    amended.title.fr = "Où passer la piste cyclable du port ?".into();
    assert_eq!(publish(&hub, &city, &amended).await.0, 201);
    assert_eq!(
        alice.json("/api/campaigns").await[0]["title"],
        "Où passer la piste cyclable du port ?"
    );
    let answer = post(&hub, "/api/city/campaigns", &body, None).await;
    refused(answer, 409, "replaced by a newer one");
    assert_eq!(
        alice.json("/api/campaigns").await[0]["title"],
        "Où passer la piste cyclable du port ?"
    );
}

#[tokio::test]
async fn without_a_trusted_city_key_the_city_routes_refuse_everything() {
    let hub = TestHub::start().await;
    let alice = hub.signup("alice").await;
    let city = CitySigningKey::generate();
    let spec = campaign(&alice).await;
    refused(publish(&hub, &city, &spec).await, 403, "trusts no city key");
    let signature = city.sign_document(b"[]").to_text();
    let answer = post(&hub, "/api/city/results", "[]", Some(&signature)).await;
    refused(answer, 403, "trusts no city key");
    assert_eq!(alice.json("/api/campaigns").await, json!([]));
}

#[tokio::test]
async fn results_signed_by_the_city_are_recorded_and_altered_ones_refused() {
    let (city, hub, alice, spec) = trusting_hub().await;
    assert_eq!(publish(&hub, &city, &spec).await.0, 201);

    // The portal's results.json: one release per measurement of the first
    // wave, every cell 240 ± 12.
    let wave = &spec.waves[0];
    let releases: Vec<serde_json::Value> = spec
        .measurements
        .iter()
        .map(|measurement| {
            let cells = (0..measurement.spec.len())
                .map(|_| PublishedCell {
                    value: Some(240),
                    interval_95: Some((228, 252)),
                    suppressed: false,
                })
                .collect();
            json!({
                "task_id": spec.task_id(wave, measurement).to_string(),
                "campaign_id": spec.id,
                "wave_id": wave.id,
                "measurement_id": measurement.id,
                "result": PublishedResult {
                    contributors: 412,
                    epsilon: Some(1.0),
                    noise_scale: 4.0,
                    noise_sd: 8.0,
                    interval_half_width: 12,
                    suppression_threshold: 10,
                    cells,
                },
            })
        })
        .collect();
    let body = serde_json::to_string(&releases).unwrap();
    let signature = city.sign_document(body.as_bytes()).to_text();

    // Unsigned, signed by another key, garbled, or for other bytes: refused.
    let stranger = CitySigningKey::generate()
        .sign_document(body.as_bytes())
        .to_text();
    let altered = body.replacen("412", "413", 1);
    for (text, signature, words) in [
        (body.as_str(), None, "missing Sillage-Signature"),
        (body.as_str(), Some(stranger.as_str()), "does not match"),
        (body.as_str(), Some("not a signature!"), "base64url"),
        (altered.as_str(), Some(signature.as_str()), "does not match"),
    ] {
        let answer = post(&hub, "/api/city/results", text, signature).await;
        refused(answer, 403, words);
    }
    let page = alice.text(&format!("/campaigns/{}", spec.id)).await;
    assert!(!page.contains("412 participants"), "{page}");

    // Signed by the city, but not results: a plain 400.
    let junk = "{\"results\": []}";
    let junk_signature = city.sign_document(junk.as_bytes()).to_text();
    let answer = post(&hub, "/api/city/results", junk, Some(&junk_signature)).await;
    refused(answer, 400, "expected the portal's results.json");

    // Signed by the city: recorded, and shown to the campaign's citizens.
    let (status, answer) = post(&hub, "/api/city/results", &body, Some(&signature)).await;
    assert_eq!(
        (status, answer),
        (200, json!({ "recorded": spec.measurements.len() }))
    );
    let page = alice.text(&format!("/campaigns/{}", spec.id)).await;
    assert!(page.contains("412 participants"), "{page}");
}

#[tokio::test]
async fn a_city_cannot_replace_or_answer_for_another_citys_campaign() {
    let (city, other) = (CitySigningKey::generate(), CitySigningKey::generate());
    let hub = TestHub::start_with(|config| {
        config.city_keys = vec![city.public_key(), other.public_key()]
    })
    .await;
    let alice = hub.signup("alice").await;
    let spec = campaign(&alice).await;
    assert_eq!(publish(&hub, &city, &spec).await.0, 201);
    // The other trusted city signs a version of the same campaign id.
    let mut hijacked = spec.clone();
    hijacked.title.fr = "Autre chose".into();
    refused(
        publish(&hub, &other, &hijacked).await,
        403,
        "published by another city's key",
    );
    // Nor may it speak for its results.
    let body = json!([{
        "task_id": spec.task_id(&spec.waves[0], &spec.measurements[0]).to_string(),
        "campaign_id": spec.id,
        "wave_id": spec.waves[0].id,
        "measurement_id": spec.measurements[0].id,
        "result": {"contributors": 150, "epsilon": 1.0, "noise_scale": 8.0, "noise_sd": 11.3,
                   "interval_half_width": 31, "suppression_threshold": 10, "cells": []},
        "collected_at": 0,
    }])
    .to_string();
    let signature = other.sign_document(body.as_bytes()).to_text();
    refused(
        post(&hub, "/api/city/results", &body, Some(&signature)).await,
        403,
        "published by another city's key",
    );
}
