//! The GeoJSON basemap: features kept simplified in memory, written by hand
//! so that the output is compact and byte-for-byte reproducible.

use std::fmt::Write;

use sillage_model::GeoPoint;

use crate::geo::simplify;

/// Douglas–Peucker tolerance: below what a city-scale web map can show.
const SIMPLIFY_M: f64 = 2.0;

/// Drawing order, bottom to top.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Layer {
    Areas,
    Roads,
    Rail,
    Bus,
    Stations,
    BusStops,
}

#[derive(Clone, Debug)]
pub(crate) enum Geometry {
    Point(GeoPoint),
    Line(Vec<GeoPoint>),
    /// One closed outer ring.
    Polygon(Vec<GeoPoint>),
}

#[derive(Clone, Debug)]
pub(crate) struct Feature {
    pub(crate) layer: Layer,
    pub(crate) id: i64,
    pub(crate) class: &'static str,
    pub(crate) kind: Option<&'static str>,
    pub(crate) name: Option<String>,
    pub(crate) geometry: Geometry,
}

impl Feature {
    pub(crate) fn line(
        layer: Layer,
        id: i64,
        class: &'static str,
        points: Vec<GeoPoint>,
    ) -> Feature {
        Feature {
            layer,
            id,
            class,
            kind: None,
            name: None,
            geometry: Geometry::Line(points),
        }
    }
}

#[derive(Debug)]
pub(crate) struct Basemap {
    features: Vec<Feature>,
}

impl Basemap {
    /// Simplifies and orders the features; rings too small to survive
    /// simplification are dropped.
    pub(crate) fn new(mut features: Vec<Feature>) -> Basemap {
        features.retain_mut(|f| match &mut f.geometry {
            Geometry::Point(_) => true,
            Geometry::Line(points) => {
                *points = simplify(points, SIMPLIFY_M);
                points.len() >= 2
            }
            Geometry::Polygon(ring) => {
                *ring = simplify(ring, SIMPLIFY_M);
                ring.len() >= 4
            }
        });
        // Stable: pieces of one way or route keep their order.
        features.sort_by_key(|f| (f.layer, f.id));
        Basemap { features }
    }

    pub(crate) fn to_geojson(&self) -> String {
        let mut out = String::with_capacity(64 * self.features.len() + 64);
        out.push_str(r#"{"type":"FeatureCollection","features":["#);
        for (i, f) in self.features.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_feature(&mut out, f);
        }
        out.push_str("]}");
        out
    }
}

fn write_feature(out: &mut String, f: &Feature) {
    out.push_str(r#"{"type":"Feature","properties":{"class":"#);
    write_string(out, f.class);
    if let Some(kind) = f.kind {
        out.push_str(r#","kind":"#);
        write_string(out, kind);
    }
    if let Some(name) = &f.name {
        out.push_str(r#","name":"#);
        write_string(out, name);
    }
    out.push_str(r#"},"geometry":{"type":"#);
    match &f.geometry {
        Geometry::Point(p) => {
            out.push_str(r#""Point","coordinates":"#);
            write_position(out, *p);
        }
        Geometry::Line(points) => {
            out.push_str(r#""LineString","coordinates":"#);
            write_positions(out, points);
        }
        Geometry::Polygon(ring) => {
            out.push_str(r#""Polygon","coordinates":["#);
            write_positions(out, ring);
            out.push(']');
        }
    }
    out.push_str("}}");
}

fn write_string(out: &mut String, s: &str) {
    // serde_json does the escaping of names (quotes, control characters).
    out.push_str(&serde_json::to_string(s).expect("a string always serialises"));
}

fn write_positions(out: &mut String, points: &[GeoPoint]) {
    out.push('[');
    for (i, &p) in points.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_position(out, p);
    }
    out.push(']');
}

fn write_position(out: &mut String, p: GeoPoint) {
    out.push('[');
    write_coordinate(out, p.lon);
    out.push(',');
    write_coordinate(out, p.lat);
    out.push(']');
}

/// Six decimals (about 0.1 m), without trailing zeros.
fn write_coordinate(out: &mut String, value: f64) {
    let start = out.len();
    write!(out, "{value:.6}").expect("writing to a String cannot fail");
    let trimmed = out[start..]
        .trim_end_matches('0')
        .trim_end_matches('.')
        .len();
    out.truncate(start + trimmed);
    if &out[start..] == "-0" {
        out.replace_range(start.., "0");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinates_are_rounded_and_trimmed() {
        let mut s = String::new();
        for v in [7.4208123456, 43.7, -0.0000001, 12.0, 10.0, -3.25] {
            write_coordinate(&mut s, v);
            s.push(' ');
        }
        assert_eq!(s, "7.420812 43.7 0 12 10 -3.25 ");
    }

    #[test]
    fn features_are_ordered_and_escaped() {
        let p = |lat, lon| GeoPoint { lat, lon };
        let map = Basemap::new(vec![
            Feature {
                layer: Layer::BusStops,
                id: 1,
                class: "bus_stop",
                kind: None,
                name: Some("Place d'Armes \"A\"".into()),
                geometry: Geometry::Point(p(43.73, 7.42)),
            },
            Feature::line(
                Layer::Roads,
                9,
                "major",
                vec![p(43.7, 7.4), p(43.70001, 7.41), p(43.7, 7.42)],
            ),
        ]);
        let json = map.to_geojson();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        let features = value["features"].as_array().unwrap();
        assert_eq!(features[0]["properties"]["class"], "major");
        // The middle point is 1.1 m off the line: simplified away.
        assert_eq!(
            features[0]["geometry"]["coordinates"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
        assert_eq!(features[1]["properties"]["name"], "Place d'Armes \"A\"");
        assert_eq!(features[1]["geometry"]["coordinates"][0], 7.42);
    }
}
