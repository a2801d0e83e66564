//! `chainsurvey montecarlo`: repeated demo rounds on one population; relative bias,
//! empirical vs estimated SE and 95 % coverage by tier, optionally written as CSV.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Args as ClapArgs;

use crate::demo::{MonteCarlo, RoundConfig, montecarlo, prepare};

/// Arguments of `montecarlo`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Number of rounds.
    #[arg(long)]
    pub reps: usize,
    /// Population scale.
    #[arg(long, default_value_t = 0.5)]
    pub scale: f64,
    /// Seed of the population; round seeds are derived from it and the round number.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Also write the table as CSV.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Runs `montecarlo`.
pub fn run(args: Args) -> anyhow::Result<i32> {
    let started = Instant::now();
    let config = RoundConfig::default_for(args.scale, args.seed, args.seed);
    config.check()?;
    let setting = prepare(args.scale, args.seed)?;
    let mc = montecarlo(&setting, &config, args.reps, args.seed)?;
    super::demo::emit(&format!(
        "{}({:.1} s for {} rounds)\n",
        render_text(&mc),
        started.elapsed().as_secs_f64(),
        args.reps
    ))?;
    if let Some(path) = &args.out {
        std::fs::write(path, to_csv(&mc)).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(if mc.failed.is_empty() { 0 } else { 1 })
}

/// The Monte Carlo table as text.
pub fn render_text(mc: &MonteCarlo) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Monte Carlo: {} rounds, scale {}, population seed {}, {} failed",
        mc.reps,
        mc.scale,
        mc.population_seed,
        mc.failed.len()
    );
    for (seed, reason) in &mc.failed {
        let _ = writeln!(out, "  round seed {seed} failed: {reason}");
    }
    let _ = writeln!(
        out,
        "{:<27} {:<7} {:>12} {:>9} {:>8} {:>12} {:>12} {:>7} {:>8}",
        "indicator",
        "domain",
        "truth",
        "rel.bias",
        "bias/MC",
        "emp. SE",
        "mean est.SE",
        "ratio",
        "cover95"
    );
    for r in &mc.rows {
        let domain = if r.table == "overall" {
            "all".to_string()
        } else {
            format!("T{}", r.domain)
        };
        let _ = writeln!(
            out,
            "{:<27} {:<7} {:>12} {:>+9.4} {:>+8.2} {:>12} {:>12} {:>7.3} {:>8.3}",
            r.indicator,
            domain,
            super::demo::number(r.truth),
            r.relative_bias,
            (r.mean_estimate - r.truth) / r.mc_se_of_mean,
            super::demo::number(r.empirical_se),
            super::demo::number(r.mean_estimated_se),
            r.mean_estimated_se / r.empirical_se,
            r.coverage
        );
    }
    out
}

/// The Monte Carlo table as CSV.
pub fn to_csv(mc: &MonteCarlo) -> String {
    let mut out = String::from(
        "indicator,table,domain,truth,reps,mean_estimate,relative_bias,empirical_se,mc_se_of_mean,mean_estimated_se,coverage\n",
    );
    for r in &mc.rows {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{}",
            r.indicator,
            r.table,
            r.domain,
            r.truth,
            r.reps,
            r.mean_estimate,
            r.relative_bias,
            r.empirical_se,
            r.mc_se_of_mean,
            r.mean_estimated_se,
            r.coverage
        );
    }
    out
}
