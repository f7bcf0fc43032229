//! A citizen's day: when they leave for where.

use rand::Rng;

/// Where an activity takes place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// Back home.
    Home,
    /// The work place or school.
    Occupation,
    /// One of the citizen's favourite places.
    Favourite(usize),
}

/// Leaving for `target` at `depart_s` seconds after local midnight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Activity {
    pub(crate) depart_s: u32,
    pub(crate) target: Target,
}

fn at(rng: &mut impl Rng, from_h: f64, to_h: f64) -> u32 {
    (rng.random_range(from_h..to_h) * 3600.0) as u32
}

/// The day's departures, in order, from and back to home. `weekday` is
/// 0 for Sunday … 6 for Saturday.
pub(crate) fn day_plan(
    rng: &mut impl Rng,
    weekday: u8,
    occupied: bool,
    favourites: usize,
) -> Vec<Activity> {
    let mut plan = Vec::new();
    let favourite =
        |rng: &mut dyn rand::RngCore| Target::Favourite(rng.random_range(0..favourites));
    let go = |plan: &mut Vec<Activity>, depart_s, target| plan.push(Activity { depart_s, target });
    let working_day = (1..=5).contains(&weekday) && occupied && rng.random_bool(0.93);
    if working_day {
        go(&mut plan, at(rng, 7.3, 9.0), Target::Occupation);
        if rng.random_bool(0.15) {
            go(&mut plan, at(rng, 12.0, 12.5), favourite(rng));
            go(&mut plan, at(rng, 13.0, 13.6), Target::Occupation);
        }
        let leave = at(rng, 16.5, 18.7);
        if rng.random_bool(0.3) {
            go(&mut plan, leave, favourite(rng));
            go(&mut plan, leave + at(rng, 0.3, 1.0), Target::Home);
        } else {
            go(&mut plan, leave, Target::Home);
        }
        if rng.random_bool(0.2) {
            let out = at(rng, 20.0, 21.0);
            go(&mut plan, out, favourite(rng));
            go(&mut plan, out + at(rng, 1.0, 2.5), Target::Home);
        }
    } else if rng.random_bool(0.8) {
        let outings = if rng.random_bool(0.35) { 2 } else { 1 };
        let mut clock = at(rng, 9.5, 11.5);
        for _ in 0..outings {
            go(&mut plan, clock, favourite(rng));
            clock += at(rng, 0.7, 2.5);
            go(&mut plan, clock, Target::Home);
            clock += at(rng, 1.0, 3.0);
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn days_start_and_end_at_home_in_order() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let mut trips = 0;
        for day in 0..700 {
            let plan = day_plan(&mut rng, (day % 7) as u8, day % 3 != 0, 3);
            trips += plan.len();
            assert!(
                plan.windows(2).all(|w| w[0].depart_s < w[1].depart_s),
                "{plan:?}"
            );
            if let Some(last) = plan.last() {
                assert_eq!(last.target, Target::Home);
                assert!(last.depart_s < 24 * 3600);
            }
        }
        // Between two and three trips a day on average, as in household surveys.
        let per_day = trips as f64 / 700.0;
        assert!((1.8..3.5).contains(&per_day), "{per_day}");
    }
}
