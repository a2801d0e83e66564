//! Weight trimming with redistribution (METHODOLOGY §3.8): cap the weights of each class at
//! c, spread the excess proportionally over the untrimmed units of the same class so the
//! class total is kept, and repeat until no weight exceeds c. Re-calibration is the caller's
//! next step (see [`crate::weighting::recipe`]).
//!
//! Feasibility is decided before any change: when n₊ · c < Σw in a class (n₊ = units with a
//! positive weight), no redistribution can meet the cap, and an [`InfeasibilityReport`] is
//! returned instead of looping. When n₊ · c ≥ Σw, every round caps at least one more unit,
//! so the loop ends after at most n₊ rounds.

use std::collections::BTreeMap;
use std::fmt;

use crate::weighting::error::Error;

/// How the cap c of a class is set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TrimCap {
    /// A fixed cap.
    Fixed(f64),
    /// c = k₁ · median(w) (inverse-CDF median of the class's weights).
    MedianMultiple(f64),
    /// c = max(k₁ · median(w), q_p(w)), the rule of METHODOLOGY §3.8 (k₁ = 3.5, p = 0.99).
    MedianMultipleOrQuantile { k1: f64, quantile: f64 },
}

/// The trimmed weights, the factor trimmed/untrimmed, and a report per class.
#[derive(Clone, Debug, PartialEq)]
pub struct Trimmed {
    pub weights: Vec<f64>,
    pub trim_adj: Vec<f64>,
    pub classes: Vec<ClassTrim>,
}

/// What trimming did in one class.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassTrim {
    pub class: usize,
    pub cap: f64,
    pub n_trimmed: usize,
    /// Weight moved from trimmed to untrimmed units.
    pub excess: f64,
    pub rounds: usize,
}

/// One class where the cap cannot be met.
#[derive(Clone, Debug, PartialEq)]
pub struct InfeasibleClass {
    pub class: usize,
    /// Units with a positive weight.
    pub n_positive: usize,
    pub total: f64,
    pub cap: f64,
}

/// The classes where n₊ · cap < total; nothing was changed.
#[derive(Clone, Debug, PartialEq)]
pub struct InfeasibilityReport {
    pub classes: Vec<InfeasibleClass>,
}

impl fmt::Display for InfeasibilityReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "trimming is infeasible in {} class(es):",
            self.classes.len()
        )?;
        for c in &self.classes {
            write!(
                f,
                " class {}: {} units × cap {} = {} < total {};",
                c.class,
                c.n_positive,
                c.cap,
                c.n_positive as f64 * c.cap,
                c.total
            )?;
        }
        Ok(())
    }
}

/// Inverse-CDF quantile of unweighted values: the smallest x with F(x) ≥ p.
fn quantile(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    let rank = (p * n as f64).ceil() as usize;
    sorted[rank.clamp(1, n) - 1]
}

fn class_cap(weights: &[f64], rule: TrimCap) -> Result<f64, Error> {
    let mut sorted = weights.to_vec();
    sorted.sort_by(f64::total_cmp);
    let cap = match rule {
        TrimCap::Fixed(c) => c,
        TrimCap::MedianMultiple(k1) => k1 * quantile(&sorted, 0.5),
        TrimCap::MedianMultipleOrQuantile { k1, quantile: p } => {
            if !(p > 0.0 && p <= 1.0) {
                return Err(Error::InvalidParameter {
                    what: "trim quantile",
                    reason: format!("{p} is not in (0, 1]"),
                });
            }
            (k1 * quantile(&sorted, 0.5)).max(quantile(&sorted, p))
        }
    };
    if !cap.is_finite() || cap <= 0.0 {
        return Err(Error::InvalidParameter {
            what: "trim cap",
            reason: format!("cap {cap} is not a positive number"),
        });
    }
    Ok(cap)
}

/// Trims `weights` within the classes `classes[k]` (use one class for all to trim overall).
pub fn trim(weights: &[f64], classes: &[usize], rule: TrimCap) -> Result<Trimmed, Error> {
    if classes.len() != weights.len() {
        return Err(Error::LengthMismatch {
            what: "trim classes",
            expected: weights.len(),
            found: classes.len(),
        });
    }
    for (k, &w) in weights.iter().enumerate() {
        if !w.is_finite() || w < 0.0 {
            return Err(Error::WeightInvalid {
                place: format!("trim unit {k}"),
                value: w,
            });
        }
    }
    let mut members: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (k, &c) in classes.iter().enumerate() {
        members.entry(c).or_default().push(k);
    }
    // Decide every class's cap and feasibility before changing anything.
    let mut caps = Vec::with_capacity(members.len());
    let mut infeasible = Vec::new();
    for (&class, units) in &members {
        let class_weights: Vec<f64> = units.iter().map(|&k| weights[k]).collect();
        let cap = class_cap(&class_weights, rule)?;
        let total: f64 = class_weights.iter().sum();
        let n_positive = class_weights.iter().filter(|&&w| w > 0.0).count();
        if (n_positive as f64) * cap < total * (1.0 - 1e-12) {
            infeasible.push(InfeasibleClass {
                class,
                n_positive,
                total,
                cap,
            });
        }
        caps.push(cap);
    }
    if !infeasible.is_empty() {
        return Err(Error::TrimInfeasible(InfeasibilityReport {
            classes: infeasible,
        }));
    }
    let mut trimmed = weights.to_vec();
    let mut reports = Vec::with_capacity(members.len());
    for ((&class, units), &cap) in members.iter().zip(&caps) {
        let mut capped = vec![false; units.len()];
        let mut excess_total = 0.0;
        let mut rounds = 0;
        // At most one round per unit: each round caps at least one more unit.
        while rounds <= units.len() {
            let mut excess = 0.0;
            for (idx, &k) in units.iter().enumerate() {
                if !capped[idx] && trimmed[k] > cap * (1.0 + 1e-12) {
                    excess += trimmed[k] - cap;
                    trimmed[k] = cap;
                    capped[idx] = true;
                }
            }
            if excess == 0.0 {
                break;
            }
            rounds += 1;
            excess_total += excess;
            let free_total: f64 = units
                .iter()
                .enumerate()
                .filter(|(idx, _)| !capped[*idx])
                .map(|(_, &k)| trimmed[k])
                .sum();
            if free_total <= 0.0 {
                // Every positive unit is at the cap, which feasibility allows only when the
                // total is exactly n₊ · cap; the remaining excess is rounding.
                break;
            }
            let scale = (free_total + excess) / free_total;
            for (idx, &k) in units.iter().enumerate() {
                if !capped[idx] {
                    trimmed[k] *= scale;
                }
            }
        }
        reports.push(ClassTrim {
            class,
            cap,
            n_trimmed: capped.iter().filter(|&&c| c).count(),
            excess: excess_total,
            rounds,
        });
    }
    let trim_adj = weights
        .iter()
        .zip(&trimmed)
        .map(|(&before, &after)| if before > 0.0 { after / before } else { 1.0 })
        .collect();
    Ok(Trimmed {
        weights: trimmed,
        trim_adj,
        classes: reports,
    })
}
