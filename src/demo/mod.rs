//! The embedded default, end to end: `chainsurvey demo` runs one full survey round on the
//! synthetic Viet Nam electronics population without a server and prints the estimates next
//! to the known population truth; `chainsurvey montecarlo` repeats rounds to measure bias,
//! variance estimation and interval coverage (ISSUES 5, METHODOLOGY §1.3 and §2.8).
//!
//! What: [`prepare`] generates the population (`synth`) and its truth once; [`run_round_on`]
//! draws the tier-0 stratified sample (`sampling::allocate` + `srswor`, certainty for the
//! largest lead firms), simulates enterprise and worker interviews (response probabilities;
//! a responding enterprise lists its register suppliers by tax code), traces the links to
//! tiers 1–3 (`sampling::trace_links`: take-all to tier 1, SRSWOR caps deeper), selects m
//! workers per sex (`sampling::select_workers`), builds and runs the weighting chain
//! (`weighting::plan::build_recipe`: base, chained clustered GWSM with L_i over the whole
//! previous tier, subsampling, non-response by ownership class, M/m and m/r), re-runs it for
//! every multistage bootstrap replicate (`weighting::bootstrap`: tier-0 strata, response,
//! reached-unit subsamples, workers), and estimates every worker-sum indicator by tier, sex
//! and overall ([`estimate_table`]) with t_df (Satterthwaite) intervals, logit for
//! proportions. [`montecarlo`] repeats rounds with derived seeds on one population and
//! summarises them.
//!
//! Why: the replicate route of METHODOLOGY §2.5 re-runs the share operator per replicate;
//! perturbing every stage (not only the tier-0 PSUs) is what makes the SEs of link-traced
//! tiers and of certainty lead firms right, and the Monte Carlo shows how well that works.
//!
//! What it deliberately does not do: questionnaires, storage or HTTP (answers come straight
//! from `synth::Worker`); measurement error; estimating the low-pay threshold (the
//! population's is used) or the gender pay gaps.

mod config;
mod error;
mod estimates;
mod montecarlo;
mod round;
mod setting;

pub use config::RoundConfig;
pub use error::Error;
pub use estimates::{Domain, EstimateRow, demo_indicators, estimate_table};
pub use montecarlo::{MC_INDICATORS, McRow, MonteCarlo, montecarlo};
pub use round::{InterviewedWorker, Replicate, TIERS, TierSizes, WeightedSample, weighted_sample};
pub use setting::{Setting, prepare};

/// The result of one round: the fieldwork counts by tier and the estimate table.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RoundResult {
    pub scale: f64,
    pub population_seed: u64,
    pub round_seed: u64,
    pub population_workers: u64,
    pub sizes: Vec<TierSizes>,
    /// Tier-0 PSUs (sampled lead firms) and the replicates of the variance.
    pub psus: usize,
    pub replicates: usize,
    pub estimates: Vec<EstimateRow>,
}

/// One round on a prepared population.
pub fn run_round_on(setting: &Setting, config: &RoundConfig) -> Result<RoundResult, Error> {
    let sample = weighted_sample(setting, config)?;
    let estimates = estimate_table(setting, &sample);
    Ok(RoundResult {
        scale: config.scale,
        population_seed: config.population_seed,
        round_seed: config.round_seed,
        population_workers: setting.truth.workers,
        sizes: sample.sizes,
        psus: sample.psus,
        replicates: sample.replicates.len(),
        estimates,
    })
}

/// One full round: generate the population of `config`, then run the round on it.
pub fn run_round(config: &RoundConfig) -> Result<RoundResult, Error> {
    config.check()?;
    let setting = prepare(config.scale, config.population_seed)?;
    run_round_on(&setting, config)
}
