//! The campaign designer: from what a planner fills in (an area drawn or
//! uploaded, zones uploaded or generated as an H3 grid, measurements from
//! the catalogue, privacy parameters, a wave) to a campaign specification
//! ready to sign. Pure: the parties (aggregators, collector key, hub's
//! token issuer) are given by the caller, who fetched them.

use crate::planning::{self, Consequences};
use h3o::{CellIndex, LatLng, Resolution};
use serde::{Deserialize, Serialize};
use sillage_campaign::{
    AggregatorInfo, CampaignMeasurement, CampaignSpec, Controller, LegalBasis, Localized,
    SPEC_VERSION, Wave,
};
use sillage_catalogue::{
    MeasurementSpec, ShareUnit, TimeBand, TimeBands, Zone, ZoneGeometry, Zones,
};
use sillage_dap::bytes::Bytes;
use sillage_dap::hpke::HpkeConfig;
use sillage_model::{GeoPoint, ModeGroup, Timestamp};
use std::collections::{BTreeSet, VecDeque};

/// Most H3 cells an area may be cut into (zones or heat-map cells): more
/// would make vectors no pilot's participation could fill.
pub const MAX_GRID_CELLS: usize = 2_000;

/// Most positions an area's outline may have: each grid cell is tested
/// against every edge.
pub const MAX_VERTICES: usize = 20_000;

/// What the planner filled in, as the designer's form posts it. Every
/// field is text so that a half-filled form still previews, and errors
/// name the field.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct DesignForm {
    /// Campaign id: lowercase letters, digits and dashes.
    pub id: String,
    /// Title, French.
    pub title_fr: String,
    /// Title, English.
    pub title_en: String,
    /// Purpose, French.
    pub purpose_fr: String,
    /// Purpose, English.
    pub purpose_en: String,
    /// The area: a GeoJSON Polygon or MultiPolygon (geometry, Feature or
    /// FeatureCollection), drawn on the map or uploaded. May be empty when
    /// zones are uploaded: their union is then the area.
    pub area: String,
    /// `h3` (a grid over the area) or `geojson` (uploaded zones).
    pub zones_source: String,
    /// Uploaded zones: a FeatureCollection with `id` and `properties.name`.
    pub zones_geojson: String,
    /// H3 resolution of generated zones (5–9).
    pub zone_resolution: String,
    /// H3 resolution of the heat map's cells (6–10).
    pub heat_resolution: String,
    /// Mode groups (checkboxes: present when ticked).
    pub walk: Option<String>,
    /// Bike group.
    pub bike: Option<String>,
    /// Car group.
    pub car: Option<String>,
    /// Bus group.
    pub bus: Option<String>,
    /// Rail group.
    pub rail: Option<String>,
    /// Measure origin–destination flows.
    pub od: Option<String>,
    /// OD bands: `day` (6 h–22 h) or `peaks`.
    pub od_bands: String,
    /// ε of the OD measurement.
    pub od_epsilon: String,
    /// Most trips a citizen adds to the OD matrix.
    pub od_cap: String,
    /// Measure the heat map.
    pub heat: Option<String>,
    /// ε of the heat map.
    pub heat_epsilon: String,
    /// Most cell visits a citizen adds to the heat map.
    pub heat_cap: String,
    /// Measure the modal share in trips.
    pub share_trips: Option<String>,
    /// ε of the modal share in trips.
    pub share_epsilon: String,
    /// Most trips a citizen adds to the modal share.
    pub share_cap: String,
    /// Measure the modal share in km.
    pub share_km: Option<String>,
    /// ε of the modal share in km.
    pub km_epsilon: String,
    /// Most km a citizen adds.
    pub km_cap: String,
    /// Measure the distance distribution.
    pub distances: Option<String>,
    /// ε of the distance distribution.
    pub distances_epsilon: String,
    /// Most trips a citizen adds to it.
    pub distances_cap: String,
    /// Band edges in km, comma-separated, increasing.
    pub distance_bounds: String,
    /// First measured day (local, `YYYY-MM-DD`).
    pub first_day: String,
    /// Last measured day (local, inclusive).
    pub last_day: String,
    /// Reports accepted until (local, `YYYY-MM-DDTHH:MM`).
    pub reports_until: String,
    /// The minimum number of contributors (k).
    pub min_contributors: String,
    /// Noisy values below this are withheld.
    pub threshold: String,
    /// Participants the planner expects (for the explanation only).
    pub participants: String,
}

/// A form that does not make a campaign: the field and what was expected.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{field}: {message}")]
pub struct DesignError {
    /// The form field.
    pub field: String,
    /// What was expected.
    pub message: String,
    /// The same in French (technical details stay as they come).
    pub message_fr: String,
}

impl DesignError {
    /// The message in the page's language.
    pub fn localized(&self, fr: bool) -> String {
        let message = if fr { &self.message_fr } else { &self.message };
        format!("{} : {message}", self.field)
    }
}

/// An error whose message has no French words of its own (a parser's).
fn invalid(field: &str, message: impl Into<String>) -> DesignError {
    let message = message.into();
    DesignError {
        field: field.into(),
        message_fr: message.clone(),
        message,
    }
}

/// An error in both languages.
fn invalid2(field: &str, fr: impl Into<String>, en: impl Into<String>) -> DesignError {
    DesignError {
        field: field.into(),
        message: en.into(),
        message_fr: fr.into(),
    }
}

/// A parsed form: everything of the campaign except the parties.
#[derive(Clone, Debug)]
pub struct Draft {
    /// Campaign id.
    pub id: String,
    /// Title.
    pub title: Localized,
    /// Purpose.
    pub purpose: Localized,
    /// The zones of the OD matrix.
    pub zones: Zones,
    /// The measurements.
    pub measurements: Vec<CampaignMeasurement>,
    /// The single wave.
    pub wave: Wave,
    /// k.
    pub min_contributors: u64,
    /// Suppression threshold.
    pub threshold: u64,
    /// Expected participants.
    pub participants: u64,
}

/// What one measurement's parameters cost, for the live explanation.
#[derive(Clone, Debug, Serialize)]
pub struct Explanation {
    /// Measurement id.
    pub id: String,
    /// Its title in the asked language.
    pub title: String,
    /// Cells of its vector.
    pub cells: u64,
    /// ε.
    pub epsilon: f64,
    /// Per-citizen cap.
    pub cap: u32,
    /// The consequences, or why they cannot be computed.
    pub consequences: Result<Consequences, String>,
}

fn text(fr: &str, en: &str) -> Localized {
    Localized {
        fr: fr.trim().into(),
        en: en.trim().into(),
    }
}

fn number<T: std::str::FromStr>(field: &str, value: &str, default: T) -> Result<T, DesignError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(default);
    }
    value.replace(',', ".").parse().map_err(|_| {
        invalid2(
            field,
            format!("« {value} » n'est pas un nombre"),
            format!("{value:?} is not a number"),
        )
    })
}

/// A finite decimal number (`NaN` or `inf` would not survive JSON).
fn decimal(field: &str, value: &str, default: f64) -> Result<f64, DesignError> {
    let number: f64 = number(field, value, default)?;
    if !number.is_finite() {
        return Err(invalid2(
            field,
            format!("« {value} » n'est pas un nombre fini"),
            format!("{value:?} is not a finite number"),
        ));
    }
    Ok(number)
}

/// The calendar day after `date` (`YYYY-MM-DD`).
fn next_day(field: &str, date: &str) -> Result<String, DesignError> {
    let parts: Vec<i64> = date
        .trim()
        .split('-')
        .filter_map(|p| p.parse().ok())
        .collect();
    let noon = match parts[..] {
        [y, m, d] => Timestamp::from_civil(y, m as u32, d as u32, 12, 0, 0, 0),
        _ => None,
    }
    .ok_or_else(|| {
        invalid2(
            field,
            format!("« {date} » : date attendue AAAA-MM-JJ"),
            format!("{date:?}: expected a date YYYY-MM-DD"),
        )
    })?;
    Ok(Timestamp(noon.0 + 86_400_000).local_date(0))
}

fn resolution(
    field: &str,
    value: &str,
    default: u8,
    range: (u8, u8),
) -> Result<Resolution, DesignError> {
    let r: u8 = number(field, value, default)?;
    if !(range.0..=range.1).contains(&r) {
        return Err(invalid2(
            field,
            format!("résolution H3 {r} : entre {} et {}", range.0, range.1),
            format!("H3 resolution {r}: expected {} to {}", range.0, range.1),
        ));
    }
    Resolution::try_from(r).map_err(|e| invalid(field, e.to_string()))
}

/// Polygons (`[lon, lat]` rings, exterior first) of a GeoJSON geometry,
/// Feature or FeatureCollection.
pub fn polygons_of(field: &str, text: &str) -> Result<Vec<Vec<Vec<[f64; 2]>>>, DesignError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| invalid(field, format!("not GeoJSON: {e}")))?;
    let mut polygons = Vec::new();
    collect_polygons(field, &value, &mut polygons)?;
    if polygons.is_empty() {
        return Err(invalid2(
            field,
            "au moins un Polygon ou MultiPolygon attendu",
            "expected at least one Polygon or MultiPolygon",
        ));
    }
    let vertices: usize = polygons.iter().flatten().map(Vec::len).sum();
    if vertices > MAX_VERTICES {
        return Err(invalid(
            field,
            format!("{vertices} positions: at most {MAX_VERTICES} (simplify the outline)"),
        ));
    }
    for polygon in &polygons {
        let exterior = polygon.first().map_or(0, Vec::len);
        if exterior < 4 {
            return Err(invalid2(
                field,
                "l'anneau extérieur d'un polygone compte au moins 3 positions distinctes",
                "a polygon's exterior ring needs at least 3 distinct positions",
            ));
        }
        if polygon
            .iter()
            .flatten()
            .any(|[lon, lat]| !(-180.0..=180.0).contains(lon) || !(-90.0..=90.0).contains(lat))
        {
            return Err(invalid2(
                field,
                "les positions sont [longitude, latitude] en degrés",
                "positions are [longitude, latitude] in degrees",
            ));
        }
    }
    Ok(polygons)
}

fn collect_polygons(
    field: &str,
    value: &serde_json::Value,
    out: &mut Vec<Vec<Vec<[f64; 2]>>>,
) -> Result<(), DesignError> {
    let coordinates = |v: &serde_json::Value| v["coordinates"].clone();
    match value["type"].as_str() {
        Some("FeatureCollection") => {
            for feature in value["features"].as_array().into_iter().flatten() {
                collect_polygons(field, feature, out)?;
            }
        }
        Some("Feature") => collect_polygons(field, &value["geometry"], out)?,
        Some("Polygon") => {
            let mut rings: Vec<Vec<[f64; 2]>> = serde_json::from_value(coordinates(value))
                .map_err(|e| invalid(field, format!("Polygon coordinates: {e}")))?;
            rings.iter_mut().for_each(close);
            out.push(rings);
        }
        Some("MultiPolygon") => {
            let polygons: Vec<Vec<Vec<[f64; 2]>>> = serde_json::from_value(coordinates(value))
                .map_err(|e| invalid(field, format!("MultiPolygon coordinates: {e}")))?;
            for mut rings in polygons {
                rings.iter_mut().for_each(close);
                out.push(rings);
            }
        }
        other => {
            return Err(invalid(
                field,
                format!(
                    "expected a Polygon, MultiPolygon, Feature or FeatureCollection, not {other:?}"
                ),
            ));
        }
    }
    Ok(())
}

/// Closes a ring (GeoJSON rings repeat their first position last).
fn close(ring: &mut Vec<[f64; 2]>) {
    if let (Some(first), Some(last)) = (ring.first().copied(), ring.last().copied())
        && first != last
    {
        ring.push(first);
    }
}

/// The H3 cells of `resolution` whose centre lies in `area`, in index
/// order; at most [`MAX_GRID_CELLS`].
pub fn grid(
    area: &Zone,
    resolution: Resolution,
    field: &str,
) -> Result<Vec<CellIndex>, DesignError> {
    let outline = area.outline();
    let vertices: Vec<[f64; 2]> = outline.iter().flatten().flatten().copied().collect();
    let (mut west, mut south, mut east, mut north) = (180.0f64, 90.0f64, -180.0f64, -90.0f64);
    for [lon, lat] in &vertices {
        west = west.min(*lon);
        east = east.max(*lon);
        south = south.min(*lat);
        north = north.max(*lat);
    }
    let start = LatLng::new((south + north) / 2.0, (west + east) / 2.0)
        .map_err(|e| invalid(field, e.to_string()))?
        .to_cell(resolution);
    // Walk outwards from the box's centre over every cell whose centre is
    // in the box grown by one cell, keeping those inside the area.
    let margin = h3o::Resolution::edge_length_km(resolution) * 2.0 / 111.0;
    let in_box = |ll: LatLng| {
        (south - margin..=north + margin).contains(&ll.lat())
            && (west - margin * 2.0..=east + margin * 2.0).contains(&ll.lng())
    };
    let mut seen = BTreeSet::from([start]);
    let mut queue = VecDeque::from([start]);
    let mut inside = BTreeSet::new();
    while let Some(cell) = queue.pop_front() {
        let ll = LatLng::from(cell);
        if area.contains(GeoPoint {
            lat: ll.lat(),
            lon: ll.lng(),
        }) {
            inside.insert(cell);
            if inside.len() > MAX_GRID_CELLS {
                return Err(invalid2(
                    field,
                    format!(
                        "le périmètre compte plus de {MAX_GRID_CELLS} mailles à la résolution {} : choisissez une résolution plus grossière ou un périmètre plus petit",
                        u8::from(resolution)
                    ),
                    format!(
                        "the area holds more than {MAX_GRID_CELLS} cells at resolution {}: choose a coarser resolution or a smaller area",
                        u8::from(resolution)
                    ),
                ));
            }
        }
        for next in cell.grid_disk::<Vec<_>>(1) {
            if in_box(LatLng::from(next)) && seen.insert(next) {
                queue.push_back(next);
            }
            if seen.len() > 50 * MAX_GRID_CELLS {
                return Err(invalid(field, "the area is too large for this resolution"));
            }
        }
    }
    if inside.is_empty() {
        return Err(invalid2(
            field,
            format!(
                "aucune maille de résolution {} n'a son centre dans le périmètre : choisissez une résolution plus fine",
                u8::from(resolution)
            ),
            format!(
                "no cell of resolution {} has its centre in the area: choose a finer resolution",
                u8::from(resolution)
            ),
        ));
    }
    Ok(inside.into_iter().collect())
}

/// A local (Europe/Paris) date and time as epoch seconds.
fn local_epoch(field: &str, date: &str, hour: u32, minute: u32) -> Result<u64, DesignError> {
    let parts: Vec<&str> = date.trim().split('-').collect();
    let parse = |k: usize| parts.get(k).and_then(|p| p.parse::<i64>().ok());
    let (Some(y), Some(m), Some(d)) = (parse(0), parse(1), parse(2)) else {
        return Err(invalid(
            field,
            format!("{date:?}: expected a date YYYY-MM-DD"),
        ));
    };
    let as_utc =
        Timestamp::from_civil(y, m as u32, d as u32, hour, minute, 0, 0).ok_or_else(|| {
            invalid2(
                field,
                format!("« {date} » n'est pas une date du calendrier"),
                format!("{date:?} is not a calendar date"),
            )
        })?;
    // The offset in force an hour before: right on either side of a DST
    // change but for the changing hour itself.
    let offset = sillage_model::paris_offset_min(Timestamp(as_utc.0 - 3_600_000));
    let seconds = as_utc.0 / 1000 - i64::from(offset) * 60;
    u64::try_from(seconds).map_err(|_| invalid(field, "before 1970"))
}

fn groups(form: &DesignForm) -> Result<Vec<ModeGroup>, DesignError> {
    let groups: Vec<ModeGroup> = [
        (&form.walk, ModeGroup::Walk),
        (&form.bike, ModeGroup::Bike),
        (&form.car, ModeGroup::Car),
        (&form.bus, ModeGroup::Bus),
        (&form.rail, ModeGroup::Rail),
    ]
    .into_iter()
    .filter(|(ticked, _)| ticked.is_some())
    .map(|(_, group)| group)
    .collect();
    if groups.is_empty() {
        return Err(invalid2(
            "mode_groups",
            "cochez au moins un mode",
            "tick at least one mode group",
        ));
    }
    Ok(groups)
}

/// The zones and the area (as one zone, for containment).
fn zones_and_area(form: &DesignForm) -> Result<(Zones, Zone), DesignError> {
    let area_of = |polygons| Zone {
        id: "area".into(),
        name: "area".into(),
        geometry: ZoneGeometry::Polygons { polygons },
    };
    match form.zones_source.as_str() {
        "geojson" => {
            let zones = Zones::from_geojson(&form.zones_geojson)
                .map_err(|e| invalid("zones_geojson", e.to_string()))?;
            let area = if form.area.trim().is_empty() {
                let outline: Vec<_> = zones.zones.iter().flat_map(Zone::outline).collect();
                let vertices: usize = outline.iter().flatten().map(Vec::len).sum();
                if vertices > MAX_VERTICES {
                    return Err(invalid(
                        "zones_geojson",
                        format!(
                            "{vertices} positions: at most {MAX_VERTICES} (simplify the zones)"
                        ),
                    ));
                }
                area_of(outline)
            } else {
                area_of(polygons_of("area", &form.area)?)
            };
            Ok((zones, area))
        }
        "h3" | "" => {
            if form.area.trim().is_empty() {
                return Err(invalid2(
                    "area",
                    "tracez le périmètre sur la carte ou déposez-le en GeoJSON",
                    "draw the area on the map or upload it as GeoJSON",
                ));
            }
            let area = area_of(polygons_of("area", &form.area)?);
            let resolution = resolution("zone_resolution", &form.zone_resolution, 7, (5, 9))?;
            let zones = grid(&area, resolution, "zone_resolution")?
                .into_iter()
                .enumerate()
                .map(|(k, cell)| Zone {
                    id: cell.to_string(),
                    name: format!("Secteur {}", k + 1),
                    geometry: ZoneGeometry::H3 {
                        cell: cell.to_string(),
                    },
                })
                .collect();
            Ok((Zones { zones }, area))
        }
        other => Err(invalid(
            "zones_source",
            format!("{other:?}: expected \"h3\" or \"geojson\""),
        )),
    }
}

/// Parses and checks the form.
pub fn draft(form: &DesignForm) -> Result<Draft, DesignError> {
    let id = form.id.trim().to_owned();
    if id.is_empty()
        || id.len() > 64
        || !id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(invalid2(
            "id",
            "1 à 64 lettres minuscules, chiffres ou tirets (il nomme la campagne pour de bon)",
            "1 to 64 lowercase letters, digits or dashes (it names the campaign for good)",
        ));
    }
    let title = text(&form.title_fr, &form.title_en);
    let purpose = text(&form.purpose_fr, &form.purpose_en);
    for (field, value) in [
        ("title_fr", &title.fr),
        ("title_en", &title.en),
        ("purpose_fr", &purpose.fr),
        ("purpose_en", &purpose.en),
    ] {
        if value.is_empty() {
            return Err(invalid2(
                field,
                "les habitants le lisent avant de décider : obligatoire",
                "citizens read it before deciding: required",
            ));
        }
    }
    let start = local_epoch("first_day", &form.first_day, 0, 0)?;
    // The day after the last, at local midnight: 23 or 25 hours after the
    // last day began when the clocks change.
    let end = local_epoch("last_day", &next_day("last_day", &form.last_day)?, 0, 0)?;
    if end <= start {
        return Err(invalid2(
            "last_day",
            "le premier jour ou après",
            "on or after the first day",
        ));
    }
    let reports_until = match form.reports_until.trim().split_once('T') {
        Some((date, time)) => {
            let mut parts = time.split(':');
            let mut next = || number::<u32>("reports_until", parts.next().unwrap_or("0"), 0);
            let (h, m, sec) = (next()?, next()?, next()?);
            local_epoch("reports_until", date, h, m)? + u64::from(sec.min(59))
        }
        None => {
            return Err(invalid2(
                "reports_until",
                "date et heure locales attendues AAAA-MM-JJTHH:MM",
                "expected a local date and time YYYY-MM-DDTHH:MM",
            ));
        }
    };
    if reports_until < end {
        return Err(invalid2(
            "reports_until",
            "les contributions se reçoivent après la fin du dernier jour mesuré",
            "reports are taken after the last measured day ends",
        ));
    }
    let bounded = |field: &str, value: &str, default: u64, most: u64| {
        let n: u64 = number(field, value, default)?;
        if n > most {
            return Err(invalid2(
                field,
                format!("{n} : au plus {most}"),
                format!("{n}: at most {most}"),
            ));
        }
        Ok(n)
    };
    let min_contributors = bounded("min_contributors", &form.min_contributors, 100, 10_000_000)?;
    let threshold = bounded("threshold", &form.threshold, 10, 1_000_000)?;
    let participants = bounded("participants", &form.participants, 350, 10_000_000)?;
    let (zones, area) = zones_and_area(form)?;
    let groups = groups(form)?;
    let offset = i32::from(sillage_model::paris_offset_min(Timestamp(
        start as i64 * 1000,
    )));
    let epsilon = |field: &str, value: &str, default: f64| {
        planning::epsilon(decimal(field, value, default)?)
            .map_err(|e| invalid(field, e.to_string()))
    };
    let mut measurements = Vec::new();
    let mut add = |id: &str, fr: &str, en: &str, spec: MeasurementSpec, eps| {
        measurements.push(CampaignMeasurement {
            id: id.into(),
            title: text(fr, en),
            spec,
            epsilon: eps,
        })
    };
    if form.od.is_some() {
        let bands = match form.od_bands.as_str() {
            "peaks" => TimeBands::peaks(offset),
            "day" | "" => TimeBands {
                utc_offset_min: offset,
                bands: vec![TimeBand {
                    name: "6 h – 22 h".into(),
                    start_hour: 6,
                    end_hour: 22,
                }],
            },
            other => {
                return Err(invalid(
                    "od_bands",
                    format!("{other:?}: expected \"day\" or \"peaks\""),
                ));
            }
        };
        add(
            "od",
            "Trajets entre zones",
            "Trips between zones",
            MeasurementSpec::OdMatrix {
                zones: zones.clone(),
                mode_groups: groups.clone(),
                time_bands: bands,
                cap: number("od_cap", &form.od_cap, 4)?,
            },
            epsilon("od_epsilon", &form.od_epsilon, 1.0)?,
        );
    }
    if form.heat.is_some() {
        let resolution = resolution("heat_resolution", &form.heat_resolution, 8, (6, 10))?;
        add(
            "heat",
            "Passages par maille, heure et mode",
            "Trips through each cell by hour and mode",
            MeasurementSpec::H3Cells {
                cells: grid(&area, resolution, "heat_resolution")?
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
                time_bands: TimeBands::peaks(offset),
                mode_groups: groups.clone(),
                cap: number("heat_cap", &form.heat_cap, 20)?,
            },
            epsilon("heat_epsilon", &form.heat_epsilon, 2.0)?,
        );
    }
    if form.share_trips.is_some() {
        add(
            "modal-share",
            "Part modale (trajets)",
            "Modal share (trips)",
            MeasurementSpec::ModalShare {
                unit: ShareUnit::Trips,
                mode_groups: groups.clone(),
                cap: number("share_cap", &form.share_cap, 20)?,
            },
            epsilon("share_epsilon", &form.share_epsilon, 0.5)?,
        );
    }
    if form.share_km.is_some() {
        add(
            "modal-share-km",
            "Part modale (km)",
            "Modal share (km)",
            MeasurementSpec::ModalShare {
                unit: ShareUnit::Km,
                mode_groups: groups.clone(),
                cap: number("km_cap", &form.km_cap, 40)?,
            },
            epsilon("km_epsilon", &form.km_epsilon, 0.5)?,
        );
    }
    if form.distances.is_some() {
        let bounds = if form.distance_bounds.trim().is_empty() {
            vec![0.0, 0.5, 1.0, 2.0, 3.0, 5.0]
        } else {
            form.distance_bounds
                .split([',', ';', ' '])
                .filter(|s| !s.is_empty())
                .map(|s| decimal("distance_bounds", s, 0.0))
                .collect::<Result<Vec<f64>, _>>()?
        };
        add(
            "distances",
            "Distances parcourues",
            "Trip distances",
            MeasurementSpec::DistanceHistogram {
                bounds_km: bounds,
                mode_groups: groups.clone(),
                cap: number("distances_cap", &form.distances_cap, 20)?,
            },
            epsilon("distances_epsilon", &form.distances_epsilon, 0.5)?,
        );
    }
    if measurements.is_empty() {
        return Err(invalid2(
            "measurements",
            "choisissez au moins une mesure",
            "pick at least one measurement",
        ));
    }
    for m in &measurements {
        m.spec
            .validate()
            .map_err(|e| invalid(&m.id, e.to_string()))?;
        planning::check_noise(m.epsilon, m.spec.cap())
            .map_err(|e| invalid(&m.id, e.to_string()))?;
    }
    Ok(Draft {
        id,
        title,
        purpose,
        zones,
        measurements,
        wave: Wave {
            id: "vague-1".into(),
            start,
            end,
            reports_until,
        },
        min_contributors,
        threshold,
        participants,
    })
}

impl Draft {
    /// What each measurement's parameters cost at the expected
    /// participation.
    pub fn explain(&self, lang: &str) -> Vec<Explanation> {
        self.measurements
            .iter()
            .map(|m| {
                let cells = m.spec.len() as u64;
                Explanation {
                    id: m.id.clone(),
                    title: m.title.get(lang).to_owned(),
                    cells,
                    epsilon: m.epsilon.value(),
                    cap: m.spec.cap(),
                    consequences: planning::consequences(
                        m.epsilon.value(),
                        m.spec.cap(),
                        self.participants,
                        cells,
                        self.threshold,
                    )
                    .map_err(|e| e.to_string()),
                }
            })
            .collect()
    }

    /// The zones as a GeoJSON FeatureCollection (ids and names), to show
    /// and to reuse in a later campaign over the same zones.
    pub fn zones_geojson(&self) -> serde_json::Value {
        zones_geojson(&self.zones)
    }
}

/// Zones as a GeoJSON FeatureCollection of MultiPolygons with `id` and
/// `name`: what the designer reads back as uploaded zones.
pub fn zones_geojson(zones: &Zones) -> serde_json::Value {
    serde_json::json!({
        "type": "FeatureCollection",
        "features": zones.zones.iter().map(|zone| serde_json::json!({
            "type": "Feature",
            "id": zone.id,
            "properties": { "id": zone.id, "name": zone.name },
            "geometry": { "type": "MultiPolygon", "coordinates": zone.outline() },
        })).collect::<Vec<_>>(),
    })
}

/// Who takes part in a campaign besides the citizens: the city itself,
/// the two aggregators, the city's collector key and the hub's issuer.
#[derive(Clone, Debug)]
pub struct Parties {
    /// The city as data controller.
    pub controller: Controller,
    /// The leader.
    pub leader: AggregatorInfo,
    /// The helper.
    pub helper: AggregatorInfo,
    /// The city's collector key.
    pub collector_hpke: HpkeConfig,
    /// The hub's anonymous-token issuer key.
    pub token_issuer_key: Bytes,
}

/// The campaign specification of a draft, ready to sign.
pub fn campaign(draft: &Draft, parties: Parties) -> Result<CampaignSpec, DesignError> {
    let spec = CampaignSpec {
        spec_version: SPEC_VERSION,
        id: draft.id.clone(),
        title: draft.title.clone(),
        controller: parties.controller.clone(),
        purpose: draft.purpose.clone(),
        dpv_purpose: "dpv:PublicBenefit".into(),
        legal_basis: LegalBasis::DataAltruism,
        context: text(
            &format!("Campagne de {}.", parties.controller.name),
            &format!("Campaign of {}.", parties.controller.name),
        ),
        zones: draft.zones.clone(),
        waves: vec![draft.wave.clone()],
        measurements: draft.measurements.clone(),
        min_contributors: draft.min_contributors,
        suppression_threshold: draft.threshold as i64,
        retention_months: 36,
        recipients: vec![parties.controller.name.clone()],
        open_data: true,
        leader: parties.leader,
        helper: parties.helper,
        collector_hpke: parties.collector_hpke,
        token_issuer_key: parties.token_issuer_key,
        withdrawal: text(
            "Un clic dans l'application ; les agrégats déjà publiés ne peuvent pas être retirés.",
            "One click in the app; aggregates already published cannot be taken back.",
        ),
        expires_at: draft.wave.reports_until + 365 * 86_400,
    };
    spec.validate()
        .map_err(|e| invalid("campaign", e.to_string()))?;
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A square of about 2 × 2 km over Monaco.
    const AREA: &str = r#"{"type":"Polygon","coordinates":[[[7.405,43.725],[7.435,43.725],[7.435,43.745],[7.405,43.745],[7.405,43.725]]]}"#;

    fn form() -> DesignForm {
        DesignForm {
            id: "apres-piste".into(),
            title_fr: "Après la piste".into(),
            title_en: "After the lane".into(),
            purpose_fr: "Mesurer l'effet de la piste.".into(),
            purpose_en: "Measure the lane's effect.".into(),
            area: AREA.into(),
            zones_source: "h3".into(),
            zone_resolution: "7".into(),
            heat_resolution: "8".into(),
            bike: Some("on".into()),
            car: Some("on".into()),
            od: Some("on".into()),
            heat: Some("on".into()),
            share_trips: Some("on".into()),
            distances: Some("on".into()),
            first_day: "2026-11-01".into(),
            last_day: "2026-11-14".into(),
            reports_until: "2026-11-16T12:00:30".into(),
            min_contributors: "50".into(),
            participants: "300".into(),
            ..DesignForm::default()
        }
    }

    #[test]
    fn a_form_becomes_a_draft_with_a_grid_over_the_area() {
        let draft = draft(&form()).unwrap();
        assert!(
            !draft.zones.is_empty() && draft.zones.len() < 20,
            "{}",
            draft.zones.len()
        );
        // Local midnight of 1 November (UTC+1) and of 15 November.
        assert_eq!(draft.wave.start, 1_793_487_600);
        assert_eq!(draft.wave.end, 1_793_487_600 + 14 * 86_400);
        assert_eq!(draft.wave.reports_until, 1_794_826_830);
        let ids: Vec<&str> = draft.measurements.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["od", "heat", "modal-share", "distances"]);
        let MeasurementSpec::H3Cells { cells, .. } = &draft.measurements[1].spec else {
            panic!("heat")
        };
        // Resolution-8 cells are ~0.7 km²: a 2.4 × 2.2 km square holds ~7.
        assert!((4..=15).contains(&cells.len()), "{}", cells.len());
        let explained = draft.explain("fr");
        assert_eq!(explained.len(), 4);
        let od = &explained[0];
        assert_eq!(od.cells, (draft.zones.len() * draft.zones.len() * 2) as u64);
        assert!(od.consequences.as_ref().unwrap().interval_half_width > 0);
        assert_eq!(
            draft.zones_geojson()["features"].as_array().unwrap().len(),
            draft.zones.len()
        );
    }

    #[test]
    fn a_wave_ends_at_local_midnight_even_when_the_clocks_change() {
        // Clocks go back on 25 October 2026: that day lasts 25 hours, and
        // the wave ends at midnight of the 26th in winter time (UTC+1).
        let draft = draft(&DesignForm {
            first_day: "2026-10-20".into(),
            last_day: "2026-10-25".into(),
            reports_until: "2026-10-27T12:00".into(),
            ..form()
        })
        .unwrap();
        assert_eq!(draft.wave.end, 1_792_969_200);
    }

    #[test]
    fn uploaded_zones_round_trip_and_define_the_area() {
        let first = draft(&form()).unwrap();
        let mut again = form();
        again.zones_source = "geojson".into();
        again.zones_geojson = first.zones_geojson().to_string();
        again.area.clear();
        let second = draft(&again).unwrap();
        let ids = |d: &Draft| {
            d.zones
                .zones
                .iter()
                .map(|z| z.id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&first), ids(&second));
        // The heat map's grid comes from the zones' union.
        assert!(
            matches!(&second.measurements[1].spec, MeasurementSpec::H3Cells { cells, .. } if !cells.is_empty())
        );
    }

    #[test]
    fn errors_name_the_field() {
        let field = |f: DesignForm| draft(&f).unwrap_err().field;
        assert_eq!(
            field(DesignForm {
                id: "Bad Id".into(),
                ..form()
            }),
            "id"
        );
        assert_eq!(
            field(DesignForm {
                title_en: " ".into(),
                ..form()
            }),
            "title_en"
        );
        assert_eq!(
            field(DesignForm {
                area: "{}".into(),
                ..form()
            }),
            "area"
        );
        assert_eq!(
            field(DesignForm {
                area: r#"{"type":"Point","coordinates":[7.4,43.7]}"#.into(),
                ..form()
            }),
            "area"
        );
        assert_eq!(
            field(DesignForm {
                zone_resolution: "12".into(),
                ..form()
            }),
            "zone_resolution"
        );
        assert_eq!(
            field(DesignForm {
                heat_resolution: "15".into(),
                ..form()
            }),
            "heat_resolution"
        );
        assert_eq!(
            field(DesignForm {
                bike: None,
                car: None,
                ..form()
            }),
            "mode_groups"
        );
        assert_eq!(
            field(DesignForm {
                od_epsilon: "0".into(),
                ..form()
            }),
            "od_epsilon"
        );
        assert_eq!(
            field(DesignForm {
                od_epsilon: "NaN".into(),
                ..form()
            }),
            "od_epsilon"
        );
        assert_eq!(
            field(DesignForm {
                distance_bounds: "0, NaN, 2".into(),
                ..form()
            }),
            "distance_bounds"
        );
        assert_eq!(
            field(DesignForm {
                participants: "99999999999".into(),
                ..form()
            }),
            "participants"
        );
        assert_eq!(
            field(DesignForm {
                last_day: "2026-10-01".into(),
                ..form()
            }),
            "last_day"
        );
        assert_eq!(
            field(DesignForm {
                reports_until: "2026-11-14T10:00".into(),
                ..form()
            }),
            "reports_until"
        );
        assert_eq!(
            field(DesignForm {
                first_day: "2026-13-01".into(),
                ..form()
            }),
            "first_day"
        );
        assert_eq!(
            field(DesignForm {
                od: None,
                heat: None,
                share_trips: None,
                distances: None,
                ..form()
            }),
            "measurements"
        );
        assert_eq!(
            field(DesignForm {
                zones_source: "geojson".into(),
                zones_geojson: "[]".into(),
                ..form()
            }),
            "zones_geojson"
        );
        // A continent at resolution 9 is refused, not computed.
        let huge = r#"{"type":"Polygon","coordinates":[[[0,40],[10,40],[10,50],[0,50],[0,40]]]}"#;
        assert_eq!(
            field(DesignForm {
                area: huge.into(),
                zone_resolution: "9".into(),
                ..form()
            }),
            "zone_resolution"
        );
    }
}
