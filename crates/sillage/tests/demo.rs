//! The demonstration end to end at small scale, as CI runs it: `sillage
//! demo` makes 32 synthetic citizens on the Monaco extract, imports and
//! analyses them on a hub, runs the city's campaign through two
//! aggregator processes, collects, and serves. Checked here:
//! - the report: everyone who consented sent, every report was accepted,
//!   the published intervals are calibrated (the share of cells whose
//!   95 % interval holds the exact sum is 0.95 within sampling error), and
//!   the analysis finds the synthetic trips;
//! - privacy: nothing the city side stored holds any synthetic citizen's
//!   coordinates or the time of any of their fixes;
//! - in headless Chromium (web/e2e/demo.mjs): a citizen logs in and sees a
//!   trip over the territory's basemap, the portal shows the results;
//! - SIGTERM stops everything cleanly.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn free_port() -> u16 {
    // Two consecutive free ports: the hub's and the portal's.
    loop {
        let a = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = a.local_addr().unwrap().port();
        if port < u16::MAX && std::net::TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
}

/// Every byte the city side wrote (its database, WAL included).
fn city_bytes(dir: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir.join("city")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            bytes.extend(std::fs::read(&path).unwrap());
        }
    }
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Every number written in `bytes` in the forms a coordinate or a time
/// would take: decimals cut to four places ("43.7391"), and every run of
/// 10 or 13 digits inside a longer one (epoch seconds, milliseconds).
fn numbers(bytes: &[u8]) -> HashSet<String> {
    let text = String::from_utf8_lossy(bytes);
    let mut found = HashSet::new();
    for token in text.split(|c: char| !(c.is_ascii_digit() || c == '.')) {
        for part in token.split('.') {
            for width in [10, 13] {
                if part.len() >= width {
                    for start in 0..=part.len() - width {
                        found.insert(part[start..start + width].to_owned());
                    }
                }
            }
        }
        let mut pieces = token.split('.');
        if let (Some(int), Some(frac)) = (pieces.next(), pieces.next())
            && !int.is_empty()
            && frac.len() >= 4
        {
            found.insert(format!("{int}.{}", &frac[..4]));
        }
    }
    found
}

/// Synthetic citizens of the run.
const CITIZENS: usize = 32;

fn browser_ready() -> Option<String> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let ready = Path::new(&chromium).exists()
        && root().join("web/node_modules/playwright-core").exists()
        && Command::new("node").arg("--version").output().is_ok();
    if ready {
        return Some(chromium);
    }
    assert!(
        std::env::var_os("SILLAGE_REQUIRE_BROWSER").is_none(),
        "SILLAGE_REQUIRE_BROWSER is set but chromium, node or web/node_modules is missing"
    );
    eprintln!("browser part skipped: chromium, node or web/node_modules missing");
    None
}

#[test]
fn the_demo_runs_the_whole_story_and_the_city_holds_no_trace() {
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut demo = Command::new(env!("CARGO_BIN_EXE_sillage"))
        .current_dir(root())
        // Half consent, so that enough others (with their yearly privacy
        // budget intact) can take part in the planner's next campaign.
        .args(["demo", "--citizens", &CITIZENS.to_string()])
        .args(["--days", "14", "--seed", "3"])
        .args(["--consent-rate", "0.5"])
        .args(["--min-contributors", "10", "--eval-citizens", "0", "--json"])
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--data-dir")
        .arg(data.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sillage runs");
    let mut stdout = BufReader::new(demo.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let mut stderr_text = String::new();
    if line.trim().is_empty() {
        let _ = demo.kill();
        demo.stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr_text)
            .unwrap();
        panic!("the demo printed no report:\n{stderr_text}");
    }
    let report: serde_json::Value = serde_json::from_str(&line).expect("one JSON object");

    // The story happened.
    assert_eq!(report["citizens"], CITIZENS);
    let consented = report["consented"].as_u64().unwrap();
    assert!((12..=28).contains(&consented), "{report}");
    let measurements = report["measurements"].as_object().unwrap();
    assert_eq!(measurements.len(), 5);
    assert_eq!(
        report["reports_accepted"].as_u64().unwrap(),
        consented * measurements.len() as u64,
        "{report}"
    );
    assert_eq!(report["reports_rejected"], 0);
    assert_eq!(report["contributions_late"], 0);
    assert!(report["detected_trips"].as_u64().unwrap() > 500, "{report}");

    // Calibration: over every cell, the share of 95 % intervals holding
    // the exact sum, within four binomial standard deviations of 0.95.
    let (mut cells, mut inside) = (0.0, 0.0);
    for figures in measurements.values() {
        let n = figures["cells"].as_f64().unwrap();
        cells += n;
        inside += n * figures["noise_coverage_all_cells"].as_f64().unwrap();
        assert!(
            figures["cells_released"].as_u64().unwrap()
                + figures["cells_suppressed"].as_u64().unwrap()
                == figures["cells"].as_u64().unwrap()
        );
    }
    let coverage = inside / cells;
    let sd = (0.95 * 0.05 / cells).sqrt();
    assert!(
        (coverage - 0.95).abs() < 4.0 * sd + 0.01,
        "coverage {coverage:.3} over {cells} cells: {report}"
    );

    // The analysis recovers the synthetic trips (every citizen scored).
    let eval = &report["eval"];
    assert_eq!(eval["citizens"], CITIZENS);
    assert!(eval["trip_f1"].as_f64().unwrap() > 0.75, "{eval}");

    // Privacy: the city side holds no coordinate and no fix time of anyone.
    let city = city_bytes(data.path());
    assert!(
        contains(&city, "piste-cyclable"),
        "the city stored its campaign"
    );
    let dataset = sillage_eval::load_dataset(&data.path().join("synthetic")).unwrap();
    assert_eq!(dataset.devices.len(), CITIZENS);
    let written = numbers(&city);
    let mut checked = 0;
    for (_, fixes) in &dataset.devices {
        for fix in fixes {
            // Cut, not rounded: what a careless copy would have written.
            let latitude = format!("{:.5}", fix.lat);
            let longitude = format!("{:.5}", fix.lon);
            let (latitude, longitude) = (
                &latitude[..latitude.len() - 1],
                &longitude[..longitude.len() - 1],
            );
            let millis = fix.time.0.to_string();
            assert!(
                !written.contains(latitude),
                "latitude {latitude} in the city's data"
            );
            assert!(
                !written.contains(longitude),
                "longitude {longitude} in the city's data"
            );
            assert!(
                !written.contains(&millis),
                "fix time {millis} in the city's data"
            );
            checked += 1;
        }
    }
    for trip in &dataset.trips {
        let start = (trip.start.0 / 1000).to_string();
        assert!(
            !written.contains(&start),
            "trip start {start} in the city's data"
        );
    }
    assert!(checked > 10_000, "{checked}");

    // The heat map's export: H3 hexagons over Monaco, closed rings, with
    // counts and intervals, as QGIS reads them.
    let portal = format!("http://127.0.0.1:{}", port + 1);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let campaign = "piste-cyclable-monaco";
        // The portal is for the city's staff: a viewer's session.
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let login = client
            .post(format!("{portal}/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!(
                "name=observateur&password={}",
                sillage_demo_password()
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(login.status(), 303, "the viewer logs in");
        let cookie = login.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let get = |url: String| client.get(url).header("cookie", cookie.clone()).send();
        let releases: serde_json::Value =
            get(format!("{portal}/campaigns/{campaign}/results.json"))
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
        let heat = releases
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["measurement_id"] == "heat")
            .expect("the heat map was released");
        // The participation monitor: counts from the leader, against k.
        let monitor = get(format!("{portal}/campaigns/{campaign}/participation"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(
            monitor.matches(&format!("{consented} / 10")).count(),
            measurements.len(),
            "{monitor}"
        );
        assert_eq!(
            monitor.matches("collecté").count(),
            measurements.len(),
            "{monitor}"
        );
        let url = format!(
            "{portal}/campaigns/{campaign}/exports/{}/cells.geojson",
            heat["task_id"].as_str().unwrap()
        );
        let geojson: serde_json::Value = get(url).await.unwrap().json().await.unwrap();
        let features = geojson["features"].as_array().unwrap();
        assert_eq!(
            features.len() as u64,
            measurements["heat"]["cells"].as_u64().unwrap()
        );
        for feature in features {
            assert_eq!(feature["geometry"]["type"], "Polygon");
            let ring = feature["geometry"]["coordinates"][0].as_array().unwrap();
            assert!(
                ring.len() >= 7 && ring.first() == ring.last(),
                "a closed hexagon"
            );
            for p in ring {
                let (lon, lat) = (p[0].as_f64().unwrap(), p[1].as_f64().unwrap());
                assert!(
                    (7.3..7.6).contains(&lon) && (43.6..43.9).contains(&lat),
                    "{p}"
                );
            }
            let properties = &feature["properties"];
            assert_eq!(
                properties["suppressed"].as_bool().unwrap(),
                properties["value"].is_null()
            );
        }
    });

    // In a browser: the citizen app and the city portal.
    if let Some(chromium) = browser_ready() {
        let shots = root().join("artifacts/screenshots");
        let citizen = report["sample_logins"]["consented"].as_str().unwrap();
        let (hub, portal) = (
            format!("http://127.0.0.1:{port}"),
            format!("http://127.0.0.1:{}", port + 1),
        );
        let password = sillage_demo_password();
        journey(
            "demo.mjs",
            &[&hub, &portal, citizen, "urbaniste", password],
            &shots,
            &chromium,
        );
        // The planner's journey: design → publish → contributions →
        // collect → dashboard → export → before/after, French and English.
        let participants: Vec<&str> = report["declined_logins"]
            .as_array()
            .unwrap()
            .iter()
            .map(|name| name.as_str().unwrap())
            .take(12)
            .collect();
        assert!(
            participants.len() >= 10,
            "k = 10 needs ten: {participants:?}"
        );
        let participants = participants.join(",");
        journey(
            "portal.mjs",
            &[
                &hub,
                &portal,
                "urbaniste",
                "observateur",
                password,
                &participants,
            ],
            &shots,
            &chromium,
        );
    }

    // SIGTERM stops the hub, the portal and the aggregators.
    unsafe {
        libc::kill(demo.id() as i32, libc::SIGTERM);
    }
    let status = demo.wait().unwrap();
    demo.stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr_text)
        .unwrap();
    assert!(status.success(), "{status}: {stderr_text}");
}

/// Runs the browser journey `web/e2e/{script}` with `args` then the
/// screenshot folder; fails the test with its output.
fn journey(script: &str, args: &[&str], shots: &Path, chromium: &str) {
    let output = Command::new("node")
        .arg(root().join("web/e2e").join(script))
        .args(args)
        .arg(shots)
        .env("CHROMIUM", chromium)
        .output()
        .expect("node runs");
    assert!(
        output.status.success(),
        "{script} failed:\n{}\n{}\n(screenshots in {})",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
        shots.display()
    );
}

fn sillage_demo_password() -> &'static str {
    "sillage-demo-2026"
}
