//! The one error type of the indicator module.

/// Why indicators could not be defined or evaluated. Every message names the place.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The legal-parameter file is malformed (message names the JSON path).
    #[error("{0}")]
    Legal(String),
    /// The indicator catalog is malformed (message names the indicator and field).
    #[error("{0}")]
    Catalog(String),
    /// An expression does not parse or refers to an unknown variable.
    #[error("{place}: {message} (at column {column} of `{expression}`)")]
    Expression {
        place: String,
        expression: String,
        column: usize,
        message: String,
    },
    /// A microdata record is unusable (message names the row and column).
    #[error("{0}")]
    Record(String),
    /// Weights and records disagree in length, or a weight is not finite.
    #[error("{0}")]
    Weights(String),
    /// The survey directory or its `survey.json` is unusable.
    #[error("{0}")]
    Survey(String),
    /// The design or a variance could not be computed (from `estimate`).
    #[error("design: {0}")]
    Design(String),
}
