//! Reading a PBF extract into a [`Territory`].
//!
//! Two passes over the file: the first keeps the ways, relations and tagged
//! nodes that matter, the second fetches the coordinates of just the nodes
//! those ways use. Memory then grows with the road network, not with every
//! building and tree in the extract.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use osmpbf::{Element, ElementReader, RelMemberType};
use sillage_model::GeoPoint;

use crate::basemap::{Basemap, Feature, Geometry, Layer};
use crate::geo::haversine_m;
use crate::network::{self, Network, WayInput};
use crate::tags::{self, Dir, RoadAccess, Tags};
use crate::{Bounds, NetworkMode, RoadClass, TerritoryError, TransitLine, TransitStop};

/// A way station (a building, an area) closer than this to a station node
/// is the same station drawn twice.
const SAME_STATION_M: f64 = 200.0;

/// Marks a node the extract does not contain.
const MISSING: u32 = u32::MAX;

/// An OSM extract turned into what simulations and maps need: one routable
/// [`Network`] per [`NetworkMode`], transit stops and lines, and a basemap.
#[derive(Debug)]
pub struct Territory {
    name: String,
    bounds: Bounds,
    /// Indexed by [`NetworkMode::index`].
    networks: [Network; 4],
    bus_stops: Vec<TransitStop>,
    stations: Vec<TransitStop>,
    transit_lines: Vec<TransitLine>,
    basemap: Basemap,
}

impl Territory {
    /// Reads an `.osm.pbf` extract. Errors name the file: it cannot be read,
    /// it is not PBF, or it holds no routable way.
    pub fn from_pbf(path: &Path) -> Result<Territory, TerritoryError> {
        let raw = read_elements(path)?;
        let coords = read_coordinates(path, &raw.needed)?;
        Territory::assemble(path, raw, &coords)
    }

    /// The extract's file name without extensions ("monaco" for
    /// `monaco.osm.pbf`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The box around every node of every network.
    pub fn bounds(&self) -> Bounds {
        self.bounds
    }

    /// The network of a mode (possibly empty, e.g. rail in a town without
    /// tracks).
    pub fn network(&self, mode: NetworkMode) -> &Network {
        &self.networks[mode.index()]
    }

    /// Bus stops, sorted by OSM id (nodes first, then ways).
    pub fn bus_stops(&self) -> &[TransitStop] {
        &self.bus_stops
    }

    /// Rail, metro and tram stations, sorted by OSM id (nodes first).
    pub fn stations(&self) -> &[TransitStop] {
        &self.stations
    }

    /// Railway tracks (one line per way, sorted by way id), then the pieces
    /// of the bus routes (sorted by relation id, in member order).
    pub fn transit_lines(&self) -> &[TransitLine] {
        &self.transit_lines
    }

    /// A light basemap for offline web maps: a GeoJSON FeatureCollection,
    /// drawn bottom to top and sorted by OSM id within each layer.
    ///
    /// | layer | geometry | `class` | other properties |
    /// |---|---|---|---|
    /// | closed ways of water, parks, woods, grass | Polygon | `water`, `landuse` | |
    /// | highways | LineString | `major` (motorway to tertiary), `minor` (residential, unclassified, living street, service), `path` (footway, pedestrian, path, steps, track), `cycleway` | |
    /// | railway tracks | LineString | `rail` | `kind`, `name` |
    /// | bus route pieces | LineString | `bus` | `name` |
    /// | stations | Point | `station` | `name` |
    /// | bus stops | Point | `bus_stop` | `name` |
    ///
    /// Coordinates are rounded to 6 decimals and lines simplified
    /// (Douglas–Peucker, 2 m). Multipolygon relations are not drawn.
    pub fn basemap_geojson(&self) -> String {
        self.basemap.to_geojson()
    }

    fn assemble(
        path: &Path,
        raw: RawExtract,
        coords: &[GeoPoint],
    ) -> Result<Territory, TerritoryError> {
        let index_of = |id: i64| match raw.needed.binary_search(&id) {
            Ok(i) if !coords[i].lat.is_nan() => i as u32,
            _ => MISSING,
        };
        let way_nodes: Vec<Vec<u32>> = raw
            .ways
            .iter()
            .map(|w| w.refs.iter().map(|&id| index_of(id)).collect())
            .collect();

        let road_network = |mode: NetworkMode, pick: fn(&RoadAccess) -> Option<Dir>| {
            let ways = raw
                .ways
                .iter()
                .zip(&way_nodes)
                .filter_map(move |(w, nodes)| {
                    let road = w.road?;
                    Some(WayInput {
                        nodes,
                        dir: pick(&road)?,
                        class: road.class,
                    })
                });
            network::build(mode, coords, ways)
        };
        let rail_ways = raw.ways.iter().zip(&way_nodes).filter_map(|(w, nodes)| {
            w.rail.map(|_| WayInput {
                nodes,
                dir: Dir::Both,
                class: RoadClass::Rail,
            })
        });
        let networks = [
            road_network(NetworkMode::Walk, |r| r.walk),
            road_network(NetworkMode::Bike, |r| r.bike),
            road_network(NetworkMode::Car, |r| r.car),
            network::build(NetworkMode::Rail, coords, rail_ways),
        ];
        let bounds = bounds_of(&networks).ok_or_else(|| {
            TerritoryError::Empty(format!(
                "{}: no routable highway or railway in the extract",
                path.display()
            ))
        })?;

        // Ways as polylines, cut where the extract lacks nodes.
        let polylines = |nodes: &[u32]| -> Vec<Vec<GeoPoint>> {
            nodes
                .split(|&c| c == MISSING)
                .filter(|run| run.len() >= 2)
                .map(|run| run.iter().map(|&c| coords[c as usize]).collect())
                .collect()
        };

        let (bus_stops, stations) = stops(&raw, &way_nodes, coords);

        let mut transit_lines = Vec::new();
        let mut map = Vec::new();
        for (w, nodes) in raw.ways.iter().zip(&way_nodes) {
            if let Some(road) = w.road {
                for line in polylines(nodes) {
                    map.push(Feature::line(
                        Layer::Roads,
                        w.id,
                        basemap_class(road.class),
                        line,
                    ));
                }
            }
            if let Some(kind) = w.rail {
                for line in polylines(nodes) {
                    transit_lines.push(TransitLine {
                        kind: kind.to_owned(),
                        name: w.name.clone(),
                        points: line.clone(),
                    });
                    let mut feature = Feature::line(Layer::Rail, w.id, "rail", line);
                    feature.kind = Some(kind);
                    feature.name = w.name.clone();
                    map.push(feature);
                }
            }
            if let Some(class) = w.area {
                let ring: Vec<GeoPoint> = nodes
                    .iter()
                    .filter(|&&c| c != MISSING)
                    .map(|&c| coords[c as usize])
                    .collect();
                // A ring cut by the extract's edge no longer closes.
                if ring.len() >= 4 && !nodes.contains(&MISSING) {
                    map.push(Feature {
                        layer: Layer::Areas,
                        id: w.id,
                        class,
                        kind: None,
                        name: None,
                        geometry: Geometry::Polygon(ring),
                    });
                }
            }
        }

        let way_index: HashMap<i64, usize> = raw
            .ways
            .iter()
            .enumerate()
            .map(|(i, w)| (w.id, i))
            .collect();
        for route in &raw.bus_routes {
            let members: Vec<&[i64]> = route
                .ways
                .iter()
                .map(|id| {
                    way_index
                        .get(id)
                        .map_or(&[][..], |&i| &raw.ways[i].refs[..])
                })
                .collect();
            for chain in chain_ways(&members) {
                let nodes: Vec<u32> = chain.iter().map(|&id| index_of(id)).collect();
                for line in polylines(&nodes) {
                    transit_lines.push(TransitLine {
                        kind: "bus".to_owned(),
                        name: route.name.clone(),
                        points: line.clone(),
                    });
                    let mut feature = Feature::line(Layer::Bus, route.id, "bus", line);
                    feature.name = route.name.clone();
                    map.push(feature);
                }
            }
        }
        for (layer, class, list) in [
            (Layer::Stations, "station", &stations),
            (Layer::BusStops, "bus_stop", &bus_stops),
        ] {
            for stop in list {
                map.push(Feature {
                    layer,
                    id: stop.osm_id,
                    class,
                    kind: None,
                    name: stop.name.clone(),
                    geometry: Geometry::Point(stop.point),
                });
            }
        }

        Ok(Territory {
            name: extract_name(path),
            bounds,
            networks,
            bus_stops,
            stations,
            transit_lines,
            basemap: Basemap::new(map),
        })
    }
}

/// What the first pass keeps.
#[derive(Default)]
struct RawExtract {
    /// Sorted by id.
    ways: Vec<RawWay>,
    /// Sorted by id.
    bus_routes: Vec<RawRoute>,
    /// Sorted by id.
    stop_nodes: Vec<RawStop>,
    /// Every node id the kept ways use, sorted and unique: the position of
    /// an id is its index in the coordinate table.
    needed: Vec<i64>,
}

struct RawWay {
    id: i64,
    refs: Vec<i64>,
    name: Option<String>,
    road: Option<RoadAccess>,
    rail: Option<&'static str>,
    area: Option<&'static str>,
    bus_stop: bool,
    station: bool,
}

struct RawRoute {
    id: i64,
    name: Option<String>,
    /// Member ways in relation order (stops and platforms left out).
    ways: Vec<i64>,
}

struct RawStop {
    id: i64,
    name: Option<String>,
    point: GeoPoint,
    bus_stop: bool,
    station: bool,
}

fn open(path: &Path) -> Result<ElementReader<BufReader<File>>, TerritoryError> {
    let file = File::open(path).map_err(|source| TerritoryError::Io {
        path: path.to_owned(),
        source,
    })?;
    Ok(ElementReader::new(BufReader::new(file)))
}

fn pbf_error(path: &Path, error: osmpbf::Error) -> TerritoryError {
    TerritoryError::Pbf {
        path: path.to_owned(),
        message: error.to_string(),
    }
}

/// What elements contribute to the first pass. Blocks are decoded in
/// parallel, so partial results are merged in any order and sorted after.
#[derive(Default)]
struct Found {
    ways: Vec<RawWay>,
    bus_routes: Vec<RawRoute>,
    stop_nodes: Vec<RawStop>,
}

impl Found {
    fn merge(self, other: Found) -> Found {
        Found {
            ways: join(self.ways, other.ways),
            bus_routes: join(self.bus_routes, other.bus_routes),
            stop_nodes: join(self.stop_nodes, other.stop_nodes),
        }
    }
}

/// Appends the shorter vector to the longer: merging stays linear overall.
fn join<T>(mut a: Vec<T>, mut b: Vec<T>) -> Vec<T> {
    if a.len() < b.len() {
        std::mem::swap(&mut a, &mut b);
    }
    a.append(&mut b);
    a
}

fn read_elements(path: &Path) -> Result<RawExtract, TerritoryError> {
    let Found {
        mut ways,
        mut bus_routes,
        mut stop_nodes,
    } = open(path)?
        .par_map_reduce(scan, Found::default, Found::merge)
        .map_err(|e| pbf_error(path, e))?;
    ways.sort_by_key(|w| w.id);
    bus_routes.sort_by_key(|r| r.id);
    stop_nodes.sort_by_key(|s| s.id);
    let mut needed: Vec<i64> = ways.iter().flat_map(|w| w.refs.iter().copied()).collect();
    needed.sort_unstable();
    needed.dedup();
    Ok(RawExtract {
        ways,
        bus_routes,
        stop_nodes,
        needed,
    })
}

/// The first pass's view of one element.
fn scan(element: Element<'_>) -> Found {
    match element {
        Element::DenseNode(node) => {
            let mut tags = node.tags().peekable();
            if tags.peek().is_none() {
                return Found::default(); // most nodes: skip the tag vector
            }
            let point = GeoPoint {
                lat: node.lat(),
                lon: node.lon(),
            };
            stop_node(node.id(), &Tags::new(tags), point)
        }
        Element::Node(node) => {
            let point = GeoPoint {
                lat: node.lat(),
                lon: node.lon(),
            };
            stop_node(node.id(), &Tags::new(node.tags()), point)
        }
        Element::Way(way) => {
            let tags = Tags::new(way.tags());
            let road = tags::road_access(&tags);
            let rail = tags::rail_kind(&tags);
            let refs: Vec<i64> = way.refs().collect();
            let closed = refs.len() >= 4 && refs.first() == refs.last();
            let area = if closed {
                tags::area_class(&tags)
            } else {
                None
            };
            let (bus_stop, station) = (tags::is_bus_stop(&tags), tags::is_station(&tags));
            // Every highway is kept, routable or not: bus routes may run
            // along any of them.
            let keep = tags.get("highway").is_some()
                || rail.is_some()
                || area.is_some()
                || bus_stop
                || station;
            Found {
                ways: keep
                    .then(|| RawWay {
                        id: way.id(),
                        refs,
                        name: tags.name(),
                        road,
                        rail,
                        area,
                        bus_stop,
                        station,
                    })
                    .into_iter()
                    .collect(),
                ..Found::default()
            }
        }
        Element::Relation(relation) => {
            let tags = Tags::new(relation.tags());
            if tags.get("type") != Some("route") || tags.get("route") != Some("bus") {
                return Found::default();
            }
            let ways = relation
                .members()
                .filter(|m| m.member_type == RelMemberType::Way)
                .filter(|m| {
                    m.role()
                        .map(|role| !role.starts_with("platform") && !role.starts_with("stop"))
                        .unwrap_or(true)
                })
                .map(|m| m.member_id)
                .collect();
            Found {
                bus_routes: vec![RawRoute {
                    id: relation.id(),
                    name: tags.name().or_else(|| tags.get("ref").map(str::to_owned)),
                    ways,
                }],
                ..Found::default()
            }
        }
    }
}

fn stop_node(id: i64, tags: &Tags, point: GeoPoint) -> Found {
    let (bus_stop, station) = (tags::is_bus_stop(tags), tags::is_station(tags));
    Found {
        stop_nodes: (bus_stop || station)
            .then(|| RawStop {
                id,
                name: tags.name(),
                point,
                bus_stop,
                station,
            })
            .into_iter()
            .collect(),
        ..Found::default()
    }
}

/// Coordinates of the needed nodes, in the order of `needed`; NaN for nodes
/// the extract lacks.
fn read_coordinates(path: &Path, needed: &[i64]) -> Result<Vec<GeoPoint>, TerritoryError> {
    let found = |id: i64, lat: f64, lon: f64| match needed.binary_search(&id) {
        Ok(i) => vec![(i, GeoPoint { lat, lon })],
        Err(_) => Vec::new(),
    };
    let found = open(path)?
        .par_map_reduce(
            |element| match element {
                Element::DenseNode(node) => found(node.id(), node.lat(), node.lon()),
                Element::Node(node) => found(node.id(), node.lat(), node.lon()),
                Element::Way(_) | Element::Relation(_) => Vec::new(),
            },
            Vec::new,
            join,
        )
        .map_err(|e| pbf_error(path, e))?;
    let missing = GeoPoint {
        lat: f64::NAN,
        lon: f64::NAN,
    };
    let mut coords = vec![missing; needed.len()];
    for (i, point) in found {
        coords[i] = point;
    }
    Ok(coords)
}

fn bounds_of(networks: &[Network]) -> Option<Bounds> {
    let mut bounds: Option<Bounds> = None;
    for network in networks {
        for v in 0..network.node_count() as u32 {
            let p = network.point(v);
            let b = bounds.get_or_insert(Bounds {
                min_lat: p.lat,
                min_lon: p.lon,
                max_lat: p.lat,
                max_lon: p.lon,
            });
            b.min_lat = b.min_lat.min(p.lat);
            b.min_lon = b.min_lon.min(p.lon);
            b.max_lat = b.max_lat.max(p.lat);
            b.max_lon = b.max_lon.max(p.lon);
        }
    }
    bounds
}

fn basemap_class(class: RoadClass) -> &'static str {
    use RoadClass::*;
    match class {
        Motorway | Trunk | Primary | Secondary | Tertiary => "major",
        Residential | LivingStreet | Service | Unclassified => "minor",
        Cycleway => "cycleway",
        Footway | Pedestrian | Path | Steps | Track | Rail => "path",
    }
}

/// Bus stops and stations from nodes, then from ways (at their centroid).
fn stops(
    raw: &RawExtract,
    way_nodes: &[Vec<u32>],
    coords: &[GeoPoint],
) -> (Vec<TransitStop>, Vec<TransitStop>) {
    let mut bus_stops = Vec::new();
    let mut stations = Vec::new();
    for node in &raw.stop_nodes {
        let stop = TransitStop {
            osm_id: node.id,
            name: node.name.clone(),
            point: node.point,
        };
        if node.bus_stop {
            bus_stops.push(stop.clone());
        }
        if node.station {
            stations.push(stop);
        }
    }
    let station_nodes = stations.len();
    for (w, nodes) in raw.ways.iter().zip(way_nodes) {
        if !(w.bus_stop || w.station) {
            continue;
        }
        let Some(point) = centroid(nodes, coords) else {
            continue;
        };
        let stop = TransitStop {
            osm_id: w.id,
            name: w.name.clone(),
            point,
        };
        if w.bus_stop {
            bus_stops.push(stop.clone());
        }
        let drawn_twice = stations[..station_nodes]
            .iter()
            .any(|s| haversine_m(s.point, point) < SAME_STATION_M);
        if w.station && !drawn_twice {
            stations.push(stop);
        }
    }
    (bus_stops, stations)
}

/// Mean of a way's distinct known nodes (a closed ring repeats its first).
fn centroid(nodes: &[u32], coords: &[GeoPoint]) -> Option<GeoPoint> {
    let open = match nodes {
        [first, .., last] if first == last => &nodes[..nodes.len() - 1],
        _ => nodes,
    };
    let known: Vec<GeoPoint> = open
        .iter()
        .filter(|&&c| c != MISSING)
        .map(|&c| coords[c as usize])
        .collect();
    if known.is_empty() {
        return None;
    }
    let n = known.len() as f64;
    Some(GeoPoint {
        lat: known.iter().map(|p| p.lat).sum::<f64>() / n,
        lon: known.iter().map(|p| p.lon).sum::<f64>() / n,
    })
}

/// Joins a route's member ways, in order, into continuous node sequences,
/// turning members around where needed. A member that does not touch the
/// previous one (or is missing from the extract) starts a new sequence.
fn chain_ways(members: &[&[i64]]) -> Vec<Vec<i64>> {
    let mut chains = Vec::new();
    let mut current: Vec<i64> = Vec::new();
    // While a chain holds a single way its direction is still open.
    let mut single = false;
    for &way in members {
        let [first, .., last] = way else {
            // Missing from the extract: the route breaks here.
            if current.len() >= 2 {
                chains.push(std::mem::take(&mut current));
            }
            current.clear();
            continue;
        };
        if current.is_empty() {
            current = way.to_vec();
            single = true;
            continue;
        }
        let (head, tail) = (current[0], current[current.len() - 1]);
        let touches_tail = *first == tail || *last == tail;
        if single && !touches_tail && (*first == head || *last == head) {
            current.reverse();
        }
        let tail = current[current.len() - 1];
        if *first == tail {
            current.extend_from_slice(&way[1..]);
        } else if *last == tail {
            current.extend(way[..way.len() - 1].iter().rev());
        } else {
            chains.push(std::mem::replace(&mut current, way.to_vec()));
            single = true;
            continue;
        }
        single = false;
    }
    if current.len() >= 2 {
        chains.push(current);
    }
    chains
}

/// "monaco" for `…/monaco.osm.pbf`.
fn extract_name(path: &Path) -> String {
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy())
        .unwrap_or_default();
    let name = file.strip_suffix(".pbf").unwrap_or(&file);
    let name = name.strip_suffix(".osm").unwrap_or(name);
    name.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_turn_members_around_and_break_at_gaps() {
        let a: &[i64] = &[1, 2, 3];
        let b: &[i64] = &[5, 4, 3]; // reversed
        let c: &[i64] = &[5, 6];
        let gap: &[i64] = &[9, 10];
        assert_eq!(chain_ways(&[a, b, c]), vec![vec![1, 2, 3, 4, 5, 6]]);
        // The first member is itself drawn backwards.
        let a_rev: &[i64] = &[3, 2, 1];
        assert_eq!(chain_ways(&[a_rev, b, c]), vec![vec![1, 2, 3, 4, 5, 6]]);
        assert_eq!(
            chain_ways(&[a, gap, &[], c]),
            vec![vec![1, 2, 3], vec![9, 10], vec![5, 6]]
        );
    }

    #[test]
    fn an_extract_without_ways_is_empty() {
        let err = Territory::assemble(
            Path::new("/data/desert.osm.pbf"),
            RawExtract::default(),
            &[],
        )
        .unwrap_err();
        assert!(matches!(err, TerritoryError::Empty(_)), "{err:?}");
        assert!(err.to_string().contains("desert.osm.pbf"), "{err}");
    }

    #[test]
    fn names_drop_every_extension() {
        assert_eq!(extract_name(Path::new("/data/monaco.osm.pbf")), "monaco");
        assert_eq!(
            extract_name(Path::new("ile-de-france-latest.osm.pbf")),
            "ile-de-france-latest"
        );
        assert_eq!(extract_name(Path::new("x.pbf")), "x");
    }

    #[test]
    fn centroid_ignores_the_closing_node_and_missing_ones() {
        let coords = vec![
            GeoPoint { lat: 0.0, lon: 0.0 },
            GeoPoint { lat: 0.0, lon: 2.0 },
            GeoPoint { lat: 2.0, lon: 2.0 },
            GeoPoint { lat: 2.0, lon: 0.0 },
        ];
        let c = centroid(&[0, 1, 2, 3, 0], &coords).unwrap();
        assert_eq!((c.lat, c.lon), (1.0, 1.0));
        assert!(centroid(&[MISSING], &coords).is_none());
    }
}
