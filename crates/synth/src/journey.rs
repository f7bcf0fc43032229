//! One trip, door to door: its legs on the networks, their timing, and the
//! ground truth a labelled dataset records of it.

use crate::config::SimMode;
use crate::people::Spot;
use crate::trajectory::{Trajectory, distance_m};
use rand::Rng;
use rand::rngs::StdRng;
use serde::Serialize;
use sillage_model::{GeoPoint, Purpose};
use sillage_territory::{NetworkMode, NodeId, RoadClass, Route, Territory, TransitStop};
use std::collections::HashMap;
use std::rc::Rc;

/// What a leg is to the trip, as MobilityNet labels it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LegType {
    /// The main movement.
    Travel,
    /// Walking to or from the vehicle, the stop or the station.
    Access,
    /// Standing at a stop or on a platform.
    Waiting,
}

impl LegType {
    /// The label in `legs.csv`.
    pub fn label(self) -> &'static str {
        match self {
            LegType::Travel => "TRAVEL",
            LegType::Access => "ACCESS",
            LegType::Waiting => "WAITING",
        }
    }
}

/// One leg as it really happened.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TruthLeg {
    /// How the citizen moved; `None` while waiting.
    pub mode: Option<SimMode>,
    /// Its role in the trip.
    pub leg_type: LegType,
    /// Start, epoch ms.
    pub start_ms: i64,
    /// End, epoch ms.
    pub end_ms: i64,
    /// Distance covered, m.
    pub distance_m: f64,
}

impl TruthLeg {
    /// The mode label in `legs.csv` (`STOPPED` while waiting).
    pub fn mode_label(&self) -> &'static str {
        self.mode.map_or("STOPPED", SimMode::label)
    }
}

/// One trip as it really happened.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TruthTrip {
    /// Unique within the population: `citoyen-0001:17`.
    pub run_id: String,
    /// The citizen (and device file) who made it.
    pub device: String,
    /// Departure, epoch ms.
    pub start_ms: i64,
    /// Arrival, epoch ms.
    pub end_ms: i64,
    /// Why.
    pub purpose: Purpose,
    /// From.
    pub origin: GeoPoint,
    /// To.
    pub destination: GeoPoint,
    /// Its legs, in order.
    pub legs: Vec<TruthLeg>,
    /// The path travelled (the route's vertices).
    #[serde(skip)]
    pub path: Vec<GeoPoint>,
}

impl TruthTrip {
    /// Distance door to door, m.
    pub fn distance_m(&self) -> f64 {
        self.legs.iter().map(|l| l.distance_m).sum()
    }

    /// The mode of its longest leg.
    pub fn main_mode(&self) -> Option<SimMode> {
        self.legs
            .iter()
            .filter(|l| l.mode.is_some())
            .max_by(|a, b| a.distance_m.total_cmp(&b.distance_m))
            .and_then(|l| l.mode)
    }
}

/// A trip's truth and the movement the phone samples.
pub(crate) struct Journey {
    pub(crate) truth: TruthTrip,
    pub(crate) movement: Trajectory,
}

/// A route with the vertices where a bus or a train halts (at a stop or a
/// station it passes).
struct Ride {
    route: Route,
    halts: Vec<usize>,
}

/// Routes a citizen's trips, remembering the routes already found: people
/// take the same ones day after day.
pub(crate) struct Router<'t> {
    territory: &'t Territory,
    routes: HashMap<(NetworkMode, NodeId, NodeId), Option<Rc<Ride>>>,
}

/// Where a trip starts and ends, and the citizen's walking pace (m/s).
#[derive(Clone, Copy)]
struct Door {
    from: Spot,
    to: Spot,
    pace: f64,
}

/// Lays legs end to end.
struct Builder {
    clock_ms: i64,
    movement: Trajectory,
    legs: Vec<TruthLeg>,
    path: Vec<GeoPoint>,
}

impl Builder {
    fn new(start_ms: i64) -> Self {
        Builder {
            clock_ms: start_ms,
            movement: Trajectory::default(),
            legs: Vec::new(),
            path: Vec::new(),
        }
    }

    /// Moves along `ride`; `speed(class)` gives the speed on each
    /// segment; `halt_s(rng, vertex, metres)` how long the citizen stops at
    /// a vertex reached after `metres` of road (a chance per metre, since
    /// vertices are dense on curves and sparse on straight roads).
    fn travel(
        &mut self,
        rng: &mut StdRng,
        mode: SimMode,
        leg_type: LegType,
        ride: &Ride,
        speed: impl Fn(RoadClass) -> f64,
        halt_s: impl Fn(&mut StdRng, usize, f64) -> f64,
    ) {
        let start = self.clock_ms;
        let points = &ride.route.points;
        for (i, point) in points.iter().enumerate() {
            let mut length = 0.0;
            if i > 0 {
                length = distance_m(points[i - 1], *point);
                let v = speed(ride.route.classes[i - 1]).max(0.3);
                self.clock_ms += (length / v * 1000.0).round() as i64;
            }
            self.movement.push(self.clock_ms, *point);
            if i > 0 && i + 1 < points.len() {
                let pause = halt_s(rng, i, length);
                if pause > 0.0 {
                    self.clock_ms += (pause * 1000.0) as i64;
                    self.movement.push(self.clock_ms, *point);
                }
            }
        }
        self.path.extend_from_slice(points);
        self.legs.push(TruthLeg {
            mode: Some(mode),
            leg_type,
            start_ms: start,
            end_ms: self.clock_ms,
            distance_m: ride.route.length_m,
        });
    }

    fn wait(&mut self, seconds: f64) {
        let start = self.clock_ms;
        let Some(point) = self.movement.last_point() else {
            return;
        };
        self.clock_ms += (seconds * 1000.0) as i64;
        self.movement.push(self.clock_ms, point);
        self.legs.push(TruthLeg {
            mode: None,
            leg_type: LegType::Waiting,
            start_ms: start,
            end_ms: self.clock_ms,
            distance_m: 0.0,
        });
    }
}

impl<'t> Router<'t> {
    pub(crate) fn new(territory: &'t Territory) -> Self {
        Router {
            territory,
            routes: HashMap::new(),
        }
    }

    fn ride(&mut self, network: NetworkMode, from: NodeId, to: NodeId) -> Option<Rc<Ride>> {
        let territory = self.territory;
        self.routes
            .entry((network, from, to))
            .or_insert_with(|| {
                let route = territory.network(network).route(from, to)?;
                let halts = match network {
                    NetworkMode::Car => halts_near(&route, territory.bus_stops(), 20.0),
                    NetworkMode::Rail => halts_near(&route, territory.stations(), 60.0),
                    _ => Vec::new(),
                };
                Some(Rc::new(Ride { route, halts }))
            })
            .clone()
    }

    /// The walking node nearest a point of another network.
    fn walk_node_near(&self, point: GeoPoint) -> Option<NodeId> {
        self.territory.network(NetworkMode::Walk).nearest(point)
    }

    /// Walks between two walking nodes (nothing when they are the same).
    fn walk(
        &mut self,
        b: &mut Builder,
        rng: &mut StdRng,
        pace: f64,
        from: NodeId,
        to: NodeId,
        leg_type: LegType,
    ) -> Option<()> {
        if from == to {
            return Some(());
        }
        let ride = self.ride(NetworkMode::Walk, from, to)?;
        b.travel(
            rng,
            SimMode::Walk,
            leg_type,
            &ride,
            |class| {
                if class == RoadClass::Steps {
                    pace * 0.5
                } else {
                    pace
                }
            },
            |rng, _, metres| halt(rng, metres, 500.0, 5.0..25.0),
        );
        Some(())
    }

    /// Plans and times a trip from `from` to `to` by `mode`, leaving at
    /// `depart_ms`. Public transport falls back to walking, then the car,
    /// where the territory offers no stop within reach.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn journey(
        &mut self,
        rng: &mut StdRng,
        run_id: &str,
        from: Spot,
        to: Spot,
        mode: SimMode,
        depart_ms: i64,
        purpose: Purpose,
        device: &str,
    ) -> Option<Journey> {
        let mut b = Builder::new(depart_ms);
        let pace = rng.random_range(1.2..1.45);
        let built = match mode {
            SimMode::Walk => self.walk(
                &mut b,
                rng,
                pace,
                from.walk_node,
                to.walk_node,
                LegType::Travel,
            ),
            SimMode::Bike | SimMode::EBike | SimMode::Car => {
                self.vehicle(&mut b, rng, Door { from, to, pace }, mode)
            }
            SimMode::Bus | SimMode::Train => {
                let transit = self.transit(&mut b, rng, Door { from, to, pace }, mode);
                if transit.is_some() {
                    transit
                } else {
                    let fallback = if distance_m(from.point, to.point) < 1_500.0 {
                        SimMode::Walk
                    } else {
                        SimMode::Car
                    };
                    return self
                        .journey(rng, run_id, from, to, fallback, depart_ms, purpose, device);
                }
            }
        };
        built?;
        if b.legs.is_empty() {
            return None;
        }
        let truth = TruthTrip {
            run_id: run_id.to_owned(),
            device: device.to_owned(),
            start_ms: depart_ms,
            end_ms: b.clock_ms,
            purpose,
            origin: from.point,
            destination: to.point,
            legs: b.legs,
            path: b.path,
        };
        Some(Journey {
            truth,
            movement: b.movement,
        })
    }

    /// Bike, e-bike or car: walk to the vehicle's nearest node if it is
    /// not at the door, ride, walk from where it is left.
    fn vehicle(
        &mut self,
        b: &mut Builder,
        rng: &mut StdRng,
        door: Door,
        mode: SimMode,
    ) -> Option<()> {
        let Door { from, to, pace } = door;
        let network = self.territory.network(mode.network());
        let (start, end) = (network.nearest(from.point)?, network.nearest(to.point)?);
        if start == end {
            return None;
        }
        let start_walk = self.walk_node_near(network.point(start))?;
        let end_walk = self.walk_node_near(network.point(end))?;
        self.walk(b, rng, pace, from.walk_node, start_walk, LegType::Access)?;
        let ride = self.ride(mode.network(), start, end)?;
        let (cruise, lights): (f64, f64) = match mode {
            // Metres between stops (lights, give-ways, traffic) on average.
            SimMode::Bike => (rng.random_range(3.8..5.0), 700.0),
            SimMode::EBike => (rng.random_range(5.2..6.4), 700.0),
            _ => (rng.random_range(0.65..0.95), 450.0),
        };
        let car = mode == SimMode::Car;
        b.travel(
            rng,
            mode,
            LegType::Travel,
            &ride,
            |class| {
                if car {
                    class.typical_speed_mps(NetworkMode::Car) * cruise
                } else {
                    cruise
                }
            },
            |rng, _, metres| halt(rng, metres, lights, 8.0..40.0),
        );
        self.walk(b, rng, pace, end_walk, to.walk_node, LegType::Access)
    }

    /// Bus or train: walk to the nearest stop (or station), wait, ride with
    /// halts at the stops on the way, walk to the destination.
    fn transit(
        &mut self,
        b: &mut Builder,
        rng: &mut StdRng,
        door: Door,
        mode: SimMode,
    ) -> Option<()> {
        let Door { from, to, pace } = door;
        let stops = if mode == SimMode::Bus {
            self.territory.bus_stops()
        } else {
            self.territory.stations()
        };
        let reach = if mode == SimMode::Bus { 600.0 } else { 1_200.0 };
        let board = nearest_stop(stops, from.point, reach)?;
        let alight = nearest_stop(stops, to.point, reach)?;
        if distance_m(board.point, alight.point) < 500.0 {
            return None;
        }
        let network = self.territory.network(mode.network());
        let (start, end) = (
            network.nearest(board.point)?,
            network.nearest(alight.point)?,
        );
        if start == end {
            return None;
        }
        let ride = self.ride(mode.network(), start, end)?;
        let board_walk = self.walk_node_near(board.point)?;
        let alight_walk = self.walk_node_near(alight.point)?;
        self.walk(b, rng, pace, from.walk_node, board_walk, LegType::Access)?;
        if b.movement.last_point().is_none() {
            b.movement.push(b.clock_ms, from.point);
        }
        b.wait(rng.random_range(60.0..480.0));
        let halts: std::collections::HashSet<usize> = ride.halts.iter().copied().collect();
        let bus = mode == SimMode::Bus;
        let cruise = if bus { rng.random_range(0.5..0.7) } else { 1.0 };
        b.travel(
            rng,
            mode,
            LegType::Travel,
            &ride,
            |class| {
                if bus {
                    (class.typical_speed_mps(NetworkMode::Car) * cruise).min(11.0)
                } else {
                    class.typical_speed_mps(NetworkMode::Rail)
                }
            },
            |rng, i, metres| {
                if halts.contains(&i) {
                    rng.random_range(15.0..40.0)
                } else if bus {
                    halt(rng, metres, 500.0, 5.0..30.0)
                } else {
                    0.0
                }
            },
        );
        self.walk(b, rng, pace, alight_walk, to.walk_node, LegType::Access)
    }
}

/// A stop of `seconds` with a chance `metres / every_m`: on average one
/// every `every_m` metres, wherever the route's vertices fall.
fn halt(rng: &mut StdRng, metres: f64, every_m: f64, seconds: std::ops::Range<f64>) -> f64 {
    if rng.random_bool((metres / every_m).clamp(0.0, 1.0)) {
        rng.random_range(seconds)
    } else {
        0.0
    }
}

fn nearest_stop(stops: &[TransitStop], point: GeoPoint, within_m: f64) -> Option<&TransitStop> {
    stops
        .iter()
        .map(|s| (distance_m(s.point, point), s))
        .filter(|(d, _)| *d <= within_m)
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, s)| s)
}

/// Vertices of `route` (not its ends) where it passes within `within_m` of
/// a stop, at most one per 150 m: where a bus or train halts.
fn halts_near(route: &Route, stops: &[TransitStop], within_m: f64) -> Vec<usize> {
    let mut halts = Vec::new();
    let mut since_last = f64::INFINITY;
    let inner = route.points.len().saturating_sub(1);
    for i in 1..inner {
        since_last += distance_m(route.points[i - 1], route.points[i]);
        if since_last < 150.0 {
            continue;
        }
        if stops
            .iter()
            .any(|s| distance_m(s.point, route.points[i]) <= within_m)
        {
            halts.push(i);
            since_last = 0.0;
        }
    }
    halts
}
