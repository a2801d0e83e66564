//! Simple random sampling without replacement: n of N by a partial Fisher–Yates shuffle.

use rand::rngs::ChaCha20Rng;

use crate::sampling::error::SamplingError;
use crate::sampling::uniform::uniform_below;

/// Draws `n` distinct positions of `0..population`, each with probability n/N, returned in
/// increasing order. Uses exactly `n` bounded draws from `rng`.
pub fn srswor(
    population: usize,
    n: usize,
    rng: &mut ChaCha20Rng,
) -> Result<Vec<usize>, SamplingError> {
    if n > population {
        return Err(SamplingError::SampleLargerThanPopulation {
            n: n as u64,
            population: population as u64,
        });
    }
    let mut positions: Vec<usize> = (0..population).collect();
    for slot in 0..n {
        let pick = slot + uniform_below(rng, (population - slot) as u64) as usize;
        positions.swap(slot, pick);
    }
    positions.truncate(n);
    positions.sort_unstable();
    Ok(positions)
}
