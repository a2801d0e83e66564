//! Subsampling of reached units (METHODOLOGY §2.8.1): w*_i = w_i / π_{i|s}.

use crate::weighting::error::Error;
use crate::weighting::probability::Probability;
use crate::weighting::share::SharedWeights;

/// One subsampled target unit with its conditional inclusion probability π_{i|s}, recorded
/// at selection time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SubsampledUnit {
    pub target_unit: usize,
    pub probability: Probability,
}

/// The subsampling factor of every target unit: 1/π_{i|s} for subsampled units, 0 for
/// reached units left out of the subsample and for unreached units. A subsampled unit that
/// was not reached is an error (its probability cannot be conditional on this sample).
pub fn subsample_factors(
    shared: &SharedWeights,
    subsample: &[SubsampledUnit],
) -> Result<Vec<f64>, Error> {
    let mut factors = vec![0.0; shared.reached.len()];
    for unit in subsample {
        match shared.reached.get(unit.target_unit) {
            Some(true) => factors[unit.target_unit] = 1.0 / unit.probability.get(),
            _ => {
                return Err(Error::SubsampledUnitNotReached {
                    target_unit: unit.target_unit,
                });
            }
        }
    }
    Ok(factors)
}
