//! `chainsurvey weights --dir DIR [--output FILE]`: the whole weighting chain of a survey
//! (base weights, GWSM sharing through the tiers, subsampling, non-response, worker factors,
//! trimming) from the CSV files named in `DIR/weighting.json`, with every factor as a column
//! and optional JK1 or multistage bootstrap replicate weights (docs/methodology.md, "The
//! weighting chain").

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use clap::Args as ClapArgs;
use serde::Deserialize;

use crate::weighting::Probability;
use crate::weighting::bootstrap::{BootstrapDesign, multistage_replicates};
use crate::weighting::calibration::{CalibrationConfig, Distance};
use crate::weighting::factors::WeightColumns;
use crate::weighting::links::{DuplicateLinks, LinkScale};
use crate::weighting::nonresponse::{CollapseRule, ResponseStatus};
use crate::weighting::plan::{
    FrameSampleRecord, LinkRecord, Outcome, PlanOptions, SelectedRecord, UnitRecord, WorkerRecord,
    build_recipe, jk1_frame_weights,
};
use crate::weighting::recipe::{CalibrationStep, run_recipe, run_replicate};
use crate::weighting::share::ShareMode;
use crate::weighting::trim::TrimCap;
use crate::weighting::workers::WorkerTake;

/// Arguments of `chainsurvey weights`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Directory holding weighting.json and the CSV files it names.
    #[arg(long)]
    pub dir: PathBuf,
    /// Write the weighted worker file here instead of standard output.
    #[arg(long)]
    pub output: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    schema_version: u32,
    units: String,
    frame_sample: String,
    links: String,
    #[serde(default)]
    selected: Option<String>,
    workers: String,
    share_mode: String,
    link_scale: String,
    duplicate_links: String,
    collapse: Collapse,
    #[serde(default)]
    calibration: Option<Calibration>,
    #[serde(default)]
    trim: Option<Trim>,
    #[serde(default)]
    replicates: Option<String>,
    /// Replicates per stage set of `"replicates": "bootstrap"` (default 100).
    #[serde(default)]
    bootstrap_replicates: Option<usize>,
    /// Seed of the bootstrap replicates (default 1).
    #[serde(default)]
    seed: Option<u64>,
}

/// Which replicate weights to write.
#[derive(Clone, Copy, PartialEq)]
enum Replicates {
    None,
    Jk1,
    /// The multistage rescaled bootstrap (`weighting::bootstrap`), B per stage.
    Bootstrap(usize),
}

/// Calibration of the worker weights to known totals of worker columns.
#[derive(Deserialize)]
#[serde(tag = "method", rename_all = "lowercase", deny_unknown_fields)]
enum Calibration {
    /// Post-stratification on one column: `totals` maps each value to its population count.
    Poststratify {
        column: String,
        totals: std::collections::BTreeMap<String, f64>,
    },
    /// Raking (IPF) over several margins.
    Rake {
        margins: Vec<CalibrationMargin>,
        #[serde(default)]
        epsilon: Option<f64>,
        #[serde(default)]
        maxit: Option<usize>,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CalibrationMargin {
    column: String,
    totals: std::collections::BTreeMap<String, f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Collapse {
    min_respondents: usize,
    max_factor: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Trim {
    k1: f64,
    #[serde(default)]
    quantile: Option<f64>,
}

/// A CSV file as header → column index plus string rows.
struct Csv {
    name: String,
    header: HashMap<String, usize>,
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Csv {
    fn read(dir: &Path, file: &str) -> anyhow::Result<Csv> {
        let path = dir.join(file);
        let mut reader =
            csv::Reader::from_path(&path).with_context(|| format!("reading {}", path.display()))?;
        let headers: Vec<String> = reader.headers()?.iter().map(str::to_string).collect();
        let header = headers
            .iter()
            .enumerate()
            .map(|(i, h)| (h.clone(), i))
            .collect();
        let mut rows = Vec::new();
        for (idx, record) in reader.records().enumerate() {
            let record = record.with_context(|| format!("{}: line {}", path.display(), idx + 2))?;
            rows.push(record.iter().map(str::to_string).collect());
        }
        Ok(Csv {
            name: file.to_string(),
            header,
            headers,
            rows,
        })
    }

    fn cell<'a>(&self, row: &'a [String], column: &str) -> Option<&'a str> {
        self.header
            .get(column)
            .map(|&i| row[i].trim())
            .filter(|s| !s.is_empty())
    }

    fn required<'a>(
        &self,
        row: &'a [String],
        line: usize,
        column: &str,
    ) -> anyhow::Result<&'a str> {
        self.cell(row, column).ok_or_else(|| {
            anyhow!(
                "{}: line {}: column `{column}` is empty or absent",
                self.name,
                line + 2
            )
        })
    }

    fn number(&self, row: &[String], line: usize, column: &str) -> anyhow::Result<f64> {
        let text = self.required(row, line, column)?;
        text.parse().map_err(|_| {
            anyhow!(
                "{}: line {}: `{column}` = `{text}` is not a number",
                self.name,
                line + 2
            )
        })
    }

    fn count(&self, row: &[String], line: usize, column: &str) -> anyhow::Result<u64> {
        let text = self.required(row, line, column)?;
        text.parse().map_err(|_| {
            anyhow!(
                "{}: line {}: `{column}` = `{text}` is not a whole number",
                self.name,
                line + 2
            )
        })
    }

    fn outcome(&self, row: &[String], line: usize) -> anyhow::Result<Option<Outcome>> {
        match (self.cell(row, "nr_class"), self.cell(row, "status")) {
            (None, None) => Ok(None),
            (Some(class), Some(status)) => {
                let class = class.parse().map_err(|_| {
                    anyhow!(
                        "{}: line {}: nr_class `{class}` is not a whole number",
                        self.name,
                        line + 2
                    )
                })?;
                let status = match status.to_ascii_uppercase().as_str() {
                    "R" => ResponseStatus::Respondent,
                    "NR" => ResponseStatus::NonRespondent,
                    "I" => ResponseStatus::Ineligible,
                    "U" => ResponseStatus::Unknown,
                    other => bail!(
                        "{}: line {}: status `{other}` is not R, NR, I or U",
                        self.name,
                        line + 2
                    ),
                };
                Ok(Some(Outcome { class, status }))
            }
            _ => bail!(
                "{}: line {}: give both nr_class and status, or neither",
                self.name,
                line + 2
            ),
        }
    }
}

/// Runs the command; exit code 0 on success, 2 on bad input (reported on stderr).
pub fn run(args: Args) -> anyhow::Result<i32> {
    match weights(&args.dir) {
        Ok(text) => {
            super::write_output(args.output.as_deref(), &text)?;
            Ok(0)
        }
        Err(e) => {
            eprintln!("chainsurvey weights: {e:#}");
            Ok(2)
        }
    }
}

fn weights(dir: &Path) -> anyhow::Result<String> {
    let config_path = dir.join("weighting.json");
    let text = std::fs::read_to_string(&config_path)
        .with_context(|| format!("reading {}", config_path.display()))?;
    let config: Config =
        serde_json::from_str(&text).with_context(|| format!("{}", config_path.display()))?;
    if config.schema_version != 1 {
        bail!(
            "weighting.json: schema_version {} is not supported (expected 1)",
            config.schema_version
        );
    }
    let options = PlanOptions {
        share_mode: match config.share_mode.as_str() {
            "clustered" => ShareMode::Clustered,
            "singleton" => ShareMode::Singleton,
            "elimination" => ShareMode::ClusterElimination,
            other => bail!(
                "weighting.json: share_mode `{other}` is not clustered, singleton or elimination"
            ),
        },
        scale: match config.link_scale.as_str() {
            "count" => LinkScale::Count,
            "importance" => LinkScale::Importance,
            other => bail!("weighting.json: link_scale `{other}` is not count or importance"),
        },
        duplicates: match config.duplicate_links.as_str() {
            "refuse" => DuplicateLinks::Refuse,
            "dedupe" => DuplicateLinks::Dedupe,
            other => bail!("weighting.json: duplicate_links `{other}` is not refuse or dedupe"),
        },
        collapse: CollapseRule {
            min_respondents: config.collapse.min_respondents,
            max_factor: config.collapse.max_factor,
        },
        trim: config.trim.as_ref().map(|t| match t.quantile {
            Some(quantile) => TrimCap::MedianMultipleOrQuantile { k1: t.k1, quantile },
            None => TrimCap::MedianMultiple(t.k1),
        }),
    };
    let replicates = match config.replicates.as_deref() {
        None | Some("none") => Replicates::None,
        Some("jk1") => Replicates::Jk1,
        Some("bootstrap") => match config.bootstrap_replicates.unwrap_or(100) {
            b if b >= 2 => Replicates::Bootstrap(b),
            b => bail!("weighting.json: bootstrap_replicates {b} is below 2"),
        },
        Some(other) => {
            bail!("weighting.json: replicates `{other}` is not jk1, bootstrap or none")
        }
    };

    let units_csv = Csv::read(dir, &config.units)?;
    let mut units = Vec::with_capacity(units_csv.rows.len());
    for (line, row) in units_csv.rows.iter().enumerate() {
        let id = units_csv.required(row, line, "id")?.to_string();
        units.push(UnitRecord {
            tier: units_csv.count(row, line, "tier")? as usize,
            cluster: units_csv.cell(row, "cluster").unwrap_or(&id).to_string(),
            id,
        });
    }
    let frame_csv = Csv::read(dir, &config.frame_sample)?;
    let mut frame_sample = Vec::with_capacity(frame_csv.rows.len());
    // Tier-0 strata for the bootstrap: the optional `stratum` column (one stratum without
    // it); a unit with π = 1 is a certainty unit and forms no stratum.
    let mut frame_strata = Vec::with_capacity(frame_csv.rows.len());
    let mut stratum_names: Vec<String> = Vec::new();
    for (line, row) in frame_csv.rows.iter().enumerate() {
        let place = format!("{}: line {}", frame_csv.name, line + 2);
        let probability = Probability::new(frame_csv.number(row, line, "pi")?, &place)?;
        let name = frame_csv.cell(row, "stratum").unwrap_or("").to_string();
        frame_strata.push(if probability.get() >= 1.0 {
            None
        } else {
            Some(match stratum_names.iter().position(|n| *n == name) {
                Some(h) => h,
                None => {
                    stratum_names.push(name);
                    stratum_names.len() - 1
                }
            })
        });
        frame_sample.push(FrameSampleRecord {
            id: frame_csv.required(row, line, "id")?.to_string(),
            probability,
            outcome: frame_csv.outcome(row, line)?,
        });
    }
    let links_csv = Csv::read(dir, &config.links)?;
    let mut links = Vec::with_capacity(links_csv.rows.len());
    for (line, row) in links_csv.rows.iter().enumerate() {
        links.push(LinkRecord {
            buyer: links_csv.required(row, line, "buyer")?.to_string(),
            supplier: links_csv.required(row, line, "supplier")?.to_string(),
            importance: match links_csv.cell(row, "importance") {
                Some(_) => Some(links_csv.number(row, line, "importance")?),
                None => None,
            },
            // An optional `retained_p` column records link subsampling (§2.8.2); an empty
            // cell means the link was not kept.
            retention: match links_csv.cell(row, "retained_p") {
                Some(_) => Some(Probability::new(
                    links_csv.number(row, line, "retained_p")?,
                    &format!("{}: line {}, retained_p", links_csv.name, line + 2),
                )?),
                None => None,
            },
        });
    }
    let mut selected = Vec::new();
    if let Some(file) = &config.selected {
        let selected_csv = Csv::read(dir, file)?;
        for (line, row) in selected_csv.rows.iter().enumerate() {
            let place = format!("{}: line {}", selected_csv.name, line + 2);
            selected.push(SelectedRecord {
                id: selected_csv.required(row, line, "id")?.to_string(),
                probability: match selected_csv.cell(row, "pi") {
                    Some(_) => Some(Probability::new(
                        selected_csv.number(row, line, "pi")?,
                        &place,
                    )?),
                    None => None,
                },
                outcome: selected_csv.outcome(row, line)?,
            });
        }
    }
    let workers_csv = Csv::read(dir, &config.workers)?;
    // The output appends the factor, `weight` and `rep_<r>` columns to the worker file; a
    // worker file that already has one (typically an earlier output fed back in) would give
    // `estimate` a duplicate header, or stale replicates under the `^rep_[0-9]+$` pattern.
    if let Some(column) = workers_csv.headers.iter().find(|h| is_output_column(h)) {
        bail!(
            "{}: column `{column}` is one that `chainsurvey weights` writes (factors, weight, rep_<r>); rename or drop it",
            workers_csv.name
        );
    }
    let mut workers = Vec::with_capacity(workers_csv.rows.len());
    for (line, row) in workers_csv.rows.iter().enumerate() {
        workers.push(WorkerRecord {
            unit: workers_csv.required(row, line, "unit")?.to_string(),
            take: WorkerTake {
                population: workers_csv.count(row, line, "workers_population")?,
                selected: workers_csv.count(row, line, "workers_selected")?,
                responded: workers_csv.count(row, line, "workers_responded")?,
            },
        });
    }

    let (mut recipe, ignored_links) =
        build_recipe(&units, &frame_sample, &links, &selected, &workers, &options)?;
    recipe.calibration = match &config.calibration {
        None => None,
        Some(Calibration::Poststratify { column, totals }) => {
            let (cell_of_row, cell_totals) = cells(&workers_csv, column, totals)?;
            Some(CalibrationStep::Poststratify {
                cell_of_row,
                cell_totals,
            })
        }
        Some(Calibration::Rake {
            margins,
            epsilon,
            maxit,
        }) => {
            let margins = margins
                .iter()
                .map(|m| cells(&workers_csv, &m.column, &m.totals))
                .collect::<anyhow::Result<Vec<_>>>()?;
            Some(CalibrationStep::Rake {
                margins,
                config: CalibrationConfig {
                    distance: Distance::Raking,
                    max_iter: maxit.unwrap_or(100),
                    tolerance: epsilon.unwrap_or(1e-7),
                },
            })
        }
    };
    let output = run_recipe(&recipe)?;
    let replicate_weights: Vec<Vec<f64>> = match replicates {
        Replicates::None => Vec::new(),
        Replicates::Jk1 => jk1_frame_weights(&recipe)
            .iter()
            .map(|frame_weights| run_replicate(&recipe, &output, frame_weights))
            .collect::<Result<_, _>>()?,
        Replicates::Bootstrap(b) => {
            let boot = multistage_replicates(
                &recipe,
                &output,
                &BootstrapDesign {
                    frame_strata,
                    replicates: b,
                    seed: config.seed.unwrap_or(1),
                },
            )?;
            let names: Vec<&str> = boot.sets.iter().map(|s| s.name.as_str()).collect();
            // Every set has B replicates, so one scale serves them all.
            eprintln!(
                "chainsurvey weights: bootstrap stage sets {}; estimate with {{\"columns\": \"^rep_[0-9]+$\", \"type\": \"other\", \"scale\": {}, \"mse\": true}}",
                names.join(", "),
                1.0 / b as f64
            );
            boot.weights
        }
    };
    eprintln!(
        "chainsurvey weights: {} workers, Σw = {:.3}, Kish deff_w before trimming {}, final {}; {} link(s) not from tier t−1 to t ignored; {} replicate(s)",
        output.weights.len(),
        output.weights.iter().sum::<f64>(),
        output
            .deff_before_trim
            .map_or("NA".to_string(), |d| format!("{d:.4}")),
        output
            .deff_final
            .map_or("NA".to_string(), |d| format!("{d:.4}")),
        ignored_links,
        replicate_weights.len()
    );
    write_output(
        &workers_csv,
        &output.columns,
        &output.weights,
        &replicate_weights,
    )
}

/// The cell of every worker row for a calibration column, and the totals in cell order.
fn cells(
    workers: &Csv,
    column: &str,
    totals: &std::collections::BTreeMap<String, f64>,
) -> anyhow::Result<(Vec<usize>, Vec<f64>)> {
    let index: HashMap<&str, usize> = totals
        .keys()
        .enumerate()
        .map(|(i, k)| (k.as_str(), i))
        .collect();
    let mut cell_of_row = Vec::with_capacity(workers.rows.len());
    for (line, row) in workers.rows.iter().enumerate() {
        let value = workers.required(row, line, column)?;
        let cell = index.get(value).ok_or_else(|| {
            anyhow!(
                "{}: line {}: `{column}` = `{value}` has no population total in weighting.json",
                workers.name,
                line + 2
            )
        })?;
        cell_of_row.push(*cell);
    }
    Ok((cell_of_row, totals.values().copied().collect()))
}

/// Whether a worker-file column would clash with a column the output appends.
fn is_output_column(name: &str) -> bool {
    WeightColumns::NAMES.contains(&name)
        || name == "weight"
        || name
            .strip_prefix("rep_")
            .is_some_and(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_digit()))
}

fn write_output(
    workers: &Csv,
    columns: &WeightColumns,
    weights: &[f64],
    replicates: &[Vec<f64>],
) -> anyhow::Result<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header = workers.headers.clone();
    header.extend(WeightColumns::NAMES.iter().map(|s| s.to_string()));
    header.push("weight".to_string());
    header.extend((1..=replicates.len()).map(|r| format!("rep_{r}")));
    writer.write_record(&header)?;
    for (k, row) in workers.rows.iter().enumerate() {
        let mut record = row.clone();
        record.extend(columns.row(k).iter().map(|v| format!("{v}")));
        record.push(format!("{}", weights[k]));
        record.extend(replicates.iter().map(|rep| format!("{}", rep[k])));
        writer.write_record(&record)?;
    }
    Ok(String::from_utf8(writer.into_inner()?)?)
}
