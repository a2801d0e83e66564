//! The one place where the server meets the questionnaire engine.
//!
//! Draft uploads are linted, drafts are diffed against the latest published version, and
//! submissions are validated through the [`Engine`] trait held in the application state.
//! The server never judges answers itself. The production implementation wraps
//! `crate::questionnaire` (lint, validate, diff); until that engine is available the server
//! runs with [`MissingEngine`], which refuses lint-dependent and validation-dependent
//! requests with 503 rather than accepting unchecked data.

use serde::Serialize;
use serde_json::Value;

/// A lint or validation finding, as the questionnaire engine reports it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Finding {
    /// `error` or `warning`.
    pub severity: String,
    pub code: String,
    /// JSON pointer into the questionnaire (lint) or into the answers (validation).
    pub path: String,
    pub message: String,
    /// 1-based column inside an expression, when the finding is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
}

impl Finding {
    /// True for error severity.
    pub fn is_error(&self) -> bool {
        self.severity == "error"
    }
}

/// The identity of a lint-clean draft.
#[derive(Debug, Clone)]
pub struct LintedDraft {
    pub id: String,
    pub version: String,
    /// Warnings the linter reported (a draft with warnings may still be published).
    pub warnings: Vec<Finding>,
}

/// A submission that passed validation.
#[derive(Debug, Clone)]
pub struct Validated {
    pub warnings: Vec<Finding>,
    /// The calculations recomputed by the engine.
    pub calculations: Value,
}

/// Why the engine did not accept something.
#[derive(Debug, Clone)]
pub enum EngineError {
    /// The input has error-severity findings (all findings are included, warnings too).
    Findings(Vec<Finding>),
    /// The engine cannot judge right now (not built into this server).
    Unavailable(String),
}

/// What the server needs from the questionnaire engine.
pub trait Engine: Send + Sync + 'static {
    /// Lints a questionnaire definition; a draft must have no error finding.
    fn lint(&self, definition: &Value) -> Result<LintedDraft, EngineError>;

    /// Classifies the changes from `old` to `new` (compatible or breaking).
    fn diff(&self, old: &Value, new: &Value) -> Result<Value, EngineError>;

    /// Validates `answers` against a published definition. `definition_hash` identifies the
    /// definition so implementations can compile it once and reuse it.
    fn validate(
        &self,
        definition_hash: &str,
        definition: &str,
        answers: &Value,
        lang: &str,
    ) -> Result<Validated, EngineError>;
}

/// The stand-in used while the questionnaire engine is not part of the build: it refuses
/// everything that needs it (503), so no unchecked questionnaire or answers get in.
pub struct MissingEngine;

const MISSING: &str =
    "the questionnaire engine (lint, validate, diff) is not available in this build";

impl Engine for MissingEngine {
    fn lint(&self, _definition: &Value) -> Result<LintedDraft, EngineError> {
        Err(EngineError::Unavailable(MISSING.into()))
    }

    fn diff(&self, _old: &Value, _new: &Value) -> Result<Value, EngineError> {
        Err(EngineError::Unavailable(MISSING.into()))
    }

    fn validate(
        &self,
        _hash: &str,
        _definition: &str,
        _answers: &Value,
        _lang: &str,
    ) -> Result<Validated, EngineError> {
        Err(EngineError::Unavailable(MISSING.into()))
    }
}
