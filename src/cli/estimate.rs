//! `chainsurvey estimate --survey DIR [--by tier,sex] [--format csv|json]`: the decent-work
//! indicator table of a survey directory (docs/methodology.md, "Indicator estimation").

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args as ClapArgs, ValueEnum};

use crate::estimate::Design;
use crate::estimate::indicators::catalog::Catalog;
use crate::estimate::indicators::derived::derive;
use crate::estimate::indicators::evaluate::prepare;
use crate::estimate::indicators::legal::LegalParameters;
use crate::estimate::indicators::survey::{SurveyConfig, add_missing_known_columns, read_records};
use crate::estimate::indicators::table::{IndicatorRow, indicator_table, replicate_weight_vectors};
use crate::estimate::reliability::ReliabilityRules;
use crate::estimate::spec::parse_design;
use crate::estimate::table::Table;

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Csv,
    Json,
}

/// Arguments of `chainsurvey estimate`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Survey directory holding survey.json and the worker microdata (workers.csv).
    #[arg(long)]
    pub survey: PathBuf,
    /// Domain columns, crossed (e.g. `tier,sex`); the overall row is always included.
    #[arg(long, value_delimiter = ',')]
    pub by: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: Format,
    /// Write to this file instead of standard output.
    #[arg(long)]
    pub output: Option<PathBuf>,
}

/// Runs the command; exit code 0 on success, 2 on bad input (reported on stderr).
pub fn run(args: Args) -> anyhow::Result<i32> {
    match table(&args.survey, &args.by) {
        Ok(rows) => {
            let text = match args.format {
                Format::Csv => to_csv(&rows)?,
                Format::Json => to_json(&rows),
            };
            super::write_output(args.output.as_deref(), &text)?;
            Ok(0)
        }
        Err(e) => {
            eprintln!("chainsurvey estimate: {e:#}");
            Ok(2)
        }
    }
}

/// Reads the survey directory and computes the indicator table.
fn table(dir: &Path, by: &[String]) -> anyhow::Result<Vec<IndicatorRow>> {
    let config_path = dir.join("survey.json");
    let config_text = std::fs::read_to_string(&config_path)
        .with_context(|| format!("reading {}", config_path.display()))?;
    let config = SurveyConfig::parse(&config_text, dir)?;
    let legal = match &config.legal {
        Some(path) => LegalParameters::load(path)?,
        None => LegalParameters::vietnam()?,
    };
    let data_path = dir.join(&config.data);
    let bytes =
        std::fs::read(&data_path).with_context(|| format!("reading {}", data_path.display()))?;
    let file = data_path.display().to_string();
    let mut records = read_records(&bytes, &file)?;
    let absent = add_missing_known_columns(&mut records);
    if !absent.is_empty() {
        eprintln!(
            "chainsurvey estimate: note: columns not in {file} (treated as not collected): {}",
            absent.join(", ")
        );
    }
    derive(&mut records, &legal, &config.settings)?;
    let catalog = match &config.indicators {
        Some(path) => Catalog::load(path, &records.schema)?,
        None => Catalog::dwscs(&records.schema)?,
    };
    let data_table =
        Table::from_csv(bytes.as_slice()).map_err(|e| anyhow::anyhow!("{file}: {e}"))?;
    let design_spec = parse_design(&config.design_json)
        .map_err(|e| anyhow::anyhow!("survey.json design: {e}"))?;
    let design = Design::build(&data_table, &design_spec)
        .map_err(|e| anyhow::anyhow!("survey.json design: {e}"))?;
    let prepared = prepare(&catalog, &records);
    let rules = ReliabilityRules::methodology_default();
    let replicate_weights = replicate_weight_vectors(&design);
    Ok(indicator_table(
        &catalog,
        &prepared,
        &records,
        &design,
        replicate_weights.as_deref(),
        by,
        config.ci_level,
        &rules,
    )?)
}

fn number(value: Option<f64>) -> String {
    value.map_or(String::new(), |v| format!("{v}"))
}

fn to_csv(rows: &[IndicatorRow]) -> anyhow::Result<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record([
        "id",
        "number",
        "label",
        "domain",
        "estimate",
        "se",
        "ci_lower",
        "ci_upper",
        "ci_method",
        "cv",
        "n",
        "psus",
        "flag",
        "cv_letter",
    ])?;
    for r in rows {
        writer.write_record([
            r.id.clone(),
            r.number.to_string(),
            r.label.clone(),
            r.domain.clone(),
            format!("{}", r.estimate),
            number(r.se),
            number(r.ci_lower),
            number(r.ci_upper),
            r.ci_method.as_str().to_string(),
            number(r.cv),
            r.n.to_string(),
            r.psus.to_string(),
            r.flag.clone(),
            r.cv_letter.clone(),
        ])?;
    }
    Ok(String::from_utf8(writer.into_inner()?)?)
}

fn to_json(rows: &[IndicatorRow]) -> String {
    let json_number = |v: Option<f64>| match v {
        Some(x) if x.is_finite() => serde_json::json!(x),
        _ => serde_json::Value::Null,
    };
    let list: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            serde_json::json!({
                "id": r.id,
                "number": r.number,
                "label": r.label,
                "domain": r.domain,
                "estimate": json_number(Some(r.estimate)),
                "se": json_number(r.se),
                "ci_lower": json_number(r.ci_lower),
                "ci_upper": json_number(r.ci_upper),
                "ci_method": r.ci_method.as_str(),
                "cv": json_number(r.cv),
                "n": r.n,
                "psus": r.psus,
                "flag": r.flag,
                "cv_letter": r.cv_letter,
            })
        })
        .collect();
    let mut text = serde_json::to_string_pretty(
        &serde_json::json!({ "schema_version": 1, "indicators": list }),
    )
    .unwrap_or_default();
    text.push('\n');
    text
}
