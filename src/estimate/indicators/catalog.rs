//! The indicator catalog (`questionnaires/indicators.json`): the decent-work indicators of
//! METHODOLOGY §4.2 as data, compiled against the columns of a record set.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::estimate::indicators::error::Error;
use crate::estimate::indicators::expr::{Expr, compile};
use crate::estimate::indicators::record::Schema;

/// What an indicator computes (sums over the universe U, weights w).
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    /// Σ_U w · value (value defaults to 1: a count of persons).
    Total { value: Option<Expr> },
    /// Σ_U w · v / Σ_U w over rows where v is present.
    Mean { value: Expr },
    /// Σ_U w · 1{numerator} / Σ_U w. `threshold` declares that the numerator is
    /// `value < fraction · parameter` (low pay), so the SE can account for the estimated
    /// parameter (see `indicators::threshold`).
    Proportion {
        numerator: Expr,
        threshold: Option<Threshold>,
    },
    /// Σ_U w · a / Σ_U w · b over rows where both are present.
    Ratio { numerator: Expr, denominator: Expr },
    /// Weighted quantile (inverse CDF) of v over U.
    Quantile { value: Expr, p: f64 },
    /// (S_ref − S_cmp) / S_ref of a statistic S (mean or median) of v between two groups.
    Gap {
        value: Expr,
        group: Expr,
        reference: String,
        comparison: String,
        statistic: GapStatistic,
    },
}

/// A proportion below a fraction of an estimated quantile: the numerator is
/// `value < fraction · parameters[parameter]`. Checked against the numerator on the data.
#[derive(Clone, Debug, PartialEq)]
pub struct Threshold {
    pub value: Expr,
    pub fraction: f64,
    /// Index into [`Catalog::parameters`].
    pub parameter: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawThreshold {
    value: String,
    fraction: f64,
    parameter: String,
}

/// The statistic compared by a gap indicator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GapStatistic {
    Mean,
    Median,
}

/// One indicator.
#[derive(Clone, Debug, PartialEq)]
pub struct Indicator {
    pub id: String,
    /// The number in METHODOLOGY §4.2 (variants share their main indicator's number).
    pub number: u32,
    pub label_en: String,
    pub label_vi: String,
    pub kind: Kind,
    pub universe: Expr,
    /// The estimate is multiplied by this (100 for percentages, 1000 for rates per 1,000).
    pub scale: f64,
    /// Domains this indicator is published by.
    pub domains: Vec<String>,
}

/// A survey-level parameter computed from the data for every weight set before the
/// indicators (the median of hourly earnings over all employees, for low pay).
#[derive(Clone, Debug, PartialEq)]
pub struct Parameter {
    pub name: String,
    pub value: Expr,
    pub universe: Expr,
    pub p: f64,
}

/// The compiled catalog.
#[derive(Clone, Debug, PartialEq)]
pub struct Catalog {
    pub id: String,
    pub version: String,
    pub default_domains: Vec<String>,
    pub parameters: Vec<Parameter>,
    pub indicators: Vec<Indicator>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalog {
    schema_version: u32,
    id: String,
    version: String,
    #[serde(default)]
    description: Option<String>,
    default_domains: Vec<String>,
    #[serde(default)]
    parameters: Vec<RawParameter>,
    indicators: Vec<RawIndicator>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParameter {
    name: String,
    kind: String,
    p: f64,
    of: String,
    universe: String,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIndicator {
    id: String,
    number: u32,
    label: BTreeMap<String, String>,
    kind: String,
    universe: String,
    #[serde(default)]
    numerator: Option<String>,
    #[serde(default)]
    denominator: Option<String>,
    #[serde(default)]
    value: Option<String>,
    #[serde(default)]
    p: Option<f64>,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    reference_group: Option<String>,
    #[serde(default)]
    comparison_group: Option<String>,
    #[serde(default)]
    statistic: Option<String>,
    #[serde(default)]
    scale: Option<f64>,
    #[serde(default)]
    domains: Option<Vec<String>>,
    #[serde(default)]
    reference_period: Option<String>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    variant_of: Option<String>,
    #[serde(default)]
    notes: Option<String>,
    #[serde(default)]
    threshold: Option<RawThreshold>,
}

fn required<'a>(field: &'a Option<String>, place: &str, name: &str) -> Result<&'a str, Error> {
    field
        .as_deref()
        .ok_or_else(|| Error::Catalog(format!("{place}: `{name}` is required for this kind")))
}

fn probability(p: Option<f64>, place: &str) -> Result<f64, Error> {
    match p {
        Some(p) if p > 0.0 && p < 1.0 => Ok(p),
        Some(p) => Err(Error::Catalog(format!("{place}: p = {p} is not in (0, 1)"))),
        None => Err(Error::Catalog(format!(
            "{place}: `p` is required for a quantile"
        ))),
    }
}

impl Catalog {
    /// Parses the catalog JSON and compiles every expression against `schema` (the columns
    /// of the records, derived ones included). An unknown variable is an error naming the
    /// indicator, the field and the column in the expression.
    pub fn parse(text: &str, schema: &Schema) -> Result<Catalog, Error> {
        let raw: RawCatalog = serde_json::from_str(text)
            .map_err(|e| Error::Catalog(format!("indicator catalog: {e}")))?;
        if raw.schema_version != 1 {
            return Err(Error::Catalog(format!(
                "schema_version {} is not supported (expected 1)",
                raw.schema_version
            )));
        }
        let _ = raw.description;
        let names: Vec<String> = raw.parameters.iter().map(|p| p.name.clone()).collect();
        let mut parameters = Vec::with_capacity(raw.parameters.len());
        for (idx, p) in raw.parameters.iter().enumerate() {
            let place = format!("parameters[{idx}] ({})", p.name);
            if p.kind != "quantile" {
                return Err(Error::Catalog(format!(
                    "{place}: kind `{}` is not supported (quantile)",
                    p.kind
                )));
            }
            let _ = &p.description;
            // A parameter may use earlier parameters only.
            let visible = &names[..idx];
            parameters.push(Parameter {
                name: p.name.clone(),
                value: compile(&p.of, schema, visible, &format!("{place}.of"))?,
                universe: compile(&p.universe, schema, visible, &format!("{place}.universe"))?,
                p: probability(Some(p.p), &place)?,
            });
        }
        let mut indicators = Vec::with_capacity(raw.indicators.len());
        let mut seen = std::collections::HashSet::new();
        for (idx, r) in raw.indicators.iter().enumerate() {
            let place = format!("indicators[{idx}] ({})", r.id);
            if !seen.insert(r.id.clone()) {
                return Err(Error::Catalog(format!("{place}: duplicate indicator id")));
            }
            let _ = (&r.reference_period, &r.source, &r.variant_of, &r.notes);
            if r.threshold.is_some() && r.kind != "proportion" {
                return Err(Error::Catalog(format!(
                    "{place}: `threshold` applies to proportion indicators only"
                )));
            }
            let expr = |source: &str, field: &str| {
                compile(source, schema, &names, &format!("{place}.{field}"))
            };
            let kind = match r.kind.as_str() {
                "total" => Kind::Total {
                    value: match &r.value {
                        Some(v) => Some(expr(v, "value")?),
                        None => None,
                    },
                },
                "mean" => Kind::Mean {
                    value: expr(required(&r.value, &place, "value")?, "value")?,
                },
                "proportion" => Kind::Proportion {
                    numerator: expr(required(&r.numerator, &place, "numerator")?, "numerator")?,
                    threshold: match &r.threshold {
                        None => None,
                        Some(t) => {
                            let parameter = names
                                .iter()
                                .position(|n| *n == t.parameter)
                                .ok_or_else(|| {
                                    Error::Catalog(format!(
                                        "{place}.threshold: parameter `{}` is not defined",
                                        t.parameter
                                    ))
                                })?;
                            if !(t.fraction.is_finite() && t.fraction > 0.0) {
                                return Err(Error::Catalog(format!(
                                    "{place}.threshold: fraction {} is not positive",
                                    t.fraction
                                )));
                            }
                            Some(Threshold {
                                value: expr(&t.value, "threshold.value")?,
                                fraction: t.fraction,
                                parameter,
                            })
                        }
                    },
                },
                "ratio" => Kind::Ratio {
                    numerator: expr(required(&r.numerator, &place, "numerator")?, "numerator")?,
                    denominator: expr(
                        required(&r.denominator, &place, "denominator")?,
                        "denominator",
                    )?,
                },
                "quantile" => Kind::Quantile {
                    value: expr(required(&r.value, &place, "value")?, "value")?,
                    p: probability(r.p, &place)?,
                },
                "gap" => Kind::Gap {
                    value: expr(required(&r.value, &place, "value")?, "value")?,
                    group: expr(required(&r.group, &place, "group")?, "group")?,
                    reference: required(&r.reference_group, &place, "reference_group")?.to_string(),
                    comparison: required(&r.comparison_group, &place, "comparison_group")?
                        .to_string(),
                    statistic: match r.statistic.as_deref() {
                        None | Some("mean") => GapStatistic::Mean,
                        Some("median") => GapStatistic::Median,
                        Some(other) => {
                            return Err(Error::Catalog(format!(
                                "{place}: statistic `{other}` is not mean or median"
                            )));
                        }
                    },
                },
                other => {
                    return Err(Error::Catalog(format!(
                        "{place}: kind `{other}` is not one of total, mean, proportion, ratio, quantile, gap"
                    )));
                }
            };
            let scale = r.scale.unwrap_or(1.0);
            if !scale.is_finite() || scale <= 0.0 {
                return Err(Error::Catalog(format!(
                    "{place}: scale {scale} is not positive"
                )));
            }
            let label = |lang: &str| {
                r.label
                    .get(lang)
                    .cloned()
                    .ok_or_else(|| Error::Catalog(format!("{place}: label.{lang} is missing")))
            };
            indicators.push(Indicator {
                id: r.id.clone(),
                number: r.number,
                label_en: label("en")?,
                label_vi: label("vi")?,
                kind,
                universe: expr(&r.universe, "universe")?,
                scale,
                domains: r
                    .domains
                    .clone()
                    .unwrap_or_else(|| raw.default_domains.clone()),
            });
        }
        Ok(Catalog {
            id: raw.id,
            version: raw.version,
            default_domains: raw.default_domains,
            parameters,
            indicators,
        })
    }

    /// Reads and compiles a catalog file.
    pub fn load(path: &Path, schema: &Schema) -> Result<Catalog, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Catalog(format!("{}: {e}", path.display())))?;
        Catalog::parse(&text, schema)
    }

    /// The shipped DW-SCS catalog (embedded `questionnaires/indicators.json`).
    pub fn dwscs(schema: &Schema) -> Result<Catalog, Error> {
        Catalog::parse(
            include_str!("../../../questionnaires/indicators.json"),
            schema,
        )
    }
}
