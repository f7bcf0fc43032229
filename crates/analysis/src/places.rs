//! Places: stay points clustered into the locations a citizen returns to,
//! then labelled Home, Work (or Study) and Other.
//!
//! Clustering is DBSCAN over haversine distances with trackintel's
//! `generate_locations` defaults (ε = 100 m, `num_samples` = 1), so that
//! places compare with trackintel's locations. With one sample every stay
//! is a core point and a place is a chain of stays each within ε of the
//! next: two stays 150 m apart join when a third lies between them.
//!
//! Labelling is a transparent rule rather than a model, because the citizen
//! must be able to understand, and correct, why a place is called Home:
//!
//! * **Home** — among places with at least [`PlaceParams::home_min_nights`]
//!   distinct nights, the one with the most dwell between 20:00 and 06:00
//!   local time. A night is the window starting at 20:00 on a local date;
//!   it counts for a place when the place holds at least
//!   [`PlaceParams::home_min_night_ms`] of it, so a late dinner out does not
//!   make a night.
//! * **Work** — among the other places with at least
//!   [`PlaceParams::work_min_days`] distinct weekdays (Monday–Friday) of
//!   dwell between 08:00 and 19:00 local time, averaging at least
//!   [`PlaceParams::work_min_avg_ms_per_day`] on those days, the one with
//!   the most such dwell. The average keeps out a café visited every
//!   lunchtime. GPS cannot tell a workplace from a school: the label given is
//!   [`PlaceParams::usual_place_label`] (Work unless the citizen said they
//!   study).
//! * Everything else is **Other**.
//!
//! Local time comes from each stay's UTC offset (from its fixes), since a
//! citizen who travels or crosses a DST change keeps sleeping at home at
//! local night, not at a fixed UTC hour.
//!
//! # Places that last
//!
//! Clusters are recomputed from scratch by every analysis, but a citizen's
//! places must keep their identifiers, names and labels. [`plan_places`]
//! matches the new clusters to the stored places one to one, nearest pairs
//! first, within [`PLACE_MATCH_M`]; a matched place keeps its id and the
//! citizen's name, label and private flag, and only its position, visit count
//! and inferred label follow the data. A stored place that no cluster
//! matches any more is deleted, unless the citizen named, relabelled or hid
//! it: the citizen's word outlives the data that suggested it.
//! [`assign_trip_places`] then links each trip's ends to places.

use crate::geo::{EARTH_RADIUS_M, fast_distance_m, haversine_m};
use serde::{Deserialize, Serialize};
use sillage_model::{LabelSource, Place, PlaceLabel, StayPoint, Timestamp, Trip};
use std::collections::{BTreeMap, HashMap};

/// Distance within which a new cluster is the same place as a stored one,
/// and within which a trip's end belongs to a place's centre (trackintel's
/// ε, so a place is "here" at the same scale it was clustered at).
pub const PLACE_MATCH_M: f64 = 100.0;

/// A trip's departure (arrival) is linked to the stay ending (starting)
/// within this of it, ms. Trips start at the last fix of a stay, which
/// sparse or duty-cycled logging can put minutes before the stay's end; the
/// analysis' silence threshold (15 min) bounds that.
const STAY_LINK_MS: i64 = 15 * 60_000;

const MS_PER_HOUR: i64 = 3_600_000;
const MS_PER_DAY: i64 = 24 * MS_PER_HOUR;
/// Night window, hours after local midnight of the evening's date.
const NIGHT: (i64, i64) = (20, 30);
/// Working-day window, hours after local midnight.
const WORKDAY: (i64, i64) = (8, 19);
/// A stay longer than this is corrupt data and carries no labelling evidence
/// (it would otherwise dominate, and walking its days would be slow).
const MAX_STAY_MS: i64 = 400 * MS_PER_DAY;

/// Clustering and labelling thresholds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlaceParams {
    /// DBSCAN radius in metres (trackintel `epsilon`, 100 m).
    pub eps_m: f64,
    /// DBSCAN minimum neighbourhood size, the stay itself included
    /// (trackintel `num_samples`, 1: no stay is noise).
    pub min_samples: usize,
    /// Distinct nights a place needs to be Home.
    pub home_min_nights: usize,
    /// Dwell within one night's 20:00–06:00 window for that night to count.
    pub home_min_night_ms: i64,
    /// Distinct weekdays a place needs to be Work/Study.
    pub work_min_days: usize,
    /// Mean 08:00–19:00 dwell over those weekdays a place needs to be Work/Study.
    pub work_min_avg_ms_per_day: i64,
    /// Label given to the usual daytime place: `Work`, or `Study` for a
    /// citizen who said they study.
    pub usual_place_label: PlaceLabel,
}

impl Default for PlaceParams {
    fn default() -> Self {
        Self {
            eps_m: 100.0,
            min_samples: 1,
            home_min_nights: 3,
            home_min_night_ms: 2 * MS_PER_HOUR,
            work_min_days: 3,
            work_min_avg_ms_per_day: 2 * MS_PER_HOUR,
            usual_place_label: PlaceLabel::Work,
        }
    }
}

/// A cluster of stay points.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlaceCluster {
    /// Mean latitude of the members.
    pub lat: f64,
    /// Mean longitude of the members (taken across the antimeridian when
    /// the members straddle it).
    pub lon: f64,
    /// Indices of the member stays in the input, ascending.
    pub members: Vec<usize>,
    /// Sum of the members' durations, ms.
    pub total_dwell_ms: i64,
    /// Number of visits: one per member stay.
    pub visits: usize,
}

/// Why a place got its label: the figures the rules compare.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaceEvidence {
    /// Dwell between 20:00 and 06:00 local time, ms.
    pub night_ms: i64,
    /// Distinct nights holding at least `home_min_night_ms`.
    pub nights: usize,
    /// Dwell between 08:00 and 19:00 local time on weekdays, ms.
    pub workday_ms: i64,
    /// Distinct weekdays with some of that dwell.
    pub workdays: usize,
}

/// Clusters stays into places with DBSCAN (haversine, `params.eps_m`,
/// `params.min_samples`).
///
/// Clusters come ordered by their lowest member index. Stays with a
/// non-finite position, and noise stays when `min_samples` > 1, belong to
/// no cluster. A spatial grid keeps neighbour queries near-constant time,
/// so a citizen's many thousand stays cluster in about linear time.
pub fn cluster_places(stays: &[StayPoint], params: &PlaceParams) -> Vec<PlaceCluster> {
    let eps = if params.eps_m.is_finite() && params.eps_m > 0.0 {
        params.eps_m
    } else {
        0.0
    };
    let valid: Vec<usize> = (0..stays.len())
        .filter(|&i| stays[i].lat.is_finite() && stays[i].lon.is_finite())
        .collect();
    let grid = Grid::new(stays, &valid, eps);
    let neighbours = |i: usize| -> Vec<usize> {
        let s = &stays[i];
        grid.candidates(s.lat, s.lon)
            .filter(|&j| haversine_m(s.lat, s.lon, stays[j].lat, stays[j].lon) <= eps)
            .collect()
    };

    let mut cluster_of: Vec<Option<usize>> = vec![None; stays.len()];
    let mut expanded = vec![false; stays.len()];
    let mut count = 0;
    for &i in &valid {
        if expanded[i] {
            continue;
        }
        expanded[i] = true;
        let seeds = neighbours(i);
        if seeds.len() < params.min_samples {
            // Noise for now; a later core point may still claim it as a border point.
            continue;
        }
        let id = count;
        count += 1;
        // Claiming a stay when it is queued keeps each stay queued once.
        let mut queue = Vec::new();
        let mut claim = |k: usize, queue: &mut Vec<usize>| {
            if cluster_of[k].is_none() {
                cluster_of[k] = Some(id);
                queue.push(k);
            }
        };
        for k in seeds {
            claim(k, &mut queue);
        }
        while let Some(j) = queue.pop() {
            // An already expanded stay here was noise: a border point, not a core.
            if std::mem::replace(&mut expanded[j], true) {
                continue;
            }
            let more = neighbours(j);
            if more.len() >= params.min_samples {
                for k in more {
                    claim(k, &mut queue);
                }
            }
        }
    }

    let mut members: Vec<Vec<usize>> = vec![Vec::new(); count];
    for (i, c) in cluster_of.iter().enumerate() {
        if let Some(c) = *c {
            members[c].push(i);
        }
    }
    let mut clusters: Vec<PlaceCluster> = members
        .into_iter()
        .filter(|m| !m.is_empty())
        .map(|m| summarise(stays, m))
        .collect();
    clusters.sort_by_key(|c| c.members[0]);
    clusters
}

fn summarise(stays: &[StayPoint], members: Vec<usize>) -> PlaceCluster {
    let n = members.len() as f64;
    // Longitudes are averaged as offsets from the first member, wrapped to
    // ±180°, so a place on the antimeridian does not average to 0°.
    let lon0 = stays[members[0]].lon;
    let (mut lat_sum, mut dlon_sum, mut dwell) = (0.0, 0.0, 0i64);
    for &i in &members {
        let s = &stays[i];
        lat_sum += s.lat;
        dlon_sum += (s.lon - lon0 + 180.0).rem_euclid(360.0) - 180.0;
        dwell = dwell.saturating_add(s.end.0.saturating_sub(s.start.0).max(0));
    }
    let mut lon = lon0 + dlon_sum / n;
    if !(-180.0..=180.0).contains(&lon) {
        lon = (lon + 180.0).rem_euclid(360.0) - 180.0;
    }
    PlaceCluster {
        lat: lat_sum / n,
        lon,
        visits: members.len(),
        members,
        total_dwell_ms: dwell,
    }
}

/// Buckets of stays by cells at least ε wide, so that any two stays within
/// ε lie in the same or adjacent cells.
struct Grid {
    dlat: f64,
    dlon: f64,
    cols: i64,
    cells: HashMap<(i64, i64), Vec<usize>>,
}

impl Grid {
    fn new(stays: &[StayPoint], valid: &[usize], eps_m: f64) -> Self {
        let dlat = (eps_m / EARTH_RADIUS_M).to_degrees().max(1e-9);
        // A cell must be ε wide at the stay nearest a pole, where a degree
        // of longitude is shortest; 1 % covers the small-angle approximation.
        let max_abs_lat = valid
            .iter()
            .map(|&i| stays[i].lat.abs())
            .fold(0.0, f64::max);
        let cos = (max_abs_lat + dlat).min(90.0).to_radians().cos();
        let min_dlon = dlat / cos.max(1e-12) * 1.01;
        // Whole columns around the globe, so the antimeridian is just
        // another boundary between adjacent columns.
        let cols = if min_dlon >= 120.0 {
            1
        } else {
            (360.0 / min_dlon).floor().max(1.0) as i64
        };
        let dlon = 360.0 / cols as f64;
        let mut grid = Self {
            dlat,
            dlon,
            cols,
            cells: HashMap::new(),
        };
        for &i in valid {
            let key = grid.key(stays[i].lat, stays[i].lon);
            grid.cells.entry(key).or_default().push(i);
        }
        grid
    }

    fn key(&self, lat: f64, lon: f64) -> (i64, i64) {
        let row = ((lat + 90.0) / self.dlat).floor() as i64;
        let col = (((lon + 180.0) / self.dlon).floor() as i64).rem_euclid(self.cols);
        (row, col)
    }

    fn candidates(&self, lat: f64, lon: f64) -> impl Iterator<Item = usize> + '_ {
        let (row, col) = self.key(lat, lon);
        let mut cols: Vec<i64> = [col - 1, col, col + 1]
            .iter()
            .map(|c| c.rem_euclid(self.cols))
            .collect();
        cols.sort_unstable();
        cols.dedup();
        (row - 1..=row + 1)
            .flat_map(move |r| cols.clone().into_iter().map(move |c| (r, c)))
            .filter_map(|key| self.cells.get(&key))
            .flatten()
            .copied()
    }
}

/// Per-place evidence for the labelling rules.
///
/// `offsets[i]` is stay `i`'s UTC offset in minutes (from its fixes); a
/// missing or `None` entry uses `default_offset_min` (the citizen's usual
/// zone). Member indices outside `stays` are ignored.
pub fn place_evidence(
    stays: &[StayPoint],
    clusters: &[PlaceCluster],
    offsets: &[Option<i16>],
    default_offset_min: i16,
    params: &PlaceParams,
) -> Vec<PlaceEvidence> {
    clusters
        .iter()
        .map(|cluster| {
            let mut per_night: BTreeMap<i64, i64> = BTreeMap::new();
            let mut per_workday: BTreeMap<i64, i64> = BTreeMap::new();
            for &i in &cluster.members {
                let Some(stay) = stays.get(i) else { continue };
                let offset = offsets
                    .get(i)
                    .copied()
                    .flatten()
                    .unwrap_or(default_offset_min);
                let shift = i64::from(offset) * 60_000;
                let start = stay.start.0.saturating_add(shift);
                let end = stay.end.0.saturating_add(shift);
                if end <= start || end.saturating_sub(start) > MAX_STAY_MS {
                    continue;
                }
                for_each_window(start, end, NIGHT, |day, ms| {
                    *per_night.entry(day).or_default() += ms;
                });
                for_each_window(start, end, WORKDAY, |day, ms| {
                    if is_weekday(day) {
                        *per_workday.entry(day).or_default() += ms;
                    }
                });
            }
            PlaceEvidence {
                night_ms: per_night.values().sum(),
                nights: per_night
                    .values()
                    .filter(|&&ms| ms >= params.home_min_night_ms)
                    .count(),
                workday_ms: per_workday.values().sum(),
                workdays: per_workday.len(),
            }
        })
        .collect()
}

/// Labels each cluster (same order as `clusters`) by the rules in the
/// module documentation; see [`place_evidence`] for `offsets`.
pub fn label_places(
    stays: &[StayPoint],
    clusters: &[PlaceCluster],
    offsets: &[Option<i16>],
    default_offset_min: i16,
    params: &PlaceParams,
) -> Vec<PlaceLabel> {
    let evidence = place_evidence(stays, clusters, offsets, default_offset_min, params);
    let mut labels = vec![PlaceLabel::Other; clusters.len()];
    // Ties go to the earlier place, so labels do not depend on hash order.
    let best = |score: &dyn Fn(usize) -> Option<i64>| -> Option<usize> {
        (0..evidence.len())
            .filter_map(|i| score(i).map(|s| (s, i)))
            .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)))
            .map(|(_, i)| i)
    };
    let home = best(&|i| {
        let e = &evidence[i];
        (e.nights >= params.home_min_nights && e.night_ms > 0).then_some(e.night_ms)
    });
    if let Some(h) = home {
        labels[h] = PlaceLabel::Home;
    }
    let work = best(&|i| {
        let e = &evidence[i];
        let qualifies = Some(i) != home
            && e.workdays >= params.work_min_days.max(1)
            && e.workday_ms / e.workdays.max(1) as i64 >= params.work_min_avg_ms_per_day;
        qualifies.then_some(e.workday_ms)
    });
    if let Some(w) = work {
        labels[w] = params.usual_place_label;
    }
    labels
}

/// The zone to read stays without a UTC offset in: the most common offset
/// among those known (ties to the smaller), or UTC when none is. A source
/// without offsets (GPX) usually sits among others of the same citizen.
pub fn usual_offset_min(offsets: &[Option<i16>]) -> i16 {
    let mut counts: BTreeMap<i16, usize> = BTreeMap::new();
    for offset in offsets.iter().flatten() {
        *counts.entry(*offset).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .map_or(0, |(offset, _)| offset)
}

/// What the store should hold after an analysis; see [`plan_places`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PlacePlan {
    /// Places to save: first one per cluster, in cluster order, then the
    /// stored places kept without a cluster (with 0 visits). `id` 0 means a
    /// new place. For stored places only the derived fields (position,
    /// inferred label, visits) are to be written; the citizen's name, label
    /// and private flag are shown as stored, for callers that read the plan.
    pub places: Vec<Place>,
    /// Stored places no cluster matches and the citizen never touched.
    pub delete: Vec<i64>,
}

/// True when the citizen named, relabelled or hid the place: it is then
/// never deleted by re-analysis.
pub fn citizen_touched(place: &Place) -> bool {
    place.name.is_some() || place.private || place.label_source == LabelSource::Citizen
}

/// Matches fresh `clusters` (labelled `labels`, same order) to the `known`
/// stored places and says what to save and delete (module documentation).
///
/// Pairs closer than `match_m` are matched nearest first, each cluster and
/// each place at most once, so two clusters never take the same id. A label
/// (Home, Work, Study) the citizen gave a place is not also inferred for
/// another: their home is where they say it is.
pub fn plan_places(
    clusters: &[PlaceCluster],
    labels: &[PlaceLabel],
    known: &[Place],
    match_m: f64,
) -> PlacePlan {
    // Degrees of latitude spanning `match_m`: a cheap test that skips the
    // haversine for almost every pair of a long history's many places.
    let dlat = (match_m / EARTH_RADIUS_M).to_degrees();
    let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
    for (c, cluster) in clusters.iter().enumerate() {
        for (k, place) in known.iter().enumerate() {
            if (cluster.lat - place.lat).abs() > dlat {
                continue;
            }
            let d = haversine_m(cluster.lat, cluster.lon, place.lat, place.lon);
            if d <= match_m {
                pairs.push((d, c, k));
            }
        }
    }
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut cluster_place: Vec<Option<usize>> = vec![None; clusters.len()];
    let mut place_taken = vec![false; known.len()];
    for (_, c, k) in pairs {
        if cluster_place[c].is_none() && !place_taken[k] {
            cluster_place[c] = Some(k);
            place_taken[k] = true;
        }
    }

    let claimed: Vec<PlaceLabel> = known
        .iter()
        .filter(|p| p.label_source == LabelSource::Citizen && p.label != PlaceLabel::Other)
        .map(|p| p.label)
        .collect();
    let mut plan = PlacePlan::default();
    for (c, cluster) in clusters.iter().enumerate() {
        let mut inferred = labels.get(c).copied().unwrap_or(PlaceLabel::Other);
        if claimed.contains(&inferred) {
            inferred = PlaceLabel::Other;
        }
        let visits = u32::try_from(cluster.visits).unwrap_or(u32::MAX);
        let place = match cluster_place[c].map(|k| &known[k]) {
            Some(stored) => Place {
                lat: cluster.lat,
                lon: cluster.lon,
                visits,
                label: match stored.label_source {
                    LabelSource::Citizen => stored.label,
                    _ => inferred,
                },
                ..stored.clone()
            },
            None => Place {
                id: 0,
                lat: cluster.lat,
                lon: cluster.lon,
                label: inferred,
                label_source: LabelSource::Inferred,
                name: None,
                private: false,
                visits,
            },
        };
        plan.places.push(place);
    }
    for (k, place) in known.iter().enumerate() {
        if place_taken[k] {
            continue;
        }
        if citizen_touched(place) {
            plan.places.push(Place {
                visits: 0,
                ..place.clone()
            });
        } else {
            plan.delete.push(place.id);
        }
    }
    plan
}

/// Links each trip's origin and destination to a place.
///
/// `stays` are the stays of the trips' device, with `place_id` set. An end
/// belongs to the place of the stay it leaves (the stay ending within
/// 15 minutes of the departure) or reaches (starting within 15 minutes of
/// the arrival), since that stay is what made the place; failing that (a
/// trip that starts after a silence, a stay without a place), to the
/// nearest place centre within `radius_m`; otherwise to none.
pub fn assign_trip_places(
    trips: &mut [Trip],
    stays: &[StayPoint],
    places: &[Place],
    radius_m: f64,
) {
    let mut by_end: Vec<(i64, Option<i64>)> = stays.iter().map(|s| (s.end.0, s.place_id)).collect();
    let mut by_start: Vec<(i64, Option<i64>)> =
        stays.iter().map(|s| (s.start.0, s.place_id)).collect();
    by_end.sort_by_key(|e| e.0);
    by_start.sort_by_key(|e| e.0);
    let nearest_centre = |lat: f64, lon: f64| -> Option<i64> {
        places
            .iter()
            .map(|p| (fast_distance_m(lat, lon, p.lat, p.lon), p.id))
            .filter(|(d, _)| *d <= radius_m)
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, id)| id)
    };
    for trip in trips {
        trip.origin_place_id = linked_stay(&by_end, trip.start)
            .or_else(|| nearest_centre(trip.origin.lat, trip.origin.lon));
        trip.destination_place_id = linked_stay(&by_start, trip.end)
            .or_else(|| nearest_centre(trip.destination.lat, trip.destination.lon));
    }
}

/// The place of the stay whose time (sorted in `times`) is closest to `t`,
/// within [`STAY_LINK_MS`].
fn linked_stay(times: &[(i64, Option<i64>)], t: Timestamp) -> Option<i64> {
    let i = times.partition_point(|e| e.0 < t.0);
    [i.checked_sub(1), Some(i)]
        .into_iter()
        .flatten()
        .filter_map(|j| times.get(j))
        .map(|&(at, place)| (at.abs_diff(t.0), place))
        .filter(|(gap, place)| *gap <= STAY_LINK_MS as u64 && place.is_some())
        .min_by_key(|(gap, _)| *gap)
        .and_then(|(_, place)| place)
}

/// Calls `f(day, overlap_ms)` for each daily window `[from, to)` hours after
/// local midnight of `day` that overlaps the local interval `[start, end)`.
/// `to` may exceed 24 for windows running past midnight.
fn for_each_window(start: i64, end: i64, (from, to): (i64, i64), mut f: impl FnMut(i64, i64)) {
    let first = start.div_euclid(MS_PER_DAY) - 1;
    let last = end.div_euclid(MS_PER_DAY);
    for day in first..=last {
        let w_start = day * MS_PER_DAY + from * MS_PER_HOUR;
        let w_end = day * MS_PER_DAY + to * MS_PER_HOUR;
        let overlap = end.min(w_end) - start.max(w_start);
        if overlap > 0 {
            f(day, overlap);
        }
    }
}

/// Monday to Friday, for a day number since 1970-01-01 (a Thursday).
fn is_weekday(day: i64) -> bool {
    (day + 3).rem_euclid(7) < 5
}

#[cfg(test)]
mod tests {
    use super::*;
    use sillage_model::Timestamp;

    const LAT: f64 = 46.1603;
    const LON: f64 = -1.1511;
    /// Metres per degree of latitude on the haversine sphere.
    const M_PER_DEG: f64 = EARTH_RADIUS_M * std::f64::consts::PI / 180.0;

    fn stay(lat: f64, lon: f64, start: i64, end: i64) -> StayPoint {
        StayPoint {
            start: Timestamp(start),
            end: Timestamp(end),
            lat,
            lon,
            place_id: None,
        }
    }

    fn at(north_m: f64, east_m: f64) -> StayPoint {
        let lat = LAT + north_m / M_PER_DEG;
        let lon = LON + east_m / (M_PER_DEG * LAT.to_radians().cos());
        stay(lat, lon, 0, 600_000)
    }

    fn groups(clusters: &[PlaceCluster]) -> Vec<Vec<usize>> {
        clusters.iter().map(|c| c.members.clone()).collect()
    }

    #[test]
    fn stays_60_m_apart_merge_150_m_apart_do_not() {
        let p = PlaceParams::default();
        let near = cluster_places(&[at(0.0, 0.0), at(60.0, 0.0)], &p);
        assert_eq!(groups(&near), vec![vec![0, 1]]);
        assert!((near[0].lat - (LAT + 30.0 / M_PER_DEG)).abs() < 1e-12);
        assert_eq!(near[0].visits, 2);
        assert_eq!(near[0].total_dwell_ms, 1_200_000);
        let far = cluster_places(&[at(0.0, 0.0), at(0.0, 150.0)], &p);
        assert_eq!(groups(&far), vec![vec![0], vec![1]]);
        assert_eq!(
            (far[1].lat, far[1].lon),
            (at(0.0, 150.0).lat, at(0.0, 150.0).lon)
        );
    }

    #[test]
    fn chaining_through_a_middle_stay_merges() {
        let p = PlaceParams::default();
        let stays = [at(0.0, 0.0), at(0.0, 150.0), at(0.0, 75.0), at(500.0, 0.0)];
        assert_eq!(
            groups(&cluster_places(&stays, &p)),
            vec![vec![0, 1, 2], vec![3]]
        );
        // With a core requirement of 3 stays, the far stay is noise and the
        // ends of the chain are border points of the middle one.
        let strict = PlaceParams {
            min_samples: 3,
            ..PlaceParams::default()
        };
        assert_eq!(
            groups(&cluster_places(&stays, &strict)),
            vec![vec![0, 1, 2]]
        );
    }

    #[test]
    fn empty_and_odd_inputs() {
        let p = PlaceParams::default();
        assert!(cluster_places(&[], &p).is_empty());
        assert!(label_places(&[], &[], &[], 60, &p).is_empty());
        let odd = [
            stay(f64::NAN, 0.0, 0, 1),
            at(0.0, 0.0),
            stay(LAT, f64::INFINITY, 5, 1),
        ];
        let clusters = cluster_places(&odd, &p);
        assert_eq!(groups(&clusters), vec![vec![1]]);
        // Negative durations count as no dwell; out-of-range members are ignored.
        let back = [stay(LAT, LON, 10, 5)];
        assert_eq!(cluster_places(&back, &p)[0].total_dwell_ms, 0);
        let bogus = PlaceCluster {
            members: vec![7],
            ..clusters[0].clone()
        };
        assert_eq!(
            label_places(&odd, &[bogus], &[], 0, &p),
            vec![PlaceLabel::Other]
        );
        let zero_eps = PlaceParams {
            eps_m: 0.0,
            ..PlaceParams::default()
        };
        let twins = [at(0.0, 0.0), at(0.0, 0.0), at(1.0, 0.0)];
        assert_eq!(
            groups(&cluster_places(&twins, &zero_eps)),
            vec![vec![0, 1], vec![2]]
        );
    }

    #[test]
    fn antimeridian_and_pole() {
        let p = PlaceParams::default();
        // 0.0008° of longitude at the equator is about 89 m.
        let stays = [stay(0.0, 179.9996, 0, 1), stay(0.0, -179.9996, 0, 1)];
        let c = cluster_places(&stays, &p);
        assert_eq!(groups(&c), vec![vec![0, 1]]);
        assert!((c[0].lon.abs() - 180.0).abs() < 1e-9, "{}", c[0].lon);
        let north = [stay(89.9997, 0.0, 0, 1), stay(89.9997, 180.0, 0, 1)];
        assert_eq!(groups(&cluster_places(&north, &p)), vec![vec![0, 1]]);
    }

    /// The grid must find exactly the pairs a brute-force scan finds.
    #[test]
    fn grid_matches_brute_force() {
        let mut seed: u64 = 0x5eed;
        let mut next = || {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let p = PlaceParams::default();
        for (lat0, lon0) in [(46.16, -1.15), (69.6, 18.9), (-33.9, 179.999), (88.0, 0.0)] {
            let stays: Vec<StayPoint> = (0..400)
                .map(|_| {
                    let lat = (lat0 + (next() - 0.5) * 0.02).clamp(-90.0, 90.0);
                    let lon = lon0 + (next() - 0.5) * 0.02 / lat0.to_radians().cos();
                    stay(lat, lon, 0, 1)
                })
                .collect();
            // Union-find over all pairs within ε: DBSCAN with one sample.
            let mut parent: Vec<usize> = (0..stays.len()).collect();
            fn root(parent: &mut [usize], mut i: usize) -> usize {
                while parent[i] != i {
                    parent[i] = parent[parent[i]];
                    i = parent[i];
                }
                i
            }
            for i in 0..stays.len() {
                for j in i + 1..stays.len() {
                    let (a, b) = (&stays[i], &stays[j]);
                    if haversine_m(a.lat, a.lon, b.lat, b.lon) <= p.eps_m {
                        let (ri, rj) = (root(&mut parent, i), root(&mut parent, j));
                        parent[ri.max(rj)] = ri.min(rj);
                    }
                }
            }
            let mut expected: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
            for i in 0..stays.len() {
                let r = root(&mut parent, i);
                expected.entry(r).or_default().push(i);
            }
            let expected: Vec<Vec<usize>> = expected.into_values().collect();
            assert_eq!(
                groups(&cluster_places(&stays, &p)),
                expected,
                "{lat0} {lon0}"
            );
        }
    }

    #[test]
    fn many_stays_cluster_quickly() {
        // 20,000 stays on a 100 × 200 lattice 70 m apart: one chained place.
        let stays: Vec<StayPoint> = (0..20_000)
            .map(|k| at((k / 200) as f64 * 70.0, (k % 200) as f64 * 70.0))
            .collect();
        let clusters = cluster_places(&stays, &PlaceParams::default());
        assert_eq!(clusters.len(), 1);
        assert_eq!(clusters[0].members.len(), 20_000);
    }

    /// Local civil time at UTC+1 (La Rochelle in winter) to UTC ms.
    fn local(day: u32, hour: u32, minute: u32) -> i64 {
        Timestamp::from_civil(2024, 3, day, hour, minute, 0, 0)
            .unwrap()
            .0
            - 3_600_000
    }

    /// Two weeks from Monday 4 March 2024: nights at home, weekday work in
    /// two halves around a lunch at a nearby café, a Saturday shop.
    fn diary() -> Vec<StayPoint> {
        let home = |s, e| stay(LAT, LON, s, e);
        let jitter = |k: u32| (k % 5) as f64 * 0.000_1; // up to ~40 m
        let mut stays = Vec::new();
        for day in 4..18u32 {
            let weekday = day <= 8 || (11..=15).contains(&day);
            let j = jitter(day);
            if weekday {
                stays.push(home(local(day, 0, 0), local(day, 8, 0)));
                let work = |s, e| stay(LAT + 0.018 + j, LON + 0.01, s, e);
                stays.push(work(local(day, 8, 45), local(day, 12, 0)));
                // ~280 m from work: its own place, 45 min a day.
                stays.push(stay(
                    LAT + 0.0205,
                    LON + 0.0105,
                    local(day, 12, 5),
                    local(day, 12, 50),
                ));
                stays.push(work(local(day, 12, 55), local(day, 17, 30)));
                stays.push(home(local(day, 18, 15), local(day, 23, 59)));
            } else {
                stays.push(stay(LAT - j, LON, local(day, 0, 0), local(day, 10, 0)));
                if day == 9 || day == 16 {
                    stays.push(stay(
                        LAT - 0.01,
                        LON - 0.012,
                        local(day, 10, 30),
                        local(day, 11, 40),
                    ));
                }
                stays.push(home(local(day, 12, 0), local(day, 23, 59)));
            }
        }
        stays
    }

    #[test]
    fn two_week_diary_labels_home_work_other() {
        let stays = diary();
        let p = PlaceParams::default();
        let clusters = cluster_places(&stays, &p);
        assert_eq!(clusters.len(), 4, "home, work, café, shop");
        let offsets = vec![Some(60); stays.len()];
        let labels = label_places(&stays, &clusters, &offsets, 60, &p);
        let label_at = |lat: f64, lon: f64| {
            let i = clusters
                .iter()
                .position(|c| haversine_m(c.lat, c.lon, lat, lon) < 100.0)
                .unwrap();
            labels[i]
        };
        assert_eq!(label_at(LAT, LON), PlaceLabel::Home);
        assert_eq!(label_at(LAT + 0.0182, LON + 0.01), PlaceLabel::Work);
        assert_eq!(
            label_at(LAT + 0.0205, LON + 0.0105),
            PlaceLabel::Other,
            "café"
        );
        assert_eq!(label_at(LAT - 0.01, LON - 0.012), PlaceLabel::Other, "shop");

        let evidence = place_evidence(&stays, &clusters, &offsets, 60, &p);
        let home = &evidence[labels.iter().position(|&l| l == PlaceLabel::Home).unwrap()];
        // Evenings of 3–17 March: the 3rd only from 00:00 on the 4th.
        assert_eq!(home.nights, 15);
        let work = &evidence[labels.iter().position(|&l| l == PlaceLabel::Work).unwrap()];
        assert_eq!(work.workdays, 10);
        assert_eq!(work.workday_ms, 10 * (3 * 60 + 15 + 4 * 60 + 35) * 60_000);
        assert_eq!(work.night_ms, 0);

        // Missing or unknown offsets fall back to the default zone.
        assert_eq!(label_places(&stays, &clusters, &[], 60, &p), labels);
        // A student's daytime place is Study.
        let student = PlaceParams {
            usual_place_label: PlaceLabel::Study,
            ..PlaceParams::default()
        };
        let labels = label_places(&stays, &clusters, &offsets, 60, &student);
        assert!(labels.contains(&PlaceLabel::Study) && !labels.contains(&PlaceLabel::Work));
    }

    #[test]
    fn no_home_or_work_from_too_little_evidence() {
        let stays: Vec<StayPoint> = diary()
            .into_iter()
            .filter(|s| s.start.0 < local(5, 12, 0))
            .collect();
        // Two nights (the 3rd's, from 00:00 on the 4th, and the 4th's) and
        // two working days.
        let p = PlaceParams::default();
        let clusters = cluster_places(&stays, &p);
        let labels = label_places(&stays, &clusters, &[], 60, &p);
        assert_eq!(labels.len(), clusters.len());
        assert!(labels.iter().all(|&l| l == PlaceLabel::Other), "{labels:?}");
        let relaxed = PlaceParams {
            home_min_nights: 2,
            work_min_days: 2,
            ..PlaceParams::default()
        };
        let labels = label_places(&stays, &clusters, &[], 60, &relaxed);
        assert!(labels.contains(&PlaceLabel::Home) && labels.contains(&PlaceLabel::Work));
    }

    #[test]
    fn local_offset_decides_what_is_night() {
        // 19:30–23:30 UTC on five days: night in London, afternoon in New York.
        let stays: Vec<StayPoint> = (4..9u32)
            .map(|d| {
                let t = |h, m| Timestamp::from_civil(2024, 3, d, h, m, 0, 0).unwrap().0;
                stay(LAT, LON, t(19, 30), t(23, 30))
            })
            .collect();
        let p = PlaceParams::default();
        let clusters = cluster_places(&stays, &p);
        assert_eq!(
            label_places(&stays, &clusters, &[], 0, &p),
            vec![PlaceLabel::Home]
        );
        let new_york = vec![Some(-300); stays.len()];
        assert_eq!(
            label_places(&stays, &clusters, &new_york, 0, &p),
            vec![PlaceLabel::Work],
            "14:30–18:30 on weekdays"
        );
    }

    fn stored(id: i64, north_m: f64, label: PlaceLabel) -> Place {
        let p = at(north_m, 0.0);
        Place {
            id,
            lat: p.lat,
            lon: p.lon,
            label,
            label_source: LabelSource::Inferred,
            name: None,
            private: false,
            visits: 5,
        }
    }

    fn cluster_at(north_m: f64, visits: usize) -> PlaceCluster {
        let p = at(north_m, 0.0);
        PlaceCluster {
            lat: p.lat,
            lon: p.lon,
            members: (0..visits).collect(),
            total_dwell_ms: 0,
            visits,
        }
    }

    #[test]
    fn plan_keeps_ids_names_and_citizen_labels() {
        let mut named = stored(7, 1000.0, PlaceLabel::Other);
        named.name = Some("Gym".into());
        let mut relabelled = stored(8, 0.0, PlaceLabel::Study);
        relabelled.label_source = LabelSource::Citizen;
        let mut hidden = stored(9, 5000.0, PlaceLabel::Other);
        hidden.private = true;
        let known = vec![
            relabelled,
            named.clone(),
            hidden.clone(),
            stored(10, 2000.0, PlaceLabel::Work),
            stored(11, 3000.0, PlaceLabel::Other),
        ];
        // Moved 40 m, 60 m and 30 m; one cluster beyond 100 m of anything
        // stored; places 9 and 11 not seen any more.
        let clusters = vec![
            cluster_at(40.0, 12),
            cluster_at(1060.0, 3),
            cluster_at(2030.0, 9),
            cluster_at(4000.0, 2),
        ];
        let labels = [
            PlaceLabel::Home,
            PlaceLabel::Other,
            PlaceLabel::Work,
            PlaceLabel::Other,
        ];
        let plan = plan_places(&clusters, &labels, &known, PLACE_MATCH_M);
        let ids: Vec<i64> = plan.places.iter().map(|p| p.id).collect();
        assert_eq!(ids, vec![8, 7, 10, 0, 9]);
        assert_eq!(plan.delete, vec![11], "untouched and unseen");
        // The citizen said Study: it stays Study, though inferred Home.
        assert_eq!(
            (plan.places[0].label, plan.places[0].label_source),
            (PlaceLabel::Study, LabelSource::Citizen)
        );
        assert_eq!(plan.places[0].visits, 12);
        assert!((plan.places[0].lat - at(40.0, 0.0).lat).abs() < 1e-12);
        assert_eq!(plan.places[1].name.as_deref(), Some("Gym"));
        assert_eq!(plan.places[2].label, PlaceLabel::Work);
        assert_eq!(plan.places[3].label_source, LabelSource::Inferred);
        assert_eq!(
            plan.places[4],
            Place {
                visits: 0,
                ..hidden
            },
            "private: kept"
        );
    }

    #[test]
    fn plan_matches_nearest_first_one_to_one() {
        let known = vec![stored(1, 0.0, PlaceLabel::Home)];
        // Two clusters within 100 m of place 1: the nearer takes its id.
        let clusters = vec![cluster_at(-80.0, 1), cluster_at(30.0, 1)];
        let plan = plan_places(
            &clusters,
            &[PlaceLabel::Other, PlaceLabel::Home],
            &known,
            PLACE_MATCH_M,
        );
        assert_eq!(
            plan.places.iter().map(|p| p.id).collect::<Vec<_>>(),
            vec![0, 1]
        );
        assert!(plan.delete.is_empty());
        // A citizen-set Home elsewhere: no second, inferred Home.
        let mut home = stored(2, 3000.0, PlaceLabel::Home);
        home.label_source = LabelSource::Citizen;
        let plan = plan_places(&clusters[1..], &[PlaceLabel::Home], &[home], PLACE_MATCH_M);
        assert_eq!(plan.places[0].label, PlaceLabel::Other);
        assert_eq!(plan.places[1].id, 2);
    }

    #[test]
    fn trips_link_to_the_places_of_their_stays_or_nearest_centre() {
        use sillage_model::{GeoPoint, Trip};
        let geo = |north_m: f64| {
            let p = at(north_m, 0.0);
            GeoPoint {
                lat: p.lat,
                lon: p.lon,
            }
        };
        let mut home_stay = stay(at(0.0, 0.0).lat, LON, 0, 1_000_000);
        home_stay.place_id = Some(1);
        let mut work_stay = stay(at(3000.0, 0.0).lat, LON, 2_000_000, 9_000_000);
        work_stay.place_id = Some(2);
        let places = vec![
            stored(1, 0.0, PlaceLabel::Home),
            stored(2, 3000.0, PlaceLabel::Work),
            stored(3, 6000.0, PlaceLabel::Other),
        ];
        let trip = |start: i64, end: i64, from: f64, to: f64| Trip {
            id: 0,
            device: "phone".into(),
            start: Timestamp(start),
            end: Timestamp(end),
            origin: geo(from),
            destination: geo(to),
            origin_place_id: None,
            destination_place_id: None,
            distance_m: 3000.0,
            purpose: None,
            purpose_source: None,
            private: false,
            legs: Vec::new(),
        };
        let mut trips = vec![
            // Leaves the home stay 150 m from its centre (a chained place),
            // arrives at the work stay.
            trip(990_000, 2_000_000, 150.0, 2950.0),
            // After a silence: no stay in time; ends 80 m from place 3,
            // starts 300 m from anything.
            trip(20_000_000, 21_000_000, 3300.0, 6080.0),
        ];
        assign_trip_places(&mut trips, &[home_stay, work_stay], &places, PLACE_MATCH_M);
        assert_eq!(
            (trips[0].origin_place_id, trips[0].destination_place_id),
            (Some(1), Some(2))
        );
        assert_eq!(
            (trips[1].origin_place_id, trips[1].destination_place_id),
            (None, Some(3))
        );
        assert_eq!(linked_stay(&[], Timestamp(0)), None);
    }

    #[test]
    fn usual_offset_is_the_most_common_known_one() {
        assert_eq!(usual_offset_min(&[]), 0);
        assert_eq!(usual_offset_min(&[None, None]), 0);
        assert_eq!(
            usual_offset_min(&[Some(120), None, Some(60), Some(120)]),
            120
        );
        assert_eq!(usual_offset_min(&[Some(120), Some(60)]), 60);
    }

    #[test]
    fn window_arithmetic() {
        let mut seen = Vec::new();
        // 18:00 day 0 to 07:00 day 1: 10 h of the night of day 0.
        for_each_window(18 * MS_PER_HOUR, 31 * MS_PER_HOUR, NIGHT, |d, ms| {
            seen.push((d, ms))
        });
        assert_eq!(seen, vec![(0, 10 * MS_PER_HOUR)]);
        // 1970-01-01 was a Thursday; the 3rd and 4th a weekend.
        assert_eq!(
            (0..7).map(is_weekday).collect::<Vec<_>>(),
            [true, true, false, false, true, true, true]
        );
        assert!(
            is_weekday(-3) && !is_weekday(-4),
            "Monday and Sunday before"
        );
    }
}
