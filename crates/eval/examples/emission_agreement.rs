//! Trip agreement with e-mission's hand-checked pipeline output.
//! `cargo run -p sillage-eval --example emission_agreement -- ../shared/data/emission-real-examples`
fn main() {
    let dir = std::env::args()
        .nth(1)
        .expect("usage: emission_agreement DIR");
    let report = sillage_eval::reference_agreement(
        std::path::Path::new(&dir),
        &sillage_analysis::AnalysisParams::default(),
        &sillage_analysis::model::ModelOrRules::bundled(),
    )
    .unwrap();
    for e in &report.examples {
        println!(
            "{:<45} reference {:>2}  detected {:>2}  matched {:>2}",
            e.example, e.reference_trips, e.detected_trips, e.matched
        );
    }
    println!(
        "pooled: precision {:.3} recall {:.3} F1 {:.3}",
        report.precision, report.recall, report.f1
    );
    // e-mission ends a trip after a 5-minute dwell; Sillage (like trackintel) after 15.
    let emission_like = sillage_analysis::AnalysisParams {
        activity_min_ms: 5 * 60_000,
        transfer_max_ms: 0,
        ..Default::default()
    };
    let report = sillage_eval::reference_agreement(
        std::path::Path::new(&dir),
        &emission_like,
        &sillage_analysis::model::ModelOrRules::bundled(),
    )
    .unwrap();
    println!(
        "with e-mission's 5-minute dwell: precision {:.3} recall {:.3} F1 {:.3}",
        report.precision, report.recall, report.f1
    );
}
