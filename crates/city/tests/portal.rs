//! The city's database and portal over a real HTTP server on loopback: a
//! published campaign, a released result with one clear cell, one cell
//! between the threshold and the precision rule, and empty cells.

use sillage_campaign::{AggregatorInfo, CitySigningKey};
use sillage_city::{CityStore, Release};
use sillage_dap::bytes::Bytes;
use sillage_dap::hpke::HpkeKeypair;

fn aggregator(name: &str) -> AggregatorInfo {
    AggregatorInfo {
        operator: name.into(),
        url: "http://127.0.0.1:9".into(),
        hpke: HpkeKeypair::generate(1).config,
    }
}

#[tokio::test]
async fn released_results_show_intervals_and_suppressed_cells_show_why() {
    let dir = tempfile::tempdir().unwrap();
    let city = CityStore::open(dir.path()).await.unwrap();
    let spec = sillage_campaign::example::cycle_lane(
        1_700_000_000,
        aggregator("Leader"),
        aggregator("Helper"),
        HpkeKeypair::generate(2).config,
        Bytes(vec![1, 2, 3]),
    );
    let signed = CitySigningKey::generate().sign(&spec).unwrap();
    city.save_campaign(&spec, &signed, 1_700_000_100)
        .await
        .unwrap();

    let wave = &spec.waves[0];
    let measurement = &spec.measurements[1]; // modal share: 3 cells
    let task = spec
        .tasks()
        .into_iter()
        .find(|t| t.task_id == spec.task_id(wave, measurement))
        .unwrap();
    let half_width = {
        let probe = sillage_collector::publish(&task, 150, &[0], 10);
        probe.interval_half_width as i64
    };
    assert!(
        half_width > 10,
        "ε ½ and cap 4 give a wide interval: {half_width}"
    );
    // Clear; above the threshold but more than ±50 % uncertain; empty.
    let totals = [10 * half_width, half_width + 1, 0];
    let result = sillage_collector::publish(&task, 150, &totals, spec.suppression_threshold);
    assert_eq!(result.cells[0].value, Some(10 * half_width));
    assert_eq!(
        result.cells[0].interval_95,
        Some((9 * half_width, 11 * half_width))
    );
    assert!(result.cells[1].suppressed, "below twice the half-width");
    assert!(result.cells[2].suppressed);
    city.save_release(&Release {
        task_id: task.task_id.to_string(),
        campaign_id: spec.id.clone(),
        wave_id: wave.id.clone(),
        measurement_id: measurement.id.clone(),
        result: result.clone(),
        collected_at: 1_700_000_200,
    })
    .await
    .unwrap();
    // A task is released once: a second save keeps the first.
    let mut again = result.clone();
    again.contributors = 1;
    city.save_release(&Release {
        task_id: task.task_id.to_string(),
        campaign_id: spec.id.clone(),
        wave_id: wave.id.clone(),
        measurement_id: measurement.id.clone(),
        result: again,
        collected_at: 1_700_000_300,
    })
    .await
    .unwrap();
    let stored = city.releases(&spec.id).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].result, result);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(axum::serve(listener, sillage_city::router(city.clone())).into_future());
    let get = |path: String| async move {
        let response = reqwest::get(path).await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    };
    let (status, home) = get(format!("{url}/")).await;
    assert_eq!(status, 200);
    assert!(
        home.contains("Où passer la nouvelle piste cyclable ?"),
        "{home}"
    );
    let (_, page) = get(format!("{url}/campaigns/{}", spec.id)).await;
    assert!(page.contains("lang=\"fr\""));
    assert!(page.contains("150 contributeurs"), "{page}");
    assert!(
        page.contains(&format!("[{}, {}]", 9 * half_width, 11 * half_width)),
        "{page}"
    );
    assert!(page.contains("2 cellules masquées"), "{page}");
    let (_, english) = get(format!("{url}/campaigns/{}?lang=en", spec.id)).await;
    assert!(english.contains("2 cells suppressed"), "{english}");
    let (_, json) = get(format!("{url}/campaigns/{}/results.json", spec.id)).await;
    let releases: Vec<Release> = serde_json::from_str(&json).unwrap();
    assert_eq!(
        releases[0].result.cells[1].value, None,
        "no number for a suppressed cell"
    );
    let (status, _) = get(format!("{url}/campaigns/unknown")).await;
    assert_eq!(status, 404);
}
