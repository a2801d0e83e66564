//! `chainsurvey analyze --data FILE.csv --design DESIGN.json --estimate ESTIMATE.json
//! [--format json|csv] [--output FILE]`: design-based estimates for any survey's microdata
//! (formats in docs/analysis.md). Exit code 0 on success, 2 on bad input.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args as ClapArgs, ValueEnum};

use crate::estimate::spec::{parse_design, parse_estimates};
use crate::estimate::{AnalysisRow, Design, Domain, Table, analyze};

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Json,
    Csv,
}

/// Arguments of `chainsurvey analyze`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Microdata CSV with a header row; column names are taken literally.
    #[arg(long)]
    pub data: PathBuf,
    /// The sampling design (DESIGN.json).
    #[arg(long)]
    pub design: PathBuf,
    /// One estimate request or a list of them (ESTIMATE.json).
    #[arg(long)]
    pub estimate: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "json")]
    pub format: Format,
    /// Write to this file instead of standard output.
    #[arg(long)]
    pub output: Option<PathBuf>,
}

/// Runs the command and returns the exit code.
pub fn run(args: Args) -> anyhow::Result<i32> {
    match compute(&args) {
        Ok((rows, summary)) => {
            let text = match args.format {
                Format::Json => to_json(&rows, &summary),
                Format::Csv => to_csv(&rows)?,
            };
            super::write_output(args.output.as_deref(), &text)?;
            Ok(0)
        }
        Err(e) => {
            eprintln!("chainsurvey analyze: {e:#}");
            Ok(2)
        }
    }
}

struct Summary {
    rows: usize,
    df: f64,
    replicates: Option<usize>,
    calibrated: bool,
}

fn compute(args: &Args) -> anyhow::Result<(Vec<AnalysisRow>, Summary)> {
    let read =
        |path: &PathBuf| std::fs::read(path).with_context(|| format!("reading {}", path.display()));
    let data = read(&args.data)?;
    let design_text = String::from_utf8(read(&args.design)?)
        .with_context(|| format!("{} is not UTF-8", args.design.display()))?;
    let estimate_text = String::from_utf8(read(&args.estimate)?)
        .with_context(|| format!("{} is not UTF-8", args.estimate.display()))?;
    let table =
        Table::from_csv(data.as_slice()).with_context(|| format!("in {}", args.data.display()))?;
    let design_spec =
        parse_design(&design_text).with_context(|| format!("in {}", args.design.display()))?;
    let estimates = parse_estimates(&estimate_text)
        .with_context(|| format!("in {}", args.estimate.display()))?;
    let design = Design::build(&table, &design_spec)
        .with_context(|| format!("design {}", args.design.display()))?;
    let mut rows = Vec::new();
    for (i, estimate) in estimates.iter().enumerate() {
        rows.extend(analyze(&table, &design, estimate).with_context(|| format!("estimate {i}"))?);
    }
    let summary = Summary {
        rows: table.rows(),
        df: design.degrees_of_freedom(Domain::all(table.rows()).mask()),
        replicates: design.replicate_count(),
        calibrated: design.is_calibrated(),
    };
    Ok((rows, summary))
}

fn json_number(x: f64) -> serde_json::Value {
    serde_json::Number::from_f64(x).map_or(serde_json::Value::Null, serde_json::Value::Number)
}

fn to_json(rows: &[AnalysisRow], summary: &Summary) -> String {
    let estimates: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            serde_json::json!({
                "name": r.name,
                "domain": r.domain,
                "estimate": json_number(r.estimate),
                "se": json_number(r.se),
                "ci_lower": json_number(r.ci_lower),
                "ci_upper": json_number(r.ci_upper),
                "deff": r.deff.map_or(serde_json::Value::Null, json_number),
                "cv": json_number(r.cv),
                "n": r.n,
                "df": json_number(r.df),
            })
        })
        .collect();
    let doc = serde_json::json!({
        "design": {
            "rows": summary.rows,
            "df": json_number(summary.df),
            "replicates": summary.replicates,
            "calibrated": summary.calibrated,
        },
        "estimates": estimates,
    });
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

fn to_csv(rows: &[AnalysisRow]) -> anyhow::Result<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([
        "name", "domain", "estimate", "se", "ci_lower", "ci_upper", "deff", "cv", "n", "df",
    ])?;
    let f = |x: f64| {
        if x.is_nan() {
            "NA".to_string()
        } else {
            format!("{x}")
        }
    };
    for r in rows {
        writer.write_record([
            r.name.clone(),
            r.domain.clone(),
            f(r.estimate),
            f(r.se),
            f(r.ci_lower),
            f(r.ci_upper),
            r.deff.map_or_else(String::new, f),
            f(r.cv),
            r.n.to_string(),
            f(r.df),
        ])?;
    }
    Ok(String::from_utf8(writer.into_inner()?)?)
}
