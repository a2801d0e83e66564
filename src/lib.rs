//! chainsurvey: survey collection and supply-chain sampling for national statistics offices.
//!
//! A tour of the crate, in the order data flows through a survey round:
//!
//! - [`questionnaire`]: the JSON questionnaire format, its expression language, the linter,
//!   the submission validator and the version diff. Depends on nothing else of ours.
//! - [`frame`]: business-register units and supply links, CSV import, tier computation.
//! - [`synth`]: the embedded default population (a synthetic Viet Nam electronics supply chain
//!   with known truth), built on [`frame`].
//! - [`sampling`]: allocation, selection methods, link tracing, within-unit worker selection.
//! - [`weighting`]: base weights, GWSM link sharing, non-response, calibration, trimming.
//! - [`estimate`]: estimators, linearization and replicate variance, domains, reliability
//!   flags, decent-work indicators.
//! - [`demo`]: one whole survey round (sample, trace, interview, weight, estimate) on the
//!   synthetic population against its truth, and the Monte Carlo of repeated rounds.
//! - [`store`]: the sled database with group-commit durability (only module that knows sled).
//! - [`server`]: the axum HTTP API and the embedded web client.
//! - [`export`]: streaming CSV export and codebooks.
//! - [`cli`]: the command line; `main.rs` only parses arguments and calls [`cli::run`].
//!
//! See `docs/ARCHITECTURE.md` for the invariants between these modules.

pub mod questionnaire;

pub mod frame;
pub mod synth;

pub mod sampling;
pub mod weighting;

pub mod estimate;

pub mod demo;

pub mod export;
pub mod server;
pub mod store;

pub mod cli;
