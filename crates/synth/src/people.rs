//! Who lives in the territory: homes, work places, schools, favourite
//! places, main modes and phones.

use crate::SynthError;
use crate::config::{PopulationConfig, SimMode};
use crate::journey::{Journey, Router, TruthTrip};
use crate::phone::Phone;
use crate::schedule::{Activity, Target, day_plan};
use crate::trajectory::distance_m;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sillage_model::{GeoPoint, Purpose, Timestamp, days_from_civil, paris_offset_min};
use sillage_territory::{NetworkMode, NodeId, Territory};
use sillage_testdata::trace::{TraceFix, TraceFormat};

/// A place on the network: a node of the walking network, reachable from
/// every other one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spot {
    /// Where it is.
    pub point: GeoPoint,
    /// Its node on the walking network.
    pub walk_node: NodeId,
}

/// The places shared by the population: where people work, study, shop
/// and spend their free time. Drawn once from the seed, so that flows
/// concentrate as in a real town.
#[derive(Clone, Debug)]
pub struct Anchors {
    /// Work places.
    pub work: Vec<Spot>,
    /// Schools and the university.
    pub schools: Vec<Spot>,
    /// Shops and markets.
    pub shops: Vec<Spot>,
    /// Sports grounds, parks, cafés.
    pub leisure: Vec<Spot>,
}

/// One synthetic citizen: who they are, and what they did.
#[derive(Clone, Debug)]
pub struct Citizen {
    /// Their account name, `citoyen-0001`…
    pub name: String,
    /// Their home.
    pub home: GeoPoint,
    /// Their work place or school, if any.
    pub occupation: Option<GeoPoint>,
    /// Their usual mode.
    pub main_mode: SimMode,
    /// Their phone.
    pub phone: Phone,
    /// The format their history comes in.
    pub format: TraceFormat,
    /// What their phone recorded.
    pub fixes: Vec<TraceFix>,
    /// What they really did.
    pub trips: Vec<TruthTrip>,
}

/// A population in the making: the territory, the configuration and the
/// shared places.
pub struct Population<'t> {
    territory: &'t Territory,
    config: PopulationConfig,
    anchors: Anchors,
    walk_nodes: Vec<NodeId>,
    near_nodes: Vec<NodeId>,
}

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

impl<'t> Population<'t> {
    /// Draws the shared places; every citizen is then made on demand.
    pub fn new(territory: &'t Territory, config: PopulationConfig) -> Result<Self, SynthError> {
        config.validate()?;
        let walk = territory.network(NetworkMode::Walk);
        let walk_nodes = walk.main_component().to_vec();
        if walk_nodes.len() < 50 {
            return Err(SynthError::Territory(format!(
                "its walking network has {} connected nodes; at least 50 are needed",
                walk_nodes.len()
            )));
        }
        for mode in [NetworkMode::Bike, NetworkMode::Car] {
            if territory.network(mode).main_component().is_empty() {
                return Err(SynthError::Territory(format!("no {mode:?} network")));
            }
        }
        let central_nodes = central(territory, &walk_nodes, 1_800.0);
        let mut rng = StdRng::seed_from_u64(config.seed ^ 0x5111_A6E0_0000_0001);
        let spot = |rng: &mut StdRng| {
            let node = *pick(rng, &central_nodes);
            Spot {
                point: walk.point(node),
                walk_node: node,
            }
        };
        let spots = |rng: &mut StdRng, n: usize| (0..n).map(|_| spot(rng)).collect::<Vec<_>>();
        let anchors = Anchors {
            work: spots(&mut rng, (config.citizens / 12).clamp(8, 60)),
            schools: spots(&mut rng, 4),
            shops: spots(&mut rng, 16),
            leisure: spots(&mut rng, 16),
        };
        let near_nodes = central(territory, &walk_nodes, 2_500.0);
        Ok(Population {
            territory,
            config,
            anchors,
            walk_nodes,
            near_nodes,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &PopulationConfig {
        &self.config
    }

    /// The shared places.
    pub fn anchors(&self) -> &Anchors {
        &self.anchors
    }

    /// The first instant of the simulated period (local midnight of the
    /// first day), epoch ms.
    pub fn period_start_ms(&self) -> i64 {
        local_midnight_ms(self.day_number(0))
    }

    /// The end of the simulated period (local midnight after the last
    /// day), epoch ms.
    pub fn period_end_ms(&self) -> i64 {
        local_midnight_ms(self.day_number(self.config.days as i64))
    }

    fn day_number(&self, day: i64) -> i64 {
        let (y, m, d) = self.config.first_day;
        days_from_civil(y, m, d) + day
    }

    /// Makes citizen `index` (0-based): a pure function of the seed, the
    /// configuration, the territory and the index.
    pub fn citizen(&self, index: usize) -> Citizen {
        let mut rng = StdRng::seed_from_u64(
            self.config
                .seed
                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                .wrapping_add(index as u64 + 1),
        );
        let walk = self.territory.network(NetworkMode::Walk);
        // Most people live near the centre; some in the outskirts.
        let homes = if rng.random_bool(0.7) {
            &self.near_nodes
        } else {
            &self.walk_nodes
        };
        let home_node = *pick(&mut rng, homes);
        let home = Spot {
            point: walk.point(home_node),
            walk_node: home_node,
        };
        let roll: f64 = rng.random();
        let occupation = if roll < 0.68 {
            Some((*pick(&mut rng, &self.anchors.work), Purpose::Commute))
        } else if roll < 0.85 {
            Some((*pick(&mut rng, &self.anchors.schools), Purpose::SchoolStudy))
        } else {
            None
        };
        let favourites: Vec<(Spot, Purpose)> = (0..3)
            .map(|k| {
                if k == 0 || rng.random_bool(0.4) {
                    (*pick(&mut rng, &self.anchors.shops), Purpose::Shopping)
                } else {
                    (
                        *pick(&mut rng, &self.anchors.leisure),
                        Purpose::LeisureSport,
                    )
                }
            })
            .collect();
        let main_mode = weighted(&mut rng, &self.config.shares.weights());
        let phone = Phone::draw(&mut rng);
        let format = self.config.formats[index % self.config.formats.len()];
        let name = format!("citoyen-{:04}", index + 1);

        let mut router = Router::new(self.territory);
        let mut at = home;
        let mut clock_ms = self.period_start_ms();
        let mut episodes = Vec::new();
        let mut trips = Vec::new();
        for day in 0..self.config.days as i64 {
            let day_number = self.day_number(day);
            let midnight = local_midnight_ms(day_number);
            let weekday = (day_number + 4).rem_euclid(7) as u8;
            for Activity { depart_s, target } in
                day_plan(&mut rng, weekday, occupation.is_some(), favourites.len())
            {
                let (to, purpose) = match target {
                    Target::Home => (home, Purpose::Other),
                    Target::Occupation => occupation.expect("plans work days for the employed"),
                    Target::Favourite(k) => favourites[k],
                };
                if to.walk_node == at.walk_node {
                    continue;
                }
                // A trip never starts before the citizen arrived.
                let depart = (midnight + i64::from(depart_s) * 1000).max(clock_ms + 300_000);
                let crow = distance_m(at.point, to.point);
                let mode = trip_mode(&mut rng, main_mode, crow);
                let run_id = format!("{name}:{}", trips.len() + 1);
                let Some(Journey { truth, movement }) =
                    router.journey(&mut rng, &run_id, at, to, mode, depart, purpose, &name)
                else {
                    continue;
                };
                episodes.push(Episode::Stay {
                    point: at.point,
                    from_ms: clock_ms,
                    to_ms: truth.start_ms,
                });
                clock_ms = truth.end_ms;
                trips.push(truth);
                episodes.push(Episode::Move(movement));
                at = to;
            }
        }
        episodes.push(Episode::Stay {
            point: at.point,
            from_ms: clock_ms,
            to_ms: self.period_end_ms().max(clock_ms),
        });
        let fixes = phone.record(&mut rng, &episodes);
        Citizen {
            name,
            home: home.point,
            occupation: occupation.map(|(s, _)| s.point),
            main_mode,
            phone,
            format,
            fixes,
            trips,
        }
    }
}

/// The walking nodes within `radius_m` of the territory's centre (the
/// median position of its bus stops: where activity concentrates), or all
/// of them when too few are.
fn central(territory: &Territory, nodes: &[NodeId], radius_m: f64) -> Vec<NodeId> {
    let stops = territory.bus_stops();
    if stops.is_empty() {
        return nodes.to_vec();
    }
    let median = |values: &mut Vec<f64>| {
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    let centre = GeoPoint {
        lat: median(&mut stops.iter().map(|s| s.point.lat).collect()),
        lon: median(&mut stops.iter().map(|s| s.point.lon).collect()),
    };
    let walk = territory.network(NetworkMode::Walk);
    let near: Vec<NodeId> = nodes
        .iter()
        .copied()
        .filter(|&n| distance_m(walk.point(n), centre) <= radius_m)
        .collect();
    if near.len() < 50 {
        nodes.to_vec()
    } else {
        near
    }
}

/// What a citizen does over a stretch of time.
pub(crate) enum Episode {
    /// Stays at one place.
    Stay {
        point: GeoPoint,
        from_ms: i64,
        to_ms: i64,
    },
    /// Travels.
    Move(crate::trajectory::Trajectory),
}

/// The UTC instant (epoch ms) of local (Europe/Paris) midnight starting
/// day `day_number` (days since 1970-01-01).
pub fn local_midnight_ms(day_number: i64) -> i64 {
    let midnight_utc = day_number * 86_400_000;
    // The offset at local noon: a day's midnight is never at a DST switch
    // (they happen at 01:00 UTC), so noon's offset is midnight's.
    let offset = paris_offset_min(Timestamp(midnight_utc + 12 * 3_600_000));
    midnight_utc - i64::from(offset) * 60_000
}

fn weighted(rng: &mut StdRng, weights: &[f64; 6]) -> SimMode {
    let total: f64 = weights.iter().sum();
    let mut draw = rng.random::<f64>() * total;
    for (mode, w) in SimMode::ALL.iter().zip(weights) {
        if draw < *w {
            return *mode;
        }
        draw -= w;
    }
    SimMode::Walk
}

/// The mode of one trip: the citizen's usual one, except that short hops
/// are mostly walked and pedestrians take the bus for long ones.
fn trip_mode(rng: &mut StdRng, main: SimMode, crow_m: f64) -> SimMode {
    match main {
        SimMode::Walk if crow_m > 2_200.0 && rng.random_bool(0.7) => SimMode::Bus,
        SimMode::Walk => SimMode::Walk,
        _ if crow_m < 450.0 && rng.random_bool(0.8) => SimMode::Walk,
        other => other,
    }
}
