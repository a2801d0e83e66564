//! The one integration-test binary (one binary links the crate once).

mod cli;
mod estimate;
mod indicators;
mod weighting;
