//! What the planner waits for in the portal, timed (release build):
//! the designer's preview (parsing the form, cutting the area into H3
//! zones and heat-map cells, explaining every measurement), the exact 95 %
//! interval of a difference at several noise scales, and a before/after
//! comparison of two heat maps.
//!
//! `cargo run --release -p sillage-city --example planner_bench [RUNS]`

use sillage_catalogue::{MeasurementSpec, TimeBands};
use sillage_city::compare::compare;
use sillage_city::designer::{DesignForm, draft};
use sillage_collector::{PublishedCell, PublishedResult};
use sillage_model::ModeGroup;
use std::time::Instant;

/// The median of `runs` timings of `work`, in milliseconds.
fn median_ms(runs: usize, mut work: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            work();
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// A form over an area of about `km` × `km` around Monaco, every
/// measurement ticked.
fn form(km: f64) -> DesignForm {
    let (lat, lon) = (43.735, 7.42);
    let (dlat, dlon) = (km / 2.0 / 111.0, km / 2.0 / 80.6);
    let area = format!(
        r#"{{"type":"Polygon","coordinates":[[[{w},{s}],[{e},{s}],[{e},{n}],[{w},{n}],[{w},{s}]]]}}"#,
        w = lon - dlon,
        e = lon + dlon,
        s = lat - dlat,
        n = lat + dlat
    );
    let on = || Some("on".to_owned());
    DesignForm {
        id: "bench".into(),
        title_fr: "Banc".into(),
        title_en: "Bench".into(),
        purpose_fr: "Mesurer.".into(),
        purpose_en: "Measure.".into(),
        area,
        zones_source: "h3".into(),
        zone_resolution: "7".into(),
        heat_resolution: "8".into(),
        walk: on(),
        bike: on(),
        car: on(),
        bus: on(),
        od: on(),
        heat: on(),
        share_trips: on(),
        share_km: on(),
        distances: on(),
        first_day: "2026-11-01".into(),
        last_day: "2026-11-28".into(),
        reports_until: "2026-11-30T12:00".into(),
        ..DesignForm::default()
    }
}

fn release(cells: usize, scale: f64, seed: u64) -> PublishedResult {
    PublishedResult {
        contributors: 350,
        epsilon: Some(2.0),
        noise_scale: scale,
        noise_sd: scale * 2.0,
        interval_half_width: sillage_dap::noise::interval_half_width(scale, 0.95),
        suppression_threshold: 10,
        cells: (0..cells)
            .map(|k| {
                let value = ((k as u64 * 7919 + seed) % 300) as i64;
                PublishedCell {
                    value: (value > 60).then_some(value),
                    interval_95: (value > 60).then_some((value - 40, value + 40)),
                    suppressed: value <= 60,
                }
            })
            .collect(),
    }
}

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(11);
    println!("runs per figure: {runs} (median)");
    for km in [3.0, 10.0, 25.0] {
        let form = form(km);
        let preview = draft(&form).expect("a valid form");
        let cells: usize = preview.measurements.iter().map(|m| m.spec.len()).sum();
        let ms = median_ms(runs, || {
            let d = draft(&form).unwrap();
            std::hint::black_box(d.explain("fr"));
        });
        println!(
            "designer preview, {km} km square: {} zones, {cells} cells in all: {ms:.2} ms",
            preview.zones.len()
        );
    }
    for scale in [8.0, 40.0, 160.0, 400.0] {
        let ms = median_ms(runs, || {
            std::hint::black_box(sillage_dap::noise::difference_half_width(
                scale, scale, 0.95,
            ));
        });
        println!("difference interval at noise scale {scale}: {ms:.2} ms");
    }
    let heat = |cells: Vec<String>| MeasurementSpec::H3Cells {
        cells,
        time_bands: TimeBands::peaks(60),
        mode_groups: vec![
            ModeGroup::Walk,
            ModeGroup::Bike,
            ModeGroup::Car,
            ModeGroup::Bus,
        ],
        cap: 20,
    };
    let area = sillage_catalogue::h3_area(
        sillage_model::GeoPoint {
            lat: 43.735,
            lon: 7.42,
        },
        8,
        10,
    )
    .expect("an area");
    let spec = heat(area);
    let n = spec.len();
    let (before, after) = (release(n, 20.0, 1), release(n, 20.0, 2));
    let ms = median_ms(runs, || {
        std::hint::black_box(compare((&spec, &before), (&spec, &after)).unwrap());
    });
    println!("before/after comparison of two heat maps ({n} cells, noise scale 20): {ms:.2} ms");
}
