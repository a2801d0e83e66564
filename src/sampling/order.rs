//! Order sampling: sequential Poisson (Ohlsson 1998) and Pareto πps (Rosén 1997).
//!
//! Each unit gets a rank from its uniform U_k and its target probability λ_k, and the n
//! smallest ranks are selected: ξ_k = U_k / λ_k (sequential Poisson) or
//! Q_k = U_k (1 − λ_k) / ((1 − U_k) λ_k) (Pareto). The sample size is fixed and the
//! inclusion probabilities are close to, not equal to, λ_k (Pareto is the closer one).
//! Units with λ_k = 1 are take-all and units with λ_k = 0 are never selected; the remaining
//! n − #take-all come from the ranks. Equal ranks are broken by position, so the result is a
//! function of the inputs alone.

use crate::sampling::error::SamplingError;
use crate::sampling::poisson::check_lengths;

/// Sequential Poisson selection of `n` units with targets `lambda` and uniforms `uniforms`.
pub fn sequential_poisson(
    lambda: &[f64],
    uniforms: &[f64],
    n: usize,
) -> Result<Vec<usize>, SamplingError> {
    order_sample(lambda, uniforms, n, |u, l| u / l)
}

/// Pareto πps selection of `n` units with targets `lambda` and uniforms `uniforms`.
pub fn pareto(lambda: &[f64], uniforms: &[f64], n: usize) -> Result<Vec<usize>, SamplingError> {
    order_sample(lambda, uniforms, n, |u, l| u * (1.0 - l) / ((1.0 - u) * l))
}

fn order_sample(
    lambda: &[f64],
    uniforms: &[f64],
    n: usize,
    rank: impl Fn(f64, f64) -> f64,
) -> Result<Vec<usize>, SamplingError> {
    check_lengths(lambda, uniforms)?;
    let mut selected: Vec<usize> = (0..lambda.len()).filter(|&k| lambda[k] >= 1.0).collect();
    let mut ranked: Vec<(f64, usize)> = (0..lambda.len())
        .filter(|&k| lambda[k] > 0.0 && lambda[k] < 1.0)
        .map(|k| (rank(uniforms[k], lambda[k]), k))
        .collect();
    let wanted = n
        .checked_sub(selected.len())
        .ok_or(SamplingError::BadParameter {
            name: "n".into(),
            value: n.to_string(),
            reason: format!("smaller than the {} take-all units", selected.len()),
        })?;
    if wanted > ranked.len() {
        return Err(SamplingError::TooFewPositiveSizes {
            n: n as u64,
            positive: (selected.len() + ranked.len()) as u64,
        });
    }
    if wanted > 0 {
        let by_rank = |a: &(f64, usize), b: &(f64, usize)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1));
        if wanted < ranked.len() {
            ranked.select_nth_unstable_by(wanted - 1, by_rank);
        }
        selected.extend(ranked[..wanted].iter().map(|&(_, k)| k));
    }
    selected.sort_unstable();
    Ok(selected)
}
