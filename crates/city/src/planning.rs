//! What a campaign's privacy parameters will cost in precision, before it
//! is published: the campaign designer's live explanation. Pure arithmetic
//! over the same noise the aggregators add and the same release rule the
//! collector applies.

use serde::Serialize;
use sillage_dap::noise::{Epsilon, interval_half_width, noise_scale, published_noise_sd};

/// The consequences of one measurement's parameters.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Consequences {
    /// Scale of the discrete Laplace noise each aggregator adds.
    pub noise_scale: f64,
    /// Standard deviation of a published cell's noise (both aggregators').
    pub noise_sd: f64,
    /// Half-width of every published 95 % interval.
    pub interval_half_width: u64,
    /// The smallest noisy value a cell is published with: the campaign's
    /// threshold or twice the half-width, whichever is larger.
    pub release_at: u64,
    /// Units everyone contributes at most: participants × cap.
    pub units_at_most: u64,
    /// Share of all units a cell must hold to be published.
    pub share_needed: f64,
    /// Participants needed for a cell to be published if units spread
    /// evenly over the cells (the best case).
    pub participants_if_even: u64,
    /// How many cells could be published at most (each needing `release_at`
    /// units out of `units_at_most`).
    pub cells_publishable_at_most: u64,
}

/// Why the parameters cannot be evaluated.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum PlanningError {
    /// A parameter is out of range; the message names it.
    #[error("{0}")]
    Invalid(String),
}

/// The largest noise scale a campaign may ask for: beyond it no cell of a
/// pilot-sized campaign could be published, and the exact interval (a
/// convolution over tens of times the scale) gets slow to compute.
pub const MAX_NOISE_SCALE: f64 = 400.0;

/// Refuses parameters whose noise would drown every figure.
pub fn check_noise(epsilon: Epsilon, cap: u32) -> Result<f64, PlanningError> {
    let scale = noise_scale(cap, epsilon);
    if scale > MAX_NOISE_SCALE {
        return Err(PlanningError::Invalid(format!(
            "ε = {} with a cap of {cap} gives noise of scale {scale:.0} (at most {MAX_NOISE_SCALE:.0}): raise ε or lower the cap",
            epsilon.value()
        )));
    }
    Ok(scale)
}

/// ε as the fraction the aggregators sample with (to a thousandth).
pub fn epsilon(value: f64) -> Result<Epsilon, PlanningError> {
    let epsilon = Epsilon {
        num: (value * 1000.0).round().clamp(0.0, u32::MAX as f64) as u32,
        den: 1000,
    };
    epsilon.validate().map_err(|_| {
        PlanningError::Invalid(format!("ε = {value}: expected more than 0 and at most 10"))
    })?;
    Ok(epsilon)
}

/// The consequences of measuring `cells` cells with ε `epsilon`, a cap of
/// `cap` units per citizen, `participants` expected contributors and the
/// campaign's suppression `threshold`.
pub fn consequences(
    epsilon_value: f64,
    cap: u32,
    participants: u64,
    cells: u64,
    threshold: u64,
) -> Result<Consequences, PlanningError> {
    if !(1..=1000).contains(&cap) {
        return Err(PlanningError::Invalid(format!(
            "cap = {cap}: expected 1 to 1000"
        )));
    }
    if participants == 0 || cells == 0 {
        return Err(PlanningError::Invalid(
            "participants and cells: at least one each".into(),
        ));
    }
    let scale = check_noise(epsilon(epsilon_value)?, cap)?;
    let half_width = interval_half_width(scale, 0.95);
    let release_at = threshold.max(2 * half_width).max(1);
    let units = participants * u64::from(cap);
    Ok(Consequences {
        noise_scale: scale,
        noise_sd: published_noise_sd(scale),
        interval_half_width: half_width,
        release_at,
        units_at_most: units,
        share_needed: release_at as f64 / units as f64,
        participants_if_even: (release_at * cells).div_ceil(u64::from(cap)),
        cells_publishable_at_most: (units / release_at).min(cells),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pilot_size_supports_a_few_dozen_cells_at_epsilon_one() {
        let c = consequences(1.0, 4, 350, 256, 10).unwrap();
        assert_eq!(c.noise_scale, 8.0);
        assert!((28..=34).contains(&c.interval_half_width), "{c:?}");
        assert_eq!(c.release_at, 2 * c.interval_half_width);
        assert_eq!(c.units_at_most, 1400);
        // Whatever the cap, a cell needs about 16/ε participants' units.
        let other_cap = consequences(1.0, 40, 350, 256, 10).unwrap();
        assert!(
            (c.share_needed - other_cap.share_needed).abs() < 0.01,
            "{c:?} {other_cap:?}"
        );
        assert!((0.03..0.06).contains(&c.share_needed), "{c:?}");
        assert!(
            c.participants_if_even > 3000,
            "256 even cells need thousands: {c:?}"
        );
        assert!((17..=25).contains(&c.cells_publishable_at_most), "{c:?}");
        // More budget, less noise.
        assert!(consequences(2.0, 4, 350, 256, 10).unwrap().release_at < c.release_at);
    }

    #[test]
    fn bad_parameters_are_named() {
        assert!(
            consequences(0.0, 4, 10, 10, 10)
                .unwrap_err()
                .to_string()
                .contains("ε")
        );
        assert!(consequences(11.0, 4, 10, 10, 10).is_err());
        assert!(
            consequences(1.0, 0, 10, 10, 10)
                .unwrap_err()
                .to_string()
                .contains("cap")
        );
        assert!(consequences(1.0, 4, 0, 10, 10).is_err());
        // Noise that would drown every figure is refused before computing.
        assert!(
            consequences(0.01, 1000, 10, 10, 10)
                .unwrap_err()
                .to_string()
                .contains("raise ε")
        );
    }
}
