//! The one error type of the store boundary.

use std::path::PathBuf;

/// Everything that can go wrong inside [`crate::store`].
///
/// Domain refusals (a conflict, an unknown id, an illegal transition) are separate variants
/// so the server can map each to its HTTP status without looking at text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// sled reported an error (I/O, corruption detected by its checksums, …).
    #[error("database error: {0}")]
    Db(#[from] sled::Error),

    /// A file operation (journal, fsync, backup copy) failed.
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A stored value could not be decoded: a bug, a corruption, or a database written by a
    /// newer version of chainsurvey (its format version is higher than ours).
    #[error("stored value {tree}/{key} is unreadable: {reason}")]
    Corrupt {
        tree: &'static str,
        key: String,
        reason: String,
    },

    /// A journal line could not be parsed during redo or recovery.
    #[error("journal {path} line {line}: {reason}")]
    Journal {
        path: PathBuf,
        line: u64,
        reason: String,
    },

    /// A previous flush or fsync failed, so the store refuses writes until it is restarted:
    /// carrying on could acknowledge data that never reached the disk.
    #[error("the store refuses writes after a failed flush/fsync; restart the server")]
    Unavailable,

    /// The thing named does not exist.
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },

    /// The request conflicts with the current state (duplicate name, replay with different
    /// content, closed assignment, illegal status transition, …). The message says what to do.
    #[error("{0}")]
    Conflict(String),

    /// The caller may not touch this thing (another enumerator's assignment or interview).
    #[error("{0}")]
    Forbidden(String),

    /// The request is malformed in a way only the store can see (e.g. an unknown enumerator).
    #[error("{0}")]
    Invalid(String),

    /// The target directory of a backup or restore is not usable.
    #[error("{0}")]
    Target(String),
}

impl Error {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
