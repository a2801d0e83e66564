//! The one error type of the weighting module.

/// Everything that can go wrong while building weights. Each variant names the place (row,
/// unit, class) so the caller can point the user at the bad input; nothing is changed when an
/// error is returned.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An inclusion probability outside (0, 1] (or not a number) was given.
    #[error("{place}: inclusion probability {value} is not in (0, 1]")]
    ProbabilityOutOfRange { place: String, value: f64 },
    /// A design weight that is not a finite number ≥ 1.
    #[error("{place}: design weight {value} is not a finite number >= 1")]
    DesignWeightOutOfRange { place: String, value: f64 },
    /// A weight entering an adjustment is negative, infinite or NaN.
    #[error("{place}: weight {value} is not a finite non-negative number")]
    WeightInvalid { place: String, value: f64 },
    /// Two parallel inputs differ in length.
    #[error("{what}: expected {expected} values, found {found}")]
    LengthMismatch {
        what: &'static str,
        expected: usize,
        found: usize,
    },
    /// A link row names a frame unit that does not exist.
    #[error("link row {row}: frame unit {frame_unit} out of range (the frame has {n_frame} units)")]
    LinkFrameUnitOutOfRange {
        row: usize,
        frame_unit: usize,
        n_frame: usize,
    },
    /// A link row names a target unit that does not exist.
    #[error(
        "link row {row}: target unit {target_unit} out of range (the target population has {n_target} units)"
    )]
    LinkTargetOutOfRange {
        row: usize,
        target_unit: usize,
        n_target: usize,
    },
    /// The same (frame unit, target unit) pair appears twice; counting it twice would
    /// inflate L and bias every weight of the cluster.
    #[error(
        "link row {row} duplicates link row {first_row} (frame unit {frame_unit} -> target unit {target_unit})"
    )]
    DuplicateLink {
        row: usize,
        first_row: usize,
        frame_unit: usize,
        target_unit: usize,
    },
    /// A link importance B is negative or not finite.
    #[error("link row {row}: importance {value} is negative or not finite")]
    LinkImportanceInvalid { row: usize, value: f64 },
    /// Weighted links were requested but a link row has no importance.
    #[error("link row {row}: importance is missing (weighted links need B on every link)")]
    LinkImportanceMissing { row: usize },
    /// A supplied population link total is negative or not finite.
    #[error("target unit {target_unit}: supplied link total {value} is negative or not finite")]
    SuppliedTotalInvalid { target_unit: usize, value: f64 },
    /// Cluster elimination was combined with an option it has no published convention for.
    #[error("cluster elimination does not support {what}")]
    EliminationUnsupported { what: &'static str },
    /// A reached cluster has population link total zero (L_i = 0 or B_i = 0), so its weight
    /// would be a division by zero (Lavallée Constraints 2.1 / 4.1).
    #[error("cluster {cluster} was reached but its population link total is 0")]
    ZeroClusterTotal { cluster: usize },
    /// A sampled frame unit is listed twice.
    #[error("frame unit {frame_unit} appears twice in the sample")]
    DuplicateSampleUnit { frame_unit: usize },
    /// A sampled frame unit does not exist.
    #[error("sampled frame unit {frame_unit} out of range (the frame has {n_frame} units)")]
    SampleUnitOutOfRange { frame_unit: usize, n_frame: usize },
    /// A target value needed for z_j is missing.
    #[error("target unit {target_unit}: value needed for z_j is missing")]
    MissingTargetValue { target_unit: usize },
    /// A subsampled unit was not reached, or is out of range.
    #[error("subsampled target unit {target_unit} was not reached by the sample")]
    SubsampledUnitNotReached { target_unit: usize },
    /// Worker counts that cannot describe a selection (m = 0, m > M, r > m, r = 0).
    #[error(
        "{place}: worker counts M = {population}, m = {selected}, r = {responded} are inconsistent"
    )]
    WorkerCounts {
        place: String,
        population: u64,
        selected: u64,
        responded: u64,
    },
    /// No respondent at all in the (fully collapsed) non-response classes.
    #[error("non-response adjustment: no respondent with positive weight")]
    NoRespondents,
    /// An adjustment parameter is out of its domain.
    #[error("{what}: {reason}")]
    InvalidParameter { what: &'static str, reason: String },
    /// Trimming cannot meet the cap without changing a class total (n · cap < total).
    #[error("{0}")]
    TrimInfeasible(crate::weighting::trim::InfeasibilityReport),
    /// The calibration step of a recipe failed.
    #[error("calibration: {0}")]
    Calibration(String),
}
