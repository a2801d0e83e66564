//! Findings shared by the parser, the linter and the submission validator.
//!
//! A [`Diagnostic`] is data, not an early exit: every stage returns all of its findings so a
//! designer or an enumerator sees every problem at once. The JSON shape of a diagnostic is part
//! of the wire format documented in `docs/questionnaire-format.md` ("Findings").

use std::fmt;

use serde::Serialize;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Stored with the submission (or printed by the linter) but does not reject it.
    Warning,
    /// Rejects the questionnaire (lint) or the submission (validation).
    Error,
}

impl Severity {
    /// The lowercase name used in output: `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One finding of the parser, the linter or the validator.
///
/// `path` is a JSON Pointer (RFC 6901): into the questionnaire document for parse and lint
/// findings, into the answers object for validation findings. `column` is the 1-based
/// character column inside an expression when the finding is about a place in one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// A stable machine-readable code such as `duplicate_name` (listed in the format doc).
    pub code: &'static str,
    /// JSON Pointer to the offending place (empty string = the whole document).
    pub path: String,
    /// 1-based column inside the expression at `path`, when the finding is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// A sentence for a human.
    pub message: String,
}

impl Diagnostic {
    /// An error finding at `path`.
    pub fn error(code: &'static str, path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            path: path.into(),
            column: None,
            message: message.into(),
        }
    }

    /// A warning finding at `path`.
    pub fn warning(
        code: &'static str,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, path, message)
        }
    }

    /// The same finding, pointing at a 1-based column inside an expression.
    pub fn at_column(mut self, column: usize) -> Self {
        self.column = Some(column);
        self
    }

    /// True for error findings.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    /// `error[code] /path (col N): message`, the line format of `questionnaire lint`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() {
            "/"
        } else {
            &self.path
        };
        write!(f, "{}[{}] {}", self.severity.as_str(), self.code, path)?;
        if let Some(column) = self.column {
            write!(f, " (col {column})")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// True when any finding is an error.
pub fn has_errors(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().any(Diagnostic::is_error)
}

/// Appends one reference token to a JSON Pointer, escaping `~` and `/` as RFC 6901 requires.
pub fn pointer_push(pointer: &str, token: &str) -> String {
    let mut out = String::with_capacity(pointer.len() + token.len() + 1);
    out.push_str(pointer);
    out.push('/');
    if !token.contains(['~', '/']) {
        out.push_str(token);
        return out;
    }
    for c in token.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
    out
}

/// Appends an array index to a JSON Pointer.
pub fn pointer_index(pointer: &str, index: usize) -> String {
    format!("{pointer}/{index}")
}
