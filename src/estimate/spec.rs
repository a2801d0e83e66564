//! The analysis wire formats: `DESIGN.json` and `ESTIMATE.json` of `chainsurvey analyze`
//! (documented in `docs/analysis.md`).
//!
//! These structs *are* the wire format, so they derive `Deserialize` and reject unknown keys;
//! [`crate::estimate::Design::build`] and [`crate::estimate::analyze`] turn them into checked
//! types before any arithmetic.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::estimate::Error;

/// `DESIGN.json`: how the sample was drawn (and, optionally, replicate weights and a
/// calibration step), in the vocabulary of R `svydesign` / `svrepdesign`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DesignSpec {
    /// Sampling-weight column; `null` derives weights from `fpc` (population sizes), or 1.
    #[serde(default)]
    pub weights: Option<String>,
    /// Cluster columns per stage; `[]` means element sampling (each row is its own PSU).
    #[serde(default, deserialize_with = "one_or_many")]
    pub ids: Vec<String>,
    /// Stratum column of the first stage, or `null`.
    #[serde(default)]
    pub strata: Option<String>,
    /// Finite population correction column per stage: population sizes (all ≥ 1) or
    /// sampling fractions (all ≤ 1). A single string is one stage.
    #[serde(default, deserialize_with = "one_or_many")]
    pub fpc: Vec<String>,
    /// Inclusion-probability column per stage (R `svydesign(probs = ~…)`); the weights are
    /// `1/Π probs`. Not together with `weights`.
    #[serde(default, deserialize_with = "one_or_many")]
    pub probs: Vec<String>,
    /// Sampling with probability proportional to size without replacement at the first
    /// stage(s) (R `svydesign(pps = …)`): `"brewer"` (Brewer's approximation; `fpc` holds each
    /// PSU's inclusion probability) or `"overton"` (Overton's approximation of the joint
    /// inclusion probabilities from `probs`; one stage).
    #[serde(default)]
    pub pps: Option<Pps>,
    /// The PPS variance formula for `"overton"`: Horvitz–Thompson (`"HT"`, default) or
    /// Yates–Grundy (`"YG"`), as R `svydesign(variance = …)`.
    #[serde(default)]
    pub variance: Option<PpsVariance>,
    /// Cluster ids are only unique within strata (R `nest = TRUE`).
    #[serde(default)]
    pub nest: bool,
    /// What a stratum with a single PSU contributes (R `options(survey.lonely.psu)`).
    #[serde(default)]
    pub lonely_psu: LonelyPsu,
    /// Replicate weights (given as columns, or generated from the design).
    #[serde(default)]
    pub replicates: Option<ReplicateSpec>,
    /// A calibration step applied to the weights (and accounted for in variances).
    #[serde(default)]
    pub calibration: Option<CalibrationSpec>,
}

/// The PPS without-replacement approximation.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Pps {
    Brewer,
    Overton,
}

/// The variance formula of a PPS design with joint inclusion probabilities.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
pub enum PpsVariance {
    #[serde(rename = "HT")]
    HorvitzThompson,
    #[serde(rename = "YG")]
    YatesGrundy,
}

/// Single-PSU strata handling, exactly as R `survey` defines the options.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum LonelyPsu {
    /// Refuse the design (R default).
    #[default]
    Fail,
    /// The stratum contributes no variance (sampled with certainty).
    Certainty,
    /// The stratum is ignored for variance.
    Remove,
    /// The lonely PSU is centred at zero (the grand mean of the estimating function) instead
    /// of its stratum mean.
    Adjust,
    /// The stratum gets the average variance of the other strata.
    Average,
}

/// Replicate weights: the `replicates` key of `DESIGN.json`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ReplicateSpec {
    /// Replicate-weight columns: a list of names, or a pattern string matched against the
    /// header (see [`crate::estimate::pattern`]). Absent: generate replicates of `type` from
    /// the design, like R `as.svrepdesign`.
    #[serde(default)]
    pub columns: Option<ColumnSelection>,
    /// `jk1`, `jkn`, `brr`, `fay`, `bootstrap` (Canty–Davison), `subbootstrap` (Rao–Wu), or
    /// `other` (user-supplied columns only).
    #[serde(rename = "type")]
    pub kind: ReplicateKind,
    /// Columns hold full replicate weights (true, R default) or factors to multiply the
    /// sampling weights by (false).
    #[serde(default = "yes")]
    pub combined_weights: bool,
    /// Overall multiplier of the replicate variance (defaults as R `svrepdesign`).
    #[serde(default)]
    pub scale: Option<f64>,
    /// Per-replicate multipliers (one number applies to all).
    #[serde(default, deserialize_with = "opt_one_or_many_f64")]
    pub rscales: Option<Vec<f64>>,
    /// Fay's ρ for `fay` (0 ≤ ρ < 1).
    #[serde(default)]
    pub fay_rho: Option<f64>,
    /// Centre the variance at the full-sample estimate instead of the replicate mean.
    #[serde(default)]
    pub mse: bool,
    /// Number of bootstrap replicates to generate (default 50, as R).
    #[serde(default)]
    pub replicates: Option<usize>,
    /// Seed of the ChaCha20 generator for generated bootstrap replicates (default 1).
    #[serde(default)]
    pub seed: Option<u64>,
}

/// The replicate method.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ReplicateKind {
    Jk1,
    Jkn,
    Brr,
    Fay,
    Bootstrap,
    Subbootstrap,
    Other,
}

/// Replicate columns by list or by pattern.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum ColumnSelection {
    List(Vec<String>),
    Pattern(String),
}

/// The `calibration` key of `DESIGN.json`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(tag = "method", rename_all = "lowercase", deny_unknown_fields)]
pub enum CalibrationSpec {
    /// R `postStratify(design, ~strata, population)`.
    Poststratify {
        #[serde(deserialize_with = "one_or_many")]
        strata: Vec<String>,
        population: Vec<BTreeMap<String, serde_json::Value>>,
    },
    /// R `rake(design, margins, population, control = list(epsilon, maxit))`.
    Rake {
        /// One entry per margin: a column name, or a list of columns crossed together.
        #[serde(deserialize_with = "margins")]
        margins: Vec<Vec<String>>,
        population: Vec<Vec<BTreeMap<String, serde_json::Value>>>,
        #[serde(default)]
        epsilon: Option<f64>,
        #[serde(default)]
        maxit: Option<usize>,
    },
    /// R `calibrate(design, ~terms, population_totals, calfun, bounds, epsilon, maxit)`.
    Calibrate {
        #[serde(deserialize_with = "one_or_many")]
        terms: Vec<String>,
        population_totals: BTreeMap<String, f64>,
        #[serde(default)]
        calfun: Option<String>,
        #[serde(default)]
        bounds: Option<[f64; 2]>,
        #[serde(default)]
        epsilon: Option<f64>,
        #[serde(default)]
        maxit: Option<usize>,
    },
}

/// One `ESTIMATE.json` request (the file holds one object or a list of them).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EstimateSpec {
    /// Optional label put in front of every output name.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub kind: EstimateKind,
    /// Variables for mean/total/proportion/quantile.
    #[serde(default, deserialize_with = "one_or_many")]
    pub variables: Vec<String>,
    /// Ratio numerator column(s).
    #[serde(default, deserialize_with = "one_or_many")]
    pub numerator: Vec<String>,
    /// Ratio denominator column(s).
    #[serde(default, deserialize_with = "one_or_many")]
    pub denominator: Vec<String>,
    /// Domain columns (R `svyby(~by)`): one estimate per combination present.
    #[serde(default, deserialize_with = "one_or_many")]
    pub by: Vec<String>,
    /// Restrict to rows where every column equals the value (or one of the listed values),
    /// keeping the full design (R `subset`).
    #[serde(default)]
    pub subset: BTreeMap<String, serde_json::Value>,
    /// Quantile probabilities.
    #[serde(default, deserialize_with = "many_f64")]
    pub probs: Vec<f64>,
    /// Quantile rule: `math` (default), `school`, `hf1` … `hf9`.
    #[serde(default)]
    pub qrule: Option<String>,
    /// Confidence interval level and method.
    #[serde(default)]
    pub ci: Option<CiSpec>,
    /// Report the design effect.
    #[serde(default)]
    pub deff: bool,
    /// Drop rows with a missing analysis variable (R `na.rm = TRUE`).
    #[serde(default)]
    pub na_rm: bool,
}

/// The kind of estimate.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum EstimateKind {
    Mean,
    Total,
    Ratio,
    Proportion,
    Quantile,
}

/// Confidence interval settings.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CiSpec {
    #[serde(default = "ninety_five")]
    pub level: f64,
    #[serde(default)]
    pub method: CiMethod,
}

/// How intervals are formed.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum CiMethod {
    /// θ̂ ± z·SE (R `confint(..., df = Inf)`).
    Wald,
    /// θ̂ ± t_df·SE with the design degrees of freedom (default).
    #[default]
    WaldT,
    /// expit(logit p̂ ± t_df·SE/(p̂(1−p̂))) for proportions (R `svyciprop(method = "logit")`).
    Logit,
}

/// Parses `ESTIMATE.json`: one object or a list of objects.
pub fn parse_estimates(text: &str) -> Result<Vec<EstimateSpec>, Error> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| Error::Spec(format!("ESTIMATE.json: {e}")))?;
    let list = match value {
        serde_json::Value::Array(items) => items,
        other => vec![other],
    };
    list.into_iter()
        .enumerate()
        .map(|(i, v)| {
            serde_json::from_value(v)
                .map_err(|e| Error::Spec(format!("ESTIMATE.json estimate {i}: {e}")))
        })
        .collect()
}

/// Parses `DESIGN.json`.
pub fn parse_design(text: &str) -> Result<DesignSpec, Error> {
    serde_json::from_str(text).map_err(|e| Error::Spec(format!("DESIGN.json: {e}")))
}

fn yes() -> bool {
    true
}

fn ninety_five() -> f64 {
    0.95
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
        Null(()),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
        OneOrMany::Null(()) => Vec::new(),
    })
}

fn margins<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Vec<String>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(Vec::<OneOrMany>::deserialize(d)?
        .into_iter()
        .map(|m| match m {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        })
        .collect())
}

fn many_f64<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
    Ok(opt_one_or_many_f64(d)?.unwrap_or_default())
}

fn opt_one_or_many_f64<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Vec<f64>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(f64),
        Many(Vec<f64>),
    }
    Ok(Option::<OneOrMany>::deserialize(d)?.map(|v| match v {
        OneOrMany::One(x) => vec![x],
        OneOrMany::Many(v) => v,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_rejected_with_their_name() {
        let err = parse_design(r#"{"weights":"pw","stratum":"x"}"#).unwrap_err();
        assert!(err.to_string().contains("stratum"), "{err}");
        let ok = parse_design(
            r#"{"weights":"pw","ids":["dnum","snum"],"fpc":["f1","f2"],"lonely_psu":"average"}"#,
        )
        .unwrap();
        assert_eq!(ok.lonely_psu, LonelyPsu::Average);
        assert_eq!(ok.fpc, ["f1", "f2"]);
        let est =
            parse_estimates(r#"[{"type":"ratio","numerator":"a","denominator":"b"}]"#).unwrap();
        assert_eq!(est[0].numerator, ["a"]);
    }
}
