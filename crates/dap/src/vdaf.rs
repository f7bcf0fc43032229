//! The VDAF: Prio3 over L1-bounded vectors (draft-ietf-ppm-l1-bound-sum),
//! so that one citizen's whole contribution is capped, whatever cells it
//! falls in.

use crate::DapError;
use crate::task::{TaskId, VdafConfig};
use prio::field::{Field128, FieldElementWithInteger};
use prio::vdaf::prio3::{Prio3, Prio3L1BoundSum, optimal_chunk_length};

/// The VDAF every task uses.
pub type Vdaf = Prio3L1BoundSum;

/// Its field: aggregate values live modulo this field's prime.
pub type Field = Field128;

/// Size of the verify key the two aggregators share.
pub const VERIFY_KEY_SIZE: usize = 32;

/// Size of report ids, which are also the VDAF nonces.
pub const NONCE_SIZE: usize = 16;

/// The VDAF instance for a task's measurement shape.
pub fn vdaf(config: &VdafConfig) -> Result<Vdaf, DapError> {
    Ok(Prio3::new_l1_bound_sum(
        2,
        u128::from(config.max_weight),
        config.length,
        optimal_chunk_length(config.length),
    )?)
}

/// The application context bound into every proof: a report made for one
/// task never verifies in another.
pub fn context(task_id: &TaskId) -> Vec<u8> {
    let mut ctx = b"sillage-dap/".to_vec();
    ctx.extend_from_slice(&task_id.0);
    ctx
}

/// The field's prime, for mapping noisy totals back to signed counts.
pub fn modulus() -> u128 {
    Field::modulus()
}

/// An aggregate share of the VDAF.
pub type AggregateShare = <Vdaf as prio::vdaf::Vdaf>::AggregateShare;

/// Adds one aggregator's discrete Laplace noise for `epsilon` to its
/// aggregate share (scale `2 · max_weight / ε`, see [`crate::noise`]).
pub fn add_noise(
    vdaf: &Vdaf,
    epsilon: crate::noise::Epsilon,
    share: &mut AggregateShare,
    report_count: usize,
) -> Result<(), DapError> {
    use prio::dp::DifferentialPrivacyStrategy;
    use prio::vdaf::AggregatorWithNoise;
    let strategy = prio::dp::distributions::PureDpDiscreteLaplace::from_budget(epsilon.to_prio()?);
    vdaf.add_noise_to_agg_share(&strategy, &(), share, report_count)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::noise::{Epsilon, discrete_laplace_variance, noise_scale, signed_count};
    use prio::vdaf::Aggregator;

    #[test]
    fn noise_has_the_variance_it_is_published_with() {
        let config = VdafConfig {
            length: 5000,
            max_weight: 2,
        };
        let vdaf = vdaf(&config).unwrap();
        let epsilon = Epsilon { num: 1, den: 1 };
        let mut share = vdaf.aggregate_init(&());
        add_noise(&vdaf, epsilon, &mut share, 100).unwrap();
        let draws: Vec<f64> = share
            .as_ref()
            .iter()
            .map(|v| signed_count(u128::from(*v), modulus()) as f64)
            .collect();
        let n = draws.len() as f64;
        let mean = draws.iter().sum::<f64>() / n;
        let variance = draws.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (n - 1.0);
        let expected = discrete_laplace_variance(noise_scale(2, epsilon));
        // Laplace kurtosis 6: the sample variance's relative standard error
        // is about √(5/n) = 3 %; 15 % is five of them.
        assert!(
            (variance / expected - 1.0).abs() < 0.15,
            "variance {variance}, expected {expected}"
        );
        assert!(mean.abs() < 5.0 * (expected / n).sqrt(), "mean {mean}");
    }
}
