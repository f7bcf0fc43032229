//! Campaign zones: polygons from GeoJSON (districts, IRIS…) or H3 cells.

use crate::CatalogueError;
use serde::{Deserialize, Serialize};
use sillage_model::GeoPoint;

/// A ring of `[lon, lat]` positions, closed or not.
type Ring = Vec<[f64; 2]>;

/// Where a zone is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ZoneGeometry {
    /// Polygons, each an exterior ring and holes (GeoJSON order: lon, lat).
    Polygons {
        /// Each polygon's rings: the first is the exterior.
        polygons: Vec<Vec<Ring>>,
    },
    /// One H3 cell (any resolution), as its hexadecimal index.
    H3 {
        /// The cell.
        cell: String,
    },
}

/// A zone of the campaign.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Zone {
    /// Stable identifier (e.g. an IRIS code).
    pub id: String,
    /// Name shown to citizens and planners.
    pub name: String,
    /// Its extent.
    pub geometry: ZoneGeometry,
}

/// The zones of a campaign, in the order of the measurement's layout.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Zones {
    /// The zones.
    pub zones: Vec<Zone>,
}

impl Zones {
    /// Reads a GeoJSON FeatureCollection of Polygons and MultiPolygons; each
    /// feature needs an `id` (or `properties.id`) and `properties.name`.
    pub fn from_geojson(text: &str) -> Result<Self, CatalogueError> {
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| CatalogueError::Invalid(format!("zones: not JSON: {e}")))?;
        let features = value["features"].as_array().ok_or_else(|| {
            CatalogueError::Invalid("zones: expected a FeatureCollection with `features`".into())
        })?;
        let mut zones = Vec::with_capacity(features.len());
        for (i, feature) in features.iter().enumerate() {
            let at = |what: &str| CatalogueError::Invalid(format!("zones: feature {i}: {what}"));
            let id = feature
                .get("id")
                .or_else(|| feature["properties"].get("id"))
                .and_then(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .or_else(|| v.as_i64().map(|n| n.to_string()))
                })
                .ok_or_else(|| at("missing `id`"))?;
            let name = feature["properties"]["name"]
                .as_str()
                .ok_or_else(|| at("missing `properties.name`"))?
                .to_owned();
            let geometry = &feature["geometry"];
            let polygons: Vec<Vec<Ring>> = match geometry["type"].as_str() {
                Some("Polygon") => vec![
                    serde_json::from_value(geometry["coordinates"].clone())
                        .map_err(|e| at(&format!("Polygon coordinates: {e}")))?,
                ],
                Some("MultiPolygon") => serde_json::from_value(geometry["coordinates"].clone())
                    .map_err(|e| at(&format!("MultiPolygon coordinates: {e}")))?,
                other => {
                    return Err(at(&format!(
                        "geometry must be a Polygon or MultiPolygon, not {other:?}"
                    )));
                }
            };
            if polygons
                .iter()
                .any(|p| p.first().is_none_or(|ring| ring.len() < 3))
            {
                return Err(at(
                    "a polygon needs an exterior ring of at least 3 positions",
                ));
            }
            if zones.iter().any(|z: &Zone| z.id == id) {
                return Err(at(&format!("duplicate id {id:?}")));
            }
            zones.push(Zone {
                id,
                name,
                geometry: ZoneGeometry::Polygons { polygons },
            });
        }
        if zones.is_empty() {
            return Err(CatalogueError::Invalid(
                "zones: the collection is empty".into(),
            ));
        }
        Ok(Zones { zones })
    }

    /// The index of the first zone containing `point`.
    pub fn locate(&self, point: GeoPoint) -> Option<usize> {
        self.zones.iter().position(|zone| zone.contains(point))
    }

    /// Number of zones.
    pub fn len(&self) -> usize {
        self.zones.len()
    }

    /// True when there are no zones.
    pub fn is_empty(&self) -> bool {
        self.zones.is_empty()
    }
}

impl Zone {
    /// The zone's outline as polygons of `[lon, lat]` rings (exterior
    /// first), as GeoJSON writes a MultiPolygon.
    pub fn outline(&self) -> Vec<Vec<Ring>> {
        match &self.geometry {
            ZoneGeometry::Polygons { polygons } => polygons.clone(),
            ZoneGeometry::H3 { cell } => crate::spec::h3_cell(cell)
                .map(|cell| {
                    let mut ring: Ring = cell
                        .boundary()
                        .iter()
                        .map(|ll| [ll.lng(), ll.lat()])
                        .collect();
                    if let Some(first) = ring.first().copied() {
                        ring.push(first);
                    }
                    vec![vec![ring]]
                })
                .unwrap_or_default(),
        }
    }

    /// A representative point: the H3 cell's centre, or the mean of the
    /// first exterior ring's vertices (where flow maps draw arcs from).
    pub fn centroid(&self) -> Option<GeoPoint> {
        if let ZoneGeometry::H3 { cell } = &self.geometry {
            let cell = crate::spec::h3_cell(cell).ok()?;
            let ll = h3o::LatLng::from(cell);
            return Some(GeoPoint {
                lat: ll.lat(),
                lon: ll.lng(),
            });
        }
        let outline = self.outline();
        let ring = outline.first()?.first()?;
        // A closed ring repeats its first vertex: count it once.
        let vertices = &ring[..ring.len().saturating_sub(1).max(1)];
        let n = vertices.len() as f64;
        Some(GeoPoint {
            lon: vertices.iter().map(|p| p[0]).sum::<f64>() / n,
            lat: vertices.iter().map(|p| p[1]).sum::<f64>() / n,
        })
    }

    /// Whether the zone contains `point`.
    pub fn contains(&self, point: GeoPoint) -> bool {
        match &self.geometry {
            ZoneGeometry::Polygons { polygons } => polygons.iter().any(|rings| {
                let mut rings = rings.iter();
                rings
                    .next()
                    .is_some_and(|exterior| in_ring(exterior, point))
                    && !rings.any(|hole| in_ring(hole, point))
            }),
            ZoneGeometry::H3 { cell } => crate::spec::h3_cell(cell)
                .is_ok_and(|cell| crate::spec::cell_of(point, cell.resolution()) == Some(cell)),
        }
    }
}

/// Even-odd rule on a ring of `[lon, lat]` (planar: zones are small).
fn in_ring(ring: &[[f64; 2]], point: GeoPoint) -> bool {
    let (x, y) = (point.lon, point.lat);
    let mut inside = false;
    let mut j = ring.len() - 1;
    for i in 0..ring.len() {
        let ([xi, yi], [xj, yj]) = (ring[i], ring[j]);
        if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        j = i;
    }
    inside
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO_SQUARES: &str = r#"{"type":"FeatureCollection","features":[
      {"type":"Feature","id":"A","properties":{"name":"Centre"},
       "geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]],[[0.4,0.4],[0.6,0.4],[0.6,0.6],[0.4,0.6],[0.4,0.4]]]}},
      {"type":"Feature","properties":{"id":7,"name":"Port"},
       "geometry":{"type":"MultiPolygon","coordinates":[[[[2,0],[3,0],[3,1],[2,1]]]]}}]}"#;

    #[test]
    fn reads_geojson_and_locates_points() {
        let zones = Zones::from_geojson(TWO_SQUARES).unwrap();
        assert_eq!(zones.len(), 2);
        assert_eq!(zones.zones[1].id, "7");
        let at = |lon, lat| zones.locate(GeoPoint { lat, lon });
        assert_eq!(at(0.2, 0.2), Some(0));
        assert_eq!(at(0.5, 0.5), None, "inside the hole");
        assert_eq!(at(2.5, 0.5), Some(1));
        assert_eq!(at(1.5, 0.5), None);
    }

    #[test]
    fn errors_name_the_feature_and_field() {
        let bad = r#"{"features":[{"id":"A","properties":{},"geometry":{"type":"Polygon","coordinates":[]}}]}"#;
        assert_eq!(
            Zones::from_geojson(bad).unwrap_err(),
            CatalogueError::Invalid("zones: feature 0: missing `properties.name`".into())
        );
        let point = r#"{"features":[{"id":"A","properties":{"name":"x"},"geometry":{"type":"Point","coordinates":[0,0]}}]}"#;
        assert!(
            Zones::from_geojson(point)
                .unwrap_err()
                .to_string()
                .contains("Polygon or MultiPolygon")
        );
    }
}
