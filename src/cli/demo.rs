//! `chainsurvey demo`: one whole survey round on the synthetic Viet Nam electronics
//! population, no server needed; prints the estimates next to the population truth.

use std::fmt::Write as _;
use std::time::Instant;

use clap::{Args as ClapArgs, ValueEnum};

use crate::demo::{EstimateRow, RoundConfig, RoundResult, run_round};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// Arguments of `demo`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Population scale (1.0 ≈ 2,800 enterprises and 1.13 million workers).
    #[arg(long, default_value_t = 0.5)]
    pub scale: f64,
    /// Seed of the population and of the round.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Runs `demo`.
pub fn run(args: Args) -> anyhow::Result<i32> {
    let started = Instant::now();
    let config = RoundConfig::default_for(args.scale, args.seed, args.seed);
    let result = run_round(&config)?;
    let text = match args.format {
        Format::Json => format!("{}\n", serde_json::to_string_pretty(&result)?),
        Format::Text => format!(
            "{}({:.1} s)\n",
            render_text(&result),
            started.elapsed().as_secs_f64()
        ),
    };
    emit(&text)?;
    Ok(0)
}

/// Writes to stdout; a closed pipe (`demo | head`) ends the output quietly instead of
/// panicking as `print!` would.
pub(crate) fn emit(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// Formats a value with the precision its size calls for (proportions to 4 decimals,
/// counts and VND to whole numbers).
pub(crate) fn number(value: f64) -> String {
    if !value.is_finite() {
        "-".into()
    } else if value.abs() >= 100.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.4}")
    }
}

fn row_line(out: &mut String, row: &EstimateRow) {
    let truth = row.truth.map_or("-".into(), number);
    let covers = match row.covers {
        Some(true) => "yes",
        Some(false) => "NO",
        None => "-",
    };
    let domain = format!("{}={}", row.table, row.domain);
    let _ = writeln!(
        out,
        "{:<30} {:<14} {:>12} {:>10} {:>27} {:>12} {:>6} {:>6} {:>8}",
        row.indicator,
        domain,
        number(row.estimate),
        number(row.se),
        format!("[{}, {}]", number(row.ci_low), number(row.ci_high)),
        truth,
        covers,
        row.n,
        row.flag,
    );
}

/// The readable report of a round.
pub fn render_text(result: &RoundResult) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Demo round: synthetic Viet Nam electronics chain, scale {}, population seed {}, round seed {}, {} workers",
        result.scale, result.population_seed, result.round_seed, result.population_workers
    );
    let _ = writeln!(
        out,
        "Variance: multistage rescaled bootstrap, {} tier-0 PSUs, {} replicates over the stages (tier 0, response, subsamples, workers), whole weighting chain re-run\n",
        result.psus, result.replicates
    );
    let _ = writeln!(
        out,
        "{:<5} {:>10} {:>8} {:>9} {:>10} {:>9} {:>9}",
        "tier", "population", "reached", "selected", "responded", "workers", "answered"
    );
    for s in &result.sizes {
        let _ = writeln!(
            out,
            "{:<5} {:>10} {:>8} {:>9} {:>10} {:>9} {:>9}",
            s.tier,
            s.population,
            s.reached,
            s.selected,
            s.responded,
            s.workers_selected,
            s.workers_responded
        );
    }
    let _ = writeln!(
        out,
        "\n{:<30} {:<14} {:>12} {:>10} {:>27} {:>12} {:>6} {:>6} {:>8}",
        "indicator", "domain", "estimate", "SE", "95% CI", "truth", "covers", "n", "flag"
    );
    for row in &result.estimates {
        row_line(&mut out, row);
    }
    let covered = result
        .estimates
        .iter()
        .filter(|r| r.covers == Some(true))
        .count();
    let judged = result
        .estimates
        .iter()
        .filter(|r| r.covers.is_some())
        .count();
    let _ = writeln!(
        out,
        "\n{covered} of {judged} intervals cover the population truth."
    );
    out
}
