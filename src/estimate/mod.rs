//! Estimators (totals, means, ratios, proportions, quantiles), domains, Taylor and
//! replicate variance, reliability flags and the decent-work indicators.
//!
//! Architecture invariant: estimation knows nothing about sled or HTTP.
