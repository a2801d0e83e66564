//! Streaming CSV export (one file per roster level, KEY/PARENT_KEY) and codebooks.
//!
//! A tour:
//! - `layout.rs` reads the published definitions of a questionnaire (every version, in
//!   publication order) and builds the [`Layout`]: the levels (the main level plus one per
//!   roster, nested rosters included) and, per level, the union of the variables of all
//!   versions in a deterministic order (first appearance, oldest version first). A variable
//!   renamed with `aliases` stays in its original column.
//! - `rows.rs` writes one level's CSV by walking the interviews one at a time, so memory
//!   stays constant however many interviews there are.
//! - `codebook.rs` writes the codebook as JSON and CSV.
//!
//! Missing-value codes (also in the codebook): a skipped or unanswered question is `-97`,
//! don't know `-98`, refused `-99`. Values: select_multiple as space-separated values,
//! geopoint as `lat lon alt accuracy`, booleans as 1/0.
//!
//! This module reads the documented questionnaire JSON format directly and only for its
//! structure (items, kinds, names, labels, choices); it never judges answers.

mod codebook;
mod layout;
mod rows;

pub use crate::export::codebook::{codebook_csv, codebook_json};
pub use crate::export::layout::{Column, Layout, Level, layout};
pub use crate::export::rows::{Filter, write_level};

/// The code written for a skipped or unanswered question.
pub const SKIPPED: &str = "-97";
/// The code written for "don't know".
pub const DONT_KNOW: &str = "-98";
/// The code written for "refused".
pub const REFUSED: &str = "-99";

/// Errors of the export.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The questionnaire has no published version.
    #[error("questionnaire {0} has no published version")]
    NoVersions(String),
    /// The requested level is not a roster of the questionnaire.
    #[error("level {level:?} does not exist; the levels are {known}")]
    UnknownLevel { level: String, known: String },
    /// Reading the store failed.
    #[error(transparent)]
    Store(#[from] crate::store::Error),
    /// Writing the output failed (the client went away, disk full, …).
    #[error("writing the export: {0}")]
    Write(#[from] std::io::Error),
    /// A stored definition or submission is not the JSON it should be.
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
}
