//! The hub end to end over HTTP on loopback: accounts and sessions, tracker
//! protocols, isolation between citizens, the life of a citizen's data.

mod common;

use common::{Citizen, TestHub, live_fixture, shared};
use reqwest::Method;
use serde_json::json;
use utoipa::OpenApi;

#[tokio::test]
async fn accounts_sessions_csrf_and_login_limits() {
    let hub = TestHub::start().await;
    let anonymous = Citizen::new(&hub.url);
    // Pages need a session; the API says so in JSON.
    let page = anonymous.get("/timeline").await;
    assert_eq!(page.status(), 303);
    assert_eq!(page.headers()["location"], "/login");
    assert_eq!(anonymous.get("/api/me").await.status(), 401);

    // Signup refuses a short password, a bad name, a forged form.
    let weak = Citizen::new(&hub.url);
    assert_eq!(weak.signup("alice", "short").await.status(), 400);
    assert_eq!(
        weak.signup("../alice", "long enough pw").await.status(),
        400
    );
    let forged = Citizen::new(&hub.url);
    let response = forged
        .form_raw(
            "/signup",
            &[
                ("csrf", "made-up"),
                ("name", "mallory"),
                ("password", "long enough pw"),
                ("password2", "long enough pw"),
            ],
        )
        .await;
    assert_eq!(response.status(), 403, "signup without the form's cookie");

    let alice = hub.signup("alice").await;
    let session_cookie = alice.cookies.lock().unwrap().clone();
    assert!(
        session_cookie.iter().any(|(k, _)| k == "sillage_session"),
        "{session_cookie:?}"
    );
    // The name is taken now.
    assert_eq!(
        Citizen::new(&hub.url)
            .signup("alice", "another long password")
            .await
            .status(),
        400
    );

    // A write without the CSRF token is refused and changes nothing.
    let no_token = alice
        .http
        .post(format!("{}/api/devices", hub.url))
        .header(
            "cookie",
            format!(
                "sillage_session={}",
                session_cookie
                    .iter()
                    .find(|(k, _)| k == "sillage_session")
                    .unwrap()
                    .1
            ),
        )
        .json(&json!({"label": "phone"}))
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), 403);
    assert_eq!(alice.json("/api/devices").await, json!([]));
    let forged_form = alice
        .form_raw("/devices", &[("csrf", "wrong"), ("label", "x")])
        .await;
    assert_eq!(forged_form.status(), 403);

    // Logout ends the session on the server, not only in the browser.
    let stolen = alice.cookies.lock().unwrap().clone();
    assert_eq!(alice.form("/logout", &[]).await.status(), 303);
    let replay = Citizen::new(&hub.url);
    *replay.cookies.lock().unwrap() = stolen;
    assert_eq!(replay.get("/api/me").await.status(), 401);

    // Wrong passwords: 401, then 429 with Retry-After after five.
    let guesser = Citizen::new(&hub.url);
    for _ in 0..5 {
        assert_eq!(
            guesser.login("alice", "wrong password!").await.status(),
            401
        );
    }
    let blocked = guesser.login("alice", "correct horse battery").await;
    assert_eq!(blocked.status(), 429);
    assert!(blocked.headers().contains_key("retry-after"));
    // Another citizen is not locked out by attempts on alice.
    hub.signup("bob").await;

    // Security headers on every answer.
    let headers = anonymous.get("/login").await.headers().clone();
    assert_eq!(headers["x-frame-options"], "DENY");
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    let session = headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("sillage_form="))
        .unwrap();
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Strict"));
}

/// Replays each tracker protocol with a device token; a wrong token gets
/// 401 and stores nothing.
#[tokio::test]
async fn tracker_apps_deliver_points_with_their_device_token() {
    let hub = TestHub::start().await;
    let alice = hub.signup("alice").await;
    let (_, token) = alice.add_device("phone").await;
    let http = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", hub.url);

    // OwnTracks: the token is the Basic password; the answer is [].
    let body = live_fixture("owntracks-location.json");
    let response = http
        .post(url("/ingest/owntracks"))
        .basic_auth("whatever-user", Some(&token))
        .header("X-Limit-U", "jane")
        .header("X-Limit-D", "phone")
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap(),
        json!([])
    );
    let wrong = http
        .post(url("/ingest/owntracks"))
        .basic_auth("x", Some("not-a-token"))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let none = http
        .post(url("/ingest/owntracks"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), 401);
    // Zero-length bodies happen (deleted friends): 2xx, nothing stored.
    let empty = http
        .post(url("/ingest/owntracks"))
        .basic_auth("x", Some(&token))
        .body(Vec::new())
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), 200);
    assert_eq!(alice.accepted().await, 1);

    // Overland: Bearer token; {"result":"ok"} once stored.
    let response = http
        .post(url("/ingest/overland"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(live_fixture("overland-batch.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap(),
        json!({"result": "ok"})
    );
    let after_overland = alice.accepted().await;
    assert!(after_overland > 1, "{after_overland}");
    let wrong = http
        .post(url("/ingest/overland?token=nope"))
        .body(live_fixture("overland-batch.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);

    // GPSLogger: GET with the token in the query string.
    let query = String::from_utf8(live_fixture("gpslogger-default.query")).unwrap();
    let response = http
        .get(url(&format!(
            "/ingest/gpslogger?token={token}&{}",
            query.trim()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // A retried request (auto-send replays) is a duplicate, not a new point.
    http.get(url(&format!(
        "/ingest/gpslogger?token={token}&{}",
        query.trim()
    )))
    .send()
    .await
    .unwrap();
    let after_gpslogger = alice.accepted().await;
    assert_eq!(after_gpslogger, after_overland + 1);
    let missing = String::from_utf8(live_fixture("gpslogger-missing-lat.query")).unwrap();
    let response = http
        .get(url(&format!(
            "/ingest/gpslogger?token={token}&{}",
            missing.trim()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("lat"));

    // OsmAnd query string: the token is the device id.
    let query = String::from_utf8(live_fixture("osmand-seconds.query")).unwrap();
    let with_token = query
        .trim()
        .split('&')
        .map(|p| {
            if p.starts_with("id=") {
                format!("id={token}")
            } else {
                p.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("&");
    let response = http
        .post(url(&format!("/ingest/traccar?{with_token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let wrong = http
        .post(url(&format!("/ingest/traccar?{}", query.trim())))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401, "an unknown device id");

    // Traccar Client JSON: the token is device_id.
    let mut body: serde_json::Value =
        serde_json::from_slice(&live_fixture("traccar-client.json")).unwrap();
    body["device_id"] = json!(token);
    let response = http
        .post(url("/ingest/traccar"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let after_all = alice.accepted().await;
    // The Traccar fixture shares the OsmAnd one's instant: a duplicate.
    assert_eq!(after_all, after_gpslogger + 1);

    // One batch per protocol, device and day, each undoable.
    let imports = alice.json("/api/imports").await;
    let formats: Vec<&str> = imports
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["format"].as_str().unwrap())
        .collect();
    for format in [
        "owntracks_json",
        "overland",
        "gpslogger_live",
        "osmand",
        "traccar_json",
    ] {
        assert!(formats.contains(&format), "{format} in {formats:?}");
    }
    let traccar = imports
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["format"] == "traccar_json")
        .unwrap();
    assert_eq!(
        traccar["accepted"].as_u64().unwrap() + traccar["duplicates"].as_u64().unwrap(),
        1
    );
    let devices = alice.json("/api/devices").await;
    // Received counts every point delivered, duplicates included (the
    // GPSLogger replay, the Traccar repeat, Overland's `current`).
    assert!(devices[0]["fixes_received"].as_u64().unwrap() >= after_all + 2);

    // The stored points are encrypted at rest: neither SQLite's header nor
    // the device's name appears in the files.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    for suffix in ["", "-wal"] {
        let path = format!("{}{suffix}", hub.store_file("alice").display());
        if let Ok(bytes) = std::fs::read(&path) {
            assert!(!contains(&bytes, b"SQLite format 3"), "{path}");
            assert!(!contains(&bytes, b"owntracks_json"), "{path}");
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Citizen A walks every route of the API with citizen B's ids and gets
/// 404 everywhere; B's data is unchanged; B's device token writes only
/// into B's store.
#[tokio::test]
async fn a_citizen_can_never_reach_another_citizens_data() {
    let hub = TestHub::start().await;
    let alice = hub.signup("alice").await;
    let bob = hub.signup("bob").await;
    assert_eq!(
        bob.upload(&shared("gpx-fixtures/garmin-activity.gpx"))
            .await
            .status(),
        200
    );
    let (bob_device, bob_token) = bob.add_device("bob-phone").await;
    let bob_imports = bob.json("/api/imports").await;
    let bob_import = bob_imports[0]["id"].as_i64().unwrap();
    let bob_places = bob.json("/api/places").await;
    let bob_day = "2017-07-29";
    let bob_trips = bob.json(&format!("/api/days/{bob_day}")).await;
    let bob_trip = bob_trips["trips"][0]["id"]
        .as_i64()
        .expect("bob has a trip");
    let bob_place = bob_places[0]["id"].as_i64().unwrap_or(1);
    let before = bob.json("/api/imports").await;

    // Every documented route, with B's ids.
    let doc = sillage_hub::api::ApiDoc::openapi();
    let mut walked = 0;
    for (path, item) in &doc.paths.paths {
        let concrete = path
            .replace(
                "{id}",
                &id_for(path, bob_trip, bob_place, bob_import, bob_device).to_string(),
            )
            .replace("{day}", bob_day);
        for (method, body) in methods(item) {
            walked += 1;
            let response = alice.api(method.clone(), &concrete, body).await;
            let status = response.status().as_u16();
            let text = response.text().await.unwrap_or_default();
            if path.contains("{id}") {
                assert_eq!(status, 404, "{method} {concrete}: {text}");
            } else {
                // Routes without ids only ever show A's own (empty) data.
                assert!(
                    !text.contains("bob") && !text.contains("garmin"),
                    "{method} {concrete} leaked: {text}"
                );
            }
        }
    }
    assert!(walked >= 20, "walked {walked} routes");
    // The pages too.
    for (path, form) in [
        (format!("/trips/{bob_trip}"), None),
        (
            format!("/trips/{bob_trip}/correct"),
            Some(vec![("leg", "0"), ("mode", "car")]),
        ),
        (
            format!("/places/{bob_place}"),
            Some(vec![("name", "x"), ("label", "home")]),
        ),
        (format!("/places/{bob_place}/delete"), Some(vec![])),
        (format!("/data/imports/{bob_import}/undo"), Some(vec![])),
        (format!("/devices/{bob_device}/delete"), Some(vec![])),
    ] {
        let status = match form {
            None => alice.get(&path).await.status(),
            Some(fields) => alice.form(&path, &fields).await.status(),
        };
        assert_eq!(status, 404, "{path}");
    }
    // Alice's day view of Bob's day is empty.
    let day = alice.json(&format!("/api/days/{bob_day}")).await;
    assert_eq!(day["trips"], json!([]));
    assert_eq!(bob.json("/api/imports").await, before, "B's data untouched");

    // B's token writes into B's store only.
    let response = reqwest::Client::new()
        .post(format!("{}/ingest/owntracks", hub.url))
        .basic_auth("alice", Some(&bob_token))
        .body(live_fixture("owntracks-location.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(alice.json("/api/imports").await, json!([]));
    assert!(bob.accepted().await > before[0]["accepted"].as_u64().unwrap());
    // A revoked token is refused.
    assert_eq!(
        bob.api(Method::DELETE, &format!("/api/devices/{bob_device}"), None)
            .await
            .status(),
        204
    );
    let response = reqwest::Client::new()
        .post(format!("{}/ingest/owntracks", hub.url))
        .basic_auth("bob", Some(&bob_token))
        .body(live_fixture("owntracks-location.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

fn id_for(path: &str, trip: i64, place: i64, import: i64, device: i64) -> i64 {
    if path.contains("/trips/") {
        trip
    } else if path.contains("/places/") {
        place
    } else if path.contains("/imports/") {
        import
    } else {
        device
    }
}

/// The methods of a documented path, each with a plausible body.
fn methods(item: &utoipa::openapi::PathItem) -> Vec<(Method, Option<serde_json::Value>)> {
    let mut out = Vec::new();
    if item.get.is_some() {
        out.push((Method::GET, None));
    }
    if item.post.is_some() {
        out.push((
            Method::POST,
            Some(json!({"leg": 0, "mode": "car", "label": "x"})),
        ));
    }
    if item.patch.is_some() {
        out.push((Method::PATCH, Some(json!({"name": "mine"}))));
    }
    if item.put.is_some() {
        out.push((
            Method::PUT,
            Some(json!({"target": 10, "name": "n", "employer": "e"})),
        ));
    }
    if item.delete.is_some() {
        out.push((Method::DELETE, Some(json!({"confirm": "bob"}))));
    }
    out
}

/// Upload, see, correct, export, switch language, delete: the life of a
/// citizen's data through pages and API.
#[tokio::test]
async fn a_citizens_data_from_upload_to_deletion() {
    let hub = TestHub::start().await;
    let zoe = hub.signup("zoe").await;
    assert!(zoe.text("/welcome").await.contains("Étape 2 sur 3"));

    // A file that is not location history: a clear error, nothing stored.
    let bad = tempfile::tempdir().unwrap();
    let bad_file = bad.path().join("notes.gpx");
    std::fs::write(&bad_file, "<gpx><trk><trkseg><trkpt lat=\"x\"").unwrap();
    let response = zoe.upload(&bad_file).await;
    assert_eq!(response.status(), 400);
    let error: serde_json::Value = response.json().await.unwrap();
    assert!(
        error["error"].as_str().unwrap().contains("notes.gpx"),
        "{error}"
    );
    assert_eq!(zoe.json("/api/imports").await, json!([]));

    let response = zoe
        .upload(&shared("gpx-fixtures/garmin-activity.gpx"))
        .await;
    assert_eq!(response.status(), 200);
    let result: serde_json::Value = response.json().await.unwrap();
    assert!(result["accepted"].as_u64().unwrap() > 900, "{result}");
    assert!(result["trips"].as_u64().unwrap() >= 1, "{result}");
    let day = result["latest_day"].as_str().unwrap().to_owned();

    let timeline = zoe.text(&format!("/timeline?day={day}")).await;
    assert!(timeline.contains("id=\"trip-list\""), "{timeline}");
    assert!(timeline.contains(&format!("data-map=\"/api/days/{day}/geojson\"")));
    let view = zoe.json(&format!("/api/days/{day}")).await;
    let trip = view["trips"][0].clone();
    let trip_id = trip["id"].as_i64().unwrap();
    let geojson = zoe.json(&format!("/api/trips/{trip_id}/geojson")).await;
    assert!(
        geojson["features"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["geometry"]["type"] == "LineString")
    );

    // Correct the first leg's mode through the page's form.
    let page = zoe.text(&format!("/trips/{trip_id}")).await;
    assert!(page.contains("Corriger"));
    let response = zoe
        .form(
            &format!("/trips/{trip_id}/correct"),
            &[("leg", "0"), ("mode", "e_bike")],
        )
        .await;
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let corrected = zoe.text(&location).await;
    assert!(corrected.contains("Correction enregistrée"));
    let view = zoe.json(&format!("/api/days/{day}")).await;
    let leg = &view["trips"][0]["legs"][0];
    assert_eq!(leg["mode"], "e_bike");
    assert_eq!(leg["mode_source"], "citizen");
    // Through the API: purpose and privacy.
    let trip_id = view["trips"][0]["id"].as_i64().unwrap();
    let response = zoe
        .api(
            Method::POST,
            &format!("/api/trips/{trip_id}/corrections"),
            Some(json!({"purpose": "commute", "private": true})),
        )
        .await;
    assert_eq!(response.status(), 200);
    let trip: serde_json::Value = response.json().await.unwrap();
    assert_eq!(trip["purpose"], "commute");
    assert_eq!(trip["private"], true);
    let response = zoe
        .api(
            Method::POST,
            &format!("/api/trips/{trip_id}/corrections"),
            Some(json!({"leg": 0, "mode": "hovercraft"})),
        )
        .await;
    assert_eq!(response.status(), 400);

    // A commute with an e-bike leg is a bike day; the attestation lists it.
    let goal = zoe.json("/api/bike-days?year=2017").await;
    assert_eq!(goal["days"], json!([day]));
    let pdf = zoe.get("/bike-days/attestation.pdf?year=2017").await;
    assert_eq!(pdf.status(), 200);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    let bytes = pdf.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF-1.4") && contains(&bytes, day.as_bytes()));

    // Every page renders, in French, then in English.
    for path in [
        "/dashboard?period=week",
        "/dashboard?period=year",
        "/places",
        "/bike-days?year=2017",
        "/data",
    ] {
        let html = zoe.text(path).await;
        assert!(html.contains("<html lang=\"fr\">"), "{path}");
    }
    assert!(zoe.text("/dashboard?period=month").await.contains("<svg"));
    let response = zoe
        .form("/lang", &[("lang", "en"), ("back", "/dashboard")])
        .await;
    assert_eq!(response.headers()["location"], "/dashboard");
    let english = zoe.text("/dashboard").await;
    assert!(english.contains("<html lang=\"en\">") && english.contains("My dashboard"));

    // The export holds every documented file.
    let export = zoe.get("/api/export").await;
    assert_eq!(export.status(), 200);
    let bytes = export.bytes().await.unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let names: Vec<String> = archive.file_names().map(str::to_owned).collect();
    for name in [
        "README.md",
        "fixes.csv",
        "fixes.geojson",
        "fixes.gpx",
        "trips.csv",
        "legs.csv",
        "trips.geojson",
        "places.json",
        "imports.json",
        "corrections.json",
        "consent-records.json",
        "transparency-log.jsonl",
    ] {
        assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
    }
    let mut legs = String::new();
    std::io::Read::read_to_string(&mut archive.by_name("legs.csv").unwrap(), &mut legs).unwrap();
    assert!(legs.contains(",e_bike,citizen,"), "{legs}");

    // Split the trip after its first leg, then merge it back.
    let trip_now = zoe.json(&format!("/api/days/{day}")).await["trips"][0].clone();
    let trip_id = trip_now["id"].as_i64().unwrap();
    let legs = trip_now["legs"].as_array().unwrap().len();
    assert!(legs >= 2, "{trip_now}");
    let cut = trip_now["legs"][0]["end"].as_str().unwrap().to_owned();
    let response = zoe
        .form(
            &format!("/trips/{trip_id}/correct"),
            &[("split_at", cut.as_str())],
        )
        .await;
    assert_eq!(response.status(), 303);
    let split = zoe.json(&format!("/api/days/{day}")).await;
    assert_eq!(split["trips"].as_array().unwrap().len(), 2, "{split}");
    assert_eq!(split["trips"][0]["legs"].as_array().unwrap().len(), 1);
    assert_eq!(
        split["trips"][1]["legs"].as_array().unwrap().len(),
        legs - 1
    );
    assert_eq!(split["trips"][0]["end"], split["trips"][1]["start"]);
    let outside = zoe
        .api(
            Method::POST,
            &format!("/api/trips/{}/corrections", split["trips"][0]["id"]),
            Some(json!({"split_at": "2001-01-01T00:00:00Z"})),
        )
        .await;
    assert_eq!(outside.status(), 400);
    let first = split["trips"][0]["id"].as_i64().unwrap();
    let merged = zoe
        .api(
            Method::POST,
            &format!("/api/trips/{first}/corrections"),
            Some(json!({"merge_with_next": true})),
        )
        .await;
    assert_eq!(merged.status(), 200);
    let day_view = zoe.json(&format!("/api/days/{day}")).await;
    assert_eq!(day_view["trips"].as_array().unwrap().len(), 1, "{day_view}");
    assert_eq!(day_view["trips"][0]["legs"].as_array().unwrap().len(), legs);
    assert_eq!(
        day_view["trips"][0]["legs"][0]["mode"], "e_bike",
        "corrections survive"
    );
    let alone = zoe
        .api(
            Method::POST,
            &format!("/api/trips/{}/corrections", day_view["trips"][0]["id"]),
            Some(json!({"merge_with_next": true})),
        )
        .await;
    assert_eq!(alone.status(), 400, "no next trip to merge with");

    // Undo the import: its fixes and trips are gone.
    let import_id = zoe.json("/api/imports").await[0]["id"].as_i64().unwrap();
    let removed = zoe
        .api(Method::DELETE, &format!("/api/imports/{import_id}"), None)
        .await;
    assert_eq!(removed.status(), 200);
    assert!(removed.json::<u64>().await.unwrap() > 900);
    assert_eq!(
        zoe.json(&format!("/api/days/{day}")).await["trips"],
        json!([])
    );

    // Delete everything: the store's files and every registry row go.
    let store = hub.store_file("zoe");
    assert!(store.exists());
    let refused = zoe.form("/account/delete", &[("confirm", "not-zoe")]).await;
    assert_eq!(refused.status(), 400);
    assert!(store.exists());
    let response = zoe.form("/account/delete", &[("confirm", "zoe")]).await;
    assert_eq!(response.status(), 303);
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let path = format!("{}{suffix}", store.display());
        assert!(!std::path::Path::new(&path).exists(), "{path} remains");
    }
    let registry = sqlx::SqlitePool::connect(&format!(
        "sqlite://{}",
        hub.data_dir.join("hub.sqlite").display()
    ))
    .await
    .unwrap();
    for table in ["accounts", "sessions", "devices"] {
        let count: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                .fetch_one(&registry)
                .await
                .unwrap();
        assert_eq!(count, 0, "{table}");
    }
    assert_eq!(zoe.get("/api/me").await.status(), 401);
    assert_eq!(
        Citizen::new(&hub.url)
            .login("zoe", "correct horse battery")
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn the_openapi_document_and_swagger_ui_are_served_offline() {
    let hub = TestHub::start().await;
    let doc: serde_json::Value = reqwest::get(format!("{}/api/openapi.json", hub.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["paths"]["/api/trips/{id}/corrections"]["post"].is_object());
    assert!(doc["components"]["schemas"]["TripView"].is_object());
    let ui = reqwest::get(format!("{}/api/docs/", hub.url))
        .await
        .unwrap();
    assert_eq!(ui.status(), 200);
    let html = ui.text().await.unwrap();
    assert!(html.contains("swagger"), "{html}");
    assert!(
        !html.contains("https://"),
        "the UI loads nothing from the internet"
    );
}
