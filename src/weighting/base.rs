//! Base (design) weights: d = 1/π for one stage, the product of conditional inverses for
//! several stages (METHODOLOGY §3.5).

use crate::weighting::error::Error;
use crate::weighting::probability::{DesignWeight, Probability};

/// The base weight of a unit selected through `stages` (π of stage 1, then the conditional
/// π of each later stage): d = Π 1/π_s. An empty list is a census (d = 1). The only failure
/// is an overflow to infinity for absurdly small probabilities.
pub fn multistage_weight(stages: &[Probability]) -> Result<DesignWeight, Error> {
    let product: f64 = stages.iter().map(|p| p.inverse().get()).product();
    DesignWeight::new(product, "product of stage weights")
}

/// Base weights 1/π of a one-stage sample, in the input order.
pub fn base_weights(probabilities: &[Probability]) -> Vec<DesignWeight> {
    probabilities.iter().map(|p| p.inverse()).collect()
}
