//! The error of the demo module: a failure of one of the library stages it chains, or a
//! configuration it cannot run.

use thiserror::Error;

/// Why a demo round or a Monte Carlo run could not be completed.
#[derive(Debug, Error)]
pub enum Error {
    #[error("demo configuration, {field}: {reason}")]
    Config { field: &'static str, reason: String },
    #[error("synthetic population: {0}")]
    Synth(#[from] crate::synth::Error),
    #[error("sampling: {0}")]
    Sampling(#[from] crate::sampling::SamplingError),
    #[error("weighting: {0}")]
    Weighting(#[from] crate::weighting::Error),
}
