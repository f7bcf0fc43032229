//! True movement: where a citizen is at every instant of a journey.

use sillage_model::GeoPoint;

/// Metres per degree of latitude (mean Earth radius 6,371,008.8 m).
pub(crate) const METRES_PER_DEGREE: f64 = 111_194.93;

/// Haversine distance, metres.
pub(crate) fn distance_m(a: GeoPoint, b: GeoPoint) -> f64 {
    let (la1, la2) = (a.lat.to_radians(), b.lat.to_radians());
    let dlat = la2 - la1;
    let dlon = (b.lon - a.lon).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * 6_371_008.8 * h.sqrt().min(1.0).asin()
}

/// Initial bearing from `a` to `b`, degrees clockwise from north.
pub(crate) fn bearing_deg(a: GeoPoint, b: GeoPoint) -> f64 {
    let (la1, la2) = (a.lat.to_radians(), b.lat.to_radians());
    let dlon = (b.lon - a.lon).to_radians();
    let y = dlon.sin() * la2.cos();
    let x = la1.cos() * la2.sin() - la1.sin() * la2.cos() * dlon.cos();
    y.atan2(x).to_degrees().rem_euclid(360.0)
}

/// `point` moved by `east_m` and `north_m` metres (local flat-earth
/// approximation: the offsets are GPS noise, a few hundred metres at most).
pub(crate) fn offset(point: GeoPoint, east_m: f64, north_m: f64) -> GeoPoint {
    GeoPoint {
        lat: point.lat + north_m / METRES_PER_DEGREE,
        lon: point.lon + east_m / (METRES_PER_DEGREE * point.lat.to_radians().cos()),
    }
}

/// Keyframes of a movement: between two keyframes the citizen moves in a
/// straight line at constant speed; two keyframes at the same place are a
/// halt (a red light, a bus stop, waiting on a platform).
#[derive(Clone, Debug, Default)]
pub(crate) struct Trajectory {
    times_ms: Vec<i64>,
    points: Vec<GeoPoint>,
}

impl Trajectory {
    /// Appends a keyframe; times never go back.
    pub(crate) fn push(&mut self, time_ms: i64, point: GeoPoint) {
        let time_ms = self.times_ms.last().map_or(time_ms, |&t| time_ms.max(t));
        self.times_ms.push(time_ms);
        self.points.push(point);
    }

    /// When the movement starts (0 when empty).
    pub(crate) fn start_ms(&self) -> i64 {
        self.times_ms.first().copied().unwrap_or(0)
    }

    /// When the movement ends (0 when empty).
    pub(crate) fn end_ms(&self) -> i64 {
        self.times_ms.last().copied().unwrap_or(0)
    }

    /// The last position.
    pub(crate) fn last_point(&self) -> Option<GeoPoint> {
        self.points.last().copied()
    }

    /// A reader of positions for increasing instants.
    pub(crate) fn cursor(&self) -> Cursor<'_> {
        Cursor {
            trajectory: self,
            index: 0,
        }
    }
}

/// Reads a trajectory at increasing instants in amortised constant time.
pub(crate) struct Cursor<'t> {
    trajectory: &'t Trajectory,
    index: usize,
}

/// Where the citizen is, and how fast and where to they move.
#[derive(Clone, Copy, Debug)]
pub(crate) struct State {
    pub(crate) point: GeoPoint,
    pub(crate) speed_mps: f64,
    pub(crate) heading_deg: f64,
}

impl Cursor<'_> {
    /// The state at `time_ms` (clamped to the trajectory's span); instants
    /// must not decrease between calls.
    pub(crate) fn at(&mut self, time_ms: i64) -> Option<State> {
        let Trajectory { times_ms, points } = self.trajectory;
        if points.is_empty() {
            return None;
        }
        while self.index + 1 < times_ms.len() && times_ms[self.index + 1] <= time_ms {
            self.index += 1;
        }
        let i = self.index;
        if i + 1 >= points.len() || time_ms <= times_ms[i] {
            return Some(State {
                point: points[i],
                speed_mps: 0.0,
                heading_deg: 0.0,
            });
        }
        let (a, b) = (points[i], points[i + 1]);
        let span = (times_ms[i + 1] - times_ms[i]) as f64;
        let f = (time_ms - times_ms[i]) as f64 / span;
        let length = distance_m(a, b);
        Some(State {
            point: GeoPoint {
                lat: a.lat + (b.lat - a.lat) * f,
                lon: a.lon + (b.lon - a.lon) * f,
            },
            speed_mps: length / (span / 1000.0),
            heading_deg: bearing_deg(a, b),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cursor_interpolates_and_halts() {
        let a = GeoPoint {
            lat: 43.73,
            lon: 7.42,
        };
        let b = offset(a, 0.0, 100.0);
        let mut t = Trajectory::default();
        t.push(0, a);
        t.push(100_000, b);
        t.push(130_000, b);
        let mut c = t.cursor();
        let mid = c.at(50_000).unwrap();
        assert!((distance_m(a, mid.point) - 50.0).abs() < 0.5);
        assert!((mid.speed_mps - 1.0).abs() < 0.01);
        assert!(mid.heading_deg < 1.0 || mid.heading_deg > 359.0);
        let halted = c.at(120_000).unwrap();
        assert_eq!(halted.speed_mps, 0.0);
        assert!(distance_m(halted.point, b) < 0.01);
    }
}
