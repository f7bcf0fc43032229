//! The command line as scripts and people use it: real processes, real files,
//! a real SQLite store on disk.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const SILLAGE: &str = env!("CARGO_BIN_EXE_sillage");

fn shared(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(path)
}

fn sillage(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(SILLAGE)
        .args(args)
        .env("SILLAGE_DATA_DIR", data_dir)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn json_lines(output: &Output) -> Vec<serde_json::Value> {
    stdout(output)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Imports `paths` for `citizen` with `--json`, asserts success and returns
/// one report per path.
fn import_ok(data_dir: &Path, citizen: &str, paths: &[&Path]) -> Vec<serde_json::Value> {
    let mut args = vec!["import", "--citizen", citizen, "--json"];
    args.extend(paths.iter().map(|p| p.to_str().unwrap()));
    let out = sillage(data_dir, &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    json_lines(&out)
}

/// What a store holds, as the CLI reports it.
fn snapshot(data_dir: &Path, citizen: &str) -> (String, String) {
    let imports = sillage(data_dir, &["imports", "--citizen", citizen, "--json"]);
    let days = sillage(data_dir, &["fixes", "--citizen", citizen, "--json"]);
    assert!(imports.status.success() && days.status.success());
    (stdout(&imports), stdout(&days))
}

#[test]
fn json_report_per_file_and_dedup_on_reimport() {
    let dir = tempfile::tempdir().unwrap();
    let gpx = shared("gpx-fixtures/garmin-activity.gpx");
    let out = import_ok(dir.path(), "ada", &[&gpx]);
    let lines = out;
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["file"], gpx.to_str().unwrap());
    assert_eq!(lines[0]["format"], "gpx");
    assert_eq!(lines[0]["accepted"], 988);
    assert_eq!(lines[0]["duplicates"], 0);
    assert_eq!(lines[0]["rejected"], serde_json::json!({}));

    let again = import_ok(dir.path(), "ada", &[&gpx]);
    let lines = again;
    assert_eq!(
        (
            lines[0]["accepted"].as_u64(),
            lines[0]["duplicates"].as_u64()
        ),
        (Some(0), Some(988))
    );

    let days = json_lines(&sillage(
        dir.path(),
        &["fixes", "--citizen", "ada", "--json"],
    ));
    let total: u64 = days[0]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["fixes"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 988);
}

#[test]
fn malformed_file_is_named_with_its_position_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let good = shared("gpx-fixtures/wikipedia_example.gpx");
    import_ok(dir.path(), "ada", &[&good]);
    let before = snapshot(dir.path(), "ada");

    let bad = dir.path().join("Records.json");
    std::fs::write(
        &bad,
        "{\"locations\": [\n {\"latitudeE7\": 461600000, \"longitudeE7\": -11500000, \"timestamp\": \"2024-01-01T00:00:01Z\"},\n {\"latitudeE7\": 4616,, }\n]}",
    )
    .unwrap();
    let out = sillage(
        dir.path(),
        &["import", "--citizen", "ada", bad.to_str().unwrap()],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Records.json"), "{stderr}");
    assert!(stderr.contains("line 3, column"), "{stderr}");
    assert_eq!(
        snapshot(dir.path(), "ada"),
        before,
        "the valid first record was not kept"
    );

    let unknown = dir.path().join("notes.txt");
    std::fs::write(&unknown, "dear diary\n").unwrap();
    let out = sillage(
        dir.path(),
        &[
            "import",
            "--citizen",
            "ada",
            "--json",
            unknown.to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    let lines = json_lines(&out);
    assert!(
        lines[0]["error"].as_str().unwrap().contains("dear diary"),
        "{lines:?}"
    );
}

#[test]
fn a_killed_import_leaves_the_store_exactly_as_before() {
    let dir = tempfile::tempdir().unwrap();
    let small = shared("gpx-fixtures/gpsies_example.gpx");
    import_ok(dir.path(), "ada", &[&small]);
    let before = snapshot(dir.path(), "ada");

    let big = dir.path().join("Records.json");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&big).unwrap());
    sillage_testdata::write_synthetic(
        &mut file,
        sillage_testdata::SyntheticFormat::GoogleRecords,
        600_000,
        7,
    )
    .unwrap();
    file.flush().unwrap();
    drop(file);

    let mut child = Command::new(SILLAGE)
        .args(["import", "--citizen", "ada", big.to_str().unwrap()])
        .env("SILLAGE_DATA_DIR", dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill once the import is visibly writing: its uncommitted pages are in the WAL.
    let wal = dir.path().join("citizens/ada.sqlite-wal");
    let started = Instant::now();
    while std::fs::metadata(&wal).map_or(0, |m| m.len()) < 4 << 20 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "import finished before it could be killed"
        );
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "import never started writing"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();

    assert_eq!(snapshot(dir.path(), "ada"), before);
    // And the store is healthy and usable afterwards.
    let again = import_ok(dir.path(), "ada", &[&small]);
    assert_eq!(again[0]["duplicates"], 41);
}

#[test]
fn takeout_archive_imports_location_files_and_skips_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("takeout-20240301T000000Z-001.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&archive).unwrap());
    let options = zip::write::SimpleFileOptions::default();
    let entries: [(&str, &str); 4] = [
        (
            "Takeout/archive_browser.html",
            "<html><body>Archive</body></html>",
        ),
        (
            "Takeout/Location History (Timeline)/Records.json",
            r#"{"locations":[{"latitudeE7":461600000,"longitudeE7":-11500000,"accuracy":5,"timestamp":"2022-05-02T07:00:00Z"},
                             {"latitudeE7":461610000,"longitudeE7":-11510000,"timestampMs":"1651474860000"}]}"#,
        ),
        (
            "Takeout/Location History (Timeline)/Semantic Location History/2022/2022_MAY.json",
            r#"{"timelineObjects":[{"placeVisit":{"location":{"latitudeE7":461620000,"longitudeE7":-11490000,"semanticType":"TYPE_HOME"},
                "duration":{"startTimestamp":"2022-05-02T08:00:00Z","endTimestamp":"2022-05-02T18:00:00Z"}}}]}"#,
        ),
        (
            "Takeout/Location History (Timeline)/Settings.json",
            r#"{"createdTime":"2019-01-01","deviceSettings":[]}"#,
        ),
    ];
    for (name, content) in entries {
        zip.start_file(name, options).unwrap();
        zip.write_all(content.as_bytes()).unwrap();
    }
    zip.finish().unwrap();

    let out = import_ok(dir.path(), "ada", &[&archive]);
    let report = &out[0];
    assert_eq!(report["format"], "google_records+google_semantic");
    assert_eq!(report["accepted"], 4);
    assert_eq!(report["hints"], 1);
    let batches = report["batches"].as_array().unwrap();
    assert_eq!(batches.len(), 2);
    assert!(
        batches[0]["source"]
            .as_str()
            .unwrap()
            .ends_with("!/Takeout/Location History (Timeline)/Records.json")
    );
    let skipped: Vec<&str> = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    assert!(skipped.iter().any(|s| s.ends_with("archive_browser.html")));
    assert!(skipped.iter().any(|s| s.ends_with("Settings.json")));

    // Undo one batch from the command line.
    let id = batches[1]["id"].as_i64().unwrap().to_string();
    let undo = sillage(dir.path(), &["undo", "--citizen", "ada", &id]);
    assert!(
        stdout(&undo).contains("2 fixes and 1 hints removed"),
        "{}",
        stdout(&undo)
    );
}

#[test]
fn export_reads_back_identically() {
    let dir = tempfile::tempdir().unwrap();
    let csv = shared("mobilitynet/fixes/ucb-sdb-android-2.csv.gz");
    let out = import_ok(dir.path(), "ada", &[&csv]);
    let accepted = out[0]["accepted"].as_u64().unwrap();
    assert!(accepted > 10_000);
    for format in ["gpx", "geojson", "csv"] {
        let file = dir.path().join(format!("export.{format}"));
        let out = sillage(
            dir.path(),
            &[
                "export",
                "--citizen",
                "ada",
                "--format",
                format,
                "-o",
                file.to_str().unwrap(),
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let citizen = format!("back-{format}");
        let back = import_ok(dir.path(), &citizen, &[&file]);
        assert_eq!(back[0]["accepted"].as_u64(), Some(accepted), "{format}");
        assert_eq!(
            snapshot(dir.path(), &citizen).1,
            snapshot(dir.path(), "ada").1,
            "{format}"
        );
    }
}

#[test]
fn kmz_and_gzip_are_unwrapped() {
    let dir = tempfile::tempdir().unwrap();
    let kmz = dir.path().join("ride.kmz");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&kmz).unwrap());
    let options = zip::write::SimpleFileOptions::default();
    zip.start_file("doc.kml", options).unwrap();
    zip.write_all(
        br#"<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2"><Document><Placemark><gx:Track>
<when>2024-03-01T08:00:00Z</when><when>2024-03-01T08:00:05Z</when><when>2024-03-01T08:00:10Z</when>
<gx:coord>-1.152 46.1591 5</gx:coord><gx:coord>-1.151 46.1595 6</gx:coord><gx:coord>-1.150 46.1600 7</gx:coord>
</gx:Track></Placemark></Document></kml>"#,
    )
    .unwrap();
    zip.start_file("files/icon.png", options).unwrap();
    zip.write_all(b"\x89PNG\r\n\x1a\n....").unwrap();
    zip.finish().unwrap();

    let gz = dir.path().join("track.gpx.gz");
    let mut encoder = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::default(),
    );
    encoder
        .write_all(&std::fs::read(shared("gpx-fixtures/wahoo_example.gpx")).unwrap())
        .unwrap();
    encoder.finish().unwrap();

    let out = import_ok(dir.path(), "ada", &[&kmz, &gz]);
    let reports = out;
    assert_eq!(
        (
            reports[0]["format"].as_str(),
            reports[0]["accepted"].as_u64()
        ),
        (Some("kml"), Some(3))
    );
    assert_eq!(
        reports[0]["skipped"][0]["name"],
        format!("{}!/files/icon.png", kmz.display())
    );
    assert_eq!(
        (
            reports[1]["format"].as_str(),
            reports[1]["accepted"].as_u64()
        ),
        (Some("gpx"), Some(3))
    );
}

#[test]
fn corrections_survive_reanalysis_and_new_imports() {
    let dir = tempfile::tempdir().unwrap();
    let csv = shared("mobilitynet/fixes/ucb-sdb-ios-3.csv.gz");
    import_ok(dir.path(), "ada", &[&csv]);
    let day = |d: &str| -> Vec<serde_json::Value> {
        let out = sillage(
            dir.path(),
            &["trips", "--citizen", "ada", "--day", d, "--json"],
        );
        assert!(out.status.success());
        serde_json::from_slice::<Vec<serde_json::Value>>(&out.stdout).unwrap()
    };
    let trips = day("2019-07-24");
    assert!(!trips.is_empty());
    let trip = &trips[0];
    let id = trip["id"].as_i64().unwrap().to_string();
    let out = sillage(
        dir.path(),
        &[
            "correct",
            "--citizen",
            "ada",
            "--trip",
            &id,
            "--leg",
            "0",
            "--mode",
            "e_scooter",
            "--purpose",
            "leisure_sport",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // New data arrives and everything is re-analysed: the corrections hold.
    import_ok(
        dir.path(),
        "ada",
        &[&shared("gpx-fixtures/garmin-activity.gpx")],
    );
    let again = day("2019-07-24");
    let same = again
        .iter()
        .find(|t| t["device"] == trip["device"] && t["start"] == trip["start"])
        .expect("the corrected trip is still there");
    assert_eq!(same["legs"][0]["mode"], "e_scooter");
    assert_eq!(same["legs"][0]["mode_source"], "citizen");
    assert_eq!(same["purpose"], "leisure_sport");
    assert_eq!(same["purpose_source"], "citizen");
}

#[test]
fn place_names_survive_reanalysis_and_footprint_adds_up() {
    let dir = tempfile::tempdir().unwrap();
    let csv = shared("mobilitynet/fixes/ucb-sdb-ios-3.csv.gz");
    import_ok(dir.path(), "ada", &[&csv]);
    let places = |dir: &Path| -> Vec<serde_json::Value> {
        let out = sillage(dir, &["places", "--citizen", "ada", "--json"]);
        assert!(out.status.success());
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let before = places(dir.path());
    assert!(!before.is_empty());
    // The most visited place, named and relabelled.
    let busiest = before
        .iter()
        .max_by_key(|p| p["visits"].as_u64().unwrap())
        .unwrap();
    let id = busiest["id"].as_i64().unwrap().to_string();
    let out = sillage(
        dir.path(),
        &[
            "place",
            "--citizen",
            "ada",
            "--id",
            &id,
            "--name",
            "Office",
            "--label",
            "work",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout(&out).contains("\"Office\""), "{}", stdout(&out));
    let out = sillage(dir.path(), &["analyse", "--citizen", "ada"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = places(dir.path());
    let same = after
        .iter()
        .find(|p| p["id"] == busiest["id"])
        .expect("the named place keeps its id");
    assert_eq!(same["name"], "Office");
    assert_eq!(
        (&same["label"], &same["label_source"]),
        (&"work".into(), &"citizen".into())
    );
    assert_eq!(
        after.len(),
        before.len(),
        "re-analysing the same fixes finds the same places"
    );

    // Footprint totals equal the sum of the legs' CO2, day by day.
    let footprint = sillage(
        dir.path(),
        &["footprint", "--citizen", "ada", "--by", "day", "--json"],
    );
    assert!(footprint.status.success());
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&footprint.stdout).unwrap();
    let mut days: Vec<&str> = rows.iter().map(|r| r["period"].as_str().unwrap()).collect();
    days.dedup();
    let (mut legs_co2, mut legs_km, mut trips_total) = (0.0, 0.0, 0);
    for day in &days {
        let out = sillage(
            dir.path(),
            &["trips", "--citizen", "ada", "--day", day, "--json"],
        );
        let trips: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
        trips_total += trips.len();
        for leg in trips.iter().flat_map(|t| t["legs"].as_array().unwrap()) {
            assert_eq!(leg["co2_factor_version"], "impactco2-2026-05");
            legs_co2 += leg["co2_g"].as_f64().unwrap_or(0.0);
            legs_km += leg["distance_m"].as_f64().unwrap() / 1000.0;
        }
    }
    assert!(trips_total > 10);
    let rows_co2: f64 = rows.iter().filter_map(|r| r["co2_g"].as_f64()).sum();
    let rows_km: f64 = rows.iter().map(|r| r["km"].as_f64().unwrap()).sum();
    assert!(legs_co2 > 1000.0);
    assert!(
        (rows_co2 - legs_co2).abs() < 1e-6 * legs_co2,
        "{rows_co2} vs {legs_co2}"
    );
    assert!((rows_km - legs_km).abs() < 1e-6 * legs_km);
    let by_year = sillage(
        dir.path(),
        &["footprint", "--citizen", "ada", "--by", "year", "--json"],
    );
    let years: Vec<serde_json::Value> = serde_json::from_slice(&by_year.stdout).unwrap();
    let years_co2: f64 = years.iter().filter_map(|r| r["co2_g"].as_f64()).sum();
    assert!((years_co2 - legs_co2).abs() < 1e-6 * legs_co2);

    // An electric car lowers the car legs' CO2; the settings are shown back.
    let car_co2 = |dir: &Path| -> f64 {
        let out = sillage(
            dir,
            &["footprint", "--citizen", "ada", "--by", "year", "--json"],
        );
        let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
        rows.iter()
            .filter(|r| r["mode"] == "car")
            .map(|r| r["co2_g"].as_f64().unwrap())
            .sum()
    };
    let combustion = car_co2(dir.path());
    let out = sillage(
        dir.path(),
        &[
            "settings",
            "--citizen",
            "ada",
            "--car-type",
            "electric",
            "--occupants",
            "2",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout(&out).contains("car type: electric"),
        "{}",
        stdout(&out)
    );
    let electric = car_co2(dir.path());
    assert!(
        combustion > 0.0 && electric < combustion * 0.6,
        "{combustion} → {electric}"
    );
    let bad = sillage(
        dir.path(),
        &["settings", "--citizen", "ada", "--car-type", "diesel"],
    );
    assert!(!bad.status.success());
}
