//! Small spherical helpers: distances, a local planar projection, line
//! simplification.

use sillage_model::GeoPoint;

/// Mean earth radius (IUGG), the one every length in this crate uses.
pub(crate) const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Great-circle distance in metres.
pub(crate) fn haversine_m(a: GeoPoint, b: GeoPoint) -> f64 {
    let (lat1, lat2) = (a.lat.to_radians(), b.lat.to_radians());
    let dlat = lat2 - lat1;
    let dlon = (b.lon - a.lon).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

/// Equirectangular projection around one latitude: metres, good to a few
/// per mille over a city, which is all nearest-node search and line
/// simplification need.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LocalProjection {
    cos_lat0: f64,
}

impl LocalProjection {
    pub(crate) fn around(lat0: f64) -> LocalProjection {
        LocalProjection {
            cos_lat0: lat0.to_radians().cos(),
        }
    }

    pub(crate) fn project(self, p: GeoPoint) -> (f64, f64) {
        (
            p.lon.to_radians() * EARTH_RADIUS_M * self.cos_lat0,
            p.lat.to_radians() * EARTH_RADIUS_M,
        )
    }
}

/// Douglas–Peucker simplification with a tolerance in metres; keeps the
/// first and last points, so closed rings stay closed.
pub(crate) fn simplify(points: &[GeoPoint], tolerance_m: f64) -> Vec<GeoPoint> {
    if points.len() <= 2 {
        return points.to_vec();
    }
    let projection = LocalProjection::around(points[0].lat);
    let xy: Vec<(f64, f64)> = points.iter().map(|&p| projection.project(p)).collect();
    let mut keep = vec![false; points.len()];
    keep[0] = true;
    keep[points.len() - 1] = true;
    // An explicit stack: long coastlines would otherwise recurse deeply.
    let mut stack = vec![(0usize, points.len() - 1)];
    while let Some((first, last)) = stack.pop() {
        if last <= first + 1 {
            continue;
        }
        let (mut far, mut far_d) = (first, 0.0);
        for (i, &p) in xy.iter().enumerate().take(last).skip(first + 1) {
            let d = distance_to_segment(p, xy[first], xy[last]);
            if d > far_d {
                (far, far_d) = (i, d);
            }
        }
        if far_d > tolerance_m {
            keep[far] = true;
            stack.push((first, far));
            stack.push((far, last));
        }
    }
    points
        .iter()
        .zip(keep)
        .filter_map(|(&p, k)| k.then_some(p))
        .collect()
}

fn distance_to_segment(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = dx * dx + dy * dy;
    let t = if len2 == 0.0 {
        0.0
    } else {
        (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / len2).clamp(0.0, 1.0)
    };
    let (cx, cy) = (a.0 + t * dx, a.1 + t * dy);
    ((p.0 - cx).powi(2) + (p.1 - cy).powi(2)).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(lat: f64, lon: f64) -> GeoPoint {
        GeoPoint { lat, lon }
    }

    #[test]
    fn one_degree_of_latitude_is_about_111_km() {
        let d = haversine_m(p(43.0, 7.0), p(44.0, 7.0));
        assert!((d - 111_195.0).abs() < 5.0, "{d}");
        assert_eq!(haversine_m(p(43.7, 7.4), p(43.7, 7.4)), 0.0);
    }

    #[test]
    fn simplify_drops_points_on_a_straight_run_and_keeps_corners() {
        // 0.00001° of latitude is about 1.1 m: the wiggle is below 2 m.
        let line = vec![
            p(43.0, 7.0),
            p(43.001, 7.00001),
            p(43.002, 7.0),
            p(43.002, 7.003),
        ];
        let s = simplify(&line, 2.0);
        assert_eq!(s, vec![line[0], line[2], line[3]]);
        let ring = vec![p(0.0, 0.0), p(0.0, 0.01), p(0.01, 0.01), p(0.0, 0.0)];
        assert_eq!(simplify(&ring, 2.0), ring);
    }
}
