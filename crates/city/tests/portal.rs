//! The city's database and portal over a real HTTP server on loopback: a
//! published campaign, a released result with one clear cell, one cell
//! between the threshold and the precision rule, and empty cells.

use sillage_campaign::{AggregatorInfo, CitySigningKey};
use sillage_city::staff::Role;
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
    city.set_staff("urbaniste", "phrase de passe longue", Role::Editor)
        .await
        .unwrap();
    city.set_staff("lecteur", "autre phrase de passe", Role::Viewer)
        .await
        .unwrap();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // Without a session, pages send to the log-in form; a wrong password
    // is refused.
    let anonymous = client.get(format!("{url}/")).send().await.unwrap();
    assert_eq!(anonymous.status(), 303);
    assert_eq!(anonymous.headers()["location"], "/login?next=/");
    let (cookie, csrf) = log_in(&client, &url, "urbaniste", "phrase de passe longue").await;
    let wrong = client
        .post(format!("{url}/login"))
        .form(&[("name", "urbaniste"), ("password", "pas la bonne")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let get = |path: String| {
        let (client, cookie) = (client.clone(), cookie.clone());
        async move {
            let response = client
                .get(path)
                .header("cookie", cookie)
                .send()
                .await
                .unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
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
    let (status, design) = get(format!("{url}/design")).await;
    assert_eq!(status, 200);
    assert!(design.contains("name=\"zones_source\""), "{design}");
    let preview = |lang: &'static str, epsilon: &'static str| {
        let (client, cookie, csrf, url) =
            (client.clone(), cookie.clone(), csrf.clone(), url.clone());
        async move {
            let area = r#"{"type":"Polygon","coordinates":[[[7.405,43.725],[7.435,43.725],[7.435,43.745],[7.405,43.745],[7.405,43.725]]]}"#;
            let response = client
                .post(format!("{url}/design/preview"))
                .header("cookie", cookie)
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("lang", lang),
                    ("id", "essai"),
                    ("title_fr", "Essai"),
                    ("title_en", "Trial"),
                    ("purpose_fr", "Essayer."),
                    ("purpose_en", "Try."),
                    ("area", area),
                    ("zones_source", "h3"),
                    ("zone_resolution", "7"),
                    ("bike", "on"),
                    ("car", "on"),
                    ("od", "on"),
                    ("od_epsilon", epsilon),
                    ("od_cap", "4"),
                    ("first_day", "2026-11-01"),
                    ("last_day", "2026-11-14"),
                    ("reports_until", "2026-11-16T12:00"),
                    ("participants", "350"),
                    ("threshold", "10"),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            response.json::<serde_json::Value>().await.unwrap()
        }
    };
    let answer = preview("fr", "1").await;
    let od = &answer["measurements"][0];
    let cells = od["cells"].as_u64().unwrap();
    let zones = answer["zone_count"].as_u64().unwrap();
    assert_eq!(cells, zones * zones * 2, "{answer}");
    let expected = sillage_city::planning::consequences(1.0, 4, 350, cells, 10).unwrap();
    let text = od["text"].as_str().unwrap();
    assert!(
        text.contains(&format!("± {} près", expected.interval_half_width)),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "au plus {} case(s) sur {cells}",
            expected.cells_publishable_at_most
        )),
        "{text}"
    );
    assert_eq!(
        answer["zones"]["features"].as_array().unwrap().len() as u64,
        zones
    );
    let english = preview("en", "2").await;
    assert!(
        english["measurements"][0]["text"]
            .as_str()
            .unwrap()
            .contains("With ε = 2"),
        "{english}"
    );
    let refused = preview("fr", "0").await;
    assert_eq!(refused["error"]["field"], "od_epsilon", "{refused}");

    // A viewer reads but neither designs nor publishes nor collects; a
    // form without the session's token is refused.
    let (viewer, viewer_csrf) = log_in(&client, &url, "lecteur", "autre phrase de passe").await;
    let as_viewer = |path: String| client.get(path).header("cookie", viewer.clone()).send();
    assert_eq!(as_viewer(format!("{url}/")).await.unwrap().status(), 200);
    assert_eq!(
        as_viewer(format!("{url}/design")).await.unwrap().status(),
        403
    );
    let collect = client
        .post(format!("{url}/campaigns/{}/collect", spec.id))
        .header("cookie", viewer.clone())
        .form(&[("csrf", viewer_csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(collect.status(), 403);
    let forged = client
        .post(format!("{url}/design/preview"))
        .header("cookie", cookie.clone())
        .form(&[("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    // Log-out ends the session.
    let out = client
        .post(format!("{url}/logout"))
        .header("cookie", viewer.clone())
        .form(&[("csrf", viewer_csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    assert_eq!(as_viewer(format!("{url}/")).await.unwrap().status(), 303);
}

/// Logs in; returns the session cookie and the session's CSRF token.
async fn log_in(
    client: &reqwest::Client,
    url: &str,
    name: &str,
    password: &str,
) -> (String, String) {
    let response = client
        .post(format!("{url}/login"))
        .form(&[("name", name), ("password", password), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303, "{name} logs in");
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let home = client
        .get(format!("{url}/"))
        .header("cookie", cookie.clone())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = home
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    (cookie, csrf)
}
