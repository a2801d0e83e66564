//! Repeated rounds on one population: relative bias, empirical vs estimated SE, and 95 %
//! interval coverage of the main indicators, overall and by tier.

use crate::sampling::derive_seed;
use crate::synth::indicators::Indicator;

use crate::demo::config::RoundConfig;
use crate::demo::error::Error;
use crate::demo::run_round_on;
use crate::demo::setting::Setting;

/// The indicators the Monte Carlo summarises.
pub const MC_INDICATORS: [Indicator; 7] = [
    Indicator::Employment,
    Indicator::ExcessiveHours,
    Indicator::SocialInsurance,
    Indicator::LowPay,
    Indicator::UnionDensity,
    Indicator::InformalJob,
    Indicator::MeanHourlyEarnings,
];

/// The summary of one (indicator, domain) over the rounds.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct McRow {
    pub indicator: &'static str,
    pub table: &'static str,
    pub domain: String,
    pub truth: f64,
    /// Rounds with an estimate for this domain.
    pub reps: usize,
    pub mean_estimate: f64,
    /// (mean estimate − truth) / truth.
    pub relative_bias: f64,
    /// Standard deviation of the estimates over the rounds.
    pub empirical_se: f64,
    /// Monte Carlo standard error of the mean estimate: empirical_se / √reps.
    pub mc_se_of_mean: f64,
    /// Mean of the estimated (JK) standard errors.
    pub mean_estimated_se: f64,
    /// Share of rounds whose 95 % interval covers the truth.
    pub coverage: f64,
}

/// A Monte Carlo run.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct MonteCarlo {
    pub scale: f64,
    pub population_seed: u64,
    pub seed: u64,
    pub reps: usize,
    /// Rounds that failed (an error of the chain); they are left out of the summary.
    pub failed: Vec<(u64, String)>,
    pub rows: Vec<McRow>,
}

/// Runs `reps` rounds of `base` (its round seed ignored) with round seeds derived from
/// `seed`, on `setting`, and summarises [`MC_INDICATORS`] overall and by tier.
pub fn montecarlo(
    setting: &Setting,
    base: &RoundConfig,
    reps: usize,
    seed: u64,
) -> Result<MonteCarlo, Error> {
    base.check()?;
    if reps < 2 {
        return Err(Error::Config {
            field: "reps",
            reason: format!("{reps}: at least 2 rounds are needed for an empirical SE"),
        });
    }
    let codes: Vec<&str> = MC_INDICATORS.iter().map(|i| i.code()).collect();
    // (indicator, table, domain) → (truth, estimates, SEs, covers).
    type Cell = (f64, Vec<f64>, Vec<f64>, usize);
    let mut cells: Vec<((&'static str, &'static str, String), Cell)> = Vec::new();
    let mut failed = Vec::new();
    for rep in 0..reps {
        let round_seed = derive_seed(seed, &format!("montecarlo|{rep}"));
        let config = RoundConfig {
            round_seed,
            ..base.clone()
        };
        let result = match run_round_on(setting, &config) {
            Ok(result) => result,
            Err(e) => {
                failed.push((round_seed, e.to_string()));
                continue;
            }
        };
        for row in result.estimates {
            if !codes.contains(&row.indicator) || row.table == "sex" {
                continue;
            }
            let (Some(truth), true) = (row.truth, row.estimate.is_finite() && row.se.is_finite())
            else {
                continue;
            };
            let key = (row.indicator, row.table, row.domain.clone());
            let pos = match cells.iter().position(|(k, _)| *k == key) {
                Some(pos) => pos,
                None => {
                    cells.push((key, (truth, Vec::new(), Vec::new(), 0)));
                    cells.len() - 1
                }
            };
            let cell = &mut cells[pos].1;
            cell.1.push(row.estimate);
            cell.2.push(row.se);
            cell.3 += usize::from(row.covers == Some(true));
        }
    }
    cells.sort_by_key(|((ind, table, domain), _)| {
        (
            codes.iter().position(|c| c == ind),
            *table != "overall",
            domain.clone(),
        )
    });
    let rows = cells
        .into_iter()
        .map(|((indicator, table, domain), (truth, est, se, covers))| {
            let n = est.len() as f64;
            let mean = est.iter().sum::<f64>() / n;
            let sd = if est.len() > 1 {
                (est.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
            } else {
                f64::NAN
            };
            McRow {
                indicator,
                table,
                domain,
                truth,
                reps: est.len(),
                mean_estimate: mean,
                relative_bias: (mean - truth) / truth,
                empirical_se: sd,
                mc_se_of_mean: sd / n.sqrt(),
                mean_estimated_se: se.iter().sum::<f64>() / n,
                coverage: covers as f64 / n,
            }
        })
        .collect();
    Ok(MonteCarlo {
        scale: base.scale,
        population_seed: base.population_seed,
        seed,
        reps,
        failed,
        rows,
    })
}
