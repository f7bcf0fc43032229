//! Load benchmark of the citizen hub (docs/PERFORMANCE.md):
//!
//! 1. OwnTracks ingestion: `--connections` clients post one location each
//!    per request (as the app does in HTTP mode) for `--seconds`, spread
//!    over `--citizens` citizens; throughput and latency percentiles.
//! 2. Meanwhile a signed-in citizen loads their timeline every 100 ms: the
//!    UI's latency under that load.
//! 3. A day of 50 trips: its timeline page rendered server-side, alone.
//!
//! The hub runs in this process on loopback; the load generator shares the
//! same two cores, so the figures are conservative.
//!
//! `cargo run --release -p sillage-hub --example hub_load -- --seconds 20`

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

struct Options {
    seconds: u64,
    connections: usize,
    citizens: usize,
}

fn options() -> Options {
    let mut options = Options {
        seconds: 20,
        connections: 32,
        citizens: 8,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let value = pair.get(1).and_then(|v| v.parse().ok());
        match (pair[0].as_str(), value) {
            ("--seconds", Some(v)) => options.seconds = v,
            ("--connections", Some(v)) => options.connections = v as usize,
            ("--citizens", Some(v)) => options.citizens = v as usize,
            _ => panic!("usage: hub_load [--seconds N] [--connections N] [--citizens N]"),
        }
    }
    options
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A GPX day of `trips` trips: 15 minutes standing still (shorter stops
/// are not stays for the analysis), then 8 minutes of riding at ~15 km/h,
/// from 00:05 in La Rochelle, all within the local day 2026-07-01.
fn day_of_trips(trips: usize) -> String {
    let mut gpx = String::from(
        "<?xml version=\"1.0\"?><gpx version=\"1.1\" creator=\"hub_load\"><trk><trkseg>\n",
    );
    let start = 1_782_857_100i64; // 2026-06-30T22:05:00Z
    let (mut lat, mut lon) = (46.1591f64, -1.1520f64);
    let mut t = start;
    for trip in 0..trips {
        // Trips go alternately east and west so the day stays in town.
        let direction = if trip % 2 == 0 { 1.0 } else { -1.0 };
        for _ in 0..(15 * 60 / 10) {
            push_point(&mut gpx, lat, lon, t);
            t += 10;
        }
        for _ in 0..(8 * 60 / 5) {
            lon += direction * 0.000_27;
            push_point(&mut gpx, lat, lon, t);
            t += 5;
        }
        lat += 0.000_05;
    }
    for _ in 0..(20 * 60 / 10) {
        push_point(&mut gpx, lat, lon, t);
        t += 10;
    }
    gpx.push_str("</trkseg></trk></gpx>\n");
    gpx
}

fn push_point(gpx: &mut String, lat: f64, lon: f64, t: i64) {
    let time = sillage_model::Timestamp(t * 1000).to_rfc3339();
    let _ = writeln!(
        gpx,
        "<trkpt lat=\"{lat:.6}\" lon=\"{lon:.6}\"><time>{time}</time></trkpt>"
    );
}

/// Signs up and returns the session cookie and CSRF token.
async fn session(http: &reqwest::Client, base: &str, name: &str) -> (String, String) {
    let page = http.get(format!("{base}/signup")).send().await.unwrap();
    let form_cookie = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .find(|c| c.starts_with("sillage_form="))
        .unwrap();
    let html = page.text().await.unwrap();
    let at = html.find("name=\"csrf\" value=\"").unwrap() + 19;
    let token = html[at..].split('"').next().unwrap().to_owned();
    let password = "benchmark password";
    let response = http
        .post(format!("{base}/signup"))
        .header("cookie", &form_cookie)
        .form(&[
            ("csrf", token.as_str()),
            ("name", name),
            ("password", password),
            ("password2", password),
        ])
        .send()
        .await
        .unwrap();
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .find(|c| c.starts_with("sillage_session="))
        .expect("a session");
    let me: serde_json::Value = http
        .get(format!("{base}/api/me"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (cookie, me["csrf_token"].as_str().unwrap().to_owned())
}

#[tokio::main]
async fn main() {
    let options = options();
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let mut config = sillage_hub::HubConfig::new(dir.path(), addr);
    config.refresh_every = Duration::from_secs(5);
    tokio::spawn(async move { sillage_hub::serve_on(listener, config).await.unwrap() });
    let base = format!("http://{addr}");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(256)
        .build()
        .unwrap();
    for _ in 0..200 {
        if http.get(format!("{base}/healthz")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // A citizen with a day of 50 trips, for the timeline.
    let (cookie, csrf) = session(&http, &base, "reader").await;
    let upload = http
        .post(format!("{base}/api/imports?filename=day.gpx"))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .body(day_of_trips(50))
        .send()
        .await
        .unwrap();
    let uploaded: serde_json::Value = upload.json().await.unwrap();
    assert!(uploaded["trips"].as_u64().unwrap() >= 50, "{uploaded}");
    let day = "2026-07-01";
    let view: serde_json::Value = http
        .get(format!("{base}/api/days/{day}"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let trips = view["trips"].as_array().map_or(0, Vec::len);
    let timeline = format!("{base}/timeline?day={day}");
    let mut alone = Vec::new();
    for _ in 0..60 {
        let started = Instant::now();
        let response = http
            .get(&timeline)
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.bytes().await.unwrap();
        alone.push(started.elapsed());
    }
    alone.sort();
    println!(
        "timeline of {trips} trips, alone: median {:.2} ms, p99 {:.2} ms over {} requests",
        ms(percentile(&alone, 0.5)),
        ms(percentile(&alone, 0.99)),
        alone.len()
    );

    // Devices for the load.
    let mut tokens = Vec::new();
    for c in 0..options.citizens {
        let (cookie, csrf) = session(&http, &base, &format!("rider{c}")).await;
        let device: serde_json::Value = http
            .post(format!("{base}/api/devices"))
            .header("cookie", &cookie)
            .header("x-csrf-token", &csrf)
            .json(&serde_json::json!({"label": "phone"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        tokens.push(device["token"].as_str().unwrap().to_owned());
    }

    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for worker in 0..options.connections {
        let http = http.clone();
        let url = format!("{base}/ingest/owntracks");
        let token = tokens[worker % tokens.len()].clone();
        let stop = stop.clone();
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            // Distinct instants per connection: 1 s apart, offset per worker.
            let mut tst = 1_782_900_000i64 + worker as i64 * 10_000_000;
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let body = format!(
                    r#"{{"_type":"location","lat":{:.6},"lon":{:.6},"tst":{tst},"acc":8,"vel":15,"tid":"ph"}}"#,
                    46.15 + (i % 1000) as f64 * 1e-5,
                    -1.15 + (i % 777) as f64 * 1e-5
                );
                let started = Instant::now();
                let response = http
                    .post(&url)
                    .basic_auth("rider", Some(&token))
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await;
                match response {
                    Ok(r) if r.status() == 200 => {
                        r.bytes().await.ok();
                        latencies.push(started.elapsed());
                    }
                    Ok(r) => {
                        if errors == 0 {
                            let status = r.status();
                            eprintln!("first error: {status} {}", r.text().await.unwrap_or_default());
                        }
                        errors += 1;
                    }
                    Err(e) => {
                        if errors == 0 {
                            eprintln!("first error: {e}");
                        }
                        errors += 1;
                    }
                }
                tst += 1;
                i += 1;
            }
            (latencies, errors)
        }));
    }
    let ui = {
        let http = http.clone();
        let stop = stop.clone();
        let cookie = cookie.clone();
        tokio::spawn(async move {
            let mut latencies = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                let response = http
                    .get(&timeline)
                    .header("cookie", &cookie)
                    .send()
                    .await
                    .unwrap();
                response.bytes().await.unwrap();
                latencies.push(started.elapsed());
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            latencies
        })
    };
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(options.seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    let mut errors = 0;
    for worker in workers {
        let (l, e) = worker.await.unwrap();
        latencies.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let mut ui = ui.await.unwrap();
    ui.sort();
    println!(
        "owntracks ingestion: {} points in {:.1} s = {:.0} points/s over {} connections and {} citizens; \
         latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {errors} errors",
        latencies.len(),
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        options.connections,
        options.citizens,
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.99)),
        ms(latencies.last().copied().unwrap_or_default()),
    );
    println!(
        "timeline of {trips} trips under that load: median {:.2} ms, p99 {:.2} ms over {} requests",
        ms(percentile(&ui, 0.5)),
        ms(percentile(&ui, 0.99)),
        ui.len()
    );
}
