//! A survey directory for `chainsurvey estimate`: `survey.json` (reference date, design,
//! options) and `workers.csv` (one row per responding worker, with weights and design
//! columns). The formats are documented in docs/methodology.md, "Indicator estimation".

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::estimate::indicators::date::CivilDate;
use crate::estimate::indicators::derived::DerivationSettings;
use crate::estimate::indicators::error::Error;
use crate::estimate::indicators::record::{Column, Records, Schema};
use crate::questionnaire::dwscs;

/// The parsed `survey.json`.
#[derive(Clone, Debug)]
pub struct SurveyConfig {
    pub settings: DerivationSettings,
    /// The design in the `DESIGN.json` format of `chainsurvey analyze` (docs/analysis.md).
    pub design_json: String,
    /// Confidence level of the intervals.
    pub ci_level: f64,
    /// Catalog and legal files (the shipped ones when absent).
    pub indicators: Option<PathBuf>,
    pub legal: Option<PathBuf>,
    /// The microdata file name inside the directory.
    pub data: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSurvey {
    schema_version: u32,
    reference_date: String,
    #[serde(default = "default_true")]
    overtime_300h_regime: bool,
    design: serde_json::Value,
    #[serde(default)]
    ci_level: Option<f64>,
    #[serde(default)]
    indicators: Option<String>,
    #[serde(default)]
    legal: Option<String>,
    #[serde(default)]
    data: Option<String>,
    #[serde(default)]
    description: Option<String>,
}

fn default_true() -> bool {
    true
}

impl SurveyConfig {
    /// Parses `survey.json`; relative catalog/legal paths are taken from `dir`.
    pub fn parse(text: &str, dir: &Path) -> Result<SurveyConfig, Error> {
        let raw: RawSurvey =
            serde_json::from_str(text).map_err(|e| Error::Survey(format!("survey.json: {e}")))?;
        if raw.schema_version != 1 {
            return Err(Error::Survey(format!(
                "survey.json: schema_version {} is not supported (expected 1)",
                raw.schema_version
            )));
        }
        let _ = raw.description;
        let reference_date = CivilDate::parse(&raw.reference_date).ok_or_else(|| {
            Error::Survey(format!(
                "survey.json: reference_date `{}` is not a date YYYY-MM-DD",
                raw.reference_date
            ))
        })?;
        let ci_level = raw.ci_level.unwrap_or(0.95);
        if !(ci_level > 0.0 && ci_level < 1.0) {
            return Err(Error::Survey(format!(
                "survey.json: ci_level {ci_level} is not in (0, 1)"
            )));
        }
        Ok(SurveyConfig {
            settings: DerivationSettings {
                reference_date,
                overtime_300h_regime: raw.overtime_300h_regime,
            },
            design_json: raw.design.to_string(),
            ci_level,
            indicators: raw.indicators.map(|p| dir.join(p)),
            legal: raw.legal.map(|p| dir.join(p)),
            data: raw.data.unwrap_or_else(|| "workers.csv".to_string()),
        })
    }
}

/// Reads a worker CSV into records (every cell as [`crate::estimate::indicators::record::Value::from_cell`] reads it). Errors name
/// the file and line.
pub fn read_records(bytes: &[u8], file: &str) -> Result<Records, Error> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(bytes);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| Error::Record(format!("{file}: header: {e}")))?
        .iter()
        .map(str::to_string)
        .collect();
    let schema = Schema::new(&headers);
    if schema.len() != headers.len() {
        return Err(Error::Record(format!(
            "{file}: a column name appears twice in the header"
        )));
    }
    let mut columns: Vec<Column> = (0..schema.len()).map(|_| Column::default()).collect();
    let mut record = csv::StringRecord::new();
    let mut line = 1;
    loop {
        line += 1;
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(Error::Record(format!("{file}: line {line}: {e}"))),
        }
        for (column, cell) in columns.iter_mut().zip(record.iter()) {
            column.push_cell(cell);
        }
    }
    Records::from_columns(schema, columns)
}

/// The worker variables of VARIABLES.md and the unit columns merged onto worker rows that
/// the shipped catalog and the derivations read (the contract's one home is
/// [`crate::questionnaire::dwscs`]).
pub const KNOWN_COLUMNS: &[&str] = &dwscs::WORKER_ROW_COLUMNS;

/// Adds every known column absent from the data as an all-missing column, so indicators
/// whose inputs were not collected come out empty instead of failing; returns the names
/// added (the CLI reports them). A catalog variable that is not a known column still fails.
pub fn add_missing_known_columns(records: &mut Records) -> Vec<String> {
    let missing: Vec<String> = KNOWN_COLUMNS
        .iter()
        .filter(|c| records.schema.get(c).is_none())
        .map(|c| c.to_string())
        .collect();
    for name in &missing {
        records.put_column(name, Column::missing(records.len()));
    }
    missing
}
