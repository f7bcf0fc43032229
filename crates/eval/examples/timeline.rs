//! Prints labelled and detected trips side by side for one device (debugging aid).
//! `cargo run -p sillage-eval --example timeline -- DATASET DEVICE`
use sillage_analysis::{AnalysisParams, analyse, mode::RuleClassifier};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let data = sillage_eval::load_dataset(std::path::Path::new(&args[1])).unwrap();
    let (_, fixes) = data.devices.iter().find(|(d, _)| *d == args[2]).unwrap();
    let diary = analyse(fixes, &AnalysisParams::default(), &RuleClassifier);
    let mut events: Vec<(i64, String)> = Vec::new();
    for t in &data.trips {
        let n = fixes
            .iter()
            .filter(|f| f.time >= t.start && f.time <= t.end)
            .count();
        events.push((
            t.start.0,
            format!(
                "TRUTH {} .. {} ({} min, {n} fixes) {}",
                t.start,
                t.end,
                (t.end.0 - t.start.0) / 60000,
                t.run_id
            ),
        ));
    }
    for t in &diary.trips {
        let legs: Vec<String> = t
            .legs
            .iter()
            .map(|l| format!("{}:{}m", l.guess.mode, (l.end.0 - l.start.0) / 60000))
            .collect();
        events.push((
            t.start.0,
            format!(
                "  det {} .. {} ({} min) {}",
                t.start,
                t.end,
                (t.end.0 - t.start.0) / 60000,
                legs.join(" ")
            ),
        ));
    }
    if args.len() > 3 {
        for s in &diary.stays {
            events.push((
                s.start.0,
                format!(
                    "    stay {} .. {} ({} min)",
                    s.start,
                    s.end,
                    (s.end.0 - s.start.0) / 60000
                ),
            ));
        }
    }
    events.sort();
    for (_, e) in events {
        println!("{e}");
    }
}
