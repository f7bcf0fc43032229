//! #6: the hub issues one anonymous token per consenting citizen per
//! aggregation task, by blind signature, and the token verifies for the
//! leader without naming the citizen.

mod common;

use common::TestHub;
use reqwest::Method;
use serde_json::json;
use sillage_campaign::{AggregatorInfo, CitySigningKey};
use sillage_dap::bytes::Bytes;
use sillage_dap::hpke::HpkeKeypair;
use sillage_dap::token::{TokenRequest, verify_token};

#[tokio::test]
async fn one_token_per_consenting_citizen_per_wave_unlinkable() {
    let hub = TestHub::start().await;
    let alice = hub.signup("alice").await;
    let bob = hub.signup("bob").await;

    // The city designs a campaign with the hub's issuer key and publishes it.
    let issuer: serde_json::Value = alice.json("/api/token-issuer").await;
    let issuer_key: Bytes = serde_json::from_value(issuer["public_key"].clone()).unwrap();
    let aggregator = |operator: &str, url: &str| AggregatorInfo {
        operator: operator.into(),
        url: url.into(),
        hpke: HpkeKeypair::generate(1).config,
    };
    let now = (sillage_model::Timestamp::now().0 / 1000) as u64;
    let spec = sillage_campaign::example::cycle_lane(
        now - 86_400,
        aggregator("Opérateur public de données", "https://leader.example"),
        aggregator("Laboratoire universitaire", "https://helper.example"),
        HpkeKeypair::generate(2).config,
        issuer_key.clone(),
    );
    let city = CitySigningKey::generate();
    let signed = serde_json::to_string(&city.sign(&spec).unwrap()).unwrap();
    let config = sillage_hub::HubConfig::new(&hub.data_dir, "127.0.0.1:0".parse().unwrap());
    let wrong_city = CitySigningKey::generate().public_key();
    assert!(
        sillage_hub::publish_campaign(&config, &signed, &wrong_city)
            .await
            .is_err(),
        "a campaign signed by another key is refused"
    );
    let id = sillage_hub::publish_campaign(&config, &signed, &city.public_key())
        .await
        .unwrap();
    assert_eq!(id, spec.id);
    let task = spec.tasks()[0].clone();

    let request_token = |citizen: &'static common::Citizen| {
        let issuer_key = issuer_key.clone();
        let task_id = task.task_id;
        async move {
            let request = TokenRequest::new(&issuer_key, &task_id).unwrap();
            let response = citizen
                .api(
                    Method::POST,
                    "/api/tokens",
                    Some(json!({"task_id": task_id, "blinded": request.blinded})),
                )
                .await;
            (request, response)
        }
    };
    let alice: &'static common::Citizen = Box::leak(Box::new(alice));
    let bob: &'static common::Citizen = Box::leak(Box::new(bob));

    // No consent yet: refused.
    let (_, response) = request_token(alice).await;
    assert_eq!(response.status(), 403);
    let inbox = alice.json("/api/campaigns").await;
    assert_eq!(inbox[0]["id"], spec.id);
    assert_eq!(inbox[0]["state"], "requested");

    // Consent, then one token.
    let consent = alice
        .api(
            Method::POST,
            &format!("/api/campaigns/{}/consent", spec.id),
            Some(json!({"state": "given"})),
        )
        .await;
    assert_eq!(consent.status(), 200);
    assert_eq!(alice.json("/api/campaigns").await[0]["state"], "given");
    let (request, response) = request_token(alice).await;
    assert_eq!(response.status(), 200);
    let answer: serde_json::Value = response.json().await.unwrap();
    let blind_signature: Bytes = serde_json::from_value(answer["blind_signature"].clone()).unwrap();
    let blinded = request.blinded.clone();
    let token = request.finalize(&issuer_key, &blind_signature).unwrap();
    verify_token(&issuer_key, &task.task_id, &token).unwrap();
    // What the leader will see (nonce, randomizer, signature) shares nothing
    // with what the hub saw (the blinded message and its blind signature).
    assert_ne!(token.signature, blind_signature);
    for seen in [&blinded.0, &blind_signature.0] {
        for shown in [&token.signature.0, &token.nonce.0, &token.randomizer.0] {
            assert!(!contains(seen, &shown[..8]) && !contains(shown, &seen[..8]));
        }
    }

    // A second token for the same task: refused, whatever the request.
    let (_, again) = request_token(alice).await;
    assert_eq!(again.status(), 409);
    // Another task of the campaign is another token.
    let other = spec.tasks()[1].task_id;
    let second = TokenRequest::new(&issuer_key, &other).unwrap();
    let response = alice
        .api(
            Method::POST,
            "/api/tokens",
            Some(json!({"task_id": other, "blinded": second.blinded})),
        )
        .await;
    assert_eq!(response.status(), 200);

    // Bob has his own, once he consents; an unknown task is 404; a write
    // without the CSRF token is refused.
    let (_, response) = request_token(bob).await;
    assert_eq!(response.status(), 403);
    bob.api(
        Method::POST,
        &format!("/api/campaigns/{}/consent", spec.id),
        Some(json!({"state": "given"})),
    )
    .await;
    let (_, response) = request_token(bob).await;
    assert_eq!(response.status(), 200);
    let unknown = bob
        .api(
            Method::POST,
            "/api/tokens",
            Some(json!({"task_id": Bytes(vec![7; 32]), "blinded": Bytes(vec![1; 256])})),
        )
        .await;
    assert_eq!(unknown.status(), 404);

    // Withdrawal stops further tokens.
    bob.api(
        Method::POST,
        &format!("/api/campaigns/{}/consent", spec.id),
        Some(json!({"state": "withdrawn"})),
    )
    .await;
    let request = TokenRequest::new(&issuer_key, &other).unwrap();
    let response = bob
        .api(
            Method::POST,
            "/api/tokens",
            Some(json!({"task_id": other, "blinded": request.blinded})),
        )
        .await;
    assert_eq!(response.status(), 403);
    // The next wave is not open yet.
    let later = spec.tasks()[2].task_id;
    let request = TokenRequest::new(&issuer_key, &later).unwrap();
    let response = alice
        .api(
            Method::POST,
            "/api/tokens",
            Some(json!({"task_id": later, "blinded": request.blinded})),
        )
        .await;
    assert_eq!(response.status(), 409);
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
