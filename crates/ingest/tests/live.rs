//! Conformance tests for the live tracker parsers, on request fixtures written
//! from the protocol descriptions (see `fixtures/live/README.md`).

use proptest::prelude::*;
use sillage_ingest::IngestError;
use sillage_ingest::live::{
    LiveBatch, gpslogger_request, osmand_request, overland_request, owntracks_request,
    traccar_json_request,
};
use sillage_model::{Fix, HintKind, Mode, RejectReason, SourceHint, Timestamp, ValidationRules};
use std::collections::BTreeMap;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/live/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Decodes `application/x-www-form-urlencoded` text the way the server's
/// query and form extractors do (`+` is a space, `%XX` a byte).
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

/// A `.query` fixture as decoded name/value pairs, in order.
fn query(name: &str) -> Vec<(String, String)> {
    let text = String::from_utf8(fixture(name)).unwrap();
    text.trim()
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(key), decode(value))
        })
        .collect()
}

fn at(iso: &str) -> Timestamp {
    Timestamp::parse_iso8601(iso).unwrap().0
}

fn only_fix(batch: &LiveBatch) -> Fix {
    assert_eq!(batch.fixes.len(), 1, "{batch:?}");
    assert!(batch.rejected.is_empty(), "{batch:?}");
    batch.fixes[0]
}

fn rejected(pairs: &[(RejectReason, u64)]) -> BTreeMap<RejectReason, u64> {
    pairs.iter().copied().collect()
}

fn activity(hint: &SourceHint) -> (&str, Option<Mode>) {
    match &hint.kind {
        HintKind::Activity { label, mode } => (label.as_str(), *mode),
        other => panic!("expected an activity hint, got {other:?}"),
    }
}

/// Metres per second from knots, computed independently of the parser.
fn knots(v: f64) -> f32 {
    (v * 1852.0 / 3600.0) as f32
}

// ---------------------------------------------------------------- OwnTracks

#[test]
fn owntracks_location_converts_kmh_and_keeps_motion() {
    let batch = owntracks_request(&fixture("owntracks-location.json")).unwrap();
    let fix = only_fix(&batch);
    assert_eq!(fix.time, Timestamp(1_709_280_000_000));
    assert_eq!((fix.lat, fix.lon), (46.1591, -1.152));
    assert_eq!(fix.speed_mps, Some(5.0), "vel 18 km/h is 5 m/s");
    assert_eq!(fix.accuracy_m, Some(8.0));
    assert_eq!(fix.altitude_m, Some(6.0));
    assert_eq!(fix.bearing_deg, Some(270.0));
    assert_eq!(fix.utc_offset_min, None);
    assert_eq!(batch.hints.len(), 1);
    assert_eq!(activity(&batch.hints[0]), ("walking", Some(Mode::Walking)));
    assert_eq!(batch.hints[0].start, fix.time);
}

#[test]
fn owntracks_transition_and_empty_body_carry_nothing() {
    for name in ["owntracks-transition.json", "owntracks-empty"] {
        let batch = owntracks_request(&fixture(name)).unwrap();
        assert_eq!(batch, LiveBatch::default(), "{name}");
    }
    assert_eq!(fixture("owntracks-empty").len(), 0);
    assert_eq!(owntracks_request(b" \r\n").unwrap(), LiveBatch::default());
}

#[test]
fn owntracks_array_counts_null_island_and_missing_lon() {
    let batch = owntracks_request(&fixture("owntracks-array.json")).unwrap();
    assert_eq!(batch.fixes.len(), 1);
    let fix = batch.fixes[0];
    assert_eq!(fix.time, Timestamp(1_709_280_300_000));
    assert_eq!(fix.accuracy_m, Some(15.0));
    // `vel`, `alt`, `cog` omitted because zero: unknown, not invalid.
    assert_eq!(
        (fix.speed_mps, fix.altitude_m, fix.bearing_deg),
        (None, None, None)
    );
    assert_eq!(
        batch.rejected,
        rejected(&[
            (RejectReason::NullIsland, 1),
            (RejectReason::MissingPosition, 1)
        ])
    );
}

/// GPSLogger set up to post an OwnTracks body, every value a placeholder in quotes.
#[test]
fn gpslogger_owntracks_style_body_with_string_numbers() {
    let batch = owntracks_request(&fixture("gpslogger-owntracks-body.json")).unwrap();
    let fix = only_fix(&batch);
    assert_eq!(fix.time, Timestamp(1_709_283_605_000));
    assert_eq!((fix.lat, fix.lon), (46.1602, -1.1487));
    assert_eq!(fix.speed_mps, Some(5.0));
    assert_eq!(fix.accuracy_m, Some(6.0));
    assert_eq!(fix.altitude_m, Some(12.5));
    assert_eq!(fix.bearing_deg, Some(271.5));
}

#[test]
fn owntracks_syntax_errors_are_located() {
    let err = owntracks_request(br#"{"_type":"location","lat":46.16,"#).unwrap_err();
    assert!(matches!(err, IngestError::Syntax { .. }), "{err}");
}

// ----------------------------------------------------------------- Overland

#[test]
fn overland_batch_keeps_points_and_skips_the_rest() {
    let batch = overland_request(&fixture("overland-batch.json")).unwrap();
    assert!(batch.rejected.is_empty(), "{:?}", batch.rejected);
    // Two locations; the will_terminate event, the visit, the trip summary,
    // `current` and `trip` are not fixes.
    assert_eq!(batch.fixes.len(), 2);
    let first = batch.fixes[0];
    assert_eq!(first.time, at("2024-03-01T08:00:00Z"));
    assert_eq!(first.time, Timestamp(1_709_280_000_000));
    assert_eq!((first.lat, first.lon), (46.1591, -1.152));
    assert_eq!(first.speed_mps, Some(6.0));
    assert_eq!(first.bearing_deg, Some(92.0));
    assert_eq!(first.accuracy_m, Some(5.0));
    assert_eq!(first.altitude_m, Some(9.0));
    let second = batch.fixes[1];
    assert_eq!(second.time, Timestamp(1_709_280_030_000));
    assert_eq!(second.speed_mps, None, "-1 means invalid, not a speed");
    assert_eq!(second.bearing_deg, None, "-1 means invalid, not a course");
    assert_eq!(second.accuracy_m, Some(65.0));
    let hints: Vec<_> = batch.hints.iter().map(activity).collect();
    assert_eq!(
        hints,
        vec![("driving", Some(Mode::Car)), ("stationary", None)]
    );
    assert_eq!(batch.hints[1].start, second.time);
}

#[test]
fn overland_body_without_locations_names_the_field() {
    let err = overland_request(br#"{"current":{"type":"Feature"}}"#).unwrap_err();
    assert!(
        matches!(
            err,
            IngestError::MissingField {
                field: "locations",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "missing `locations`: expected an array of GeoJSON Point features, as Overland posts them"
    );
    let err = overland_request(br#"{"locations":{}}"#).unwrap_err();
    assert!(matches!(err, IngestError::Syntax { .. }), "{err}");
    assert_eq!(
        overland_request(br#"{"locations":[]}"#).unwrap(),
        LiveBatch::default()
    );
}

// ---------------------------------------------------------------- GPSLogger

#[test]
fn gpslogger_default_url() {
    let batch = gpslogger_request(&query("gpslogger-default.query")).unwrap();
    let fix = only_fix(&batch);
    assert_eq!(fix.time, Timestamp(1_709_280_000_250));
    assert_eq!((fix.lat, fix.lon), (46.1591, -1.152));
    assert_eq!(fix.speed_mps, Some(4.5), "%SPD is m/s");
    assert_eq!(
        (fix.accuracy_m, fix.altitude_m, fix.bearing_deg),
        (None, None, None)
    );
    assert!(batch.hints.is_empty());
}

#[test]
fn gpslogger_all_placeholders() {
    let params = query("gpslogger-all.query");
    assert!(
        params
            .iter()
            .any(|(k, v)| k == "profile" && v == "Default Profile")
    );
    let fix = only_fix(&gpslogger_request(&params).unwrap());
    // `time` (milliseconds) wins over `timestamp` (whole seconds)…
    assert_eq!(fix.time, Timestamp(1_709_283_605_120));
    // …and `timeoffset` tells the phone's UTC offset.
    assert_eq!(fix.utc_offset_min, Some(60));
    assert_eq!((fix.lat, fix.lon), (46.1602, -1.1487));
    assert_eq!(fix.speed_mps, Some(1.25));
    assert_eq!(fix.accuracy_m, Some(6.0));
    assert_eq!(fix.altitude_m, Some(12.5));
    assert_eq!(fix.bearing_deg, Some(271.5));
}

#[test]
fn gpslogger_names_are_case_insensitive_and_kph_is_converted() {
    let fix = only_fix(&gpslogger_request(&query("gpslogger-uppercase-kph.query")).unwrap());
    assert_eq!(fix.time, Timestamp(1_709_280_120_000), "epoch seconds");
    assert_eq!((fix.lat, fix.lon), (46.1588, -1.1502));
    assert_eq!(fix.speed_mps, Some(10.0), "36 km/h");
    assert_eq!(fix.accuracy_m, None, "Android's 0.0 means no estimate");
    assert_eq!(fix.altitude_m, Some(-2.5), "below sea level is an altitude");
    assert_eq!(fix.bearing_deg, Some(0.0));
}

#[test]
fn gpslogger_missing_lat_is_an_error_naming_it() {
    let err = gpslogger_request(&query("gpslogger-missing-lat.query")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "missing `lat`: expected the latitude in decimal degrees, e.g. lat=%LAT"
    );
}

#[test]
fn gpslogger_unreadable_or_missing_mandatory_fields() {
    let mut params = query("gpslogger-default.query");
    params[0].1 = "%LAT".into();
    let err = gpslogger_request(&params).unwrap_err();
    assert!(
        matches!(&err, IngestError::InvalidField { field: "lat", found, .. } if found == "%LAT"),
        "{err}"
    );
    let mut params = query("gpslogger-default.query");
    params[1].0 = "LONGITUDE".into();
    params[1].1 = "west".into();
    let err = gpslogger_request(&params).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("invalid `longitude` \"west\": expected"),
        "{err}"
    );
    let mut params = query("gpslogger-default.query");
    params.retain(|(k, _)| k != "time");
    let err = gpslogger_request(&params).unwrap_err();
    assert!(
        matches!(err, IngestError::MissingField { field: "time", .. }),
        "{err}"
    );
    let mut params = query("gpslogger-default.query");
    params[2].1 = "tomorrow".into();
    let err = gpslogger_request(&params).unwrap_err();
    assert!(
        matches!(err, IngestError::InvalidField { field: "time", .. }),
        "{err}"
    );
}

#[test]
fn gpslogger_implausible_fixes_are_counted_not_errors() {
    let batch = gpslogger_request(&query("gpslogger-null-island.query")).unwrap();
    assert!(batch.fixes.is_empty());
    assert_eq!(batch.rejected, rejected(&[(RejectReason::NullIsland, 1)]));
    let mut params = query("gpslogger-default.query");
    params.push(("acc".into(), "25000".into()));
    let batch = gpslogger_request(&params).unwrap();
    assert_eq!(
        batch.rejected,
        rejected(&[(RejectReason::AccuracyTooLarge, 1)])
    );
}

// ------------------------------------------------------------------- OsmAnd

#[test]
fn osmand_epoch_seconds_and_knots() {
    let (device, batch) = osmand_request(&query("osmand-seconds.query")).unwrap();
    assert_eq!(device, "4827193");
    let fix = only_fix(&batch);
    assert_eq!(fix.time, Timestamp(1_709_280_000_000));
    assert_eq!((fix.lat, fix.lon), (46.1591, -1.152));
    let speed = fix.speed_mps.unwrap();
    assert!((speed - knots(10.0)).abs() < 1e-6, "10 kn, got {speed} m/s");
    assert!((speed - 5.144_444).abs() < 1e-5, "10 kn, got {speed} m/s");
    assert_eq!(fix.bearing_deg, Some(98.0));
    assert_eq!(fix.altitude_m, Some(5.0));
    assert_eq!(fix.accuracy_m, Some(12.0));
}

#[test]
fn osmand_epoch_millis_and_hdop_as_accuracy() {
    let (device, batch) = osmand_request(&query("osmand-millis-hdop.query")).unwrap();
    assert_eq!(device, "jane-osmand");
    let fix = only_fix(&batch);
    assert_eq!(fix.time, Timestamp(1_709_280_030_250));
    assert_eq!(fix.accuracy_m, Some(8.0));
    assert_eq!(fix.altitude_m, Some(7.5));
    assert_eq!(fix.speed_mps, Some(0.0));
}

#[test]
fn osmand_iso_time_and_location_pair() {
    let (_, batch) = osmand_request(&query("osmand-iso-location.query")).unwrap();
    let fix = only_fix(&batch);
    assert_eq!(fix.time, Timestamp(1_709_280_060_000));
    assert_eq!(fix.utc_offset_min, Some(60));
    assert_eq!((fix.lat, fix.lon), (46.1599, -1.15));
    assert_eq!(fix.bearing_deg, Some(181.5), "`heading` is the bearing");
    assert_eq!(fix.accuracy_m, Some(15.0));
    assert_eq!(fix.speed_mps, None);
}

#[test]
fn osmand_space_separated_date_time_is_utc() {
    let (_, batch) = osmand_request(&query("osmand-datetime.query")).unwrap();
    let fix = only_fix(&batch);
    assert_eq!(fix.time, at("2024-03-01T08:01:30Z"));
    assert_eq!(fix.utc_offset_min, None);
}

#[test]
fn osmand_invalid_and_implausible_fixes_are_counted() {
    let (device, batch) = osmand_request(&query("osmand-invalid-fix.query")).unwrap();
    assert_eq!(device, "4827193");
    assert!(batch.fixes.is_empty());
    assert_eq!(
        batch.rejected,
        rejected(&[(RejectReason::MissingPosition, 1)])
    );
    let (_, batch) = osmand_request(&query("osmand-null-island.query")).unwrap();
    assert!(batch.fixes.is_empty());
    assert_eq!(batch.rejected, rejected(&[(RejectReason::NullIsland, 1)]));
    let mut params = query("osmand-seconds.query");
    params[1].1 = "2090-01-01T00:00:00Z".into();
    let (_, batch) = osmand_request(&params).unwrap();
    assert_eq!(batch.rejected, rejected(&[(RejectReason::TimeInFuture, 1)]));
}

#[test]
fn osmand_missing_id_is_an_error_naming_it() {
    let err = osmand_request(&query("osmand-missing-id.query")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "missing `id`: expected the device identifier, as id= or deviceid="
    );
    let mut params = query("osmand-seconds.query");
    params[0].1 = String::new();
    assert!(matches!(
        osmand_request(&params),
        Err(IngestError::MissingField { field: "id", .. })
    ));
}

#[test]
fn osmand_position_and_time_errors() {
    let mut params = query("osmand-seconds.query");
    params.retain(|(k, _)| k != "lat");
    let err = osmand_request(&params).unwrap_err();
    assert!(
        matches!(err, IngestError::MissingField { field: "lat", .. }),
        "{err}"
    );
    let mut params = query("osmand-iso-location.query");
    params[2].1 = "somewhere".into();
    let err = osmand_request(&params).unwrap_err();
    assert!(
        matches!(
            err,
            IngestError::InvalidField {
                field: "location",
                ..
            }
        ),
        "{err}"
    );
    let mut params = query("osmand-seconds.query");
    params.retain(|(k, _)| k != "timestamp");
    let err = osmand_request(&params).unwrap_err();
    assert!(
        matches!(
            err,
            IngestError::MissingField {
                field: "timestamp",
                ..
            }
        ),
        "{err}"
    );
}

// ----------------------------------------------------------- Traccar Client

#[test]
fn traccar_client_json() {
    let (device, batch) = traccar_json_request(&fixture("traccar-client.json")).unwrap();
    assert_eq!(device, "4827193");
    let fix = only_fix(&batch);
    assert_eq!(fix.time, Timestamp(1_709_280_120_500));
    assert_eq!(fix.utc_offset_min, None);
    assert_eq!((fix.lat, fix.lon), (46.1604, -1.1478));
    assert_eq!(fix.speed_mps, Some(3.2), "m/s, not knots");
    assert_eq!(fix.bearing_deg, Some(87.3));
    assert_eq!(fix.altitude_m, Some(11.2));
    assert_eq!(fix.accuracy_m, Some(4.8));
    assert_eq!(batch.hints.len(), 1);
    assert_eq!(
        activity(&batch.hints[0]),
        ("on_bicycle", Some(Mode::Bicycle))
    );
    assert_eq!(batch.hints[0].confidence, Some(0.83));
    assert_eq!(
        (batch.hints[0].start, batch.hints[0].end),
        (fix.time, fix.time)
    );
}

#[test]
fn traccar_client_unknown_speed_and_heading() {
    let (_, batch) = traccar_json_request(&fixture("traccar-client-still.json")).unwrap();
    let fix = only_fix(&batch);
    assert_eq!(fix.time, at("2024-03-01T08:15:00Z"));
    assert_eq!(fix.utc_offset_min, Some(60));
    assert_eq!((fix.speed_mps, fix.bearing_deg), (None, None));
    assert_eq!(fix.accuracy_m, Some(16.0));
    assert_eq!(activity(&batch.hints[0]), ("still", None));
    assert_eq!(batch.hints[0].confidence, Some(1.0));
}

#[test]
fn traccar_client_missing_latitude_is_an_error_naming_it() {
    let err = traccar_json_request(&fixture("traccar-missing-latitude.json")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "missing `location.coords.latitude`: expected a number of decimal degrees"
    );
}

#[test]
fn traccar_client_structural_errors() {
    let body = String::from_utf8(fixture("traccar-client.json")).unwrap();
    let cases = [
        (
            body.replace(r#""device_id": "4827193""#, r#""device_id": """#),
            "device_id",
        ),
        (body.replace(r#""device_id""#, r#""device""#), "device_id"),
        (body.replace(r#""location":"#, r#""position":"#), "location"),
        (
            body.replace(r#""timestamp":"#, r#""time":"#),
            "location.timestamp",
        ),
        (
            body.replace(r#""coords":"#, r#""coordinates":"#),
            "location.coords",
        ),
    ];
    for (text, field) in cases {
        match traccar_json_request(text.as_bytes()) {
            Err(IngestError::MissingField { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: expected a missing-field error, got {other:?}"),
        }
    }
    let text = body.replace("2024-03-01T08:02:00.500Z", "last tuesday");
    let err = traccar_json_request(text.as_bytes()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid `location.timestamp` \"last tuesday\": expected an ISO-8601 time such as \"2024-03-01T08:00:00.000Z\""
    );
    let text = body.replace("46.1604", "\"north\"");
    let err = traccar_json_request(text.as_bytes()).unwrap_err();
    assert!(
        matches!(
            err,
            IngestError::InvalidField {
                field: "location.coords.latitude",
                ..
            }
        ),
        "{err}"
    );
    let err = traccar_json_request(b"location=46.1,-1.1").unwrap_err();
    assert!(matches!(err, IngestError::Syntax { .. }), "{err}");
    let (device, _) = traccar_json_request(body.replace(r#""4827193""#, "4827193").as_bytes())
        .expect("a numeric device id");
    assert_eq!(device, "4827193");
}

// ------------------------------------------------------------- robustness

/// Every fix a parser returns passed validation, and every hint is ordered.
fn check_invariants(batch: &LiveBatch) {
    let rules = ValidationRules::for_import_now();
    for fix in &batch.fixes {
        assert_eq!(
            rules.check(*fix),
            Ok(*fix),
            "an invalid fix escaped validation"
        );
    }
    for hint in &batch.hints {
        assert!(hint.start <= hint.end, "a hint ends before it starts");
    }
}

fn body_fixtures() -> Vec<Vec<u8>> {
    [
        "owntracks-location.json",
        "owntracks-transition.json",
        "owntracks-array.json",
        "gpslogger-owntracks-body.json",
        "overland-batch.json",
        "traccar-client.json",
        "traccar-client-still.json",
    ]
    .iter()
    .map(|name| fixture(name))
    .collect()
}

fn body_parsers(bytes: &[u8]) {
    if let Ok(batch) = owntracks_request(bytes) {
        check_invariants(&batch);
    }
    if let Ok(batch) = overland_request(bytes) {
        check_invariants(&batch);
    }
    if let Ok((_, batch)) = traccar_json_request(bytes) {
        check_invariants(&batch);
    }
}

/// Parameter names the parsers look for, so random requests reach past the
/// mandatory-field checks.
const NAMES: &[&str] = &[
    "id",
    "deviceid",
    "lat",
    "LAT",
    "lon",
    "longitude",
    "location",
    "time",
    "timestamp",
    "timeoffset",
    "s",
    "spd",
    "spd_kph",
    "speed",
    "acc",
    "accuracy",
    "hdop",
    "alt",
    "altitude",
    "dir",
    "bearing",
    "heading",
    "valid",
    "batt",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic_a_body_parser(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        body_parsers(&bytes);
    }

    #[test]
    fn damaged_fixtures_never_panic_a_body_parser(
        seed in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), prop::sample::select(b"{}[]\":,-.0123456789eE ntfl".to_vec())), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let fixtures = body_fixtures();
        let mut bytes = seed.get(&fixtures).clone();
        for (at, byte) in edits {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        let len = bytes.len();
        bytes.truncate(len - cut.index(len / 4 + 1));
        body_parsers(&bytes);
    }

    #[test]
    fn arbitrary_parameters_never_panic(
        params in prop::collection::vec(
            (prop::sample::select(NAMES.to_vec()), "[-+0-9.:,TZ eE]{0,28}|true|false|NaN|inf"),
            0..12,
        ),
    ) {
        let params: Vec<(String, String)> =
            params.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        if let Ok(batch) = gpslogger_request(&params) {
            check_invariants(&batch);
        }
        if let Ok((_, batch)) = osmand_request(&params) {
            check_invariants(&batch);
        }
    }
}
