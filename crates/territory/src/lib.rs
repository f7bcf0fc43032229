//! A territory read from an OpenStreetMap PBF extract: one routable network
//! per mode, the transit stops and lines, and a light GeoJSON basemap.
//!
//! Simulations pick places and route trips on these networks; the web pages
//! draw the basemap offline. Everything is built once, in memory, by
//! [`Territory::from_pbf`]; nothing is downloaded.
//!
//! # Which ways each mode may use
//!
//! Ways tagged `area=yes` are never routable (a pedestrian square's outline
//! is not a street). `access=no|private` closes a way to a mode unless the
//! mode's own tag (`foot`, `bicycle`, `motor_vehicle`/`motorcar`) reopens it
//! with `yes|designated|permissive|destination`.
//!
//! | mode | ways | direction |
//! |---|---|---|
//! | [`Walk`](NetworkMode::Walk) | every highway except motorways and trunks (+ links; a trunk with `foot=yes\|designated\|permissive` is walkable) and except `foot=no` | both |
//! | [`Bike`](NetworkMode::Bike) | roads except motorway and trunk (+ links); `cycleway`; `path` and `track` unless `bicycle=no`; `footway` and `pedestrian` only with `bicycle=yes\|designated\|permissive`; never `steps` | one-way respected unless `oneway:bicycle=no` or `cycleway*=opposite*` |
//! | [`Car`](NetworkMode::Car) | motorway, trunk, primary, secondary, tertiary (+ links), residential, unclassified, living street, service; not `motor_vehicle=no`/`motorcar=no` | one-way respected: `oneway=yes\|1\|true\|-1`, roundabouts, motorways (+ links) implied |
//! | [`Rail`](NetworkMode::Rail) | `railway=rail\|light_rail\|subway\|tram`, not `disused`/`abandoned` | both |
//!
//! Highway values that are not streets (`construction`, `proposed`,
//! `platform`, `raceway`, …) are ignored; `corridor` counts as a footway and
//! `bridleway` as a path, `road` as unclassified.
//!
//! # Graph
//!
//! Ways are split only at nodes shared by two ways or more (or used twice by
//! one way) and at way ends, so a network node is an intersection or a dead
//! end; the geometry in between is kept per edge and comes back in
//! [`Route::points`]. Lengths are haversine distances on a sphere of radius
//! 6,371,008.8 m; the cost of an edge is its length divided by
//! [`RoadClass::typical_speed_mps`]. Nodes referenced by a way but absent
//! from the extract cut the way there.
//!
//! # Transit
//!
//! Bus stops are nodes (or, for platforms drawn as areas, way centroids)
//! tagged `highway=bus_stop`, or `public_transport=platform|stop_position`
//! with `bus=yes`. Stations are `railway=station|halt|tram_stop`, or
//! `public_transport=station` with `train|tram|subway|light_rail=yes`; a
//! station drawn as a building is dropped when a station node lies within
//! 200 m, so a station is not counted twice. Transit lines are the railway
//! ways (one line per way) and the bus route relations, assembled from their
//! member ways into as many lines as the relation has continuous pieces.

mod basemap;
mod geo;
mod load;
mod network;
mod poly;
mod tags;

pub use load::Territory;
pub use network::{Edge, Network, NodeId, Route};
pub use poly::read_poly;
pub use sillage_model::GeoPoint;

use std::path::PathBuf;

/// Why a territory or a boundary could not be loaded. Every message names the
/// file.
#[derive(Debug, thiserror::Error)]
pub enum TerritoryError {
    /// The file could not be opened or read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not a readable OSM PBF extract.
    #[error("{} is not a readable OSM PBF file: {message}", path.display())]
    Pbf {
        /// The file.
        path: PathBuf,
        /// What the PBF decoder reported.
        message: String,
    },
    /// A `.poly` boundary file is malformed.
    #[error("{}:{line}: {message}", path.display())]
    Poly {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong with the line.
        message: String,
    },
    /// The file was read but holds nothing usable (no routable way, no ring).
    #[error("{0}")]
    Empty(String),
}

/// A way of moving through the territory; each has its own network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NetworkMode {
    /// On foot.
    Walk,
    /// By bicycle.
    Bike,
    /// By car (and other motor vehicles).
    Car,
    /// By train, metro or tram, on the tracks.
    Rail,
}

impl NetworkMode {
    /// The four modes, in the order of their networks.
    pub const ALL: [NetworkMode; 4] = [
        NetworkMode::Walk,
        NetworkMode::Bike,
        NetworkMode::Car,
        NetworkMode::Rail,
    ];

    /// Lower-case name, as used in reports ("walk", "bike", "car", "rail").
    pub fn as_str(self) -> &'static str {
        match self {
            NetworkMode::Walk => "walk",
            NetworkMode::Bike => "bike",
            NetworkMode::Car => "car",
            NetworkMode::Rail => "rail",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The kind of way an edge follows, from the OSM `highway` (or `railway`)
/// tag; `*_link` roads take the class of the road they link.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RoadClass {
    /// `highway=motorway`.
    Motorway,
    /// `highway=trunk`.
    Trunk,
    /// `highway=primary`.
    Primary,
    /// `highway=secondary`.
    Secondary,
    /// `highway=tertiary`.
    Tertiary,
    /// `highway=residential`.
    Residential,
    /// `highway=living_street`.
    LivingStreet,
    /// `highway=service`.
    Service,
    /// `highway=unclassified` (and `road`).
    Unclassified,
    /// `highway=cycleway`.
    Cycleway,
    /// `highway=footway` (and `corridor`).
    Footway,
    /// `highway=pedestrian`.
    Pedestrian,
    /// `highway=path` (and `bridleway`).
    Path,
    /// `highway=steps`.
    Steps,
    /// `highway=track`.
    Track,
    /// A railway track (`rail`, `light_rail`, `subway`, `tram`).
    Rail,
}

impl RoadClass {
    /// Typical cruising speed in m/s for a mode on this class.
    ///
    /// Car: 30.6 on motorways (110 km/h), 22.2 on trunks, 13.9 on primary,
    /// 12.5 secondary, 11.1 tertiary, 8.3 residential and unclassified, 4.2
    /// service, 2.8 living streets. Bike: 4.5 on roads, 5 on cycleways,
    /// slower where it shares space with pedestrians or the surface is rough,
    /// 0.5 carried up steps. Walk: 1.35, 0.7 on steps. Rail: 16.7 (60 km/h,
    /// an average over stops). A class the mode may not use still gets a
    /// speed (a slow one), so a cost is always defined.
    pub fn typical_speed_mps(self, mode: NetworkMode) -> f64 {
        use RoadClass::*;
        match mode {
            NetworkMode::Walk => match self {
                Steps => 0.7,
                _ => 1.35,
            },
            NetworkMode::Bike => match self {
                Cycleway => 5.0,
                Footway | Pedestrian => 3.0,
                LivingStreet => 3.5,
                Path | Track => 3.5,
                Steps => 0.5,
                _ => 4.5,
            },
            NetworkMode::Car => match self {
                Motorway => 30.6,
                Trunk => 22.2,
                Primary => 13.9,
                Secondary => 12.5,
                Tertiary => 11.1,
                Residential | Unclassified => 8.3,
                Service => 4.2,
                LivingStreet => 2.8,
                Track => 2.8,
                _ => 1.35,
            },
            NetworkMode::Rail => match self {
                Rail => 16.7,
                _ => 1.35,
            },
        }
    }

    /// Lower-case name ("primary", "living_street", …).
    pub fn as_str(self) -> &'static str {
        use RoadClass::*;
        match self {
            Motorway => "motorway",
            Trunk => "trunk",
            Primary => "primary",
            Secondary => "secondary",
            Tertiary => "tertiary",
            Residential => "residential",
            LivingStreet => "living_street",
            Service => "service",
            Unclassified => "unclassified",
            Cycleway => "cycleway",
            Footway => "footway",
            Pedestrian => "pedestrian",
            Path => "path",
            Steps => "steps",
            Track => "track",
            Rail => "rail",
        }
    }
}

/// A latitude/longitude box, in degrees.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Bounds {
    /// Southern edge.
    pub min_lat: f64,
    /// Western edge.
    pub min_lon: f64,
    /// Northern edge.
    pub max_lat: f64,
    /// Eastern edge.
    pub max_lon: f64,
}

/// A place where passengers board: a bus stop or a station.
#[derive(Clone, Debug, serde::Serialize)]
pub struct TransitStop {
    /// OSM id of the node, or of the way for stops drawn as areas (ids of
    /// nodes and ways are separate spaces in OSM).
    pub osm_id: i64,
    /// The `name` tag.
    pub name: Option<String>,
    /// The node, or the way's centroid.
    pub point: GeoPoint,
}

/// The path of a rail track or of (a continuous piece of) a bus route.
#[derive(Clone, Debug, serde::Serialize)]
pub struct TransitLine {
    /// "rail", "tram", "subway", "light_rail" or "bus".
    pub kind: String,
    /// The `name` tag (for a bus route without a name, its `ref`).
    pub name: Option<String>,
    /// The polyline.
    pub points: Vec<GeoPoint>,
}
