//! Distances on the Earth's surface.

/// Mean Earth radius in metres (IUGG), as used by trackintel and most
/// mobility libraries, so that distances and thresholds compare.
pub const EARTH_RADIUS_M: f64 = 6_371_000.0;

/// Great-circle distance in metres between two WGS84 points (haversine).
pub fn haversine_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (phi1, phi2) = (lat1.to_radians(), lat2.to_radians());
    let d_phi = (lat2 - lat1).to_radians();
    let d_lambda = (lon2 - lon1).to_radians();
    let a = (d_phi / 2.0).sin().powi(2) + phi1.cos() * phi2.cos() * (d_lambda / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * a.sqrt().min(1.0).asin()
}

/// Distance in metres, fast: an equirectangular approximation for points
/// less than ~10 km apart (error far below GPS noise there), haversine
/// beyond. The analysis measures millions of short steps; this is where its
/// time goes.
#[inline]
pub fn fast_distance_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (d_lat, d_lon) = (lat2 - lat1, lon2 - lon1);
    if d_lat.abs() + d_lon.abs() > 0.1 {
        return haversine_m(lat1, lon1, lat2, lon2);
    }
    let x = d_lon.to_radians() * ((lat1 + lat2) * 0.5).to_radians().cos();
    let y = d_lat.to_radians();
    EARTH_RADIUS_M * (x * x + y * y).sqrt()
}

/// Initial bearing in degrees clockwise from north, from the first point to the second.
pub fn bearing_deg(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (phi1, phi2) = (lat1.to_radians(), lat2.to_radians());
    let d_lambda = (lon2 - lon1).to_radians();
    let y = d_lambda.sin() * phi2.cos();
    let x = phi1.cos() * phi2.sin() - phi1.sin() * phi2.cos() * d_lambda.cos();
    (y.atan2(x).to_degrees() + 360.0) % 360.0
}

/// Bearing in degrees, fast: planar for points less than ~10 km apart.
#[inline]
pub fn fast_bearing_deg(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (d_lat, d_lon) = (lat2 - lat1, lon2 - lon1);
    if d_lat.abs() + d_lon.abs() > 0.1 {
        return bearing_deg(lat1, lon1, lat2, lon2);
    }
    let x = d_lon * ((lat1 + lat2) * 0.5).to_radians().cos();
    (x.atan2(d_lat).to_degrees() + 360.0) % 360.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_distances() {
        // One degree of latitude is ~111.195 km on a sphere of this radius.
        assert!((haversine_m(46.0, -1.0, 47.0, -1.0) - 111_194.9).abs() < 1.0);
        assert_eq!(haversine_m(46.16, -1.15, 46.16, -1.15), 0.0);
        // La Rochelle to Paris, ~ 400 km.
        let d = haversine_m(46.1603, -1.1511, 48.8566, 2.3522);
        assert!((d - 400_000.0).abs() < 10_000.0, "{d}");
    }

    #[test]
    fn fast_distance_agrees_with_haversine() {
        for (lat, d_lat, d_lon) in [
            (46.16, 0.0009, 0.0),
            (46.16, 0.0, 0.0013),
            (60.0, 0.03, 0.05),
            (-33.9, 0.05, 0.04),
            (0.0, 0.001, 0.001),
        ] {
            let exact = haversine_m(lat, 2.0, lat + d_lat, 2.0 + d_lon);
            let fast = fast_distance_m(lat, 2.0, lat + d_lat, 2.0 + d_lon);
            assert!(
                (exact - fast).abs() <= exact * 1e-4 + 1e-6,
                "{lat} {d_lat} {d_lon}: {exact} vs {fast}"
            );
        }
        // Far apart: exact.
        assert_eq!(
            fast_distance_m(46.0, -1.0, 48.0, 2.0),
            haversine_m(46.0, -1.0, 48.0, 2.0)
        );
    }

    #[test]
    fn bearings() {
        assert!((bearing_deg(46.0, -1.0, 47.0, -1.0) - 0.0).abs() < 1e-9);
        assert!((bearing_deg(46.0, -1.0, 46.0, -0.9) - 90.0).abs() < 0.1);
        assert!((bearing_deg(46.0, -1.0, 45.0, -1.0) - 180.0).abs() < 1e-9);
    }
}
