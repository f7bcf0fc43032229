//! Loads an extract, prints what it holds and times routing.
//!
//! `cargo run --release -p sillage-territory --example load -- PATH.osm.pbf [PAIRS] [BASEMAP.geojson]`

use std::path::PathBuf;
use std::time::{Duration, Instant};

use sillage_territory::{NetworkMode, Territory};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next().map(PathBuf::from) else {
        eprintln!("usage: load PATH.osm.pbf [PAIRS] [BASEMAP.geojson]");
        std::process::exit(2);
    };
    let pairs: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1000);
    let basemap_out = args.next().map(PathBuf::from);

    let started = Instant::now();
    let territory = match Territory::from_pbf(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let load = started.elapsed();
    println!("{}: loaded in {:.1} ms", territory.name(), ms(load));
    println!("bounds {:?}", territory.bounds());
    for mode in NetworkMode::ALL {
        let net = territory.network(mode);
        println!(
            "{:5} {:7} nodes {:7} edges, main component {:7} ({:.1} %)",
            mode.as_str(),
            net.node_count(),
            net.edge_count(),
            net.main_component().len(),
            100.0 * net.main_component().len() as f64 / net.node_count().max(1) as f64
        );
    }
    println!(
        "bus stops {}, stations {}, transit lines {} ({} bus)",
        territory.bus_stops().len(),
        territory.stations().len(),
        territory.transit_lines().len(),
        territory
            .transit_lines()
            .iter()
            .filter(|l| l.kind == "bus")
            .count()
    );
    let started = Instant::now();
    let basemap = territory.basemap_geojson();
    println!(
        "basemap {} bytes in {:.1} ms",
        basemap.len(),
        ms(started.elapsed())
    );
    if let Some(out) = basemap_out {
        std::fs::write(&out, &basemap).expect("basemap written");
        println!("basemap written to {}", out.display());
    }

    // Deterministic pairs (SplitMix64), so runs compare.
    let mut state = 0x5111_a6e0_u64;
    let mut next = move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    for mode in NetworkMode::ALL {
        let net = territory.network(mode);
        let places = net.main_component();
        if places.len() < 2 {
            println!("{:5} routing: no places", mode.as_str());
            continue;
        }
        let mut times = Vec::with_capacity(pairs);
        let (mut found, mut km, mut hours) = (0, 0.0, 0.0);
        for _ in 0..pairs {
            let a = places[(next() % places.len() as u64) as usize];
            let b = places[(next() % places.len() as u64) as usize];
            let started = Instant::now();
            let route = net.route(a, b);
            times.push(started.elapsed());
            if let Some(r) = route {
                found += 1;
                km += r.length_m / 1000.0;
                hours += r.duration_s / 3600.0;
            }
        }
        times.sort();
        println!(
            "{:5} routing: {pairs} pairs, {found} found, median {:.3} ms, p90 {:.3} ms, max {:.3} ms, mean {:.2} km at {:.1} km/h",
            mode.as_str(),
            ms(times[times.len() / 2]),
            ms(times[times.len() * 9 / 10]),
            ms(times[times.len() - 1]),
            km / found.max(1) as f64,
            km / hours.max(1e-9)
        );
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
