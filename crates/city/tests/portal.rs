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
    tokio::spawn(
        axum::serve(
            listener,
            sillage_city::router(city.clone(), Default::default()),
        )
        .into_future(),
    );
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

    // The origin–destination release: flows between zone centres.
    let od = &spec.measurements[0];
    let od_task = spec
        .tasks()
        .into_iter()
        .find(|t| t.task_id == spec.task_id(wave, od))
        .unwrap();
    let cells = od.spec.len();
    let big = 50 * sillage_collector::publish(&od_task, 150, &[0], 10).interval_half_width as i64;
    let od_result = sillage_collector::publish(&od_task, 150, &vec![big; cells], 10);
    city.save_release(&Release {
        task_id: od_task.task_id.to_string(),
        campaign_id: spec.id.clone(),
        wave_id: wave.id.clone(),
        measurement_id: od.id.clone(),
        result: od_result,
        collected_at: 1_700_000_400,
    })
    .await
    .unwrap();
    let base = format!("{url}/campaigns/{}/exports/{}", spec.id, od_task.task_id);
    let (status, text) = get(format!("{base}/cells.geojson")).await;
    assert_eq!(status, 200);
    let collection: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(collection["type"], "FeatureCollection");
    let features = collection["features"].as_array().unwrap();
    assert_eq!(features.len(), cells);
    let (mut lines, mut points) = (0, 0);
    for feature in features {
        assert_eq!(feature["type"], "Feature");
        let geometry = &feature["geometry"];
        let positions: Vec<&serde_json::Value> = match geometry["type"].as_str().unwrap() {
            "LineString" => {
                lines += 1;
                geometry["coordinates"].as_array().unwrap().iter().collect()
            }
            "Point" => {
                points += 1;
                vec![&geometry["coordinates"]]
            }
            other => panic!("unexpected geometry {other}"),
        };
        for p in positions {
            let (lon, lat) = (p[0].as_f64().unwrap(), p[1].as_f64().unwrap());
            // La Rochelle, [lon, lat] order.
            assert!(
                (-1.3..-1.0).contains(&lon) && (46.1..46.2).contains(&lat),
                "{p}"
            );
        }
        let properties = &feature["properties"];
        assert_eq!(properties["value"], big);
        assert_eq!(properties["contributors"], 150);
        assert!(properties["ci95_low"].as_i64().unwrap() < big);
    }
    assert!(
        lines > 0 && points > 0,
        "flows between zones and within one"
    );
    let (_, csv) = get(format!("{base}/cells.csv")).await;
    let rows: Vec<&str> = csv.lines().collect();
    assert!(
        rows[0].starts_with("cell,origin,destination,h3_cell,mode_group"),
        "{}",
        rows[0]
    );
    assert_eq!(rows.len(), cells + 1);
    let (_, metadata) = get(format!("{base}/metadata.json")).await;
    let metadata: serde_json::Value = serde_json::from_str(&metadata).unwrap();
    use sha2::Digest;
    let hash: String = sha2::Sha256::digest(signed.spec.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(metadata["spec_sha256"], hash);
    assert_eq!(metadata["contributors"], 150);
    assert_eq!(metadata["min_contributors_k"], spec.min_contributors);
    assert_eq!(metadata["epsilon"], 1.0);
    assert_eq!(metadata["measurement_kind"], "od_matrix");
    assert!(
        metadata["suppression_rule"]
            .as_str()
            .unwrap()
            .contains("twice")
    );
    let (status, _) = get(format!("{base}/other.txt")).await;
    assert_eq!(status, 404);

    // The designer explains what the parameters cost, in both languages.
    let (status, design) = get(format!(
        "{url}/design?epsilon=1&cap=4&participants=350&cells=256&threshold=10"
    ))
    .await;
    assert_eq!(status, 200);
    let expected = sillage_city::planning::consequences(1.0, 4, 350, 256, 10).unwrap();
    assert!(
        design.contains(&format!("± {} près", expected.interval_half_width)),
        "{design}"
    );
    assert!(
        design.contains(&format!(
            "au plus {} case(s) sur 256",
            expected.cells_publishable_at_most
        )),
        "{design}"
    );
    let (_, english) = get(format!("{url}/design?lang=en&epsilon=2&cells=10")).await;
    assert!(english.contains("With ε = 2"), "{english}");
    let (_, refused) = get(format!("{url}/design?epsilon=0")).await;
    assert!(
        refused.contains("role=\"alert\"") && refused.contains("ε = 0"),
        "{refused}"
    );
}
