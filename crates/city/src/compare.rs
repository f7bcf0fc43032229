//! Before/after comparison of two releases of the same kind of measurement
//! (for example trips by mode between the same zones before and after a new
//! cycle lane): each cell's difference with its 95 % interval.
//!
//! Both releases carry noise, so a difference is noisier than either figure:
//! its interval comes from [`sillage_dap::noise::difference_half_width`],
//! not from the releases' own half-widths. A suppressed cell has no figure,
//! and so no difference either: a territory prefers no indicator to an
//! imprecise one.
//!
//! The differences are between totals. When the two waves had different
//! numbers of contributors, part of a difference is participation, not
//! behaviour: pages showing a comparison should show both contributor counts
//! beside it (they are in [`Comparison`]).

use serde::Serialize;
use sillage_catalogue::{CellLabel, MeasurementSpec, ShareUnit};
use sillage_collector::PublishedResult;
use sillage_dap::noise::difference_half_width;
use sillage_model::ModeGroup;
use std::collections::HashMap;

/// One cell present in both releases.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CellComparison {
    /// What the cell counts, as the after-measurement labels it (its zone
    /// indexes are those of the after campaign's zones, for its maps).
    pub label: CellLabel,
    /// The before release's figure (`None`: suppressed).
    pub before: Option<i64>,
    /// The after release's figure (`None`: suppressed).
    pub after: Option<i64>,
    /// `after − before`, only when neither figure is suppressed.
    pub difference: Option<i64>,
    /// 95 % interval around the difference (with `difference`).
    pub interval_95: Option<(i64, i64)>,
    /// Whether the interval excludes zero: the change is unlikely to be
    /// noise alone. Always false without a difference.
    pub significant: bool,
}

/// Two releases compared cell by cell.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comparison {
    /// Contributors to the before release.
    pub before_contributors: u64,
    /// Contributors to the after release.
    pub after_contributors: u64,
    /// The before release's budget (`None`: no noise, tests only).
    pub before_epsilon: Option<f64>,
    /// The after release's budget.
    pub after_epsilon: Option<f64>,
    /// Half-width of every difference's 95 % interval.
    pub difference_half_width: u64,
    /// The cells present in both releases, in the after-measurement's order.
    pub cells: Vec<CellComparison>,
    /// Cells of the before release with no counterpart after.
    pub unmatched_before: usize,
    /// Cells of the after release with no counterpart before.
    pub unmatched_after: usize,
}

/// The kinds of measurement that can be compared with one another (only
/// with their own kind).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MeasurementKind {
    /// Trips between zones.
    OdMatrix,
    /// Trips through H3 cells.
    H3Cells,
    /// Modal share counted in trips.
    ModalShareTrips,
    /// Modal share counted in kilometres.
    ModalShareKm,
    /// Trip distances.
    DistanceHistogram,
    /// Uses of street segments.
    StreetSegments,
}

impl MeasurementKind {
    /// The kind of `spec`.
    pub fn of(spec: &MeasurementSpec) -> Self {
        match spec {
            MeasurementSpec::OdMatrix { .. } => Self::OdMatrix,
            MeasurementSpec::H3Cells { .. } => Self::H3Cells,
            MeasurementSpec::ModalShare {
                unit: ShareUnit::Trips,
                ..
            } => Self::ModalShareTrips,
            MeasurementSpec::ModalShare {
                unit: ShareUnit::Km,
                ..
            } => Self::ModalShareKm,
            MeasurementSpec::DistanceHistogram { .. } => Self::DistanceHistogram,
            MeasurementSpec::StreetSegments { .. } => Self::StreetSegments,
        }
    }

    /// The kind in plain words, French (`fr`) or English.
    pub fn words(self, fr: bool) -> &'static str {
        match (self, fr) {
            (Self::OdMatrix, true) => "une matrice origine–destination",
            (Self::H3Cells, true) => "une carte de passages par maille",
            (Self::ModalShareTrips, true) => "une part modale en trajets",
            (Self::ModalShareKm, true) => "une part modale en kilomètres",
            (Self::DistanceHistogram, true) => "une répartition des distances",
            (Self::StreetSegments, true) => "des passages par tronçon de rue",
            (Self::OdMatrix, false) => "an origin–destination matrix",
            (Self::H3Cells, false) => "a map of trips through cells",
            (Self::ModalShareTrips, false) => "a modal share in trips",
            (Self::ModalShareKm, false) => "a modal share in kilometres",
            (Self::DistanceHistogram, false) => "a histogram of trip distances",
            (Self::StreetSegments, false) => "counts of uses of street segments",
        }
    }
}

/// Why two releases cannot be compared.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum CompareError {
    /// The measurements count different things.
    #[error(
        "these two results measure different things ({} before, {} after): only results of the same kind can be compared",
        .before.words(false),
        .after.words(false)
    )]
    DifferentKinds {
        /// The before measurement's kind.
        before: MeasurementKind,
        /// The after measurement's kind.
        after: MeasurementKind,
    },
    /// A release does not have as many cells as its measurement: it is not
    /// that measurement's result.
    #[error(
        "the {which} result has {cells} cells but its measurement has {expected}: it is not this measurement's result"
    )]
    WrongCellCount {
        /// `"before"` or `"after"`.
        which: &'static str,
        /// Cells in the release.
        cells: usize,
        /// Cells the measurement defines.
        expected: usize,
    },
}

/// What makes two cells of different releases the same cell: everything in
/// its label but the zone indexes, which are positions in each campaign's
/// own list of zones. Zones are given as indexes into the *before*
/// campaign's zones, after matching zones by id (see [`zone_matches`]).
#[derive(PartialEq, Eq, Hash)]
struct CellKey {
    origin: Option<usize>,
    destination: Option<usize>,
    h3_cell: Option<String>,
    mode_group: Option<ModeGroup>,
    time_band: Option<String>,
    /// Band edges as bit patterns (exact equality is what is wanted: both
    /// came from a campaign's written bounds).
    distance_km: Option<(u64, Option<u64>)>,
    segment: Option<String>,
    in_km: bool,
}

impl CellKey {
    /// The key of `label`, with its zone indexes mapped by `zones`; `None`
    /// when a zone has no counterpart (the cell cannot match).
    fn new(label: &CellLabel, zones: impl Fn(usize) -> Option<usize>) -> Option<Self> {
        let zone = |index: Option<usize>| index.map(&zones).map_or(Some(None), |z| z.map(Some));
        // −0.0 and 0.0 are the same edge; adding 0.0 makes them one bit pattern.
        let bits = |km: f64| (km + 0.0).to_bits();
        Some(CellKey {
            origin: zone(label.origin_zone)?,
            destination: zone(label.destination_zone)?,
            // H3 indexes are hexadecimal: case is not meaningful.
            h3_cell: label.h3_cell.as_ref().map(|c| c.to_ascii_lowercase()),
            mode_group: label.mode_group,
            time_band: label.time_band.clone(),
            distance_km: label
                .distance_km
                .map(|(from, to)| (bits(from), to.map(bits))),
            segment: label.segment.clone(),
            in_km: label.in_km,
        })
    }
}

/// For each of the after campaign's zones, the before campaign's zone that
/// is the same place: the one with the same id (ids are the stable
/// identifiers, e.g. IRIS codes), else the only one with the same name and
/// the same geometry whose id the after campaign does not use (the same
/// zone under another numbering; a name alone is not a place: two H3 grids
/// both have a "Secteur 3"). Empty for measurements without zones.
fn zone_matches(before: &MeasurementSpec, after: &MeasurementSpec) -> Vec<Option<usize>> {
    let (
        MeasurementSpec::OdMatrix { zones: before, .. },
        MeasurementSpec::OdMatrix { zones: after, .. },
    ) = (before, after)
    else {
        return Vec::new();
    };
    after
        .zones
        .iter()
        .map(|zone| {
            before
                .zones
                .iter()
                .position(|b| b.id == zone.id)
                .or_else(|| {
                    let mut same_name = before.zones.iter().enumerate().filter(|(_, b)| {
                        b.name == zone.name
                            && b.geometry == zone.geometry
                            && !after.zones.iter().any(|a| a.id == b.id)
                    });
                    match (same_name.next(), same_name.next()) {
                        (Some((index, _)), None) => Some(index),
                        _ => None,
                    }
                })
        })
        .collect()
}

/// Compares the release `after` with the release `before`, each with the
/// measurement it is the result of.
///
/// Cells are matched by what they count (zones, H3 cell, mode group, time
/// band, distance band, segment, unit), not by position, so the two
/// campaigns may list zones, groups or bands in different orders or have
/// some the other lacks; those are counted in `unmatched_before` and
/// `unmatched_after`. Fails when the two measure different kinds of thing,
/// or when a release does not fit its measurement.
pub fn compare(
    before: (&MeasurementSpec, &PublishedResult),
    after: (&MeasurementSpec, &PublishedResult),
) -> Result<Comparison, CompareError> {
    let ((before_spec, before_result), (after_spec, after_result)) = (before, after);
    let (before_kind, after_kind) = (
        MeasurementKind::of(before_spec),
        MeasurementKind::of(after_spec),
    );
    if before_kind != after_kind {
        return Err(CompareError::DifferentKinds {
            before: before_kind,
            after: after_kind,
        });
    }
    for (which, spec, result) in [
        ("before", before_spec, before_result),
        ("after", after_spec, after_result),
    ] {
        if spec.len() != result.cells.len() {
            return Err(CompareError::WrongCellCount {
                which,
                cells: result.cells.len(),
                expected: spec.len(),
            });
        }
    }

    let mut before_cells = HashMap::with_capacity(before_result.cells.len());
    for index in 0..before_result.cells.len() {
        let key = CellKey::new(&before_spec.label(index), Some)
            .expect("the identity mapping maps every zone");
        // A key twice in one measurement (zones sharing an id) matches its
        // first cell only: the others are left unmatched.
        before_cells.entry(key).or_insert(index);
    }
    let zones = zone_matches(before_spec, after_spec);
    let half_width =
        difference_half_width(before_result.noise_scale, after_result.noise_scale, 0.95);
    let mut used = vec![false; before_result.cells.len()];
    let mut cells = Vec::new();
    let mut unmatched_after = 0;
    for (index, after_cell) in after_result.cells.iter().enumerate() {
        let label = after_spec.label(index);
        let matched = CellKey::new(&label, |z| zones.get(z).copied().flatten())
            .and_then(|key| before_cells.get(&key).copied())
            .filter(|&b| !std::mem::replace(&mut used[b], true));
        let Some(before_index) = matched else {
            unmatched_after += 1;
            continue;
        };
        let before_cell = &before_result.cells[before_index];
        let figure = |cell: &sillage_collector::PublishedCell| {
            if cell.suppressed { None } else { cell.value }
        };
        let (before_value, after_value) = (figure(before_cell), figure(after_cell));
        let difference = before_value
            .zip(after_value)
            .map(|(before, after)| after - before);
        let h = half_width as i64;
        let interval_95 = difference.map(|d| (d - h, d + h));
        cells.push(CellComparison {
            label,
            before: before_value,
            after: after_value,
            difference,
            interval_95,
            significant: interval_95.is_some_and(|(low, high)| low > 0 || high < 0),
        });
    }
    Ok(Comparison {
        before_contributors: before_result.contributors,
        after_contributors: after_result.contributors,
        before_epsilon: before_result.epsilon,
        after_epsilon: after_result.epsilon,
        difference_half_width: half_width,
        unmatched_before: used.iter().filter(|&&u| !u).count(),
        unmatched_after,
        cells,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sillage_catalogue::{TimeBands, Zone, ZoneGeometry, Zones};
    use sillage_collector::PublishedCell;

    fn modal_share(unit: ShareUnit, groups: &[ModeGroup]) -> MeasurementSpec {
        MeasurementSpec::ModalShare {
            unit,
            mode_groups: groups.to_vec(),
            cap: 4,
        }
    }

    fn zone(id: &str, name: &str) -> Zone {
        Zone {
            id: id.into(),
            name: name.into(),
            geometry: ZoneGeometry::H3 {
                cell: "871fb4662ffffff".into(),
            },
        }
    }

    fn od(zones: &[(&str, &str)], groups: &[ModeGroup]) -> MeasurementSpec {
        MeasurementSpec::OdMatrix {
            zones: Zones {
                zones: zones.iter().map(|&(id, name)| zone(id, name)).collect(),
            },
            mode_groups: groups.to_vec(),
            time_bands: TimeBands::peaks(60),
            cap: 4,
        }
    }

    /// A release of `values` (`None`: suppressed) with noise of `scale`.
    fn release(values: &[Option<i64>], scale: f64) -> PublishedResult {
        let h = if scale > 0.0 {
            sillage_dap::noise::interval_half_width(scale, 0.95)
        } else {
            0
        };
        PublishedResult {
            contributors: 100,
            epsilon: (scale > 0.0).then_some(1.0),
            noise_scale: scale,
            noise_sd: 0.0,
            interval_half_width: h,
            suppression_threshold: 10,
            cells: values
                .iter()
                .map(|&value| PublishedCell {
                    value,
                    interval_95: value.map(|v| (v - h as i64, v + h as i64)),
                    suppressed: value.is_none(),
                })
                .collect(),
        }
    }

    #[test]
    fn cells_match_by_label_in_the_after_order() {
        use ModeGroup::{Bike, Bus, Car, Walk};
        let before_spec = modal_share(ShareUnit::Trips, &[Walk, Bike, Car, Bus]);
        let before = release(&[Some(100), Some(40), Some(300), Some(50)], 0.0);
        // The after campaign drops buses, adds rail, and lists cars first.
        let after_spec = modal_share(ShareUnit::Trips, &[Car, Walk, Bike, ModeGroup::Rail]);
        let after = release(&[Some(280), Some(100), Some(70), Some(20)], 0.0);
        let comparison = compare((&before_spec, &before), (&after_spec, &after)).unwrap();
        let rows: Vec<_> = comparison
            .cells
            .iter()
            .map(|c| (c.label.mode_group, c.before, c.after, c.difference))
            .collect();
        assert_eq!(
            rows,
            [
                (Some(Car), Some(300), Some(280), Some(-20)),
                (Some(Walk), Some(100), Some(100), Some(0)),
                (Some(Bike), Some(40), Some(70), Some(30)),
            ]
        );
        assert_eq!(
            (comparison.unmatched_before, comparison.unmatched_after),
            (1, 1)
        );
        // Without noise, any change is a change.
        assert_eq!(comparison.difference_half_width, 0);
        let significant: Vec<_> = comparison.cells.iter().map(|c| c.significant).collect();
        assert_eq!(significant, [true, false, true]);
    }

    #[test]
    fn od_cells_match_by_zone_not_by_index() {
        use ModeGroup::{Bike, Car};
        // Same zones listed in another order; the port was renamed but kept
        // its id; the station moved to a new numbering under its name.
        let before_spec = od(
            &[("1", "Centre"), ("2", "Port"), ("3", "Gare")],
            &[Bike, Car],
        );
        let after_spec = od(
            &[("2", "Port de plaisance"), ("1", "Centre"), ("75", "Gare")],
            &[Bike, Car],
        );
        let n = before_spec.len();
        assert_eq!(n, after_spec.len());
        let before_values: Vec<_> = (0..n as i64).map(|i| Some(1000 + i)).collect();
        let after_values: Vec<_> = (0..n as i64).map(|i| Some(2000 + i)).collect();
        let comparison = compare(
            (&before_spec, &release(&before_values, 0.0)),
            (&after_spec, &release(&after_values, 0.0)),
        )
        .unwrap();
        assert_eq!(comparison.cells.len(), n);
        assert_eq!(
            (comparison.unmatched_before, comparison.unmatched_after),
            (0, 0)
        );
        // Each after cell met the before cell of the same zones, group and band.
        let zone_id = |spec: &MeasurementSpec, index: Option<usize>| match spec {
            MeasurementSpec::OdMatrix { zones, .. } => zones.zones[index.unwrap()].id.clone(),
            _ => unreachable!(),
        };
        for cell in &comparison.cells {
            let before_index = (0..n)
                .find(|&i| cell.before == Some(1000 + i as i64))
                .unwrap();
            let before_label = before_spec.label(before_index);
            let canonical = |id: String| if id == "75" { "3".into() } else { id };
            assert_eq!(
                canonical(zone_id(&after_spec, cell.label.origin_zone)),
                zone_id(&before_spec, before_label.origin_zone)
            );
            assert_eq!(
                canonical(zone_id(&after_spec, cell.label.destination_zone)),
                zone_id(&before_spec, before_label.destination_zone)
            );
            assert_eq!(cell.label.mode_group, before_label.mode_group);
            assert_eq!(cell.label.time_band, before_label.time_band);
        }
        // In the after-measurement's order.
        let after_order: Vec<_> = comparison.cells.iter().map(|c| c.after).collect();
        assert_eq!(after_order, after_values);
    }

    #[test]
    fn zones_absent_before_are_unmatched() {
        let before_spec = od(&[("1", "Centre")], &[ModeGroup::Bike]);
        let after_spec = od(
            &[("1", "Centre"), ("9", "Nouveau quartier")],
            &[ModeGroup::Bike],
        );
        let comparison = compare(
            (&before_spec, &release(&[Some(50), Some(60)], 0.0)),
            (&after_spec, &release(&[Some(70); 8], 0.0)),
        )
        .unwrap();
        // Centre → Centre in both bands; the 6 cells touching the new zone
        // have no before.
        assert_eq!(comparison.cells.len(), 2);
        assert_eq!(
            (comparison.unmatched_before, comparison.unmatched_after),
            (0, 6)
        );
        assert_eq!(comparison.cells[0].difference, Some(20));
        assert_eq!(comparison.cells[1].difference, Some(10));
    }

    #[test]
    fn suppressed_cells_have_no_difference() {
        use ModeGroup::{Bike, Car, Walk};
        let spec = modal_share(ShareUnit::Km, &[Walk, Bike, Car]);
        let comparison = compare(
            (&spec, &release(&[None, Some(500), None], 8.0)),
            (&spec, &release(&[Some(400), None, None], 8.0)),
        )
        .unwrap();
        assert_eq!(comparison.cells.len(), 3);
        for cell in &comparison.cells {
            assert_eq!(cell.difference, None);
            assert_eq!(cell.interval_95, None);
            assert!(!cell.significant);
        }
        assert_eq!(comparison.cells[0].after, Some(400));
        assert_eq!(comparison.cells[1].before, Some(500));
    }

    #[test]
    fn significance_is_the_interval_excluding_zero() {
        use ModeGroup::{Bike, Bus, Car, Walk};
        let spec = modal_share(ShareUnit::Trips, &[Walk, Bike, Car, Bus]);
        let h = difference_half_width(8.0, 8.0, 0.95) as i64;
        let before = release(&[Some(1000); 4], 8.0);
        let after = release(
            &[
                Some(1000 + h + 1),
                Some(1000 + h),
                Some(1000 - h - 1),
                Some(1000 - h),
            ],
            8.0,
        );
        let comparison = compare((&spec, &before), (&spec, &after)).unwrap();
        assert_eq!(comparison.difference_half_width, h as u64);
        let cells = &comparison.cells;
        assert_eq!(cells[0].interval_95, Some((1, 2 * h + 1)));
        assert_eq!(cells[3].interval_95, Some((-2 * h, 0)));
        let significant: Vec<_> = cells.iter().map(|c| c.significant).collect();
        assert_eq!(significant, [true, false, true, false]);
        // The difference is wider than either release's own interval.
        assert!(h > before.interval_half_width as i64);
    }

    #[test]
    fn different_kinds_are_refused() {
        use ModeGroup::{Bike, Car};
        let trips = modal_share(ShareUnit::Trips, &[Bike, Car]);
        let km = modal_share(ShareUnit::Km, &[Bike, Car]);
        let matrix = od(&[("1", "Centre")], &[Bike, Car]);
        let two = release(&[Some(10), Some(20)], 0.0);
        let four = release(&[Some(10); 4], 0.0);
        let error = compare((&trips, &two), (&km, &two)).unwrap_err();
        assert_eq!(
            error,
            CompareError::DifferentKinds {
                before: MeasurementKind::ModalShareTrips,
                after: MeasurementKind::ModalShareKm,
            }
        );
        assert!(error.to_string().contains("a modal share in trips"));
        assert!(compare((&matrix, &four), (&trips, &two)).is_err());
        // A release that is not its measurement's.
        assert!(matches!(
            compare((&trips, &four), (&trips, &two)),
            Err(CompareError::WrongCellCount {
                which: "before",
                ..
            })
        ));
    }

    #[test]
    fn serialises_to_json() {
        let spec = modal_share(ShareUnit::Trips, &[ModeGroup::Bike]);
        let comparison = compare(
            (&spec, &release(&[Some(10)], 0.0)),
            (&spec, &release(&[Some(15)], 0.0)),
        )
        .unwrap();
        let json = serde_json::to_value(&comparison).unwrap();
        assert_eq!(json["cells"][0]["difference"], 5);
        assert_eq!(json["cells"][0]["label"]["mode_group"], "bike");
        assert_eq!(json["unmatched_before"], 0);
    }
}
