//! The whole pipeline for one device: fixes in, diary out.

use crate::AnalysisParams;
use crate::clean::clean;
use crate::features::LegFeatures;
use crate::legs::{Movement, split_legs};
use crate::mode::{ModeClassifier, ModeGuess};
use crate::motion::motion;
use crate::segment::trips;
use crate::stay::stay_points;
use sillage_model::{Fix, StayPoint, Timestamp};

/// One device's analysed history.
#[derive(Clone, Debug, Default)]
pub struct Diary {
    /// Where the device stayed.
    pub stays: Vec<StayPoint>,
    /// Each stay's UTC offset in minutes (from its first fix), for the
    /// local-time rules that label places; `None` when the source gave none.
    pub stay_utc_offsets: Vec<Option<i16>>,
    /// The movements between activities.
    pub trips: Vec<DiaryTrip>,
}

/// A trip with its legs.
#[derive(Clone, Debug)]
pub struct DiaryTrip {
    /// Departure.
    pub start: Timestamp,
    /// Arrival.
    pub end: Timestamp,
    /// Path length, m.
    pub distance_m: f64,
    /// Where it started (lat, lon).
    pub origin: (f64, f64),
    /// Where it ended (lat, lon).
    pub destination: (f64, f64),
    /// Single-mode legs, in order.
    pub legs: Vec<DiaryLeg>,
}

/// A leg with its inferred mode.
#[derive(Clone, Debug)]
pub struct DiaryLeg {
    /// Start.
    pub start: Timestamp,
    /// End.
    pub end: Timestamp,
    /// Path length, m.
    pub distance_m: f64,
    /// Inferred mode and confidence.
    pub guess: ModeGuess,
    /// Walking speed or faster.
    pub movement: Movement,
    /// What the classifier saw.
    pub features: LegFeatures,
}

/// Runs cleaning, stay detection, trip and leg segmentation and mode
/// inference over one device's fixes (any order).
pub fn analyse(fixes: &[Fix], params: &AnalysisParams, classifier: &dyn ModeClassifier) -> Diary {
    let fixes = clean(fixes, params);
    let stays = stay_points(&fixes, params);
    let motion = motion(&fixes);
    let trips = trips(&fixes, &stays, params)
        .into_iter()
        .map(|span| {
            let legs = split_legs(&fixes, &motion, span.first, span.end, span.end_time)
                .into_iter()
                .map(|leg| {
                    let features = LegFeatures::compute(&fixes, &motion, leg.first, leg.end);
                    DiaryLeg {
                        start: leg.start_time,
                        end: leg.end_time,
                        distance_m: features.distance_m,
                        guess: classifier.classify(&features, leg.movement),
                        movement: leg.movement,
                        features,
                    }
                })
                .collect();
            let (a, b) = (&fixes[span.first], &fixes[span.end - 1]);
            DiaryTrip {
                start: span.start_time,
                end: span.end_time,
                distance_m: motion.step_m[span.first + 1..span.end].iter().sum(),
                origin: (a.lat, a.lon),
                destination: (b.lat, b.lon),
                legs,
            }
        })
        .collect();
    Diary {
        stay_utc_offsets: stays
            .iter()
            .map(|s| fixes.get(s.first).and_then(|f| f.utc_offset_min))
            .collect(),
        stays: stays.into_iter().map(|s| s.point).collect(),
        trips,
    }
}
