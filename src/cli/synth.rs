//! `chainsurvey frame synth`: generate the synthetic supply-chain population, write its frame
//! CSVs and truth, and print the calibration checks.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;

use crate::synth::{self, DEFAULT_CONFIG_JSON, SynthConfig};

/// Arguments of `frame synth`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Population scale: 1.0 ≈ 2,800 enterprises and 1.14 million workers.
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// Random seed; the same seed and scale give the same population, bit for bit.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output directory (created if missing): units.csv, links.csv, tier0.txt, truth.csv,
    /// truth.json, calibration.csv, config.json, synth.json.
    #[arg(long, required_unless_present = "print_config")]
    pub out: Option<PathBuf>,
    /// Configuration JSON (default: the embedded Viet Nam electronics configuration).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Also stream every worker to workers.csv (about 200 MB at scale 1).
    #[arg(long)]
    pub workers: bool,
    /// Exit with status 1 when a calibration check fails.
    #[arg(long)]
    pub strict: bool,
    /// Print the embedded default configuration (a starting point for another country or
    /// sector) and exit.
    #[arg(long)]
    pub print_config: bool,
}

/// Runs `frame synth`.
pub fn run(args: Args) -> anyhow::Result<i32> {
    if args.print_config {
        print!("{DEFAULT_CONFIG_JSON}");
        return Ok(0);
    }
    let Some(out) = args.out else {
        anyhow::bail!("--out DIR is required");
    };
    let (config, config_text) = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let config = SynthConfig::from_json(&text)
                .with_context(|| format!("loading {}", path.display()))?;
            (config, text)
        }
        None => (
            SynthConfig::vn_electronics(),
            DEFAULT_CONFIG_JSON.to_string(),
        ),
    };
    let started = Instant::now();
    let pop = synth::generate(&config, args.scale, args.seed)?;
    let generated = started.elapsed().as_secs_f64();
    let truth = synth::population_truth(&pop);
    let total = started.elapsed().as_secs_f64();
    let checks = synth::calibration_checks(&pop, &truth);

    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    synth::write_frame_csv(&pop, &out)?;
    synth::write_truth(&truth, &out)?;
    synth::write_calibration_csv(&checks, &out.join("calibration.csv"))?;
    std::fs::write(out.join("config.json"), &config_text)
        .with_context(|| format!("writing {}", out.join("config.json").display()))?;
    let workers_written = if args.workers {
        Some(synth::write_workers_csv(&pop, &out.join("workers.csv"))?)
    } else {
        None
    };
    let meta = serde_json::json!({
        "generator": "chainsurvey synth",
        "crate_version": env!("CARGO_PKG_VERSION"),
        "config": config.name,
        "config_sha256": sha256_hex(&config_text),
        "seed": args.seed,
        "scale": args.scale,
        "units": pop.frame.units.len(),
        "links": pop.frame.links.len(),
        "workers": truth.workers,
        "workers_csv": workers_written,
        "median_hourly_earnings": truth.median_hourly_earnings,
        "low_pay_threshold": truth.low_pay_threshold,
    });
    std::fs::write(out.join("synth.json"), serde_json::to_string_pretty(&meta)?)
        .with_context(|| format!("writing {}", out.join("synth.json").display()))?;

    // Written through a locked handle with `?`, so a closed pipe ends the command with an
    // error instead of a panic.
    let mut out_text = std::io::stdout().lock();
    writeln!(
        out_text,
        "{}: seed {}, scale {}: {} units, {} links, {} workers ({:.2} s frame, {:.2} s with truth)",
        config.name,
        args.seed,
        args.scale,
        pop.frame.units.len(),
        pop.frame.links.len(),
        truth.workers,
        generated,
        total
    )?;
    writeln!(out_text, "written to {}\n", out.display())?;
    writeln!(
        out_text,
        "{:<62} {:>14}  {:<22} result",
        "calibration check", "value", "target"
    )?;
    let mut failed = 0;
    for c in &checks {
        let result = match c.pass {
            Some(true) => "pass",
            Some(false) => {
                failed += 1;
                "FAIL"
            }
            None => "info",
        };
        let value = if c.value.fract() == 0.0 && c.value.abs() >= 1.0 {
            format!("{:.0}", c.value)
        } else {
            format!("{:.4}", c.value)
        };
        writeln!(
            out_text,
            "{:<62} {:>14}  {:<22} {result}",
            c.name, value, c.target
        )?;
    }
    writeln!(
        out_text,
        "\n{failed} of {} checks failed",
        checks.iter().filter(|c| c.pass.is_some()).count()
    )?;
    Ok(if args.strict && failed > 0 { 1 } else { 0 })
}

fn sha256_hex(text: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
