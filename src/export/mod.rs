//! Streaming CSV export (one file per roster level, KEY/PARENT_KEY) and codebooks.
//!
//! A tour:
//! - `layout.rs` reads the published definitions of a questionnaire (every version, in
//!   publication order) and builds the [`Layout`]: the levels (the main level plus one per
//!   roster, nested rosters included) and, per level, the union of the variables of all
//!   versions in a deterministic order (first appearance, oldest version first). A variable
//!   renamed with `aliases` stays in its original column.
//! - `source.rs` loads that layout from the published versions in the store's export log,
//!   and opens a data directory's export log for the CLI (refusing one a running server
//!   holds).
//! - `filter.rs` parses the status and date filter shared by the HTTP query and the CLI.
//! - `rows.rs` writes level CSVs in one walk over the interviews
//!   (`ExportView::for_each_batch`), one worker per core turning batches into CSV with the
//!   byte scanner of `scan.rs` (each stored revision decoded once, in place, into per-column
//!   slots); memory stays constant however many interviews there are.
//! - `codebook.rs` writes the codebook as JSON and CSV.
//! - `files.rs` writes a whole export (every level and the codebook) into a directory, with
//!   the same names and bytes as the HTTP export (`chainsurvey export`).
//!
//! Missing-value codes (also in the codebook): a skipped or unanswered question is `-97`,
//! don't know `-98`, refused `-99`. Values: select_multiple as space-separated values,
//! geopoint as `lat lon alt accuracy`, booleans as 1/0.
//!
//! This module reads the documented questionnaire JSON format directly and only for its
//! structure (items, kinds, names, labels, choices); it never judges answers.

mod codebook;
mod files;
mod filter;
mod layout;
mod rows;
mod scan;
mod source;

use std::path::PathBuf;

pub use crate::export::codebook::{codebook_csv, codebook_json};
pub use crate::export::files::{CODEBOOK_CSV, CODEBOOK_JSON, WrittenFile, write_files};
pub use crate::export::filter::Filter;
pub use crate::export::layout::{Column, Layout, Level, layout};
pub use crate::export::rows::{encode, write_level, write_levels};
pub use crate::export::source::{load_layout, open_for_export};

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
    /// No published questionnaire has this id.
    #[error("questionnaire {questionnaire:?} has no published version (published: {published})")]
    UnknownQuestionnaire {
        questionnaire: String,
        published: String,
    },
    /// A status or date filter that cannot be understood.
    #[error("{0}")]
    BadFilter(String),
    /// The data directory holds no database.
    #[error("{} holds no chainsurvey database (expected {}/db)", .0.display(), .0.display())]
    NoDatabase(PathBuf),
    /// A running server (or another command) has the database open.
    #[error(
        "database in use: another process (a running `chainsurvey serve`?) has {} open; \
         use the HTTP export (GET /api/v1/exports/...) or stop the server",
        .0.display()
    )]
    InUse(PathBuf),
    /// Two export files would have the same name (a roster named like the codebook or the
    /// questionnaire).
    #[error("two export files would be named {0}; rename the roster")]
    FileClash(String),
    /// Creating, writing or renaming an output file failed.
    #[error("{}: {source}", path.display())]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The requested level is not a roster of the questionnaire.
    #[error("level {level:?} does not exist; the levels are {known}")]
    UnknownLevel { level: String, known: String },
    /// Reading the store failed.
    #[error(transparent)]
    Store(#[from] crate::store::Error),
    /// Writing the output failed (the client went away, disk full, …).
    #[error("writing the export: {0}")]
    Write(#[from] std::io::Error),
    /// The walk over the store stopped because the writer failed first (internal: the
    /// writer's own error is the one reported).
    #[error("the export was cancelled")]
    Cancelled,
    /// A stored definition or submission is not the JSON it should be.
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
}
