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
    let spec = common::cycle_lane(
        &alice,
        1,
        "https://leader.example",
        "https://helper.example",
    )
    .await;
    let issuer_key = spec.token_issuer_key.clone();
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

#[tokio::test]
async fn a_citizen_reads_agrees_previews_sends_withdraws_and_keeps_the_receipt() {
    let hub = TestHub::start().await;
    let zoe = hub.rider("zoe").await;

    // Aggregators that refuse connections: the upload fails, honestly.
    let spec = common::cycle_lane(&zoe, 2, "http://127.0.0.1:9", "http://127.0.0.1:9").await;
    let city = CitySigningKey::generate();
    let signed = serde_json::to_string(&city.sign(&spec).unwrap()).unwrap();
    let config = sillage_hub::HubConfig::new(&hub.data_dir, "127.0.0.1:0".parse().unwrap());
    sillage_hub::publish_campaign(&config, &signed, &city.public_key())
        .await
        .unwrap();

    // The inbox and the consent screen, generated from the signed spec.
    let inbox = zoe.text("/campaigns").await;
    assert!(
        inbox.contains("Où passer la nouvelle piste cyclable ?"),
        "{inbox}"
    );
    assert!(inbox.contains("à décider"));
    let page = zoe.text(&format!("/campaigns/{}", spec.id)).await;
    for expected in [
        "Ville de La Rochelle",
        "Ce qui ne quitte jamais votre espace",
        "au moins 100 personnes",
        "Laboratoire universitaire",
        "J&#39;accepte",
        "Décider plus tard",
    ] {
        assert!(page.contains(expected), "{expected} in the consent screen");
    }
    assert!(!page.contains("id=\"withdraw\""));

    // Preview before any answer: what would leave, in words.
    let preview = zoe.text(&format!("/campaigns/{}/preview", spec.id)).await;
    assert!(preview.contains("1 trajet à vélo"), "{preview}");
    assert!(
        !preview.contains("id=\"send\""),
        "no sending without consent"
    );
    // Leaving the ride out empties the contribution.
    let without = zoe
        .text(&format!("/campaigns/{}/preview?exclude=0", spec.id))
        .await;
    assert!(!without.contains("1 trajet à vélo"));

    // Agree: recorded with the notice; the receipt is signed by the hub.
    let response = zoe
        .form(
            &format!("/campaigns/{}/answer", spec.id),
            &[("state", "given")],
        )
        .await;
    assert_eq!(response.status(), 303);
    let page = zoe.text(&format!("/campaigns/{}", spec.id)).await;
    assert!(page.contains("id=\"withdraw\"") && page.contains("accepté"));
    let receipt = zoe.text(&format!("/campaigns/{}/receipt", spec.id)).await;
    assert!(receipt.contains("ISO/IEC TS 27560") && receipt.contains("pii_principal_id"));
    let principal = receipt
        .split("<dt>pii_principal_id</dt><dd>")
        .nth(1)
        .and_then(|rest| rest.split("</dd>").next())
        .unwrap();
    assert_eq!(
        principal.len(),
        32,
        "a pseudonym, not the name: {principal}"
    );
    let signed_receipt: serde_json::Value = zoe
        .json(&format!("/campaigns/{}/receipt.json", spec.id))
        .await;
    let records = serde_json::to_string(&signed_receipt["records"]).unwrap();
    let public: Bytes =
        serde_json::from_value(signed_receipt["signature"]["public_key"].clone()).unwrap();
    let signature: Bytes =
        serde_json::from_value(signed_receipt["signature"]["value"].clone()).unwrap();
    let key = ed25519_dalek::VerifyingKey::from_bytes(&public.0.try_into().unwrap()).unwrap();
    let signature = ed25519_dalek::Signature::from_slice(&signature.0).unwrap();
    key.verify_strict(records.as_bytes(), &signature)
        .expect("the receipt's signature verifies");
    assert_eq!(signed_receipt["records"][0]["event_state"], "given");

    // Send: the disclosure is logged before it leaves; the aggregator is
    // unreachable, so the citizen is told, and the log shows what was spent.
    let preview = zoe.text(&format!("/campaigns/{}/preview", spec.id)).await;
    assert!(preview.contains("id=\"send\""));
    let sent = zoe
        .form(&format!("/campaigns/{}/send", spec.id), &[("exclude", "")])
        .await;
    assert_eq!(sent.status(), 409);
    let log = zoe.text("/transparency").await;
    assert!(
        log.contains("velo-centre-port-2026") && log.contains("Opérateur public de données"),
        "{log}"
    );
    assert!(
        log.contains("<strong>1.00</strong> / 6"),
        "one ε spent: {log}"
    );

    // Withdraw in one click; the receipt keeps both records.
    zoe.form(
        &format!("/campaigns/{}/answer", spec.id),
        &[("state", "withdrawn")],
    )
    .await;
    let page = zoe.text(&format!("/campaigns/{}", spec.id)).await;
    assert!(page.contains("retiré"), "{page}");
    let signed_receipt: serde_json::Value = zoe
        .json(&format!("/campaigns/{}/receipt.json", spec.id))
        .await;
    let states: Vec<&str> = signed_receipt["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["event_state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["given", "withdrawn"]);
    let preview = zoe.text(&format!("/campaigns/{}/preview", spec.id)).await;
    assert!(
        !preview.contains("id=\"send\""),
        "nothing leaves after withdrawal"
    );
    // A campaign whose waves are over: consent expires by itself.
    let now = (sillage_model::Timestamp::now().0 / 1000) as u64;
    let old = sillage_campaign::example::cycle_lane(
        now - 400 * 86_400,
        AggregatorInfo {
            operator: "Opérateur public de données".into(),
            url: "http://127.0.0.1:9".into(),
            hpke: HpkeKeypair::generate(1).config,
        },
        AggregatorInfo {
            operator: "Laboratoire universitaire".into(),
            url: "http://127.0.0.1:9".into(),
            hpke: HpkeKeypair::generate(1).config,
        },
        HpkeKeypair::generate(2).config,
        Bytes(vec![1, 2, 3]),
    );
    let mut old = old;
    old.id = "velo-2025".into();
    let text = serde_json::to_string(&city.sign(&old).unwrap()).unwrap();
    // Published back when it was current: today `publish` would refuse it.
    assert!(
        sillage_hub::publish_campaign(&config, &text, &city.public_key())
            .await
            .is_err()
    );
    let registry = sqlx::SqlitePool::connect(&format!(
        "sqlite://{}",
        hub.data_dir.join("hub.sqlite").display()
    ))
    .await
    .unwrap();
    sqlx::query("INSERT INTO campaigns (id, signed_json, published_at_ms) VALUES (?, ?, 0)")
        .bind(&old.id)
        .bind(&text)
        .execute(&registry)
        .await
        .unwrap();
    let page = zoe.text("/campaigns/velo-2025").await;
    assert!(page.contains("expiré"), "{page}");
    assert!(
        !page.contains("id=\"give\""),
        "an expired campaign takes no answer"
    );
    let receipt: serde_json::Value = zoe.json("/campaigns/velo-2025/receipt.json").await;
    assert_eq!(receipt["records"][0]["event_state"], "expired");
    // In English too.
    zoe.form("/lang", &[("lang", "en"), ("back", "/campaigns")])
        .await;
    assert!(
        zoe.text("/campaigns")
            .await
            .contains("Where should the new cycle lane go?")
    );
}
