//! The territory of Monaco, from the real extract in `shared/data/osm`.

use std::path::PathBuf;
use std::sync::OnceLock;

use sillage_territory::{GeoPoint, NetworkMode, RoadClass, Territory, TerritoryError, read_poly};

fn data(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/osm")
        .join(file)
}

/// Loaded once for all tests of this file.
fn monaco() -> &'static Territory {
    static TERRITORY: OnceLock<Territory> = OnceLock::new();
    TERRITORY.get_or_init(|| Territory::from_pbf(&data("monaco.osm.pbf")).expect("monaco loads"))
}

const STATION: GeoPoint = GeoPoint {
    lat: 43.7387,
    lon: 7.4208,
};
const CASINO: GeoPoint = GeoPoint {
    lat: 43.7394,
    lon: 7.4286,
};

fn straight_m(a: GeoPoint, b: GeoPoint) -> f64 {
    let (la, lb) = (a.lat.to_radians(), b.lat.to_radians());
    let h = ((lb - la) / 2.0).sin().powi(2)
        + la.cos() * lb.cos() * ((b.lon - a.lon).to_radians() / 2.0).sin().powi(2);
    2.0 * 6_371_008.8 * h.sqrt().asin()
}

#[test]
fn counts_are_plausible() {
    let t = monaco();
    assert_eq!(t.name(), "monaco");
    for mode in NetworkMode::ALL {
        let net = t.network(mode);
        println!(
            "{mode:?}: {} nodes, {} edges, main component {}",
            net.node_count(),
            net.edge_count(),
            net.main_component().len()
        );
        assert_eq!(net.mode(), mode);
    }
    println!(
        "bus stops {}, stations {}, transit lines {}",
        t.bus_stops().len(),
        t.stations().len(),
        t.transit_lines().len()
    );
    assert!(t.network(NetworkMode::Walk).node_count() > 2_000);
    assert!(t.network(NetworkMode::Bike).node_count() > 1_000);
    assert!(t.network(NetworkMode::Car).node_count() > 1_000);
    assert!(t.network(NetworkMode::Rail).node_count() > 10);
    // Walking reaches more of the city than driving does.
    assert!(t.network(NetworkMode::Walk).node_count() > t.network(NetworkMode::Car).node_count());
    assert!(t.bus_stops().len() > 50);
    assert!(!t.stations().is_empty());
    assert!(
        t.stations()
            .iter()
            .any(|s| s.name.as_deref().is_some_and(|n| n.contains("Monte"))
                && straight_m(s.point, STATION) < 300.0),
        "Monaco-Monte-Carlo station is found"
    );
    let kinds: Vec<&str> = t.transit_lines().iter().map(|l| l.kind.as_str()).collect();
    assert!(
        kinds.contains(&"rail") && kinds.contains(&"bus"),
        "{kinds:?}"
    );
    assert!(t.transit_lines().iter().all(|l| l.points.len() >= 2));

    let b = t.bounds();
    assert!(b.min_lat < STATION.lat && STATION.lat < b.max_lat);
    assert!(b.min_lon < STATION.lon && STATION.lon < b.max_lon);
}

#[test]
fn main_component_covers_most_nodes() {
    let t = monaco();
    for mode in [NetworkMode::Walk, NetworkMode::Bike, NetworkMode::Car] {
        let net = t.network(mode);
        let share = net.main_component().len() as f64 / net.node_count() as f64;
        assert!(share > 0.85, "{mode:?}: {share}");
        assert!(net.main_component().windows(2).all(|w| w[0] < w[1]));
        let near = net.nearest(CASINO).unwrap();
        assert!(net.main_component().binary_search(&near).is_ok());
        assert!(straight_m(net.point(near), CASINO) < 150.0, "{mode:?}");
    }
}

#[test]
fn station_to_casino_by_walk_bike_and_car() {
    let t = monaco();
    let straight = straight_m(STATION, CASINO);
    for mode in [NetworkMode::Walk, NetworkMode::Bike, NetworkMode::Car] {
        let net = t.network(mode);
        let (from, to) = (net.nearest(STATION).unwrap(), net.nearest(CASINO).unwrap());
        let route = net
            .route(from, to)
            .unwrap_or_else(|| panic!("{mode:?}: no route"));
        println!(
            "{mode:?}: {:.0} m in {:.0} s, {} points (straight line {straight:.0} m)",
            route.length_m,
            route.duration_s,
            route.points.len()
        );
        assert_eq!(route.points[0], net.point(from));
        assert_eq!(*route.points.last().unwrap(), net.point(to));
        assert_eq!(route.classes.len(), route.points.len() - 1);
        assert!(route.length_m >= straight_m(net.point(from), net.point(to)));
        assert!(route.length_m > 0.8 * straight && route.length_m < 3.0 * straight);

        // Length and duration agree with the polyline and the speeds.
        let (mut length, mut duration) = (0.0, 0.0);
        for (pair, class) in route.points.windows(2).zip(&route.classes) {
            let d = straight_m(pair[0], pair[1]);
            length += d;
            duration += d / class.typical_speed_mps(mode);
        }
        assert!((length - route.length_m).abs() < 1e-6 * route.length_m);
        assert!((duration - route.duration_s).abs() < 1e-6 * route.duration_s);
        if mode == NetworkMode::Bike {
            assert!(!route.classes.contains(&RoadClass::Steps));
        }
        if mode == NetworkMode::Car {
            assert!(
                route
                    .classes
                    .iter()
                    .all(|c| !matches!(c, RoadClass::Footway | RoadClass::Steps | RoadClass::Path))
            );
        }
    }
}

#[test]
fn cars_obey_one_way_streets_and_walkers_do_not() {
    let t = monaco();
    let (car, walk) = (t.network(NetworkMode::Car), t.network(NetworkMode::Walk));
    let walk_node = |p: GeoPoint| (0..walk.node_count() as u32).find(|&v| walk.point(v) == p);
    let mut one_way = 0;
    let mut checked = 0;
    for u in 0..car.node_count() as u32 {
        for edge in car.edges_from(u) {
            let v = edge.to;
            if car.edges_from(v).any(|back| back.to == u) {
                continue;
            }
            one_way += 1;
            // Driving back never retraces the edge: it takes another street
            // (possibly a shorter one), if it can at all.
            let there = car.route(u, v).expect("the edge itself is a route");
            let is_the_edge = (there.length_m - edge.length_m).abs() < 1e-9;
            if is_the_edge && let Some(back) = car.route(v, u) {
                let mut retraced = there.points.clone();
                retraced.reverse();
                assert_ne!(back.points, retraced);
            }
            // On foot, the same street is walked against the traffic.
            if checked < 20
                && let (Some(wu), Some(wv)) = (walk_node(car.point(u)), walk_node(car.point(v)))
                && let Some(back) = walk.route(wv, wu)
                && (back.length_m - edge.length_m).abs() < 0.01
            {
                assert_eq!(back.points.first(), Some(&car.point(v)));
                checked += 1;
            }
        }
    }
    println!("{one_way} one-way car edges, {checked} walked backwards");
    assert!(one_way > 100);
    assert!(checked >= 5);
}

#[test]
fn basemap_is_a_small_feature_collection() {
    let t = monaco();
    let json = t.basemap_geojson();
    println!("basemap: {} bytes", json.len());
    assert!(json.len() < 2_000_000);
    assert_eq!(json, t.basemap_geojson(), "deterministic");
    let value: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
    assert_eq!(value["type"], "FeatureCollection");
    let features = value["features"].as_array().unwrap();
    let classes: std::collections::BTreeSet<&str> = features
        .iter()
        .map(|f| f["properties"]["class"].as_str().unwrap())
        .collect();
    println!("{} features, classes {classes:?}", features.len());
    for class in [
        "major", "minor", "path", "cycleway", "rail", "bus", "station", "bus_stop",
    ] {
        assert!(classes.contains(class), "{class} missing");
    }
    for f in features {
        assert_eq!(f["type"], "Feature");
        let kind = f["geometry"]["type"].as_str().unwrap();
        assert!(["Point", "LineString", "Polygon"].contains(&kind));
    }
    let named_station = features.iter().any(|f| {
        f["properties"]["class"] == "station"
            && f["properties"]["name"]
                .as_str()
                .is_some_and(|n| n.contains("Monte"))
    });
    assert!(named_station);
    // Six decimals at most.
    let first = &features[0]["geometry"]["coordinates"];
    let text = first.to_string();
    assert!(
        text.split(|c: char| !(c.is_ascii_digit() || c == '.'))
            .all(|n| n.split('.').nth(1).is_none_or(|d| d.len() <= 6)),
        "{text}"
    );
}

#[test]
fn monaco_poly_is_one_ring_around_the_extract() {
    let rings = read_poly(&data("monaco.poly")).unwrap();
    assert!(!rings.is_empty());
    assert!(rings[0].len() > 10, "{}", rings[0].len());
    let inside_box = |p: &GeoPoint| (43.6..43.9).contains(&p.lat) && (7.3..7.6).contains(&p.lon);
    assert!(rings.iter().flatten().all(inside_box));
}

#[test]
fn wrong_files_give_errors_naming_the_file() {
    let not_pbf = data("monaco.poly");
    let err = Territory::from_pbf(&not_pbf).unwrap_err();
    println!("{err}");
    assert!(matches!(err, TerritoryError::Pbf { .. }), "{err:?}");
    assert!(err.to_string().contains("monaco.poly"));

    let missing = data("atlantis.osm.pbf");
    let err = Territory::from_pbf(&missing).unwrap_err();
    assert!(matches!(err, TerritoryError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("atlantis.osm.pbf"));

    let err = read_poly(&data("monaco.osm.pbf")).unwrap_err();
    println!("{err}");
    assert!(err.to_string().contains("monaco.osm.pbf"));
}
