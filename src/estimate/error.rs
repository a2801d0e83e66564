//! The error type of the `estimate` module boundary.

use thiserror::Error;

/// Why a design could not be built or an estimate computed. Each variant names the situation
/// and the column or key involved, so a user can fix the input.
#[derive(Debug, Error, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// The data file is malformed (ragged rows, duplicate header, unreadable CSV).
    #[error("data: {0}")]
    Data(String),
    /// A specification names a column the data does not have.
    #[error("unknown column `{name}`{}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    UnknownColumn {
        name: String,
        suggestion: Option<String>,
    },
    /// A column used as a number holds text.
    #[error("column `{name}` must be numeric but holds text")]
    NotNumeric { name: String },
    /// A design or estimate specification is invalid (wrong key, bad value, contradiction).
    #[error("{0}")]
    Spec(String),
    /// A design column (ids, strata, fpc, weights) has a missing value.
    #[error("design column `{column}` is missing at data row {row}")]
    MissingDesignValue { column: String, row: usize },
    /// A variable has missing values in the domain and `na_rm` is false (R returns NA).
    #[error("variable `{column}` has missing values; set \"na_rm\": true to drop them")]
    MissingValues { column: String },
    /// Clusters are not nested in strata at the first stage (R suggests `nest = TRUE`).
    #[error(
        "clusters of `{ids}` are not nested in strata of `{strata}`; set \"nest\": true if ids repeat across strata"
    )]
    NotNested { ids: String, strata: String },
    /// The finite population correction is inconsistent.
    #[error("fpc: {0}")]
    Fpc(String),
    /// `lonely_psu = "fail"` and a stratum has a single PSU.
    #[error("stratum `{stratum}` has only one PSU at stage {stage} (lonely_psu = \"fail\")")]
    LonelyPsu { stratum: String, stage: usize },
    /// The domain or subset has no rows.
    #[error("the domain `{domain}` has no observations")]
    EmptyDomain { domain: String },
    /// Calibration failed (totals unreachable, no convergence, bad margins).
    #[error("calibration: {0}")]
    Calibration(#[from] crate::weighting::calibration::Error),
    /// Replicate weights could not be formed or are invalid.
    #[error("replicates: {0}")]
    Replicates(String),
}
