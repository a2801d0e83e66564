//! Indicator estimates of a weighted round by domain (overall, tier, sex), with the
//! multistage bootstrap variance, a 95 % interval, the reliability flag, and the population truth
//! of the same domain.
//!
//! Workers are scored with `synth::indicators::terms`, the definitions the truth uses, so
//! estimate and truth differ only by sampling, non-response and weighting. The low-pay
//! threshold is the population's (a known constant here); a survey would estimate the
//! median, which adds variance this demo does not show. The gender pay gaps (medians of
//! hourly earnings) are left out.

use crate::estimate::compensated::Sum;
use crate::estimate::interval;
use crate::estimate::reliability::{Reliability, ReliabilityRules, flag};
use crate::synth::indicators::{Indicator, Kind, terms};
use crate::synth::{self, Sex};

use crate::demo::round::{TIERS, WeightedSample};
use crate::demo::setting::Setting;

/// The indicators the demo estimates: every worker-sum indicator of `synth::indicators`.
pub fn demo_indicators() -> Vec<Indicator> {
    Indicator::ALL
        .into_iter()
        .filter(|i| i.kind() != Kind::Gap)
        .collect()
}

/// A domain of the demo tables, named as in `truth.csv` (`table`, value).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Domain {
    Overall,
    Tier(u32),
    Sex(Sex),
}

impl Domain {
    /// Every domain, in table order.
    pub fn all() -> Vec<Domain> {
        let mut out = vec![Domain::Overall];
        out.extend((0..TIERS as u32).map(Domain::Tier));
        out.extend([Domain::Sex(Sex::Male), Domain::Sex(Sex::Female)]);
        out
    }

    /// The truth table the domain comes from.
    pub fn table(self) -> &'static str {
        match self {
            Domain::Overall => "overall",
            Domain::Tier(_) => "tier",
            Domain::Sex(_) => "sex",
        }
    }

    /// The domain value (`all`, `0`…`3`, `male`, `female`).
    pub fn value(self) -> String {
        match self {
            Domain::Overall => "all".into(),
            Domain::Tier(t) => t.to_string(),
            Domain::Sex(s) => s.label().into(),
        }
    }

    fn contains(self, tier: u32, sex: Sex) -> bool {
        match self {
            Domain::Overall => true,
            Domain::Tier(t) => t == tier,
            Domain::Sex(s) => s == sex,
        }
    }
}

/// One line of the demo table.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct EstimateRow {
    pub indicator: &'static str,
    pub table: &'static str,
    pub domain: String,
    pub estimate: f64,
    /// NaN (JSON `null`) when the round has no replicate (no sampled tier-0 stratum).
    pub se: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// Interviewed workers in the domain and universe.
    pub n: usize,
    /// `publish`, `caution` or `suppress` (METHODOLOGY reliability rules).
    pub flag: &'static str,
    pub truth: Option<f64>,
    /// Whether the 95 % interval covers the truth (`None` without truth or without SE).
    pub covers: Option<bool>,
}

/// An interviewed worker as the estimator sees it: frame tier, sex, and the (numerator,
/// denominator) terms of every demo indicator (`None` outside the universe).
struct Scored {
    tier: u32,
    sex: Sex,
    terms: Vec<Option<(f64, f64)>>,
}

/// Σ w·a and Σ w·b per (indicator, domain) for one set of weights; `domains_of[k]` lists
/// the domains worker k belongs to.
fn sums(
    scored: &[Scored],
    domains_of: &[Vec<usize>],
    weights: &[f64],
    n_ind: usize,
    n_domains: usize,
) -> Vec<(Sum, Sum)> {
    let mut acc = vec![(Sum::default(), Sum::default()); n_ind * n_domains];
    for ((worker, domains), &w) in scored.iter().zip(domains_of).zip(weights) {
        for &d in domains {
            for (i, term) in worker.terms.iter().enumerate() {
                if let Some((a, b)) = term {
                    let cell = &mut acc[i * n_domains + d];
                    cell.0.add(w * a);
                    cell.1.add(w * b);
                }
            }
        }
    }
    acc
}

fn value(kind: Kind, cell: &(Sum, Sum)) -> f64 {
    match kind {
        Kind::Level => cell.0.value(),
        _ => cell.0.value() / cell.1.value(),
    }
}

/// The estimate table of a weighted round.
pub fn estimate_table(setting: &Setting, sample: &WeightedSample) -> Vec<EstimateRow> {
    let pop = &setting.population;
    let threshold = setting.truth.low_pay_threshold;
    let indicators = demo_indicators();
    let domains = Domain::all();
    let scored: Vec<Scored> = sample
        .workers
        .iter()
        .filter_map(|w| {
            let worker = synth::worker(pop, w.unit, w.index)?;
            let facts = pop.unit_facts(w.unit);
            Some(Scored {
                tier: w.tier,
                sex: worker.sex,
                terms: indicators
                    .iter()
                    .map(|&ind| terms(ind, &worker, &facts, &pop.config.legal, threshold))
                    .collect(),
            })
        })
        .collect();
    let domains_of: Vec<Vec<usize>> = scored
        .iter()
        .map(|w| {
            (0..domains.len())
                .filter(|&d| domains[d].contains(w.tier, w.sex))
                .collect()
        })
        .collect();
    let n_ind = indicators.len();
    let full = sums(&scored, &domains_of, &sample.weights, n_ind, domains.len());
    let replicate_sums: Vec<Vec<(Sum, Sum)>> = sample
        .replicates
        .iter()
        .map(|r| sums(&scored, &domains_of, &r.weights, n_ind, domains.len()))
        .collect();
    let rules = ReliabilityRules::methodology_default();
    let mut rows = Vec::new();
    for (i, &ind) in indicators.iter().enumerate() {
        for (d, &dom) in domains.iter().enumerate() {
            let cell = i * domains.len() + d;
            let n = scored
                .iter()
                .filter(|w| dom.contains(w.tier, w.sex) && w.terms[i].is_some())
                .count();
            if n == 0 {
                continue;
            }
            let estimate = value(ind.kind(), &full[cell]);
            let thetas: Vec<f64> = replicate_sums
                .iter()
                .map(|s| value(ind.kind(), &s[cell]))
                .collect();
            // The multistage bootstrap variance with its Satterthwaite degrees of freedom.
            // Without any random stage (no replicate at all) the design gives no variance
            // estimate: report none rather than 0. A domain whose replicates all agree (e.g.
            // no low-paid worker in the sample) has SE 0: reported as such; its interval
            // comes from the domain's n below.
            let (variance, df) = sample.variance(estimate, &thetas);
            let (se, df) = match df {
                _ if sample.replicates.is_empty() => (f64::NAN, f64::NAN),
                Some(df) => (variance.sqrt(), df),
                None => (0.0, f64::INFINITY),
            };
            // Proportions get the logit interval (asymmetric near 0 and 1, never outside
            // [0, 1]), or at exactly 0 or 1 (no variation, SE 0) the exact binomial interval
            // on the domain's n (Korn–Graubard at the boundary); totals and means the Wald
            // interval, all with t_df.
            let boundary = match ind.kind() {
                Kind::Proportion => interval::boundary_proportion(estimate, n, 0.95),
                _ => None,
            };
            let (ci_low, ci_high) = if let Some(bounds) = boundary {
                bounds
            } else if ind.kind() == Kind::Proportion && estimate > 0.0 && estimate < 1.0 && se > 0.0
            {
                interval::logit(estimate, se, 0.95, df)
            } else {
                interval::wald(estimate, se, 0.95, df)
            };
            let reliability = Reliability {
                estimate,
                se,
                n,
                psus: sample.psus,
                is_proportion: ind.kind() == Kind::Proportion,
            };
            let truth = setting
                .truth
                .rows
                .iter()
                .find(|row| {
                    row.indicator == ind.code()
                        && row.table == dom.table()
                        && match dom {
                            Domain::Overall => true,
                            Domain::Tier(_) => row.tier == dom.value(),
                            Domain::Sex(_) => row.sex == dom.value(),
                        }
                })
                .map(|row| row.value);
            rows.push(EstimateRow {
                indicator: ind.code(),
                table: dom.table(),
                domain: dom.value(),
                estimate,
                se,
                ci_low,
                ci_high,
                n,
                flag: if se.is_finite() {
                    flag(&rules, &reliability).as_str()
                } else {
                    "suppress"
                },
                truth,
                covers: truth
                    .filter(|_| se.is_finite())
                    .map(|v| ci_low <= v && v <= ci_high),
            });
        }
    }
    rows
}
