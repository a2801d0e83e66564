//! The one integration-test binary (one binary links the crate once).

mod cli;
mod demo;
mod estimate;
mod examples;
mod expressions;
mod frame;
mod indicators;
mod questionnaire;
mod sampling;
mod server;
mod synth;
mod weighting;
