//! Systematic selection with equal probabilities (METHODOLOGY §3.4): interval k = N/n,
//! random start r = u·k with u ∈ (0, 1], select the units whose cell (i−1, i] holds
//! r, r+k, …, r+(n−1)k. The frame order is an implicit stratification, so callers sort first.

use rand::rngs::ChaCha20Rng;

use crate::sampling::error::SamplingError;
use crate::sampling::uniform::uniform;

/// The positions hit by a systematic sample of `n` from `population` with start fraction
/// `u` ∈ (0, 1]. π = n/N for every unit.
pub fn systematic(population: usize, n: usize, u: f64) -> Result<Vec<usize>, SamplingError> {
    if n > population {
        return Err(SamplingError::SampleLargerThanPopulation {
            n: n as u64,
            population: population as u64,
        });
    }
    if !(u > 0.0 && u <= 1.0) {
        return Err(SamplingError::BadParameter {
            name: "u".into(),
            value: u.to_string(),
            reason: "the random start fraction must be in (0, 1]".into(),
        });
    }
    if n == 0 {
        return Ok(Vec::new());
    }
    let k = population as f64 / n as f64;
    let selected = (0..n)
        .map(|j| {
            let point = (u + j as f64) * k;
            (point.ceil() as usize).clamp(1, population) - 1
        })
        .collect();
    Ok(selected)
}

/// Draws the start fraction from `rng` and selects; returns the positions and u.
pub fn draw_systematic(
    population: usize,
    n: usize,
    rng: &mut ChaCha20Rng,
) -> Result<(Vec<usize>, f64), SamplingError> {
    let u = 1.0 - uniform(rng);
    Ok((systematic(population, n, u)?, u))
}
