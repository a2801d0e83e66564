//! Point estimates of the catalog's indicators for one weight set, by domain.
//!
//! Expressions are evaluated once per row ([`prepare`]); each weight set (the full sample or
//! one replicate) then costs a few passes over numeric columns. Survey-level parameters
//! (the median of hourly earnings) are recomputed for every weight set, and the expressions
//! that read them are re-evaluated, as METHODOLOGY §4.2 requires for low pay.

use std::collections::BTreeMap;

use crate::estimate::indicators::catalog::{Catalog, GapStatistic, Kind};
use crate::estimate::indicators::error::Error;
use crate::estimate::indicators::expr::{Expr, evaluate, holds, uses_parameters};
use crate::estimate::indicators::record::{Records, Value};

/// Per-row values of one indicator.
#[derive(Clone, Debug)]
pub struct PreparedIndicator {
    /// Row is in the universe and has the values the kind needs.
    pub universe: Vec<bool>,
    /// Value, numerator (0/1 for proportions) or 1 for totals.
    pub a: Vec<f64>,
    /// Denominator value for ratios; 1 otherwise.
    pub b: Vec<f64>,
    /// Gap group: 1 = reference, 2 = comparison, 0 = neither.
    pub group: Vec<u8>,
    /// A numerator that reads a parameter, re-evaluated per weight set.
    dependent: Option<Expr>,
    /// The declared threshold variable of a proportion (`Kind::Proportion::threshold`),
    /// NaN outside the universe or where missing.
    pub threshold_values: Option<Vec<f64>>,
}

/// Everything evaluated once per row.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub indicators: Vec<PreparedIndicator>,
    /// Per parameter: (value per row, NaN outside its universe).
    parameters: Vec<(Vec<f64>, f64)>,
}

fn number(value: Value) -> f64 {
    value.as_number().unwrap_or(f64::NAN)
}

impl Prepared {
    /// Parameter `i`'s value per row (NaN outside its universe) and its probability.
    pub fn parameter(&self, i: usize) -> Option<(&[f64], f64)> {
        self.parameters.get(i).map(|(v, p)| (v.as_slice(), *p))
    }
}

/// Evaluates every expression of the catalog on every row.
pub fn prepare(catalog: &Catalog, records: &Records) -> Prepared {
    let n = records.len();
    // Parameters are evaluated first; those expressions see NaN for later parameters.
    let no_params: Vec<f64> = vec![f64::NAN; catalog.parameters.len()];
    let parameters = catalog
        .parameters
        .iter()
        .map(|p| {
            let values = (0..n)
                .map(|row| {
                    if holds(&p.universe, records, row, &no_params) {
                        number(evaluate(&p.value, records, row, &no_params))
                    } else {
                        f64::NAN
                    }
                })
                .collect();
            (values, p.p)
        })
        .collect();
    let indicators = catalog
        .indicators
        .iter()
        .map(|ind| {
            let mut universe = vec![false; n];
            let mut a = vec![0.0; n];
            let mut b = vec![1.0; n];
            let mut group = vec![0u8; n];
            let mut dependent = None;
            let mut threshold_values = match &ind.kind {
                Kind::Proportion {
                    threshold: Some(_), ..
                } => Some(vec![f64::NAN; n]),
                _ => None,
            };
            for k in 0..n {
                let row = k;
                if !holds(&ind.universe, records, row, &no_params) {
                    continue;
                }
                match &ind.kind {
                    Kind::Total { value } => {
                        let v = value
                            .as_ref()
                            .map_or(1.0, |e| number(evaluate(e, records, row, &no_params)));
                        universe[k] = v.is_finite();
                        a[k] = v;
                    }
                    Kind::Mean { value } | Kind::Quantile { value, .. } => {
                        let v = number(evaluate(value, records, row, &no_params));
                        universe[k] = v.is_finite();
                        a[k] = v;
                    }
                    Kind::Proportion {
                        numerator,
                        threshold,
                    } => {
                        universe[k] = true;
                        if let (Some(t), Some(values)) = (threshold, &mut threshold_values) {
                            values[k] = number(evaluate(&t.value, records, row, &no_params));
                        }
                        if uses_parameters(numerator) {
                            dependent = Some(numerator.clone());
                        } else {
                            a[k] = if holds(numerator, records, row, &no_params) {
                                1.0
                            } else {
                                0.0
                            };
                        }
                    }
                    Kind::Ratio {
                        numerator,
                        denominator,
                    } => {
                        let x = number(evaluate(numerator, records, row, &no_params));
                        let z = number(evaluate(denominator, records, row, &no_params));
                        universe[k] = x.is_finite() && z.is_finite();
                        a[k] = x;
                        b[k] = z;
                    }
                    Kind::Gap {
                        value,
                        group: g,
                        reference,
                        comparison,
                        ..
                    } => {
                        let v = number(evaluate(value, records, row, &no_params));
                        let label = evaluate(g, records, row, &no_params).as_text();
                        group[k] = if label == *reference {
                            1
                        } else if label == *comparison {
                            2
                        } else {
                            0
                        };
                        universe[k] = v.is_finite() && group[k] != 0;
                        a[k] = v;
                    }
                }
                if !universe[k] {
                    a[k] = 0.0;
                    b[k] = 0.0;
                }
            }
            PreparedIndicator {
                universe,
                a,
                b,
                group,
                dependent,
                threshold_values,
            }
        })
        .collect();
    Prepared {
        indicators,
        parameters,
    }
}

/// Weighted quantile by the inverse-CDF rule (METHODOLOGY §3.9): the smallest value y with
/// F̂(y) ≥ p, F̂ the weighted empirical CDF. Rows with NaN values or zero weight are skipped.
/// A relative tolerance of 1e-12 on F̂ keeps exact ties (F̂ = p, the §4.6 case) from being
/// lost to rounding of the cumulative sum.
pub fn weighted_quantile(values: &[f64], weights: &[f64], mask: &[bool], p: f64) -> Option<f64> {
    let mut pairs: Vec<(f64, f64)> = (0..values.len())
        .filter(|&k| mask[k] && values[k].is_finite() && weights[k] > 0.0)
        .map(|k| (values[k], weights[k]))
        .collect();
    if pairs.is_empty() {
        return None;
    }
    pairs.sort_by(|x, y| x.0.total_cmp(&y.0));
    let total: f64 = pairs.iter().map(|(_, w)| w).sum();
    let target = p * total * (1.0 - 1e-12);
    let mut cumulative = 0.0;
    for (idx, &(value, weight)) in pairs.iter().enumerate() {
        cumulative += weight;
        // Only stop at the last row of a run of equal values.
        let last_of_value = pairs.get(idx + 1).is_none_or(|next| next.0 != value);
        if last_of_value && cumulative >= target {
            return Some(value);
        }
    }
    pairs.last().map(|(v, _)| *v)
}

/// The parameters (e.g. the median of hourly earnings) for one weight set.
pub fn parameter_values(prepared: &Prepared, weights: &[f64]) -> Vec<f64> {
    prepared
        .parameters
        .iter()
        .map(|(values, p)| {
            let mask: Vec<bool> = values.iter().map(|v| v.is_finite()).collect();
            weighted_quantile(values, weights, &mask, *p).unwrap_or(f64::NAN)
        })
        .collect()
}

/// The numerator column of indicator `idx` for one weight set's parameters.
pub fn numerator_column(
    prepared: &Prepared,
    idx: usize,
    records: &Records,
    params: &[f64],
) -> Vec<f64> {
    let ind = &prepared.indicators[idx];
    match &ind.dependent {
        None => ind.a.clone(),
        Some(expr) => (0..records.len())
            .zip(&ind.universe)
            .map(|(row, &in_universe)| {
                if in_universe && holds(expr, records, row, params) {
                    1.0
                } else {
                    0.0
                }
            })
            .collect(),
    }
}

/// The point estimate of indicator `idx` in the rows flagged by `domain`, for `weights`,
/// given the parameter values of the same weight set. `None` when the domain has no weight
/// in the universe (or a gap's reference statistic is 0), and when `idx`, `domain`,
/// `weights` and the records do not fit together.
pub fn point_estimate(
    catalog: &Catalog,
    prepared: &Prepared,
    idx: usize,
    records: &Records,
    weights: &[f64],
    params: &[f64],
    domain: &[bool],
) -> Option<f64> {
    let ind = prepared.indicators.get(idx)?;
    let scale = catalog.indicators.get(idx)?.scale;
    // Mismatched lengths cannot describe one record set.
    if domain.len() != weights.len()
        || ind.universe.len() != weights.len()
        || records.len() != weights.len()
    {
        return None;
    }
    let mask: Vec<bool> = (0..weights.len())
        .map(|k| domain[k] && ind.universe[k])
        .collect();
    let sum = |f: &dyn Fn(usize) -> f64| -> f64 {
        (0..weights.len())
            .filter(|&k| mask[k])
            .map(|k| weights[k] * f(k))
            .sum()
    };
    let value = match &catalog.indicators[idx].kind {
        Kind::Total { .. } => Some(sum(&|k| ind.a[k])),
        Kind::Mean { .. } => ratio(sum(&|k| ind.a[k]), sum(&|_| 1.0)),
        Kind::Proportion { .. } => {
            let a = numerator_column(prepared, idx, records, params);
            ratio(sum(&|k| a[k]), sum(&|_| 1.0))
        }
        Kind::Ratio { .. } => ratio(sum(&|k| ind.a[k]), sum(&|k| ind.b[k])),
        Kind::Quantile { p, .. } => weighted_quantile(&ind.a, weights, &mask, *p),
        Kind::Gap { statistic, .. } => {
            let stat = |g: u8| -> Option<f64> {
                let group_mask: Vec<bool> = (0..weights.len())
                    .map(|k| mask[k] && ind.group[k] == g)
                    .collect();
                match statistic {
                    GapStatistic::Mean => {
                        let num: f64 = (0..weights.len())
                            .filter(|&k| group_mask[k])
                            .map(|k| weights[k] * ind.a[k])
                            .sum();
                        let den: f64 = (0..weights.len())
                            .filter(|&k| group_mask[k])
                            .map(|k| weights[k])
                            .sum();
                        ratio(num, den)
                    }
                    GapStatistic::Median => weighted_quantile(&ind.a, weights, &group_mask, 0.5),
                }
            };
            match (stat(1), stat(2)) {
                (Some(reference), Some(comparison)) if reference != 0.0 => {
                    Some((reference - comparison) / reference)
                }
                _ => None,
            }
        }
    };
    value.map(|v| v * scale)
}

fn ratio(numerator: f64, denominator: f64) -> Option<f64> {
    if denominator > 0.0 {
        Some(numerator / denominator)
    } else {
        None
    }
}

/// One domain: the values of the `by` columns and the rows that have them.
#[derive(Clone, Debug, PartialEq)]
pub struct DomainRows {
    pub key: Vec<String>,
    pub mask: Vec<bool>,
}

/// The domains of `by` (one or more columns): each distinct combination of values, in
/// sorted order, with its row mask. Missing values form their own level "" (shown as NA).
pub fn domains(records: &Records, by: &[String]) -> Result<Vec<DomainRows>, Error> {
    for column in by {
        if records.schema.get(column).is_none() {
            return Err(Error::Record(format!(
                "domain column `{column}` is not in the data"
            )));
        }
    }
    let mut groups: BTreeMap<Vec<String>, Vec<bool>> = BTreeMap::new();
    for row in 0..records.len() {
        let key: Vec<String> = by.iter().map(|c| records.get(row, c).as_text()).collect();
        groups
            .entry(key)
            .or_insert_with(|| vec![false; records.len()])[row] = true;
    }
    Ok(groups
        .into_iter()
        .map(|(key, mask)| DomainRows { key, mask })
        .collect())
}

/// Checks a weight vector against the records.
pub fn check_weights(records: &Records, weights: &[f64]) -> Result<(), Error> {
    if weights.len() != records.len() {
        return Err(Error::Weights(format!(
            "{} weights for {} records",
            weights.len(),
            records.len()
        )));
    }
    if let Some(k) = weights.iter().position(|w| !w.is_finite() || *w < 0.0) {
        return Err(Error::Weights(format!(
            "row {}: weight {} is not a finite non-negative number",
            k + 1,
            weights[k]
        )));
    }
    Ok(())
}
