//! Sample size for estimating a proportion (METHODOLOGY §3.3, "planning"):
//!
//! n₀ = z² p (1 − p) / e², n = n₀·deff / (1 + n₀·deff / N) with a finite population N,
//! then inflated by 1 / (expected response rate), and rounded up.

use crate::sampling::error::SamplingError;

/// The inputs of [`sample_size_for_proportion`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ProportionPlan {
    /// Anticipated proportion p (0.5 is the conservative choice).
    pub p: f64,
    /// Margin of error e (half-width of the CI), e.g. 0.05.
    pub margin: f64,
    /// Normal quantile z, e.g. 1.96 for 95 %.
    pub z: f64,
    /// Design effect (1 for SRS).
    pub deff: f64,
    /// Population size for the finite-population correction; `None` = infinite.
    pub population: Option<u64>,
    /// Expected response rate in (0, 1].
    pub response_rate: f64,
}

/// Every intermediate value, so a plan can be checked and reported.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SampleSize {
    /// n₀ = z² p(1 − p)/e².
    pub n0: f64,
    /// After deff and the fpc.
    pub n_design: f64,
    /// After response-rate inflation.
    pub n_inflated: f64,
    /// ⌈n_inflated⌉, the number of units to select.
    pub n: u64,
}

/// Computes the sample size for a proportion.
pub fn sample_size_for_proportion(plan: &ProportionPlan) -> Result<SampleSize, SamplingError> {
    let check = |name: &str, value: f64, ok: bool, reason: &str| {
        if ok {
            Ok(())
        } else {
            Err(SamplingError::BadParameter {
                name: name.into(),
                value: value.to_string(),
                reason: reason.into(),
            })
        }
    };
    check("p", plan.p, plan.p > 0.0 && plan.p < 1.0, "needs 0 < p < 1")?;
    check(
        "margin",
        plan.margin,
        plan.margin > 0.0 && plan.margin < 1.0,
        "needs 0 < e < 1",
    )?;
    check(
        "z",
        plan.z,
        plan.z.is_finite() && plan.z > 0.0,
        "needs z > 0",
    )?;
    check(
        "deff",
        plan.deff,
        plan.deff.is_finite() && plan.deff > 0.0,
        "needs deff > 0",
    )?;
    check(
        "response_rate",
        plan.response_rate,
        plan.response_rate > 0.0 && plan.response_rate <= 1.0,
        "needs 0 < rate ≤ 1",
    )?;
    let n0 = plan.z * plan.z * plan.p * (1.0 - plan.p) / (plan.margin * plan.margin);
    let with_deff = n0 * plan.deff;
    let n_design = match plan.population {
        Some(0) => {
            return Err(SamplingError::BadParameter {
                name: "population".into(),
                value: "0".into(),
                reason: "needs N > 0".into(),
            });
        }
        Some(big_n) => with_deff / (1.0 + with_deff / big_n as f64),
        None => with_deff,
    };
    let n_inflated = n_design / plan.response_rate;
    Ok(SampleSize {
        n0,
        n_design,
        n_inflated,
        n: ceil_tolerant(n_inflated),
    })
}

/// ⌈x⌉, except that x within 1e-9 (relative) above an integer counts as that integer: a
/// value like 385.0000000000001 is floating-point noise, not a reason for one more unit.
pub fn ceil_tolerant(x: f64) -> u64 {
    let rounded = x.round();
    if (x - rounded).abs() <= 1e-9 * x.abs().max(1.0) {
        rounded as u64
    } else {
        x.ceil() as u64
    }
}
