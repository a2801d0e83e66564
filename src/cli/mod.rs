//! The command line. `main.rs` parses [`Cli`] and calls [`run`]; every command is a thin
//! layer over library functions, so tests and the HTTP server reach the same code.
//!
//! Each area owns one file here (`questionnaire.rs`, `frame.rs`, …) with its clap `Args`
//! and a `run(args) -> anyhow::Result<i32>` that returns the process exit code.

mod admin;
mod analyze;
mod demo;
mod estimate;
mod export;
mod frame;
mod montecarlo;
mod questionnaire;
mod sample;
mod serve;
mod synth;
mod user;
mod weights;

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use clap::{Parser, Subcommand};

/// chainsurvey: survey collection and supply-chain sampling for statistics offices.
#[derive(Debug, Parser)]
#[command(name = "chainsurvey", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Lint, show, diff and validate questionnaires.
    #[command(subcommand)]
    Questionnaire(questionnaire::Command),
    /// Run the collection server (the default when no command is given).
    Serve(serve::ServeArgs),
    /// Manage user accounts (while the server is stopped).
    #[command(subcommand)]
    User(user::Command),
    /// Write an online-consistent copy of a data directory.
    Backup(admin::BackupArgs),
    /// Copy a backup into a new data directory.
    Restore(admin::RestoreArgs),
    /// Rebuild a damaged database from its journal.
    Recover(admin::RecoverArgs),
    /// Free the journal history a verified backup already holds.
    CompactJournal(admin::CompactArgs),
    /// Design-based estimates (R `survey` semantics) for any survey's microdata.
    Analyze(analyze::Args),
    /// Write a questionnaire's export (CSV per level, codebook) from a stopped server's data.
    Export(export::Args),
    /// Import, check and summarise a business-register frame (units and supply links).
    #[command(subcommand)]
    Frame(frame::Command),
    /// Draw samples, trace supply links to the next tier, select workers.
    #[command(subcommand)]
    Sample(sample::Command),
    /// Decent-work indicator table (estimate, SE, CI, CV, n, flags) of a survey directory.
    Estimate(estimate::Args),
    /// Weights of a survey: base, GWSM sharing, subsampling, non-response, worker factors,
    /// trimming, each as a column, with optional JK1 replicate weights.
    Weights(weights::Args),
    /// One whole survey round on the synthetic population, estimates next to the truth.
    Demo(demo::Args),
    /// Repeated demo rounds: bias, empirical vs estimated SE and 95 % coverage by tier.
    Montecarlo(montecarlo::Args),
}

/// Runs a parsed command line and returns the process exit code.
pub fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Some(Command::Questionnaire(cmd)) => questionnaire::run(cmd),
        Some(Command::Serve(args)) => serve::run(args),
        Some(Command::User(cmd)) => user::run(cmd),
        Some(Command::Backup(args)) => admin::backup(args),
        Some(Command::Restore(args)) => admin::restore(args),
        Some(Command::Recover(args)) => admin::recover(args),
        Some(Command::CompactJournal(args)) => admin::compact_journal(args),
        Some(Command::Analyze(args)) => analyze::run(args),
        Some(Command::Export(args)) => export::run(args),
        Some(Command::Frame(cmd)) => frame::run(cmd),
        Some(Command::Sample(cmd)) => sample::run(cmd),
        Some(Command::Estimate(args)) => estimate::run(args),
        Some(Command::Weights(args)) => weights::run(args),
        Some(Command::Demo(args)) => demo::run(args),
        Some(Command::Montecarlo(args)) => montecarlo::run(args),
        // DESIGN "The embedded default": no arguments starts the server.
        None => serve::run(serve::ServeArgs::defaults()),
    }
}

/// Writes a command's result to the file named by `--output`, or to standard output when
/// there is none (`analyze`, `estimate` and `weights` share this).
fn write_output(output: Option<&Path>, text: &str) -> anyhow::Result<()> {
    match output {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
        }
        None => Ok(std::io::stdout().write_all(text.as_bytes())?),
    }
}
