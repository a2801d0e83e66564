//! The settings of a demo round: the population (scale, seed), the tier-0 design, the
//! link-tracing caps, the worker take and the response probabilities.

use crate::demo::error::Error;
use crate::synth::MAX_SCALE;

/// Everything one demo round needs. [`RoundConfig::default_for`] gives the defaults used by
/// `chainsurvey demo` and `chainsurvey montecarlo`.
#[derive(Clone, Debug, PartialEq)]
pub struct RoundConfig {
    /// Population scale (1 = the Viet Nam electronics chain at full size).
    pub scale: f64,
    /// Seed of the synthetic population.
    pub population_seed: u64,
    /// Seed of the survey round (sample, response, tracing, workers).
    pub round_seed: u64,
    /// Lead firms with at least this many employees are taken with certainty.
    pub take_all_employees: u64,
    /// Sampling fraction of the other lead firms (allocated by Neyman on employment over
    /// the ownership strata FDI / domestic, at least 2 per stratum).
    pub tier0_fraction: f64,
    /// Reached units kept per tier 1, 2, 3 (SRSWOR of the reached units); `None` = take all.
    pub tier_caps: [Option<u64>; 3],
    /// m, workers selected per sex in every responding enterprise.
    pub workers_per_sex: u64,
    /// Probability that a selected enterprise responds.
    pub enterprise_response: f64,
    /// Probability that a selected worker responds.
    pub worker_response: f64,
    /// Bootstrap replicates per stage set of the variance (`weighting::bootstrap`).
    pub replicates: usize,
}

impl RoundConfig {
    /// The default design at `scale`: certainty for lead firms with ≥ 20,000 employees, half
    /// of the other lead firms, take-all to tier 1, tiers 2 and 3 capped at
    /// max(10, 300·scale) reached units, 5 workers per sex, 90 % enterprise and 90 % worker
    /// response, 50 bootstrap replicates per stage.
    pub fn default_for(scale: f64, population_seed: u64, round_seed: u64) -> RoundConfig {
        let cap = ((300.0 * scale).round() as u64).max(10);
        RoundConfig {
            scale,
            population_seed,
            round_seed,
            take_all_employees: 20_000,
            tier0_fraction: 0.5,
            tier_caps: [None, Some(cap), Some(cap)],
            workers_per_sex: 5,
            enterprise_response: 0.9,
            worker_response: 0.9,
            replicates: 50,
        }
    }

    /// Checks the ranges; the error names the field.
    pub fn check(&self) -> Result<(), Error> {
        let bad = |field: &'static str, reason: String| Err(Error::Config { field, reason });
        if !(self.scale.is_finite() && self.scale > 0.0 && self.scale <= MAX_SCALE) {
            return bad(
                "scale",
                format!("{} is not in (0, {MAX_SCALE}]", self.scale),
            );
        }
        if !(self.tier0_fraction > 0.0 && self.tier0_fraction <= 1.0) {
            return bad(
                "tier0_fraction",
                format!("{} is not in (0, 1]", self.tier0_fraction),
            );
        }
        for (field, p) in [
            ("enterprise_response", self.enterprise_response),
            ("worker_response", self.worker_response),
        ] {
            if !(p > 0.0 && p <= 1.0) {
                return bad(field, format!("{p} is not in (0, 1]"));
            }
        }
        if self.workers_per_sex == 0 {
            return bad("workers_per_sex", "take at least one worker per sex".into());
        }
        if self.replicates < 2 {
            return bad(
                "replicates",
                format!("{}: take at least 2 per stage", self.replicates),
            );
        }
        if self.tier_caps.contains(&Some(0)) {
            return bad("tier_caps", "a cap must be at least 1".into());
        }
        Ok(())
    }
}
