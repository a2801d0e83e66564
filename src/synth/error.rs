//! The synth module's error type.

/// Everything that can go wrong when loading a configuration, generating a population or
/// writing it out.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration is not valid JSON or does not match the expected shape (unknown
    /// field, wrong type). Line and column are 1-based positions in the JSON text.
    #[error("synth config, line {line} column {column}: {reason}")]
    ConfigParse {
        line: usize,
        column: usize,
        reason: String,
    },
    /// The configuration parses but a value is out of range or inconsistent; `path` is the
    /// JSON path of the offending field.
    #[error("synth config, {path}: {reason}")]
    ConfigInvalid { path: String, reason: String },
    /// The scale is not a positive finite number, or so small that no tier-0 firm remains.
    #[error("scale {scale}: {reason}")]
    BadScale { scale: f64, reason: String },
    /// Writing an output file failed.
    #[error("writing {path}: {reason}")]
    Write { path: String, reason: String },
}
