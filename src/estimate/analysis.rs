//! `chainsurvey analyze`: any survey's microdata + `DESIGN.json` + `ESTIMATE.json` → a table
//! of estimates. The CLI, the tests against R and the server all call [`analyze`] (or
//! [`analyze_text`]), so they compute the same numbers.
// Row loops index several parallel columns at once; an index reads clearer than zipped
// iterators here.
#![allow(clippy::needless_range_loop)]

use crate::estimate::Error;
use crate::estimate::calibrated::json_label;
use crate::estimate::design::Design;
use crate::estimate::estimator::{self, Domain, Estimate};
use crate::estimate::fast_hash::FastMap;
use crate::estimate::interval;
use crate::estimate::quantile::{self, Rule};
use crate::estimate::spec::{self, CiMethod, EstimateKind, EstimateSpec};
use crate::estimate::table::{Column, Table, format_number};

/// One output row.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalysisRow {
    /// What was estimated: `api00`, `api00/enroll`, `stypeE`, `api00@0.5`.
    pub name: String,
    /// The domain, `col=value,col2=value`, empty for the whole (sub)population.
    pub domain: String,
    pub estimate: f64,
    pub se: f64,
    pub ci_lower: f64,
    pub ci_upper: f64,
    /// Design effect when requested.
    pub deff: Option<f64>,
    /// Coefficient of variation `se/|estimate|`.
    pub cv: f64,
    /// Domain rows used.
    pub n: usize,
    /// Design degrees of freedom of the domain.
    pub df: f64,
}

/// Parses the three inputs and runs every estimate.
pub fn analyze_text(
    data_csv: &[u8],
    design_json: &str,
    estimate_json: &str,
) -> Result<Vec<AnalysisRow>, Error> {
    let table = Table::from_csv(data_csv)?;
    let design_spec = spec::parse_design(design_json)?;
    let estimates = spec::parse_estimates(estimate_json)?;
    let design = Design::build(&table, &design_spec)?;
    let mut rows = Vec::new();
    for estimate in &estimates {
        rows.extend(analyze(&table, &design, estimate)?);
    }
    Ok(rows)
}

/// Runs one estimate request on a built design.
pub fn analyze(
    table: &Table,
    design: &Design,
    spec: &EstimateSpec,
) -> Result<Vec<AnalysisRow>, Error> {
    let ci = spec.ci.unwrap_or(spec::CiSpec {
        level: 0.95,
        method: CiMethod::WaldT,
    });
    if !(ci.level > 0.0 && ci.level < 1.0) {
        return Err(Error::Spec(format!(
            "ci.level must be in (0, 1), got {}",
            ci.level
        )));
    }
    let variables: Vec<String> = match spec.kind {
        EstimateKind::Ratio => {
            if spec.numerator.is_empty() || spec.denominator.is_empty() {
                return Err(Error::Spec(
                    "a ratio needs \"numerator\" and \"denominator\"".into(),
                ));
            }
            spec.numerator
                .iter()
                .chain(&spec.denominator)
                .cloned()
                .collect()
        }
        _ => {
            if spec.variables.is_empty() {
                return Err(Error::Spec("\"variables\" is empty".into()));
            }
            spec.variables.clone()
        }
    };
    if spec.kind == EstimateKind::Quantile && spec.probs.is_empty() {
        return Err(Error::Spec("a quantile needs \"probs\"".into()));
    }
    if let Some(p) = spec.probs.iter().find(|p| !(0.0..=1.0).contains(*p)) {
        return Err(Error::Spec(format!("probs must be in [0, 1], got {p}")));
    }
    let rule = Rule::parse(spec.qrule.as_deref().unwrap_or("math"))?;

    // The (sub)population: subset conditions, then na_rm over all analysis variables.
    let mut base = Domain::all(table.rows());
    for (column, value) in &spec.subset {
        let col = table.column(column)?;
        let wanted: Vec<String> = match value {
            serde_json::Value::Array(items) => items.iter().map(json_label).collect(),
            other => vec![json_label(other)],
        };
        base = base.and(|k| !col.is_missing(k) && wanted.contains(&col.label(k)));
    }
    let analysis_columns: Vec<&Column> = variables
        .iter()
        .map(|v| table.column(v))
        .collect::<Result<_, _>>()?;
    if spec.na_rm {
        base = base.and(|k| analysis_columns.iter().all(|c| !c.is_missing(k)));
    }

    let domains = domains_of(table, &spec.by, &base)?;
    let mut out = Vec::new();
    for (label, domain) in &domains {
        if domain.count() == 0 {
            return Err(Error::EmptyDomain {
                domain: if label.is_empty() {
                    "subset".into()
                } else {
                    label.clone()
                },
            });
        }
        for (name, column) in variables.iter().zip(&analysis_columns) {
            if domain.rows().iter().any(|&k| column.is_missing(k as usize)) {
                return Err(Error::MissingValues {
                    column: name.clone(),
                });
            }
        }
        let mut push = |item: String, e: Estimate, method: CiMethod, is_proportion: bool| {
            let se = e.se();
            let df = if method == CiMethod::Wald {
                f64::INFINITY
            } else {
                e.df
            };
            let (lo, hi) = if method == CiMethod::Logit && is_proportion {
                interval::logit(e.estimate, se, ci.level, df)
            } else {
                interval::wald(e.estimate, se, ci.level, df)
            };
            out.push(AnalysisRow {
                name: match &spec.name {
                    Some(prefix) => format!("{prefix}:{item}"),
                    None => item,
                },
                domain: label.clone(),
                estimate: e.estimate,
                se,
                ci_lower: lo,
                ci_upper: hi,
                deff: e.deff,
                cv: e.cv(),
                n: e.n,
                df: e.df,
            });
        };
        match spec.kind {
            EstimateKind::Mean | EstimateKind::Total => {
                for name in &variables {
                    let y = table.numeric(name)?;
                    let e = if spec.kind == EstimateKind::Mean {
                        estimator::mean(design, y, domain, spec.deff)?
                    } else {
                        estimator::total(design, y, domain, spec.deff)?
                    };
                    push(name.clone(), e, ci.method, false);
                }
            }
            EstimateKind::Ratio => {
                for num in &spec.numerator {
                    for den in &spec.denominator {
                        let e = estimator::ratio(
                            design,
                            table.numeric(num)?,
                            table.numeric(den)?,
                            domain,
                            spec.deff,
                        )?;
                        push(format!("{num}/{den}"), e, ci.method, false);
                    }
                }
            }
            EstimateKind::Proportion => {
                for name in &variables {
                    let column = table.column(name)?;
                    for (level, indicator) in level_indicators(column) {
                        let e = estimator::mean(design, &indicator, domain, spec.deff)?;
                        push(format!("{name}{level}"), e, ci.method, true);
                    }
                }
            }
            EstimateKind::Quantile => {
                for name in &variables {
                    let y = table.numeric(name)?;
                    for &p in &spec.probs {
                        let e = woodruff(design, y, domain, p, rule, ci.level, ci.method)?;
                        out.push(AnalysisRow {
                            name: match &spec.name {
                                Some(prefix) => format!("{prefix}:{name}@{}", format_number(p)),
                                None => format!("{name}@{}", format_number(p)),
                            },
                            domain: label.clone(),
                            estimate: e.0,
                            se: e.1,
                            ci_lower: e.2,
                            ci_upper: e.3,
                            deff: None,
                            cv: e.1 / e.0.abs(),
                            n: domain.count(),
                            df: design.degrees_of_freedom_of(domain),
                        });
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Quantile with its Woodruff interval: `(q̂, se, lower, upper)`.
fn woodruff(
    design: &Design,
    y: &[f64],
    domain: &Domain,
    p: f64,
    rule: Rule,
    level: f64,
    method: CiMethod,
) -> Result<(f64, f64, f64, f64), Error> {
    let w = design.weights();
    let (values, weights): (Vec<f64>, Vec<f64>) = domain
        .rows()
        .iter()
        .map(|&k| (y[k as usize], w[k as usize]))
        .unzip();
    let q = quantile::quantile(&values, &weights, p, rule);
    let mut below = vec![0.0; y.len()];
    for &k in domain.rows() {
        below[k as usize] = f64::from(u8::from(y[k as usize] <= q));
    }
    let m = estimator::mean(design, &below, domain, false)?;
    let df = if method == CiMethod::Wald {
        f64::INFINITY
    } else {
        m.df
    };
    let c = interval::critical_value(level, df);
    let (p_lo, p_hi) = (m.estimate - c * m.se(), m.estimate + c * m.se());
    let lower = if p_lo.is_nan() || p_lo < 0.0 {
        f64::NAN
    } else {
        quantile::quantile(&values, &weights, p_lo, rule)
    };
    let upper = if p_hi.is_nan() || p_hi > 1.0 {
        f64::NAN
    } else {
        quantile::quantile(&values, &weights, p_hi, rule)
    };
    Ok((q, (upper - lower) / (2.0 * c), lower, upper))
}

/// One indicator variable per level of a factor (or distinct value of a numeric column);
/// missing cells stay missing (NaN).
fn level_indicators(column: &Column) -> Vec<(String, Vec<f64>)> {
    match column {
        Column::Factor { codes, levels } => levels
            .iter()
            .enumerate()
            .map(|(l, level)| {
                let ind = codes
                    .iter()
                    .map(|&c| {
                        if c == Column::MISSING {
                            f64::NAN
                        } else {
                            f64::from(u8::from(c as usize == l))
                        }
                    })
                    .collect();
                (level.clone(), ind)
            })
            .collect(),
        Column::Numeric(values) => {
            let mut distinct: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
            distinct.sort_by(f64::total_cmp);
            distinct.dedup();
            distinct
                .into_iter()
                .map(|level| {
                    let ind = values
                        .iter()
                        .map(|&v| {
                            if v.is_nan() {
                                f64::NAN
                            } else {
                                f64::from(u8::from(v == level))
                            }
                        })
                        .collect();
                    (format_number(level), ind)
                })
                .collect()
        }
    }
}

/// The domains of `by` within `base` (one domain when `by` is empty), labelled
/// `col=value,…`, ordered by the level order of the first column, then the next.
fn domains_of(table: &Table, by: &[String], base: &Domain) -> Result<Vec<(String, Domain)>, Error> {
    if by.is_empty() {
        return Ok(vec![(String::new(), base.clone())]);
    }
    let columns: Vec<&Column> = by
        .iter()
        .map(|c| table.column(c))
        .collect::<Result<_, _>>()?;
    // Sort keys: factor code or numeric value per column.
    let sort_key = |c: &Column, k: usize| -> f64 {
        match c {
            Column::Numeric(v) => v[k],
            Column::Factor { codes, .. } => f64::from(codes[k]),
        }
    };
    // Domain code per row: each by-column as dense codes (u32::MAX when missing), crossed
    // pairwise; labels are formatted once per domain.
    let rows = table.rows();
    let mut joint: Vec<u32> = vec![0; rows];
    let mut missing = vec![false; rows];
    for column in &columns {
        let codes: Vec<u32> = match column {
            Column::Factor { codes, .. } => codes.clone(),
            Column::Numeric(values) => {
                let mut index: FastMap<u64, u32> = FastMap::default();
                values
                    .iter()
                    .map(|v| {
                        if v.is_nan() {
                            Column::MISSING
                        } else {
                            let next = index.len() as u32;
                            *index
                                .entry(if *v == 0.0 { 0 } else { v.to_bits() })
                                .or_insert(next)
                        }
                    })
                    .collect()
            }
        };
        for (m, &c) in missing.iter_mut().zip(&codes) {
            *m |= c == Column::MISSING;
        }
        joint = crate::estimate::design::interact(&joint, &codes);
    }
    let n_joint = joint.iter().copied().max().map_or(0, |m| m as usize + 1);
    let mut domain_of_joint: Vec<usize> = vec![usize::MAX; n_joint];
    let mut keys: Vec<(Vec<f64>, String)> = Vec::new();
    let mut domain_of_row: Vec<u32> = vec![u32::MAX; rows];
    for &k in base.rows() {
        let k = k as usize;
        if missing[k] {
            continue;
        }
        let slot = &mut domain_of_joint[joint[k] as usize];
        if *slot == usize::MAX {
            let label = by
                .iter()
                .zip(&columns)
                .map(|(name, c)| format!("{name}={}", c.label(k)))
                .collect::<Vec<_>>()
                .join(",");
            keys.push((columns.iter().map(|c| sort_key(c, k)).collect(), label));
            *slot = keys.len() - 1;
        }
        domain_of_row[k] = *slot as u32;
    }
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by(|&a, &b| {
        keys[a]
            .0
            .iter()
            .zip(&keys[b].0)
            .map(|(x, y)| x.total_cmp(y))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    Ok(order
        .into_iter()
        .map(|d| {
            let mask = domain_of_row.iter().map(|&x| x == d as u32).collect();
            (keys[d].1.clone(), Domain::from_mask(mask))
        })
        .collect())
}
