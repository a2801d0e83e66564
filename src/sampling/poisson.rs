//! Poisson sampling: each unit is selected independently when its uniform U_k < π_k, so the
//! sample size is random with expectation Σ π_k. With permanent random numbers as the U_k,
//! samples drawn at different times are coordinated.

use crate::sampling::error::SamplingError;

/// Positions k with `uniforms[k] < pi[k]`.
pub fn poisson(pi: &[f64], uniforms: &[f64]) -> Result<Vec<usize>, SamplingError> {
    check_lengths(pi, uniforms)?;
    Ok((0..pi.len()).filter(|&k| uniforms[k] < pi[k]).collect())
}

pub(crate) fn check_lengths(pi: &[f64], uniforms: &[f64]) -> Result<(), SamplingError> {
    if pi.len() != uniforms.len() {
        return Err(SamplingError::BadParameter {
            name: "uniforms".into(),
            value: uniforms.len().to_string(),
            reason: format!("needs one uniform per unit ({})", pi.len()),
        });
    }
    for (k, &p) in pi.iter().enumerate() {
        if !(0.0..=1.0).contains(&p) {
            return Err(SamplingError::BadProbability {
                unit: format!("#{}", k + 1),
                value: p,
            });
        }
    }
    Ok(())
}
