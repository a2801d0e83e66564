//! Typed inclusion probabilities and design weights, parsed at the boundary.

use crate::weighting::error::Error;

/// An inclusion probability π with 0 < π ≤ 1. Constructing one is the only check; past it,
/// every function may divide by π.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub struct Probability(f64);

impl Probability {
    /// Parses π; `place` names the input (row, column) for the error message.
    pub fn new(value: f64, place: &str) -> Result<Probability, Error> {
        if value.is_finite() && value > 0.0 && value <= 1.0 {
            Ok(Probability(value))
        } else {
            Err(Error::ProbabilityOutOfRange {
                place: place.to_string(),
                value,
            })
        }
    }

    /// The value of π.
    pub fn get(self) -> f64 {
        self.0
    }

    /// The design weight 1/π (always ≥ 1).
    pub fn inverse(self) -> DesignWeight {
        DesignWeight(1.0 / self.0)
    }
}

/// A design weight d = 1/π: finite and ≥ 1. A weight after sharing, calibration or trimming
/// is a plain `f64` on purpose, because it may legitimately fall below 1.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub struct DesignWeight(f64);

impl DesignWeight {
    /// Parses a design weight; `place` names the input for the error message.
    pub fn new(value: f64, place: &str) -> Result<DesignWeight, Error> {
        // A weight computed as 1/π can be 1 - 1e-16 by rounding; accept that tolerance.
        if value.is_finite() && value >= 1.0 - 1e-12 {
            Ok(DesignWeight(value.max(1.0)))
        } else {
            Err(Error::DesignWeightOutOfRange {
                place: place.to_string(),
                value,
            })
        }
    }

    /// The value of d.
    pub fn get(self) -> f64 {
        self.0
    }
}
