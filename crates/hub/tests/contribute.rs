//! A citizen's contribution from the hub's "send" button to two real
//! aggregators on loopback: consent, preview, send; the leader holds one
//! report per measurement, accepted with the hub's anonymous tokens; a
//! second send in the same wave is refused by the hub.

#[path = "../../aggregator/tests/common/mod.rs"]
mod aggregators;
mod common;

use common::TestHub;
use sillage_aggregator::TaskSecrets;
use sillage_campaign::{AggregatorInfo, CitySigningKey};
use sillage_dap::bytes::Bytes;
use sillage_dap::hpke::HpkeKeypair;
use sillage_dap::task::Role;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_send_button_delivers_shares_to_both_aggregators_once_per_wave() {
    let hub = TestHub::start().await;
    let zoe = hub.rider("zoe").await;
    let dir = tempfile::tempdir().unwrap();

    // Two aggregators, each with its own database and HPKE key.
    let leader =
        aggregators::open(dir.path(), Role::Leader, &aggregators::Backend::Sqlite, 7).await;
    let helper =
        aggregators::open(dir.path(), Role::Helper, &aggregators::Backend::Sqlite, 7).await;
    let leader_url = aggregators::serve(leader.clone()).await;
    let helper_url = aggregators::serve(helper.clone()).await;

    // The city's campaign names them and the hub's token issuer.
    let issuer: serde_json::Value = zoe.json("/api/token-issuer").await;
    let issuer_key: Bytes = serde_json::from_value(issuer["public_key"].clone()).unwrap();
    let now = aggregators::now();
    let spec = sillage_campaign::example::cycle_lane(
        now - 2 * 86_400,
        AggregatorInfo {
            operator: "Opérateur public de données".into(),
            url: leader_url,
            hpke: leader.hpke_config(),
        },
        AggregatorInfo {
            operator: "Laboratoire universitaire".into(),
            url: helper_url,
            hpke: helper.hpke_config(),
        },
        HpkeKeypair::generate(2).config,
        issuer_key,
    );
    for task in spec.tasks() {
        let secrets = TaskSecrets::generate();
        leader
            .provision(task.clone(), secrets.clone())
            .await
            .unwrap();
        helper
            .provision(
                task,
                TaskSecrets {
                    collector_token: None,
                    ..secrets
                },
            )
            .await
            .unwrap();
    }
    let city = CitySigningKey::generate();
    let signed = serde_json::to_string(&city.sign(&spec).unwrap()).unwrap();
    let config = sillage_hub::HubConfig::new(&hub.data_dir, "127.0.0.1:0".parse().unwrap());
    sillage_hub::publish_campaign(&config, &signed, &city.public_key())
        .await
        .unwrap();

    // Consent, then send from the preview page.
    zoe.form(
        &format!("/campaigns/{}/answer", spec.id),
        &[("state", "given")],
    )
    .await;
    let preview = zoe.text(&format!("/campaigns/{}/preview", spec.id)).await;
    assert!(preview.contains("1 trajet à vélo"), "{preview}");
    let sent = zoe
        .form(&format!("/campaigns/{}/send", spec.id), &[("exclude", "")])
        .await;
    assert_eq!(sent.status(), 303);
    let location = sent.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.ends_with("sent=2"), "{location}");
    assert!(zoe.text(&location).await.contains("Contribution envoyée"));

    // The leader holds one report per measurement of the open wave.
    let wave = &spec.waves[0];
    for measurement in &spec.measurements {
        let task = spec.task_id(wave, measurement);
        let status = leader.status(&task).await.unwrap();
        assert_eq!(
            status.pending + status.aggregated,
            1,
            "{}: {status:?}",
            measurement.id
        );
        assert!(status.refused_uploads.is_empty(), "{status:?}");
    }

    // Two disclosures in the log, 1.5 ε spent of 6.
    let log = zoe.text("/transparency").await;
    assert!(log.contains("<strong>1.50</strong> / 6"), "{log}");
    assert_eq!(log.matches("velo-centre-port-2026 / ").count(), 2, "{log}");

    // Once per wave: the hub refuses a second token, nothing more leaves.
    let again = zoe
        .form(&format!("/campaigns/{}/send", spec.id), &[("exclude", "")])
        .await;
    assert_eq!(again.status(), 409);
    for measurement in &spec.measurements {
        let status = leader
            .status(&spec.task_id(wave, measurement))
            .await
            .unwrap();
        assert_eq!(status.pending + status.aggregated, 1);
    }
}
