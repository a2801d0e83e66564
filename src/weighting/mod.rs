//! Base weights, GWSM link sharing, non-response adjustment, calibration and trimming.
//!
//! Architecture invariant: weighting is synchronous and pure; it knows nothing about sled,
//! HTTP or questionnaires.

pub mod calibration;
