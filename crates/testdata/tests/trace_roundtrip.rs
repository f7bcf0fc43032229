//! Every trace format, written and read back through Sillage's importer: the
//! file must be detected as the intended format and give back the same fixes,
//! to the precision the format keeps.

use sillage_ingest::{Collected, Emitter, IngestError, for_each_source, parse_stream};
use sillage_model::{Fix, SourceFormat, Timestamp, ValidationRules};
use sillage_testdata::trace::{TraceFix, TraceFormat, records_device_tag, write_trace};

/// Rules that accept any date up to 2100, so the tests never depend on the clock.
const RULES: ValidationRules = ValidationRules {
    max_accuracy_m: 10_000.0,
    latest: Timestamp(4_102_444_800_000),
};

/// 2026-03-02T06:00:00Z.
const START_MS: i64 = 1_772_431_200_000;

/// Paris in winter: the Timeline writes local times with this offset.
const OFFSET_MIN: i32 = 60;

/// A few hours of a phone around Monaco (43.73, 7.42): fixes every 5–60 s
/// with millisecond parts, accuracies from 3 m (GPS) to 1.5 km (cell),
/// speeds, headings and altitudes sometimes missing. Deterministic.
fn monaco_trace(count: usize) -> Vec<TraceFix> {
    let mut state: u64 = 0x5EED_1234_ABCD_0001;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut lat, mut lon, mut time_ms) = (43.73, 7.42, START_MS);
    (0..count)
        .map(|i| {
            let r = next();
            time_ms += 5_000 + (r % 55_000) as i64;
            lat += ((r >> 20) % 2001) as f64 * 1e-7 - 1e-4;
            lon += ((r >> 32) % 2001) as f64 * 1e-7 - 1e-4;
            let accuracy_m = match i % 10 {
                0 => 1500.0 + (r % 7) as f32,
                1 | 2 => 40.0 + ((r >> 8) % 300) as f32 * 0.5,
                _ => 3.0 + ((r >> 8) % 250) as f32 * 0.1,
            };
            TraceFix {
                time_ms,
                lat,
                lon,
                accuracy_m,
                speed_mps: (i % 7 != 3).then_some(((r >> 44) % 3000) as f32 * 0.01),
                heading_deg: (i % 5 != 1).then_some(((r >> 12) % 3600) as f32 * 0.1),
                altitude_m: (i % 6 != 2).then_some(((r >> 50) % 6000) as f32 * 0.01 - 5.0),
            }
        })
        .collect()
}

fn write(format: TraceFormat, fixes: &[TraceFix], device: &str) -> Vec<u8> {
    let mut bytes = Vec::new();
    write_trace(format, fixes, device, OFFSET_MIN, &mut bytes).unwrap();
    bytes
}

/// Reads `bytes` through the importer's public entry point.
fn import(bytes: &[u8]) -> (Result<SourceFormat, IngestError>, Collected) {
    let mut collected = Collected::default();
    let result = parse_stream(bytes, &mut Emitter::new(&mut collected, RULES));
    (result, collected)
}

/// Checks that the output is well-formed JSON or XML on its own terms, not
/// only as far as the importer's streaming parsers look.
fn assert_well_formed(format: TraceFormat, bytes: &[u8]) {
    let text = std::str::from_utf8(bytes).expect("UTF-8");
    match format {
        TraceFormat::GoogleRecords | TraceFormat::Timeline2024 | TraceFormat::OwnTracksJson => {
            serde_json::from_str::<serde_json::Value>(text)
                .unwrap_or_else(|e| panic!("{format:?}: invalid JSON: {e}"));
        }
        TraceFormat::OwnTracksRec => {
            for line in text.lines() {
                let mut columns = line.splitn(3, '\t');
                let (time, topic, json) = (columns.next(), columns.next(), columns.next());
                assert!(
                    Timestamp::parse_iso8601(time.unwrap()).is_ok(),
                    "time column of {line}"
                );
                assert_eq!(topic, Some(format!("{:<18}", "*").as_str()), "{line}");
                serde_json::from_str::<serde_json::Value>(json.unwrap())
                    .unwrap_or_else(|e| panic!("invalid JSON in {line}: {e}"));
            }
        }
        TraceFormat::Gpx => {
            let mut reader = quick_xml::Reader::from_str(text);
            reader.config_mut().check_end_names = true;
            let mut depth = 0i32;
            loop {
                match reader
                    .read_event()
                    .unwrap_or_else(|e| panic!("invalid XML: {e}"))
                {
                    quick_xml::events::Event::Start(_) => depth += 1,
                    quick_xml::events::Event::End(_) => depth -= 1,
                    quick_xml::events::Event::Text(t) => {
                        t.decode().expect("decodable text");
                    }
                    quick_xml::events::Event::Eof => break,
                    _ => {}
                }
            }
            assert_eq!(depth, 0, "every element closed");
        }
    }
}

/// What the format keeps of a fix: the fix as the importer should read it.
fn expected(format: TraceFormat, f: &TraceFix) -> Fix {
    let round = |v: f32| v.round();
    let nonzero = |v: f32| (v != 0.0).then_some(v);
    let seven = |d: f64| (d * 1e7).round() / 1e7;
    let base = Fix::new(Timestamp(f.time_ms), seven(f.lat), seven(f.lon));
    match format {
        TraceFormat::GoogleRecords => Fix {
            accuracy_m: Some(round(f.accuracy_m)),
            speed_mps: f.speed_mps.map(round),
            bearing_deg: f.heading_deg.map(|h| round(h).rem_euclid(360.0)),
            altitude_m: f.altitude_m.map(round),
            ..base
        },
        TraceFormat::Timeline2024 => Fix {
            accuracy_m: Some(round(f.accuracy_m)),
            speed_mps: f.speed_mps,
            altitude_m: f.altitude_m,
            utc_offset_min: Some(OFFSET_MIN as i16),
            ..base
        },
        TraceFormat::Gpx => Fix {
            speed_mps: f.speed_mps,
            bearing_deg: f.heading_deg,
            altitude_m: f.altitude_m,
            ..base
        },
        TraceFormat::OwnTracksRec | TraceFormat::OwnTracksJson => Fix {
            time: Timestamp(f.time_ms.div_euclid(1000) * 1000),
            accuracy_m: nonzero(round(f.accuracy_m)),
            // Whole km/h, left out when zero; the importer divides by 3.6.
            speed_mps: f
                .speed_mps
                .and_then(|v| nonzero(round(v * 3.6)))
                .map(|kmh| (f64::from(kmh) / 3.6) as f32),
            bearing_deg: f
                .heading_deg
                .and_then(|h| nonzero(round(h).rem_euclid(360.0))),
            altitude_m: f.altitude_m.and_then(|a| nonzero(round(a))),
            ..base
        },
    }
}

fn assert_same_fix(format: TraceFormat, i: usize, got: &Fix, want: &Fix) {
    let context = format!("{format:?} fix {i}: got {got:?}, want {want:?}");
    assert_eq!(got.time, want.time, "{context}");
    // E7 integers are exact; decimal text is within a rounding of the 7th decimal.
    let tolerance = if format == TraceFormat::GoogleRecords {
        1e-9
    } else {
        1e-7
    };
    assert!((got.lat - want.lat).abs() < tolerance, "{context}");
    assert!((got.lon - want.lon).abs() < tolerance, "{context}");
    let close = |a: Option<f32>, b: Option<f32>| match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() <= 1e-4 * b.abs().max(1.0),
        (None, None) => true,
        _ => false,
    };
    assert!(
        close(got.accuracy_m, want.accuracy_m),
        "accuracy: {context}"
    );
    assert!(close(got.speed_mps, want.speed_mps), "speed: {context}");
    assert!(
        close(got.bearing_deg, want.bearing_deg),
        "bearing: {context}"
    );
    assert!(
        close(got.altitude_m, want.altitude_m),
        "altitude: {context}"
    );
    assert_eq!(got.utc_offset_min, want.utc_offset_min, "offset: {context}");
}

#[test]
fn every_format_reads_back_every_fix() {
    let trace = monaco_trace(500);
    assert!(trace.len() == 500 && trace.last().unwrap().time_ms - START_MS > 3 * 3_600_000);
    for format in TraceFormat::ALL {
        let bytes = write(format, &trace, "citizen-042");
        assert_well_formed(format, &bytes);
        let (detected, got) = import(&bytes);
        assert_eq!(detected.unwrap(), format.source_format(), "{format:?}");
        assert!(got.rejected.is_empty(), "{format:?}: {:?}", got.rejected);
        assert_eq!(got.fixes.len(), trace.len(), "{format:?}");
        for (i, ((_, fix), original)) in got.fixes.iter().zip(&trace).enumerate() {
            assert_same_fix(format, i, fix, &expected(format, original));
        }
        let device = &got.fixes[0].0;
        if format == TraceFormat::GoogleRecords {
            assert_eq!(
                device,
                &format!("google:{}", records_device_tag("citizen-042"))
            );
        } else {
            assert_eq!(device, "", "{format:?}: one device per file");
        }
    }
}

#[test]
fn speed_and_accuracy_cases_of_each_format() {
    let fix = |speed: Option<f32>, accuracy_m: f32| TraceFix {
        time_ms: START_MS + 1,
        lat: 43.7384,
        lon: 7.4246,
        accuracy_m,
        speed_mps: speed,
        heading_deg: Some(359.7),
        altitude_m: Some(0.2),
    };
    // Slow enough to round to 0 km/h: OwnTracks leaves `vel` out, so the
    // speed reads back unknown; likewise a zero accuracy or altitude.
    let crawl = [fix(Some(0.1), 0.3)];
    for format in [TraceFormat::OwnTracksRec, TraceFormat::OwnTracksJson] {
        let (_, got) = import(&write(format, &crawl, "p"));
        let f = got.fix_list()[0];
        assert_eq!(
            (f.speed_mps, f.accuracy_m, f.altitude_m, f.bearing_deg),
            (None, None, None, None),
            "{format:?}"
        );
        assert_eq!(f.time, Timestamp(START_MS), "whole seconds");
    }
    // Records keeps a zero velocity (it is a measured value there).
    let (_, got) = import(&write(TraceFormat::GoogleRecords, &crawl, "p"));
    let f = got.fix_list()[0];
    assert_eq!((f.speed_mps, f.bearing_deg), (Some(0.0), Some(0.0)));
    assert_eq!(f.time, Timestamp(START_MS + 1), "milliseconds kept");
    // 5 m/s is exactly 18 km/h.
    let (_, got) = import(&write(
        TraceFormat::OwnTracksRec,
        &[fix(Some(5.0), 10.0)],
        "p",
    ));
    assert_eq!(got.fix_list()[0].speed_mps, Some(5.0));
}

#[test]
fn fixes_are_written_in_time_order() {
    let trace = monaco_trace(50);
    let mut shuffled = trace.clone();
    shuffled.reverse();
    shuffled.swap(3, 17);
    for format in TraceFormat::ALL {
        assert_eq!(
            write(format, &shuffled, "d"),
            write(format, &trace, "d"),
            "{format:?}"
        );
    }
}

#[test]
fn output_is_deterministic_and_ends_with_a_newline() {
    let trace = monaco_trace(30);
    for format in TraceFormat::ALL {
        let bytes = write(format, &trace, "d");
        assert_eq!(bytes, write(format, &trace, "d"), "{format:?}");
        assert_eq!(bytes.last(), Some(&b'\n'), "{format:?}");
    }
}

#[test]
fn device_names_are_escaped() {
    let trace = monaco_trace(5);
    let device = "Zoé's <Pixel> & \"7\"/x\\\u{1}";
    for format in TraceFormat::ALL {
        let bytes = write(format, &trace, device);
        assert_well_formed(format, &bytes);
        let (detected, got) = import(&bytes);
        assert_eq!(detected.unwrap(), format.source_format(), "{format:?}");
        assert_eq!(got.fixes.len(), 5, "{format:?}");
    }
    let gpx = String::from_utf8(write(TraceFormat::Gpx, &trace, device)).unwrap();
    assert!(gpx.contains("<name>Zoé&apos;s &lt;Pixel&gt; &amp; &quot;7&quot;/x\\</name>"));
    let json = String::from_utf8(write(TraceFormat::OwnTracksJson, &trace, device)).unwrap();
    let messages: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        messages[0]["topic"],
        "owntracks/user/Zoé's <Pixel> & \"7\"_x\\_"
    );
    assert_eq!(messages[0]["tid"], "\\_");
}

#[test]
fn empty_traces() {
    for format in TraceFormat::ALL {
        let bytes = write(format, &[], "d");
        let (detected, got) = import(&bytes);
        match format {
            // Nothing recorded leaves nothing: the Recorder has no file and the
            // app nothing to send; the importer says there is nothing to import.
            TraceFormat::OwnTracksRec => {
                assert!(bytes.is_empty());
                let error = detected.unwrap_err().to_string();
                assert!(error.contains("empty"), "{error}");
            }
            TraceFormat::OwnTracksJson => {
                assert_eq!(bytes, b"[\n]\n");
                let error = detected.unwrap_err().to_string();
                assert!(error.contains("nothing to import"), "{error}");
            }
            _ => {
                assert_well_formed(format, &bytes);
                assert_eq!(detected.unwrap(), format.source_format(), "{format:?}");
                assert!(
                    got.fixes.is_empty() && got.rejected.is_empty(),
                    "{format:?}"
                );
            }
        }
    }
}

#[test]
fn files_under_their_real_names_are_recognised_in_a_folder() {
    let dir = std::env::temp_dir().join(format!("sillage-trace-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let trace = monaco_trace(100);
    for format in TraceFormat::ALL {
        let file = std::fs::File::create(dir.join(format.file_name())).unwrap();
        let mut out = std::io::BufWriter::new(file);
        write_trace(format, &trace, "phone", OFFSET_MIN, &mut out).unwrap();
    }
    let mut seen = Vec::new();
    let result = for_each_source(&dir, &mut |entry| -> Result<(), IngestError> {
        let mut collected = Collected::default();
        let format = parse_stream(entry.reader, &mut Emitter::new(&mut collected, RULES))?;
        seen.push((format, collected.fixes.len()));
        Ok(())
    });
    std::fs::remove_dir_all(&dir).unwrap();
    result.unwrap();
    seen.sort_by_key(|(format, _)| format.as_str());
    let mut want: Vec<_> = TraceFormat::ALL
        .iter()
        .map(|f| (f.source_format(), 100))
        .collect();
    want.sort_by_key(|(format, _)| format.as_str());
    assert_eq!(seen, want);
}

#[test]
fn timeline_writes_local_times_with_the_offset() {
    let fix = TraceFix {
        time_ms: 1_772_431_200_500, // 2026-03-02T06:00:00.500Z
        lat: 43.73,
        lon: 7.42,
        accuracy_m: 12.4,
        speed_mps: Some(1.5),
        heading_deg: None,
        altitude_m: Some(42.0),
    };
    let mut bytes = Vec::new();
    write_trace(TraceFormat::Timeline2024, &[fix], "d", -150, &mut bytes).unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(
        text.contains("\"timestamp\": \"2026-03-02T03:30:00.500-02:30\""),
        "{text}"
    );
    assert!(
        text.contains("\"LatLng\": \"43.7300000°, 7.4200000°\""),
        "{text}"
    );
    assert!(text.contains("\"altitudeMeters\": 42.0"), "{text}");
    let (_, got) = import(&bytes);
    let f = got.fix_list()[0];
    assert_eq!(f.time, Timestamp(fix.time_ms));
    assert_eq!(f.utc_offset_min, Some(-150));
}

#[test]
fn unwritable_values_are_refused_before_writing() {
    let good = monaco_trace(3);
    let mut bad = good.clone();
    bad[2].lat = f64::NAN;
    let mut out = Vec::new();
    let error = write_trace(TraceFormat::Gpx, &bad, "d", 0, &mut out).unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    assert!(out.is_empty(), "nothing half-written");
    let error = write_trace(TraceFormat::Timeline2024, &good, "d", 19 * 60, &mut out).unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
}
