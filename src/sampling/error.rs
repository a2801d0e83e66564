//! The sampling module's error type: every variant names the situation that produces it.

/// Errors of allocation, selection, link tracing and worker selection.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SamplingError {
    /// A fixed-size method was asked for more units than the population holds.
    #[error("cannot select {n} units from a population of {population}")]
    SampleLargerThanPopulation { n: u64, population: u64 },
    /// A size measure is negative or not a finite number.
    #[error("unit {unit}: size measure {size} must be a finite number ≥ 0")]
    BadSize { unit: String, size: f64 },
    /// PPS selection needs at least n units with a positive size.
    #[error(
        "PPS selection of {n} units needs at least {n} units with a positive size; there are {positive}"
    )]
    TooFewPositiveSizes { n: u64, positive: u64 },
    /// A probability is outside (0, 1] where one is required (or [0, 1] for Poisson).
    #[error("unit {unit}: probability {value} is outside [0, 1]")]
    BadProbability { unit: String, value: f64 },
    /// A parameter of a method is out of its domain.
    #[error("{name} = {value}: {reason}")]
    BadParameter {
        name: String,
        value: String,
        reason: String,
    },
    /// An allocation needs a stratum quantity that is missing or unusable.
    #[error("stratum `{stratum}`: {reason}")]
    BadStratum { stratum: String, reason: String },
    /// The minimum per stratum cannot be met with the total sample size.
    #[error(
        "a total of {n} cannot give every stratum its minimum of {min_per_stratum} (needs {needed})"
    )]
    MinimumInfeasible {
        n: u64,
        min_per_stratum: u64,
        needed: u64,
    },
    /// The design names a frame column that does not exist.
    #[error("unknown frame column `{0}`")]
    UnknownColumn(String),
    /// A numeric column holds a value that is not a number.
    #[error("unit {unit}: column `{column}` holds `{value}`, not a number")]
    NotNumeric {
        unit: String,
        column: String,
        value: String,
    },
    /// A unit id given as input (respondent, unit to take workers from) is not in the frame.
    #[error("unit id `{0}` is not in the frame")]
    UnknownUnit(String),
    /// The sampling design document is invalid.
    #[error("design: {0}")]
    Design(String),
}
