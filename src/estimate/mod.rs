//! Estimators (totals, means, ratios, proportions, quantiles), domains, Taylor and
//! replicate variance, design effects, confidence intervals and reliability flags — the part
//! of R `survey` that statistics offices use, checked against it case by case
//! (`tests/r/cases.json`).
//!
//! A tour, in the order data flows:
//! - [`table`]: typed columns read from CSV (types inferred as R's `read.csv`);
//! - [`spec`]: the `DESIGN.json` / `ESTIMATE.json` wire formats of `chainsurvey analyze`;
//! - [`design`]: a design resolved against the data (weights, stages, strata, fpc), with an
//!   optional calibration step ([`calibrated`], built on [`crate::weighting::calibration`]) and
//!   optional replicate weights ([`replicate`], matched by [`pattern`] when given as a regex);
//! - [`taylor`]: multistage linearization variance with the lonely-PSU rules;
//! - [`estimator`]: totals, means, ratios over domains, design effects; [`quantile`]: the
//!   `svyquantile` rules and Woodruff intervals; [`interval`]: Wald/t/logit intervals;
//! - [`reliability`]: suppress/caution/publish and the CV letter;
//! - [`analysis`]: the one entry point the CLI, tests and server share.
//!
//! Every reduction over rows uses compensated summation ([`compensated`]) in a fixed order,
//! so results do not depend on thread count or chunking.
//!
//! Architecture invariant: estimation knows nothing about sled or HTTP, and nothing about
//! questionnaires; decent-work indicator definitions live beside it, not inside it.
//! Deliberately not here: GWSM weight sharing and non-response adjustment (`weighting`).

pub mod analysis;
pub mod calibrated;
pub mod compensated;
pub mod design;
mod error;
pub mod estimator;
mod fast_hash;
pub mod interval;
pub mod pattern;
pub mod quantile;
pub mod reliability;
pub mod replicate;
pub mod spec;
pub mod table;
pub mod taylor;

pub use analysis::{AnalysisRow, analyze, analyze_text};
pub use design::Design;
pub use error::Error;
pub use estimator::{Domain, Estimate, kish_deff};
pub use table::{Column, Table};
pub mod indicators;
