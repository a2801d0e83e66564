//! The one place where the server meets the questionnaire engine.
//!
//! Draft uploads are linted, drafts are diffed against the latest published version, and
//! submissions are validated through the [`Engine`] trait held in the application state.
//! The server never judges answers itself. [`QuestionnaireEngine`] is the production
//! implementation over `crate::questionnaire` (lint, compile, validate, diff); it compiles
//! each published version once and keeps it, keyed by the definition's content hash.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use serde::Serialize;
use serde_json::Value;

use crate::questionnaire::{self, CompiledQuestionnaire, Diagnostic, Questionnaire};

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

/// The questionnaire engine of this crate behind the [`Engine`] trait.
#[derive(Default)]
pub struct QuestionnaireEngine {
    /// Compiled versions by definition hash. A std mutex: held only for a map lookup or
    /// insert, never while compiling or validating.
    compiled: Mutex<HashMap<String, Arc<CompiledQuestionnaire>>>,
}

impl QuestionnaireEngine {
    /// An engine with an empty compile cache.
    pub fn new() -> Self {
        Self::default()
    }

    fn compiled(
        &self,
        hash: &str,
        definition: &str,
    ) -> Result<Arc<CompiledQuestionnaire>, EngineError> {
        if let Some(found) = self.lock().get(hash) {
            return Ok(Arc::clone(found));
        }
        let parsed = Questionnaire::parse(definition).map_err(findings)?;
        let compiled = Arc::new(questionnaire::compile(&parsed).map_err(findings)?);
        self.lock().insert(hash.to_owned(), Arc::clone(&compiled));
        Ok(compiled)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<CompiledQuestionnaire>>> {
        // The map holds only finished compilations; a panic elsewhere cannot corrupt it.
        self.compiled.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn finding(d: &Diagnostic) -> Finding {
    Finding {
        severity: d.severity.as_str().to_owned(),
        code: d.code.to_owned(),
        path: d.path.clone(),
        message: d.message.clone(),
        column: d.column,
    }
}

fn findings(diagnostics: Vec<Diagnostic>) -> EngineError {
    EngineError::Findings(diagnostics.iter().map(finding).collect())
}

impl Engine for QuestionnaireEngine {
    fn lint(&self, definition: &Value) -> Result<LintedDraft, EngineError> {
        let parsed = Questionnaire::from_value(definition).map_err(findings)?;
        let diagnostics = questionnaire::lint(&parsed);
        if questionnaire::has_errors(&diagnostics) {
            return Err(findings(diagnostics));
        }
        // Compiling catches what only the compiler sees (e.g. dependency cycles).
        questionnaire::compile(&parsed).map_err(findings)?;
        Ok(LintedDraft {
            id: parsed.id,
            version: parsed.version,
            warnings: diagnostics.iter().map(finding).collect(),
        })
    }

    fn diff(&self, old: &Value, new: &Value) -> Result<Value, EngineError> {
        let old = Questionnaire::from_value(old).map_err(findings)?;
        let new = Questionnaire::from_value(new).map_err(findings)?;
        let report = questionnaire::diff(&old, &new);
        Ok(serde_json::to_value(report).unwrap_or(Value::Null))
    }

    fn validate(
        &self,
        definition_hash: &str,
        definition: &str,
        answers: &Value,
        lang: &str,
    ) -> Result<Validated, EngineError> {
        let compiled = self.compiled(definition_hash, definition)?;
        let report = questionnaire::validate(&compiled, answers, lang);
        if report.has_errors() {
            return Err(findings(report.findings));
        }
        Ok(Validated {
            warnings: report.findings.iter().map(finding).collect(),
            calculations: report.calculations,
        })
    }
}
