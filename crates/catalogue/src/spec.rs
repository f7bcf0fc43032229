//! The catalogue's entries, their layouts, and their cells in words.

use crate::{CatalogueError, Zones};
use h3o::{CellIndex, LatLng, Resolution};
use serde::{Deserialize, Serialize};
use sillage_model::{GeoPoint, ModeGroup, Timestamp};

/// A named span of local hours `[start_hour, end_hour)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimeBand {
    /// Shown to people ("morning peak", "pointe du matin").
    pub name: String,
    /// First hour inside (0–23).
    pub start_hour: u8,
    /// First hour after (1–24).
    pub end_hour: u8,
}

/// How departures are put in time bands.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimeBands {
    /// The territory's offset from UTC during the wave, minutes (a wave is
    /// short enough for one offset).
    pub utc_offset_min: i32,
    /// The bands; hours in none of them are not counted.
    pub bands: Vec<TimeBand>,
}

impl TimeBands {
    /// The two weekday peaks planners usually ask about: 7–10 h ("pointe du
    /// matin") and 16–19 h ("pointe du soir"), local time.
    pub fn peaks(utc_offset_min: i32) -> Self {
        let band = |name: &str, start_hour, end_hour| TimeBand {
            name: name.into(),
            start_hour,
            end_hour,
        };
        TimeBands {
            utc_offset_min,
            bands: vec![
                band("pointe du matin", 7, 10),
                band("pointe du soir", 16, 19),
            ],
        }
    }

    /// The band of a departure, if any.
    pub fn band_of(&self, time: Timestamp) -> Option<usize> {
        let local_ms = time.0 + i64::from(self.utc_offset_min) * 60_000;
        let hour = local_ms.div_euclid(3_600_000).rem_euclid(24) as u8;
        self.bands
            .iter()
            .position(|b| b.start_hour <= hour && hour < b.end_hour)
    }

    fn validate(&self) -> Result<(), CatalogueError> {
        if self.bands.is_empty() {
            return Err(CatalogueError::Invalid(
                "time_bands: at least one band".into(),
            ));
        }
        for band in &self.bands {
            if band.start_hour >= band.end_hour || band.end_hour > 24 {
                return Err(CatalogueError::Invalid(format!(
                    "time_bands: band {:?} must have 0 ≤ start_hour < end_hour ≤ 24",
                    band.name
                )));
            }
        }
        Ok(())
    }
}

/// What modal share counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShareUnit {
    /// One per trip, in the group of its main mode (the longest leg).
    Trips,
    /// Kilometres travelled per group (each leg's, rounded to whole km).
    Km,
}

/// One measurement a campaign asks for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MeasurementSpec {
    /// Trips between campaign zones × main mode group × departure band.
    OdMatrix {
        /// The zones, origin and destination alike.
        zones: Zones,
        /// The groups counted (others are left out).
        mode_groups: Vec<ModeGroup>,
        /// Departure bands.
        time_bands: TimeBands,
        /// Most trips one citizen adds over all cells.
        cap: u32,
    },
    /// Trips through each H3 cell of the area × departure band × main mode
    /// group (a trip counts once in each cell its path passes through).
    H3Cells {
        /// The area's cells (hexadecimal H3 indexes, one resolution).
        cells: Vec<String>,
        /// Departure bands.
        time_bands: TimeBands,
        /// The groups counted.
        mode_groups: Vec<ModeGroup>,
        /// Most cell-visits one citizen adds.
        cap: u32,
    },
    /// How trips (or km) split between mode groups.
    ModalShare {
        /// Trips or km.
        unit: ShareUnit,
        /// The groups counted.
        mode_groups: Vec<ModeGroup>,
        /// Most trips (or km) one citizen adds.
        cap: u32,
    },
    /// Trip distances by main mode group.
    DistanceHistogram {
        /// Band edges in km, increasing; the last band is open-ended.
        bounds_km: Vec<f64>,
        /// The groups counted.
        mode_groups: Vec<ModeGroup>,
        /// Most trips one citizen adds.
        cap: u32,
    },
    /// Uses of street segments (a corridor's segments, by id). Needs map
    /// matching of trips to the territory's network: defined so that a
    /// campaign can name it, refused until matching exists.
    StreetSegments {
        /// Segment identifiers of the territory's network.
        segments: Vec<String>,
        /// Most segment-visits one citizen adds.
        cap: u32,
    },
}

/// A cell's coordinates in words' terms.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CellLabel {
    /// Origin zone name (OD).
    pub origin: Option<String>,
    /// Destination zone name (OD).
    pub destination: Option<String>,
    /// H3 cell (heat map).
    pub h3_cell: Option<String>,
    /// Mode group.
    pub mode_group: Option<ModeGroup>,
    /// Time band name.
    pub time_band: Option<String>,
    /// Distance band, km `[from, to)` (`to` absent: open).
    pub distance_km: Option<(f64, Option<f64>)>,
    /// Street segment id.
    pub segment: Option<String>,
    /// Counts are kilometres, not trips.
    pub in_km: bool,
    /// Origin zone's index in the campaign's zones (OD), for maps.
    pub origin_zone: Option<usize>,
    /// Destination zone's index (OD), for maps.
    pub destination_zone: Option<usize>,
}

pub(crate) fn h3_cell(text: &str) -> Result<CellIndex, CatalogueError> {
    text.parse::<CellIndex>()
        .map_err(|e| CatalogueError::Invalid(format!("h3 cell {text:?}: {e}")))
}

pub(crate) fn cell_of(point: GeoPoint, resolution: Resolution) -> Option<CellIndex> {
    LatLng::new(point.lat, point.lon)
        .ok()
        .map(|ll| ll.to_cell(resolution))
}

fn groups_ok(groups: &[ModeGroup]) -> Result<(), CatalogueError> {
    if groups.is_empty() {
        return Err(CatalogueError::Invalid(
            "mode_groups: at least one group".into(),
        ));
    }
    Ok(())
}

impl MeasurementSpec {
    /// Checks the specification; returns the vector length.
    pub fn validate(&self) -> Result<usize, CatalogueError> {
        if self.cap() == 0 {
            return Err(CatalogueError::Invalid("cap must be at least 1".into()));
        }
        match self {
            MeasurementSpec::OdMatrix {
                zones,
                mode_groups,
                time_bands,
                ..
            } => {
                groups_ok(mode_groups)?;
                time_bands.validate()?;
                if zones.is_empty() {
                    return Err(CatalogueError::Invalid("zones: at least one zone".into()));
                }
            }
            MeasurementSpec::H3Cells {
                cells,
                time_bands,
                mode_groups,
                ..
            } => {
                groups_ok(mode_groups)?;
                time_bands.validate()?;
                let parsed = cells
                    .iter()
                    .map(|c| h3_cell(c))
                    .collect::<Result<Vec<_>, _>>()?;
                if parsed.is_empty()
                    || parsed
                        .iter()
                        .any(|c| c.resolution() != parsed[0].resolution())
                {
                    return Err(CatalogueError::Invalid(
                        "cells: one or more cells, all of one resolution".into(),
                    ));
                }
            }
            MeasurementSpec::ModalShare { mode_groups, .. } => groups_ok(mode_groups)?,
            MeasurementSpec::DistanceHistogram {
                bounds_km,
                mode_groups,
                ..
            } => {
                groups_ok(mode_groups)?;
                if bounds_km.is_empty()
                    || bounds_km.windows(2).any(|w| w[0] >= w[1])
                    || bounds_km[0] < 0.0
                {
                    return Err(CatalogueError::Invalid(
                        "bounds_km: increasing, non-negative".into(),
                    ));
                }
            }
            MeasurementSpec::StreetSegments { segments, .. } => {
                if segments.is_empty() {
                    return Err(CatalogueError::Invalid("segments: at least one".into()));
                }
            }
        }
        let len = self.len();
        if len > 100_000 {
            return Err(CatalogueError::Invalid(format!(
                "{len} cells: at most 100,000"
            )));
        }
        Ok(len)
    }

    /// The per-citizen cap on the vector's sum.
    pub fn cap(&self) -> u32 {
        match self {
            MeasurementSpec::OdMatrix { cap, .. }
            | MeasurementSpec::H3Cells { cap, .. }
            | MeasurementSpec::ModalShare { cap, .. }
            | MeasurementSpec::DistanceHistogram { cap, .. }
            | MeasurementSpec::StreetSegments { cap, .. } => *cap,
        }
    }

    /// The vector's length.
    pub fn len(&self) -> usize {
        match self {
            MeasurementSpec::OdMatrix {
                zones,
                mode_groups,
                time_bands,
                ..
            } => zones.len() * zones.len() * mode_groups.len() * time_bands.bands.len(),
            MeasurementSpec::H3Cells {
                cells,
                time_bands,
                mode_groups,
                ..
            } => cells.len() * time_bands.bands.len() * mode_groups.len(),
            MeasurementSpec::ModalShare { mode_groups, .. } => mode_groups.len(),
            MeasurementSpec::DistanceHistogram {
                bounds_km,
                mode_groups,
                ..
            } => mode_groups.len() * bounds_km.len(),
            MeasurementSpec::StreetSegments { segments, .. } => segments.len(),
        }
    }

    /// True when the layout has no cell (never, once validated).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// What cell `index` counts.
    pub fn label(&self, index: usize) -> CellLabel {
        let mut label = CellLabel {
            origin: None,
            destination: None,
            h3_cell: None,
            mode_group: None,
            time_band: None,
            distance_km: None,
            segment: None,
            in_km: false,
            origin_zone: None,
            destination_zone: None,
        };
        match self {
            MeasurementSpec::OdMatrix {
                zones,
                mode_groups,
                time_bands,
                ..
            } => {
                let (b, rest) = (
                    index % time_bands.bands.len(),
                    index / time_bands.bands.len(),
                );
                let (m, rest) = (rest % mode_groups.len(), rest / mode_groups.len());
                let (d, o) = (rest % zones.len(), rest / zones.len());
                label.origin = zones.zones.get(o).map(|z| z.name.clone());
                label.destination = zones.zones.get(d).map(|z| z.name.clone());
                label.origin_zone = Some(o);
                label.destination_zone = Some(d);
                label.mode_group = mode_groups.get(m).copied();
                label.time_band = time_bands.bands.get(b).map(|b| b.name.clone());
            }
            MeasurementSpec::H3Cells {
                cells,
                time_bands,
                mode_groups,
                ..
            } => {
                let (m, rest) = (index % mode_groups.len(), index / mode_groups.len());
                let (b, c) = (rest % time_bands.bands.len(), rest / time_bands.bands.len());
                label.h3_cell = cells.get(c).cloned();
                label.time_band = time_bands.bands.get(b).map(|b| b.name.clone());
                label.mode_group = mode_groups.get(m).copied();
            }
            MeasurementSpec::ModalShare {
                mode_groups, unit, ..
            } => {
                label.mode_group = mode_groups.get(index).copied();
                label.in_km = *unit == ShareUnit::Km;
            }
            MeasurementSpec::DistanceHistogram {
                bounds_km,
                mode_groups,
                ..
            } => {
                let (bin, m) = (index % bounds_km.len(), index / bounds_km.len());
                label.mode_group = mode_groups.get(m).copied();
                label.distance_km = bounds_km
                    .get(bin)
                    .map(|&from| (from, bounds_km.get(bin + 1).copied()));
            }
            MeasurementSpec::StreetSegments { segments, .. } => {
                label.segment = segments.get(index).cloned()
            }
        }
        label
    }
}

fn group_words(group: ModeGroup, french: bool) -> &'static str {
    match (group, french) {
        (ModeGroup::Walk, true) => "à pied",
        (ModeGroup::Bike, true) => "à vélo",
        (ModeGroup::Car, true) => "en voiture",
        (ModeGroup::Bus, true) => "en bus",
        (ModeGroup::Rail, true) => "en train, tram ou métro",
        (ModeGroup::Other, true) => "par un autre mode",
        (ModeGroup::Walk, false) => "on foot",
        (ModeGroup::Bike, false) => "by bike",
        (ModeGroup::Car, false) => "by car",
        (ModeGroup::Bus, false) => "by bus",
        (ModeGroup::Rail, false) => "by train, tram or metro",
        (ModeGroup::Other, false) => "by another mode",
    }
}

impl CellLabel {
    /// The cell with its count in plain words, in French (`"fr"`) or
    /// English: "3 trajets à vélo de Centre vers Port, pointe du matin".
    pub fn describe(&self, count: u64, lang: &str) -> String {
        let fr = lang == "fr";
        let mut text = if let Some(segment) = &self.segment {
            return if fr {
                format!("{count} passage(s) sur le tronçon {segment}")
            } else {
                format!("{count} pass(es) on segment {segment}")
            };
        } else if self.in_km {
            format!("{count} km")
        } else if fr {
            format!("{count} trajet{}", if count > 1 { "s" } else { "" })
        } else {
            format!("{count} trip{}", if count == 1 { "" } else { "s" })
        };
        if let Some(group) = self.mode_group {
            text.push(' ');
            text.push_str(group_words(group, fr));
        }
        if let (Some(o), Some(d)) = (&self.origin, &self.destination) {
            text.push_str(&if fr {
                format!(" de {o} vers {d}")
            } else {
                format!(" from {o} to {d}")
            });
        }
        if let Some(cell) = &self.h3_cell {
            text.push_str(&if fr {
                format!(" passant par la maille {cell}")
            } else {
                format!(" through cell {cell}")
            });
        }
        if let Some((from, to)) = self.distance_km {
            text.push_str(&match (to, fr) {
                (Some(to), true) => format!(" de {from} à {to} km"),
                (Some(to), false) => format!(" of {from} to {to} km"),
                (None, true) => format!(" de plus de {from} km"),
                (None, false) => format!(" over {from} km"),
            });
        }
        if let Some(band) = &self.time_band {
            text.push_str(", ");
            text.push_str(band);
        }
        text
    }
}

/// The H3 cells of resolution `resolution` within `rings` rings of the
/// cell holding `center`: a ready-made campaign area (hexadecimal indexes).
pub fn h3_area(
    center: GeoPoint,
    resolution: u8,
    rings: u32,
) -> Result<Vec<String>, CatalogueError> {
    let resolution = Resolution::try_from(resolution)
        .map_err(|e| CatalogueError::Invalid(format!("h3 resolution: {e}")))?;
    let center = cell_of(center, resolution).ok_or_else(|| {
        CatalogueError::Invalid("h3 area: the centre is not a valid position".into())
    })?;
    Ok(center
        .grid_disk::<Vec<_>>(rings)
        .iter()
        .map(|c| c.to_string())
        .collect())
}
