//! From a citizen's trips to their contribution vector.

use crate::spec::{ShareUnit, cell_of, h3_cell};
use crate::{CatalogueError, MeasurementSpec};
use rand::Rng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use sillage_model::{GeoPoint, ModeGroup, Timestamp, Trip};

/// What the catalogue needs of one trip: derived inside the citizen's
/// store, never sent anywhere as such.
#[derive(Clone, Debug, PartialEq)]
pub struct ContributableTrip {
    /// Departure.
    pub start: Timestamp,
    /// Where it started.
    pub origin: GeoPoint,
    /// Where it ended.
    pub destination: GeoPoint,
    /// Length, m.
    pub distance_m: f64,
    /// The group of its longest leg.
    pub main_group: ModeGroup,
    /// Distance per group, m.
    pub distance_by_group: Vec<(ModeGroup, f64)>,
    /// Its path (the trip's fixes), for cell-crossing measurements.
    pub path: Vec<GeoPoint>,
    /// Marked private by the citizen, or starting or ending at a private
    /// place: never counted.
    pub private: bool,
}

impl ContributableTrip {
    /// From a diary trip, its path and the citizen's private places.
    pub fn from_trip(trip: &Trip, path: Vec<GeoPoint>, private_places: &[i64]) -> Self {
        let by_group = distance_by_group(trip.legs.iter().map(|l| (l.mode.group(), l.distance_m)));
        let main_group = trip
            .legs
            .iter()
            .max_by(|a, b| a.distance_m.total_cmp(&b.distance_m))
            .map_or(ModeGroup::Other, |leg| leg.mode.group());
        let at_private = |place: Option<i64>| place.is_some_and(|p| private_places.contains(&p));
        ContributableTrip {
            start: trip.start,
            origin: trip.origin,
            destination: trip.destination,
            distance_m: trip.distance_m,
            main_group,
            distance_by_group: by_group,
            path,
            private: trip.private
                || at_private(trip.origin_place_id)
                || at_private(trip.destination_place_id),
        }
    }
}

/// Legs' distances summed per mode group, in order of first appearance.
pub fn distance_by_group(
    legs: impl IntoIterator<Item = (ModeGroup, f64)>,
) -> Vec<(ModeGroup, f64)> {
    let mut by_group: Vec<(ModeGroup, f64)> = Vec::new();
    for (group, distance) in legs {
        match by_group.iter_mut().find(|(g, _)| *g == group) {
            Some((_, d)) => *d += distance,
            None => by_group.push((group, distance)),
        }
    }
    by_group
}

/// Why a trip adds nothing to the contribution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Exclusion {
    /// The citizen marked it (or one of its places) private.
    Private,
    /// It starts, ends or runs outside the campaign's zones or cells.
    OutsideArea,
    /// It departs in no time band of the campaign.
    OutsideTimeBands,
    /// Its mode group is not among those the campaign counts.
    ModeNotCounted,
    /// The citizen chose to leave it out.
    ExcludedByCitizen,
}

/// One unit of a contribution: one count in one cell, from one trip.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    /// Cell of the vector.
    pub cell: usize,
    /// Index of the trip in the input.
    pub trip: usize,
}

/// A citizen's contribution, with everything the preview shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    /// What leaves (as secret shares): the counts per cell.
    pub vector: Vec<u32>,
    /// The units in `vector`, each traced to its trip.
    pub units: Vec<Unit>,
    /// Units left out because the total would exceed the cap (chosen at
    /// random, so no kind of trip is systematically dropped).
    pub dropped_by_cap: Vec<Unit>,
    /// Trips that count nowhere, and why.
    pub excluded: Vec<(usize, Exclusion)>,
}

/// Computes the contribution of `trips` to `spec`, leaving out the trips
/// whose index is in `left_out` (the citizen's choice in the preview).
pub fn encode(
    spec: &MeasurementSpec,
    trips: &[ContributableTrip],
    left_out: &[usize],
    rng: &mut impl Rng,
) -> Result<Contribution, CatalogueError> {
    let len = spec.validate()?;
    if matches!(spec, MeasurementSpec::StreetSegments { .. }) {
        return Err(CatalogueError::Unavailable(
            "street segments need map matching of trips to the network",
        ));
    }
    let h3_area = H3Area::of(spec);
    let mut units = Vec::new();
    let mut excluded = Vec::new();
    for (i, trip) in trips.iter().enumerate() {
        let verdict = if left_out.contains(&i) {
            Err(Exclusion::ExcludedByCitizen)
        } else if trip.private {
            Err(Exclusion::Private)
        } else {
            cells_of(spec, h3_area.as_ref(), trip)
        };
        match verdict {
            Ok(cells) => units.extend(cells.into_iter().map(|cell| Unit { cell, trip: i })),
            Err(reason) => excluded.push((i, reason)),
        }
    }
    let cap = spec.cap() as usize;
    let mut dropped_by_cap = Vec::new();
    if units.len() > cap {
        units.shuffle(rng);
        dropped_by_cap = units.split_off(cap);
        units.sort_by_key(|u| (u.trip, u.cell));
        dropped_by_cap.sort_by_key(|u| (u.trip, u.cell));
    }
    let mut vector = vec![0u32; len];
    for unit in &units {
        vector[unit.cell] += 1;
    }
    Ok(contribution_checked(Contribution {
        vector,
        units,
        dropped_by_cap,
        excluded,
    }))
}

fn contribution_checked(contribution: Contribution) -> Contribution {
    debug_assert_eq!(
        contribution
            .vector
            .iter()
            .map(|&v| v as usize)
            .sum::<usize>(),
        contribution.units.len()
    );
    contribution
}

fn group_index(groups: &[ModeGroup], group: ModeGroup) -> Result<usize, Exclusion> {
    groups
        .iter()
        .position(|&g| g == group)
        .ok_or(Exclusion::ModeNotCounted)
}

/// The cells one trip adds a unit to (a cell may repeat: km).
/// An H3 measurement's area, indexed once per contribution (not per trip
/// and point).
struct H3Area {
    resolution: h3o::Resolution,
    position: std::collections::HashMap<h3o::CellIndex, usize>,
}

impl H3Area {
    fn of(spec: &MeasurementSpec) -> Option<H3Area> {
        let MeasurementSpec::H3Cells { cells, .. } = spec else {
            return None;
        };
        let position: std::collections::HashMap<_, _> = cells
            .iter()
            .enumerate()
            .filter_map(|(i, c)| h3_cell(c).ok().map(|cell| (cell, i)))
            .collect();
        let resolution = position.keys().next()?.resolution();
        Some(H3Area {
            resolution,
            position,
        })
    }
}

fn cells_of(
    spec: &MeasurementSpec,
    area: Option<&H3Area>,
    trip: &ContributableTrip,
) -> Result<Vec<usize>, Exclusion> {
    match spec {
        MeasurementSpec::OdMatrix {
            zones,
            mode_groups,
            time_bands,
            ..
        } => {
            let m = group_index(mode_groups, trip.main_group)?;
            let b = time_bands
                .band_of(trip.start)
                .ok_or(Exclusion::OutsideTimeBands)?;
            let o = zones.locate(trip.origin).ok_or(Exclusion::OutsideArea)?;
            let d = zones
                .locate(trip.destination)
                .ok_or(Exclusion::OutsideArea)?;
            let z = zones.len();
            Ok(vec![
                ((o * z + d) * mode_groups.len() + m) * time_bands.bands.len() + b,
            ])
        }
        MeasurementSpec::H3Cells {
            time_bands,
            mode_groups,
            ..
        } => {
            let m = group_index(mode_groups, trip.main_group)?;
            let b = time_bands
                .band_of(trip.start)
                .ok_or(Exclusion::OutsideTimeBands)?;
            let area = area.ok_or(Exclusion::OutsideArea)?;
            let mut crossed: Vec<usize> = std::iter::once(trip.origin)
                .chain(trip.path.iter().copied())
                .chain(std::iter::once(trip.destination))
                .filter_map(|p| cell_of(p, area.resolution))
                .filter_map(|cell| area.position.get(&cell).copied())
                .collect();
            crossed.sort_unstable();
            crossed.dedup();
            if crossed.is_empty() {
                return Err(Exclusion::OutsideArea);
            }
            let bands = time_bands.bands.len();
            let groups = mode_groups.len();
            Ok(crossed
                .into_iter()
                .map(|c| (c * bands + b) * groups + m)
                .collect())
        }
        MeasurementSpec::ModalShare {
            unit: ShareUnit::Trips,
            mode_groups,
            ..
        } => Ok(vec![group_index(mode_groups, trip.main_group)?]),
        MeasurementSpec::ModalShare {
            unit: ShareUnit::Km,
            mode_groups,
            ..
        } => {
            let mut cells = Vec::new();
            for &(group, metres) in &trip.distance_by_group {
                if let Ok(m) = group_index(mode_groups, group) {
                    cells.extend(std::iter::repeat_n(m, (metres / 1000.0).round() as usize));
                }
            }
            if cells.is_empty() {
                return Err(Exclusion::ModeNotCounted);
            }
            Ok(cells)
        }
        MeasurementSpec::DistanceHistogram {
            bounds_km,
            mode_groups,
            ..
        } => {
            let m = group_index(mode_groups, trip.main_group)?;
            let km = trip.distance_m / 1000.0;
            let bin = bounds_km
                .iter()
                .rposition(|&from| km >= from)
                .ok_or(Exclusion::OutsideArea)?;
            Ok(vec![m * bounds_km.len() + bin])
        }
        // Refused in `encode` before any trip is looked at.
        MeasurementSpec::StreetSegments { .. } => Err(Exclusion::OutsideArea),
    }
}
