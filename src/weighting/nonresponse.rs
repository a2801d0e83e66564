//! Eligibility and non-response adjustment by weighting classes (METHODOLOGY §3.6), with
//! unknown eligibility (ê) and the collapsing of weak classes into a neighbour.
//!
//! For class c: ê_c = Σ_{R∪NR} d / Σ_{R∪NR∪I} d and a_c = (Σ_{R∪NR} d + ê_c Σ_U d) / Σ_R d.
//! Respondents get d·a_c; non-respondents, ineligibles and unknowns get 0.

use std::collections::BTreeSet;

use crate::weighting::error::Error;

/// Fieldwork outcome of a selected unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponseStatus {
    /// Eligible and responded (R).
    Respondent,
    /// Eligible and did not respond (NR).
    NonRespondent,
    /// Out of scope: closed, not in the target population (I).
    Ineligible,
    /// Eligibility unknown, e.g. never contacted (U).
    Unknown,
}

/// When a class is too weak to stand alone. The defaults of METHODOLOGY §3.6 are
/// `min_respondents = 20` and `max_factor = 2.0`; they are passed explicitly on purpose.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CollapseRule {
    /// A class with fewer respondents is merged into a neighbour.
    pub min_respondents: usize,
    /// A class whose factor a_c exceeds this is merged into a neighbour.
    pub max_factor: f64,
}

/// The adjustment of one final (possibly collapsed) class.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassAdjustment {
    /// The input class labels merged into this class, ascending.
    pub members: Vec<usize>,
    pub respondents: usize,
    /// ê_c (1 when no unit of the class has known eligibility).
    pub eligibility_rate: f64,
    /// a_c.
    pub factor: f64,
    /// Whether the class still breaks the rule (only possible when everything collapsed
    /// into one class).
    pub breaks_rule: bool,
}

/// The outcome: a factor per unit (a_c for respondents, 0 otherwise), the final class of
/// each unit (an index into `classes`), and the per-class report.
#[derive(Clone, Debug, PartialEq)]
pub struct NonResponseAdjustment {
    pub factor: Vec<f64>,
    pub unit_class: Vec<usize>,
    pub classes: Vec<ClassAdjustment>,
}

struct Sums {
    respondents: usize,
    r: f64,
    nr: f64,
    i: f64,
    u: f64,
}

fn class_sums(
    members: &BTreeSet<usize>,
    labels: &[usize],
    status: &[ResponseStatus],
    weights: &[f64],
) -> Sums {
    let mut sums = Sums {
        respondents: 0,
        r: 0.0,
        nr: 0.0,
        i: 0.0,
        u: 0.0,
    };
    for k in 0..labels.len() {
        if !members.contains(&labels[k]) {
            continue;
        }
        match status[k] {
            ResponseStatus::Respondent => {
                sums.respondents += 1;
                sums.r += weights[k];
            }
            ResponseStatus::NonRespondent => sums.nr += weights[k],
            ResponseStatus::Ineligible => sums.i += weights[k],
            ResponseStatus::Unknown => sums.u += weights[k],
        }
    }
    sums
}

/// ê and a of a class; a is +∞ when the respondents carry no weight.
fn rates(sums: &Sums) -> (f64, f64) {
    let known = sums.r + sums.nr + sums.i;
    let eligibility_rate = if known > 0.0 {
        (sums.r + sums.nr) / known
    } else {
        1.0
    };
    let factor = if sums.r > 0.0 {
        (sums.r + sums.nr + eligibility_rate * sums.u) / sums.r
    } else {
        f64::INFINITY
    };
    (eligibility_rate, factor)
}

/// Adjusts `weights` by classes. `labels[k]` is the class of unit k; classes are ordered by
/// label, and a weak class is merged into the next class (the previous one for the last),
/// repeatedly, until every class meets `rule` or one class remains.
pub fn nonresponse_adjust(
    labels: &[usize],
    status: &[ResponseStatus],
    weights: &[f64],
    rule: CollapseRule,
) -> Result<NonResponseAdjustment, Error> {
    if status.len() != labels.len() {
        return Err(Error::LengthMismatch {
            what: "response statuses",
            expected: labels.len(),
            found: status.len(),
        });
    }
    if weights.len() != labels.len() {
        return Err(Error::LengthMismatch {
            what: "weights",
            expected: labels.len(),
            found: weights.len(),
        });
    }
    for (k, &w) in weights.iter().enumerate() {
        if !w.is_finite() || w < 0.0 {
            return Err(Error::WeightInvalid {
                place: format!("non-response unit {k}"),
                value: w,
            });
        }
    }
    if rule.max_factor.is_nan() || rule.max_factor < 1.0 {
        return Err(Error::InvalidParameter {
            what: "collapse rule max_factor",
            reason: format!("{} is below 1", rule.max_factor),
        });
    }
    let distinct: BTreeSet<usize> = labels.iter().copied().collect();
    let mut groups: Vec<BTreeSet<usize>> =
        distinct.into_iter().map(|c| BTreeSet::from([c])).collect();
    // Each merge removes one group, so this loop runs fewer times than there are classes.
    loop {
        let weak = groups.iter().position(|members| {
            let sums = class_sums(members, labels, status, weights);
            let (_, factor) = rates(&sums);
            sums.respondents < rule.min_respondents || factor > rule.max_factor
        });
        match weak {
            Some(idx) if groups.len() > 1 => {
                let neighbour = if idx + 1 < groups.len() {
                    idx + 1
                } else {
                    idx - 1
                };
                let moved = groups.remove(idx.max(neighbour));
                groups[idx.min(neighbour)].extend(moved);
            }
            _ => break,
        }
    }
    let mut classes = Vec::with_capacity(groups.len());
    let mut factor = vec![0.0; labels.len()];
    let mut unit_class = vec![0; labels.len()];
    for (class_idx, members) in groups.iter().enumerate() {
        let sums = class_sums(members, labels, status, weights);
        let (eligibility_rate, class_factor) = rates(&sums);
        if !class_factor.is_finite() {
            return Err(Error::NoRespondents);
        }
        for k in 0..labels.len() {
            if members.contains(&labels[k]) {
                unit_class[k] = class_idx;
                if status[k] == ResponseStatus::Respondent {
                    factor[k] = class_factor;
                }
            }
        }
        classes.push(ClassAdjustment {
            members: members.iter().copied().collect(),
            respondents: sums.respondents,
            eligibility_rate,
            factor: class_factor,
            breaks_rule: sums.respondents < rule.min_respondents || class_factor > rule.max_factor,
        });
    }
    Ok(NonResponseAdjustment {
        factor,
        unit_class,
        classes,
    })
}

/// Re-applies fixed final classes (from a full-sample run) to other weights, e.g. one
/// replicate's. Collapsing is not redone, so every replicate uses the same classes. A class
/// whose respondents carry no weight in this replicate gets factor 0.
pub fn nonresponse_reapply(
    unit_class: &[usize],
    status: &[ResponseStatus],
    weights: &[f64],
) -> Result<Vec<f64>, Error> {
    if status.len() != unit_class.len() || weights.len() != unit_class.len() {
        return Err(Error::LengthMismatch {
            what: "non-response re-application",
            expected: unit_class.len(),
            found: status.len().min(weights.len()),
        });
    }
    let n_classes = unit_class.iter().map(|c| c + 1).max().unwrap_or(0);
    // One pass accumulates every class's sums (R, NR, I, U).
    let mut sums: Vec<Sums> = (0..n_classes)
        .map(|_| Sums {
            respondents: 0,
            r: 0.0,
            nr: 0.0,
            i: 0.0,
            u: 0.0,
        })
        .collect();
    for k in 0..unit_class.len() {
        let class_sums = &mut sums[unit_class[k]];
        match status[k] {
            ResponseStatus::Respondent => {
                class_sums.respondents += 1;
                class_sums.r += weights[k];
            }
            ResponseStatus::NonRespondent => class_sums.nr += weights[k],
            ResponseStatus::Ineligible => class_sums.i += weights[k],
            ResponseStatus::Unknown => class_sums.u += weights[k],
        }
    }
    let factors: Vec<f64> = sums
        .iter()
        .map(|class_sums| {
            let (_, a) = rates(class_sums);
            if a.is_finite() { a } else { 0.0 }
        })
        .collect();
    Ok((0..unit_class.len())
        .map(|k| {
            if status[k] == ResponseStatus::Respondent {
                factors[unit_class[k]]
            } else {
                0.0
            }
        })
        .collect())
}
