//! The indicator table: every indicator of the catalog, overall and by domain, with its
//! design-based standard error, confidence interval, CV, n and publication flag.
//!
//! Variances come from `estimate`'s [`Design`] (Taylor linearization with the design's
//! strata/PSUs/fpc, calibration residuals, or its replicate weights):
//! - totals, means, proportions and ratios go through `estimator::{total, ratio}`;
//! - the mean-based gender pay gap is a smooth function of four totals: its linearized
//!   variable feeds `estimator::linearized_variance` (so a calibrated design's residuals
//!   apply, as for every other kind), or its replicate values come from the replicate totals;
//! - quantiles use a Woodruff interval (SE of F̂(q̂) as a design-based mean, mapped back);
//! - a proportion with a declared `threshold` (low pay: below 2/3 of the estimated median)
//!   linearizes the estimated median too (`threshold`: Deville/Osier, Gaussian-kernel
//!   densities), so its SE no longer treats the threshold as fixed;
//! - the median-based gap has no SE here (reported as missing, flagged suppress).
//!
//! When the design has replicate weights (columns of the data, as `chainsurvey weights`
//! writes them, or generated from the design; calibrated per replicate when the design is
//! calibrated), every indicator is instead recomputed in full inside each
//! replicate — parameters such as the low-pay median included — and the spread goes through
//! the design's replicate variance (scale, rscales, mse). This is exact for every kind,
//! and costs one evaluation per replicate.

use crate::estimate::design::Design;
use crate::estimate::estimator::{self, Domain};
use crate::estimate::indicators::catalog::{Catalog, GapStatistic, Kind, Threshold};
use crate::estimate::indicators::error::Error;
use crate::estimate::indicators::evaluate::{
    Prepared, domains, numerator_column, parameter_values, point_estimate, weighted_quantile,
};
use crate::estimate::indicators::record::Records;
use crate::estimate::indicators::threshold::{self, BelowFraction};
use crate::estimate::interval;
use crate::estimate::reliability::{self, Reliability, ReliabilityRules};

/// One row of the indicator table.
#[derive(Clone, Debug, PartialEq)]
pub struct IndicatorRow {
    pub id: String,
    pub number: u32,
    pub label: String,
    /// `all`, or `col=value;col2=value`.
    pub domain: String,
    pub estimate: f64,
    /// Missing when no variance method applies.
    pub se: Option<f64>,
    pub ci_lower: Option<f64>,
    pub ci_upper: Option<f64>,
    /// How the interval was formed.
    pub ci_method: CiMethod,
    pub cv: Option<f64>,
    /// Respondent rows in the indicator's universe and the domain.
    pub n: usize,
    /// First-stage PSUs contributing.
    pub psus: usize,
    /// publish / caution / suppress.
    pub flag: String,
    /// CV letter A–F (empty without SE).
    pub cv_letter: String,
}

/// The confidence-interval method of a row (the `ci_method` column).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CiMethod {
    /// `expit(logit p̂ ± t_df·se/(p̂(1−p̂)))` on the unscaled proportion (R `svyciprop(method =
    /// "logit")`), the default for proportion indicators strictly between 0 and 1.
    Logit,
    /// `θ̂ ± t_df·se` with the design degrees of freedom: means, totals, ratios, quantiles,
    /// gaps.
    WaldT,
    /// A proportion at exactly 0 or 1 (no variation in the domain's sample, SE 0): the exact
    /// binomial interval on the domain's `n` observations (Korn–Graubard at the boundary,
    /// [`interval::boundary_proportion`]), where logit is undefined and Wald collapses.
    ClopperPearson,
    /// `θ̂ ± z·se`: as `WaldT` when the design has no positive degrees of freedom.
    Wald,
    /// No interval (no SE).
    None,
}

impl CiMethod {
    /// The name written in the output: `logit`, `wald_t`, `wald` or empty.
    pub fn as_str(self) -> &'static str {
        match self {
            CiMethod::Logit => "logit",
            CiMethod::WaldT => "wald_t",
            CiMethod::ClopperPearson => "clopper_pearson",
            CiMethod::Wald => "wald",
            CiMethod::None => "",
        }
    }
}

/// A confidence interval and the method that formed it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interval {
    pub lower: f64,
    pub upper: f64,
    pub method: CiMethod,
}

/// The interval of one indicator estimate: logit for a proportion kind (on `estimate/scale`,
/// mapped back by `scale`, so percentages get the same interval as fractions), the exact
/// binomial interval on the domain's `n` observations for a proportion at exactly 0 or 1,
/// Wald with the t quantile of the design degrees of freedom `df` otherwise (normal when
/// `df` ≤ 0 or infinite).
pub fn confidence_interval(
    is_proportion: bool,
    estimate: f64,
    se: f64,
    scale: f64,
    level: f64,
    df: f64,
    n: usize,
) -> Interval {
    let p = estimate / scale;
    if is_proportion && let Some((l, u)) = interval::boundary_proportion(p, n, level) {
        return Interval {
            lower: l * scale,
            upper: u * scale,
            method: CiMethod::ClopperPearson,
        };
    }
    if is_proportion && p > 0.0 && p < 1.0 {
        let (l, u) = interval::logit(p, se / scale, level, df);
        return Interval {
            lower: l * scale,
            upper: u * scale,
            method: CiMethod::Logit,
        };
    }
    let (lower, upper) = interval::wald(estimate, se, level, df);
    let method = if df.is_finite() && df > 0.0 {
        CiMethod::WaldT
    } else {
        CiMethod::Wald
    };
    Interval {
        lower,
        upper,
        method,
    }
}

fn design_error(e: crate::estimate::Error) -> Error {
    Error::Design(e.to_string())
}

/// The replicate weight vectors of a replicate design, one per replicate over every data row
/// (`None` for a Taylor design): generated or given as columns, and calibrated when the design
/// has a calibration step (each replicate then carries its own calibrated weights).
pub fn replicate_weight_vectors(design: &Design) -> Option<Vec<Vec<f64>>> {
    let reps = design.replicates.as_ref()?;
    Some(
        (0..reps.len())
            .map(|r| reps.weight_column(r, design.weights()))
            .collect(),
    )
}

/// Computes the table. `by` lists domain columns (crossed); an indicator is broken down only
/// when every `by` column is among its catalog domains. `replicate_weights` (from
/// [`replicate_weight_vectors`]) switches every SE to full re-evaluation per replicate.
#[allow(clippy::too_many_arguments)]
pub fn indicator_table(
    catalog: &Catalog,
    prepared: &Prepared,
    records: &Records,
    design: &Design,
    replicate_weights: Option<&[Vec<f64>]>,
    by: &[String],
    ci_level: f64,
    rules: &ReliabilityRules,
) -> Result<Vec<IndicatorRow>, Error> {
    let weights = design.weights().to_vec();
    let params = parameter_values(prepared, &weights);
    let replicate_route = match (replicate_weights, &design.replicates) {
        (Some(vectors), Some(reps)) if vectors.len() == reps.len() => {
            let params_r: Vec<Vec<f64>> = vectors
                .iter()
                .map(|w| parameter_values(prepared, w))
                .collect();
            Some((vectors, params_r, reps))
        }
        _ => None,
    };
    let n = records.len();
    let mut domain_list: Vec<(String, Vec<bool>)> = vec![("all".to_string(), vec![true; n])];
    if !by.is_empty() {
        for domain in domains(records, by)? {
            let label = by
                .iter()
                .zip(&domain.key)
                .map(|(c, v)| format!("{c}={}", if v.is_empty() { "NA" } else { v }))
                .collect::<Vec<_>>()
                .join(";");
            domain_list.push((label, domain.mask));
        }
    }
    let mut rows = Vec::new();
    for (idx, indicator) in catalog.indicators.iter().enumerate() {
        let breakdown = by.iter().all(|c| indicator.domains.contains(c));
        for (d, (label, mask)) in domain_list.iter().enumerate() {
            if d > 0 && !breakdown {
                continue;
            }
            let Some(estimate) =
                point_estimate(catalog, prepared, idx, records, &weights, &params, mask)
            else {
                continue;
            };
            let prep = &prepared.indicators[idx];
            let in_scope: Vec<bool> = (0..n).map(|k| mask[k] && prep.universe[k]).collect();
            let count = in_scope.iter().filter(|&&b| b).count();
            let domain = Domain::from_mask(in_scope.clone());
            let scale = indicator.scale;
            let (se, df) = if let Some((vectors, params_r, reps)) = &replicate_route {
                let thetas: Option<Vec<f64>> = vectors
                    .iter()
                    .zip(params_r)
                    .map(|(w, p)| point_estimate(catalog, prepared, idx, records, w, p, mask))
                    .collect();
                (
                    thetas.map(|t| reps.variance(&t, estimate).sqrt()),
                    design.degrees_of_freedom(&in_scope),
                )
            } else {
                match &indicator.kind {
                    Kind::Total { .. } => {
                        let e = estimator::total(design, &prep.a, &domain, false)
                            .map_err(design_error)?;
                        (Some(e.se() * scale), e.df)
                    }
                    Kind::Mean { .. } => {
                        let ones = vec![1.0; n];
                        let e = estimator::ratio(design, &prep.a, &ones, &domain, false)
                            .map_err(design_error)?;
                        (Some(e.se() * scale), e.df)
                    }
                    Kind::Proportion {
                        threshold: Some(t), ..
                    } => {
                        let a = numerator_column(prepared, idx, records, &params);
                        let se =
                            threshold_se(design, prepared, idx, t, &a, &in_scope, &indicator.id)?;
                        (se.map(|s| s * scale), design.degrees_of_freedom(&in_scope))
                    }
                    Kind::Proportion {
                        threshold: None, ..
                    } => {
                        let a = numerator_column(prepared, idx, records, &params);
                        let ones = vec![1.0; n];
                        let e = estimator::ratio(design, &a, &ones, &domain, false)
                            .map_err(design_error)?;
                        (Some(e.se() * scale), e.df)
                    }
                    Kind::Ratio { .. } => {
                        let e = estimator::ratio(design, &prep.a, &prep.b, &domain, false)
                            .map_err(design_error)?;
                        (Some(e.se() * scale), e.df)
                    }
                    Kind::Quantile { p, .. } => woodruff(
                        design,
                        &prep.a,
                        &weights,
                        &in_scope,
                        *p,
                        estimate / scale,
                        ci_level,
                    )?
                    .map_or((None, design.degrees_of_freedom(&in_scope)), |(se, df)| {
                        (Some(se * scale), df)
                    }),
                    Kind::Gap {
                        statistic: GapStatistic::Mean,
                        ..
                    } => {
                        let se = mean_gap_se(design, &prep.a, &prep.group, &weights, &in_scope)?;
                        (se.map(|s| s * scale), design.degrees_of_freedom(&in_scope))
                    }
                    Kind::Gap {
                        statistic: GapStatistic::Median,
                        ..
                    } => (None, design.degrees_of_freedom(&in_scope)),
                }
            };
            let se = se.filter(|s| s.is_finite());
            let is_proportion = matches!(indicator.kind, Kind::Proportion { .. });
            let (ci_lower, ci_upper, ci_method) = match se {
                Some(s) => {
                    let ci =
                        confidence_interval(is_proportion, estimate, s, scale, ci_level, df, count);
                    (Some(ci.lower), Some(ci.upper), ci.method)
                }
                None => (None, None, CiMethod::None),
            };
            let psus = count_psus(design, &in_scope);
            let cv = se.map(|s| s / estimate.abs());
            let (flag, cv_letter) = match se {
                Some(s) => {
                    let r = Reliability {
                        estimate,
                        se: s,
                        n: count,
                        psus,
                        is_proportion: is_proportion && scale == 1.0,
                    };
                    let judged = reliability::judged_cv(rules, &r);
                    (
                        reliability::flag(rules, &r).as_str().to_string(),
                        reliability::cv_letter(rules, judged).to_string(),
                    )
                }
                None => ("suppress".to_string(), String::new()),
            };
            rows.push(IndicatorRow {
                id: indicator.id.clone(),
                number: indicator.number,
                label: indicator.label_en.clone(),
                domain: label.clone(),
                estimate,
                se,
                ci_lower,
                ci_upper,
                ci_method,
                cv,
                n: count,
                psus,
                flag,
                cv_letter,
            });
        }
    }
    Ok(rows)
}

/// SE of a proportion below a fraction of an estimated quantile (low pay), linearizing the
/// threshold ([`threshold::below_fraction_of_quantile`]) and taking the design's
/// calibration-aware Taylor variance. The declared threshold must reproduce the numerator on
/// every row of the domain; otherwise the catalog is wrong and this is an error.
fn threshold_se(
    design: &Design,
    prepared: &Prepared,
    idx: usize,
    threshold: &Threshold,
    numerator: &[f64],
    in_scope: &[bool],
    id: &str,
) -> Result<Option<f64>, Error> {
    let weights = design.weights();
    let Some((quantile_values, p)) = prepared.parameter(threshold.parameter) else {
        return Err(Error::Catalog(format!(
            "{id}: threshold parameter {} is not prepared",
            threshold.parameter
        )));
    };
    let Some(values) = prepared.indicators[idx].threshold_values.as_deref() else {
        return Ok(None);
    };
    let Some(lin) = threshold::below_fraction_of_quantile(&BelowFraction {
        values,
        in_domain: in_scope,
        quantile_values,
        p,
        fraction: threshold.fraction,
        weights,
    }) else {
        return Ok(None);
    };
    for k in 0..values.len() {
        if in_scope[k] && weights[k] > 0.0 {
            let declared = values[k] < lin.threshold;
            if declared != (numerator[k] == 1.0) {
                return Err(Error::Catalog(format!(
                    "{id}: the threshold (`value` < {} × parameter) disagrees with the numerator at data row {}",
                    threshold.fraction,
                    k + 1
                )));
            }
        }
    }
    let variance =
        estimator::linearized_variance(design, lin.x, &lin.mask).map_err(design_error)?;
    Ok(Some(variance.sqrt()))
}

/// First-stage PSUs with a positive-weight row in `mask`.
fn count_psus(design: &Design, mask: &[bool]) -> usize {
    let stage = &design.stages[0];
    let mut seen = vec![false; stage.stratum_of_cluster.len()];
    let mut count = 0;
    for (k, &inside) in mask.iter().enumerate() {
        if inside && design.weights()[k] > 0.0 {
            let c = stage.cluster[k] as usize;
            if !seen[c] {
                seen[c] = true;
                count += 1;
            }
        }
    }
    count
}

/// Woodruff SE of a quantile: SE of p̂ = F̂(q̂) as a design mean, the interval p̂ ± c·SE
/// mapped back through the quantile function, SE(q̂) = (upper − lower)/(2c).
fn woodruff(
    design: &Design,
    values: &[f64],
    weights: &[f64],
    mask: &[bool],
    p: f64,
    q_hat: f64,
    level: f64,
) -> Result<Option<(f64, f64)>, Error> {
    let below: Vec<f64> = values
        .iter()
        .map(|&v| if v <= q_hat { 1.0 } else { 0.0 })
        .collect();
    let ones = vec![1.0; values.len()];
    let e = estimator::ratio(
        design,
        &below,
        &ones,
        &Domain::from_mask(mask.to_vec()),
        false,
    )
    .map_err(design_error)?;
    let c = interval::critical_value(level, e.df);
    let half = c * e.se();
    if !half.is_finite() || c <= 0.0 {
        return Ok(None);
    }
    let lower = weighted_quantile(values, weights, mask, (p - half).clamp(1e-12, 1.0));
    let upper = weighted_quantile(values, weights, mask, (p + half).clamp(1e-12, 1.0));
    Ok(match (lower, upper) {
        (Some(l), Some(u)) => Some(((u - l) / (2.0 * c), e.df)),
        _ => None,
    })
}

/// SE of g = 1 − (Y_F/N_F)/(Y_M/N_M) (unscaled) from four domain totals: by replicates
/// when the design has them, else by linearization through
/// [`estimator::linearized_variance`] (calibration residuals included).
fn mean_gap_se(
    design: &Design,
    values: &[f64],
    group: &[u8],
    weights: &[f64],
    mask: &[bool],
) -> Result<Option<f64>, Error> {
    let n = values.len();
    let column = |g: u8, with_value: bool| -> Vec<f64> {
        (0..n)
            .map(|k| {
                if mask[k] && group[k] == g {
                    if with_value { values[k] } else { 1.0 }
                } else {
                    0.0
                }
            })
            .collect()
    };
    let columns = [
        column(1, true),
        column(1, false),
        column(2, true),
        column(2, false),
    ];
    let totals: Vec<f64> = columns
        .iter()
        .map(|c| (0..n).map(|k| weights[k] * c[k]).sum())
        .collect();
    let gap = |t: &[f64]| 1.0 - (t[2] / t[3]) / (t[0] / t[1]);
    if totals.contains(&0.0) {
        return Ok(None);
    }
    let estimate = gap(&totals);
    if let Some(reps) = &design.replicates {
        let views: Vec<&[f64]> = columns.iter().map(Vec::as_slice).collect();
        let thetas: Vec<f64> = reps
            .totals(weights, &views)
            .iter()
            .map(|t| gap(t))
            .collect();
        return Ok(Some(reps.variance(&thetas, estimate).sqrt()));
    }
    // ∂g/∂T = −∂r/∂T with r = T2·T1/(T3·T0).
    let r = 1.0 - estimate;
    let gradient = [r / totals[0], -r / totals[1], -r / totals[2], r / totals[3]];
    let x: Vec<f64> = (0..n)
        .map(|k| weights[k] * (0..4).map(|j| gradient[j] * columns[j][k]).sum::<f64>())
        .collect();
    // Calibration-aware: the residual of x from the calibration model when the design is
    // calibrated (as for every other kind), plain Taylor otherwise.
    let variance = estimator::linearized_variance(design, x, mask).map_err(design_error)?;
    Ok(Some(variance.sqrt()))
}
