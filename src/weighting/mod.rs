//! Base weights, GWSM link sharing, subsampling, worker factors, non-response, calibration
//! and trimming: every factor of a DW-SCS weight (METHODOLOGY §2, §3.5–3.8).
//!
//! A tour, in the order a weight is built:
//! - [`probability`]: `Probability` (0 < π ≤ 1) and `DesignWeight` (≥ 1), parsed at the
//!   boundary; [`base`]: 1/π and multistage products.
//! - [`links`]: the population link table (counts or importances, duplicate handling,
//!   supplied totals); [`share`]: the compiled GWSM share operator (clustered, singleton,
//!   cluster elimination; link subsampling) and the derived frame variable z_j for variance;
//!   [`coverage`]: orphans (L = 0) and units without own links; [`sensitivity`]: estimates
//!   under the lowest and highest plausible link totals.
//! - [`subsample`]: reached-unit subsampling 1/π_{i|s}; [`workers`]: M/m and m/r.
//! - [`nonresponse`]: weighting classes with unknown eligibility and collapsing.
//! - [`calibration`]: linear, raking, logit, truncated, post-stratification, IPF.
//! - [`trim`]: trimming with redistribution and an infeasibility report; [`kish`]: deff_w.
//! - [`factors`]: the seven stored factor columns; [`recipe`]: the whole chain as data,
//!   re-runnable with replicate frame weights; [`plan`]: a recipe built from id-keyed
//!   records (what `chainsurvey weights` reads), and JK1 replicate frame weights;
//!   [`bootstrap`]: multistage rescaled bootstrap replicates that perturb every stage
//!   (tier-0 strata, response, reached-unit subsamples, workers) and re-run the recipe.
//!
//! Architecture invariant: weighting is synchronous and pure; it knows nothing about sled,
//! HTTP or questionnaires, and it does not compute variances (that is `estimate`, fed with
//! z_j or with replicate weights from here).

pub mod calibration;

pub mod base;
pub mod bootstrap;
pub mod coverage;
pub mod error;
pub mod factors;
pub mod kish;
pub mod links;
pub mod nonresponse;
pub mod plan;
pub mod probability;
pub mod recipe;
pub mod sensitivity;
pub mod share;
pub mod subsample;
pub mod trim;
pub mod workers;

pub use error::Error;
pub use probability::{DesignWeight, Probability};
