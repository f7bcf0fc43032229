//! Runs stay detection (trackintel-compatible) or the whole pipeline over
//! location files, for comparisons with trackintel and for timing.
//!
//! `cargo run --release -p sillage-analysis --example pipeline_bench -- staypoints FILE...`
//!   prints the stay points as CSV (start_ms,end_ms,lat,lon), trackintel's `sliding` semantics.
//! `cargo run --release -p sillage-analysis --example pipeline_bench -- time FILE...`
//!   prints the median wall time of stays + trips + legs + modes over 5 runs.

use sillage_analysis::mode::RuleClassifier;
use sillage_analysis::stay::stay_points;
use sillage_analysis::{AnalysisParams, analyse};
use sillage_ingest::{Collected, Emitter, for_each_source, parse_stream};
use sillage_model::{Fix, Timestamp, ValidationRules};
use std::time::Instant;

fn load(paths: &[String]) -> Vec<Fix> {
    let rules = ValidationRules {
        max_accuracy_m: f32::MAX,
        latest: Timestamp(i64::MAX),
    };
    let mut collected = Collected::default();
    for path in paths {
        for_each_source(std::path::Path::new(path), &mut |entry| {
            parse_stream(entry.reader, &mut Emitter::new(&mut collected, rules))
                .map(|_| ())
                .map_err(|e| std::io::Error::other(format!("{path}: {e}")))
        })
        .unwrap();
    }
    let mut fixes = collected.fix_list();
    fixes.sort_by_key(|f| f.time);
    fixes
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (command, paths) = args
        .split_first()
        .expect("usage: pipeline_bench staypoints|time FILE...");
    let fixes = load(paths);
    match command.as_str() {
        "staypoints" => {
            let params = AnalysisParams {
                stays_across_silences: false,
                max_accuracy_m: f32::MAX,
                ..AnalysisParams::default()
            };
            println!("start_ms,end_ms,lat,lon,first,end");
            for s in stay_points(&fixes, &params) {
                println!(
                    "{},{},{},{},{},{}",
                    s.point.start.0, s.point.end.0, s.point.lat, s.point.lon, s.first, s.end
                );
            }
        }
        "time" => {
            let mut times = Vec::new();
            let mut trips = 0;
            for _ in 0..5 {
                let started = Instant::now();
                let diary = analyse(&fixes, &AnalysisParams::default(), &RuleClassifier);
                times.push(started.elapsed().as_secs_f64());
                trips = diary.trips.len();
            }
            times.sort_by(f64::total_cmp);
            println!(
                "{} fixes, {} trips, median {:.3} s over 5 runs",
                fixes.len(),
                trips,
                times[2]
            );
        }
        "stages" => {
            let params = AnalysisParams::default();
            let t = Instant::now();
            let cleaned = sillage_analysis::clean::clean(&fixes, &params);
            let t_clean = t.elapsed();
            let t = Instant::now();
            let stays = stay_points(&cleaned, &params);
            let t_stays = t.elapsed();
            let t = Instant::now();
            let motion = sillage_analysis::motion::motion(&cleaned);
            let t_motion = t.elapsed();
            let t = Instant::now();
            let trips = sillage_analysis::segment::trips(&cleaned, &stays, &params);
            let t_trips = t.elapsed();
            println!(
                "clean {t_clean:?} ({} kept), stays {t_stays:?} ({}), motion {t_motion:?}, trips {t_trips:?} ({})",
                cleaned.len(),
                stays.len(),
                trips.len()
            );
            let _ = motion;
        }
        other => panic!("unknown command {other}"),
    }
}
