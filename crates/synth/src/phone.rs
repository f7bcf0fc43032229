//! What a phone records of a citizen's movements: regular fixes on the
//! move, a few at rest, noise that grows with the reported accuracy, and
//! the artefacts real traces have.

use crate::people::Episode;
use crate::trajectory::offset;
use rand::Rng;
use rand::rngs::StdRng;
use serde::Serialize;
use sillage_model::{GeoPoint, Timestamp, paris_offset_min};
use sillage_testdata::trace::TraceFix;

/// One phone's recording habits.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Phone {
    /// Seconds between fixes on the move (1–30).
    pub move_interval_s: u32,
    /// Mean seconds between fixes at rest.
    pub rest_interval_s: u32,
    /// Typical accuracy outdoors, m.
    pub base_accuracy_m: f32,
    /// Chance that a trip has a stretch without signal (tunnels, pockets).
    pub gap_rate: f64,
    /// Chance per fix of a wild position (a cell-tower fix, a multipath jump).
    pub outlier_rate: f64,
    /// Switched off at night (01:00–06:00 local) to save the battery.
    pub night_off: bool,
}

impl Phone {
    /// A phone drawn from the variety people carry.
    pub(crate) fn draw(rng: &mut StdRng) -> Phone {
        // Sport and logger apps record every second or two; most phones
        // (fused location, tracker apps in their default modes) every
        // 5–30 s.
        const INTERVALS: [(u32, f64); 6] = [
            (1, 0.03),
            (2, 0.05),
            (5, 0.25),
            (10, 0.30),
            (15, 0.22),
            (30, 0.15),
        ];
        let mut draw: f64 = rng.random();
        let mut move_interval_s = 30;
        for (interval, weight) in INTERVALS {
            if draw < weight {
                move_interval_s = interval;
                break;
            }
            draw -= weight;
        }
        Phone {
            move_interval_s,
            rest_interval_s: rng.random_range(300..1200),
            base_accuracy_m: rng.random_range(4.0..12.0),
            gap_rate: rng.random_range(0.05..0.25),
            outlier_rate: rng.random_range(0.0..0.002),
            night_off: rng.random_bool(0.1),
        }
    }

    /// Records the episodes, in order.
    pub(crate) fn record(&self, rng: &mut StdRng, episodes: &[Episode]) -> Vec<TraceFix> {
        let mut fixes = Vec::new();
        for episode in episodes {
            match episode {
                Episode::Stay {
                    point,
                    from_ms,
                    to_ms,
                } => self.rest(rng, *point, *from_ms, *to_ms, &mut fixes),
                Episode::Move(trajectory) => self.move_along(rng, trajectory, &mut fixes),
            }
        }
        if self.night_off {
            fixes.retain(|f| {
                let offset = i64::from(paris_offset_min(Timestamp(f.time_ms))) * 60_000;
                let hour = (f.time_ms + offset).rem_euclid(86_400_000) / 3_600_000;
                !(1..6).contains(&hour)
            });
        }
        fixes
    }

    fn rest(
        &self,
        rng: &mut StdRng,
        place: GeoPoint,
        from_ms: i64,
        to_ms: i64,
        out: &mut Vec<TraceFix>,
    ) {
        let mean = f64::from(self.rest_interval_s) * 1000.0;
        let mut t = from_ms + (rng.random_range(0.1..1.0) * mean) as i64;
        while t < to_ms {
            // Indoors: network positions, tens of metres.
            let accuracy = rng.random_range(12.0..45.0_f32);
            out.push(self.fix(rng, t, place, accuracy, Some(0.0), None));
            t += (rng.random_range(0.6..1.4) * mean) as i64;
        }
    }

    fn move_along(
        &self,
        rng: &mut StdRng,
        trajectory: &crate::trajectory::Trajectory,
        out: &mut Vec<TraceFix>,
    ) {
        let (start, end) = (trajectory.start_ms(), trajectory.end_ms());
        let step = i64::from(self.move_interval_s) * 1000;
        let gap = rng.random_bool(self.gap_rate).then(|| {
            let length = rng.random_range(30_000..240_000_i64);
            let from = start + (rng.random::<f64>() * (end - start).max(1) as f64) as i64;
            from..from + length
        });
        let mut cursor = trajectory.cursor();
        // The first fix comes within one interval of leaving.
        let mut t = start + (rng.random::<f64>() * step as f64) as i64;
        while t <= end {
            if gap.as_ref().is_some_and(|g| g.contains(&t)) {
                t += step;
                continue;
            }
            let Some(state) = cursor.at(t) else {
                break;
            };
            let accuracy = (self.base_accuracy_m * rng.random_range(0.7..1.6_f32)).max(3.0);
            let speed = (state.speed_mps + gaussian(rng) * 0.3).max(0.0) as f32;
            let heading = (state.speed_mps > 0.5).then_some(state.heading_deg as f32);
            if rng.random_bool(self.outlier_rate) {
                // A jump hundreds of metres away, with an honest bad accuracy.
                let distance = rng.random_range(300.0..1_500.0);
                let angle = rng.random_range(0.0..std::f64::consts::TAU);
                let wild = offset(state.point, distance * angle.cos(), distance * angle.sin());
                out.push(self.fix(rng, t, wild, distance as f32, None, None));
            } else {
                out.push(self.fix(rng, t, state.point, accuracy, Some(speed), heading));
                if rng.random_bool(0.0005) {
                    // Some loggers write the same fix twice.
                    let last = *out.last().expect("just pushed");
                    out.push(last);
                }
            }
            // Loggers tick regularly, but not to the millisecond.
            t += step + rng.random_range(-150..150);
        }
    }

    /// A fix of the true `point`, displaced by noise consistent with the
    /// reported accuracy (a 68 % radius: σ = accuracy / 1.5 per axis).
    fn fix(
        &self,
        rng: &mut StdRng,
        time_ms: i64,
        point: GeoPoint,
        accuracy: f32,
        speed: Option<f32>,
        heading: Option<f32>,
    ) -> TraceFix {
        let sigma = f64::from(accuracy) / 1.5;
        let seen = offset(point, gaussian(rng) * sigma, gaussian(rng) * sigma);
        TraceFix {
            time_ms,
            lat: round7(seen.lat),
            lon: round7(seen.lon),
            accuracy_m: accuracy.round(),
            speed_mps: speed,
            heading_deg: heading,
            altitude_m: Some((20.0 + gaussian(rng) * 3.0) as f32),
        }
    }
}

fn round7(degrees: f64) -> f64 {
    (degrees * 1e7).round() / 1e7
}

/// A standard normal draw (Box–Muller).
pub(crate) fn gaussian(rng: &mut StdRng) -> f64 {
    let u: f64 = rng.random_range(f64::EPSILON..1.0);
    let v: f64 = rng.random();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}
