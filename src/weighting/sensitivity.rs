//! Link-count sensitivity (METHODOLOGY §2.9): L_i (or B_i) of tier ≥ 2 units is uncertain
//! when the membership of a unit's customers in the previous tier is unknown. This runs the
//! same share operator with the lowest and the highest plausible population link totals and
//! reports the two estimates of a total, so the report can show the range.

use crate::weighting::error::Error;
use crate::weighting::links::LinkTable;
use crate::weighting::share::{FrameWeight, ShareMode, ShareOperator, share};

/// Estimates of Σ y under two sets of per-unit population link totals.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinkSensitivity {
    /// With the lowest plausible totals (largest weights).
    pub at_lower_totals: f64,
    /// With the highest plausible totals (smallest weights).
    pub at_upper_totals: f64,
}

/// Shares `sample` twice, with `lower` and then `upper` supplied totals per target unit,
/// and returns Σ w_k y_k for each. Refuses bounds below the links actually recorded for a
/// unit (a total cannot be smaller than the links the table already holds) and lower > upper.
pub fn link_total_sensitivity(
    table: &LinkTable,
    mode: ShareMode,
    lower: &[f64],
    upper: &[f64],
    sample: &[FrameWeight],
    y: &[f64],
) -> Result<LinkSensitivity, Error> {
    if y.len() != table.n_target() {
        return Err(Error::LengthMismatch {
            what: "target values y",
            expected: table.n_target(),
            found: y.len(),
        });
    }
    for (unit, ((&lo, &hi), &recorded)) in
        lower.iter().zip(upper).zip(table.unit_totals()).enumerate()
    {
        if lo > hi || lo < recorded {
            return Err(Error::InvalidParameter {
                what: "link-total bounds",
                reason: format!(
                    "target unit {unit}: bounds [{lo}, {hi}] do not contain the recorded total {recorded} or are reversed"
                ),
            });
        }
    }
    let estimate = |totals: &[f64]| -> Result<f64, Error> {
        let supplied = table.clone().with_supplied_totals(totals)?;
        let operator = ShareOperator::compile(&supplied, mode)?;
        let shared = share(&operator, sample, None)?;
        Ok(shared.unit_weight.iter().zip(y).map(|(w, v)| w * v).sum())
    };
    Ok(LinkSensitivity {
        at_lower_totals: estimate(lower)?,
        at_upper_totals: estimate(upper)?,
    })
}
