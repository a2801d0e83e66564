//! Errors of parsing, resolving and evaluating expressions.

use crate::questionnaire::expr::span::{Span, column_of};

/// The stable, machine-readable kind of an expression problem.
///
/// The strings of [`ErrorCode::as_str`] are the `"error"` values of the conformance corpus
/// (`tests/data/expressions.json`), so a JavaScript evaluator can be held to the same codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// A syntax error: unexpected or missing token, unbalanced parentheses, bad literal.
    Parse,
    /// Nesting deeper than [`crate::questionnaire::expr::MAX_DEPTH`].
    Depth,
    /// A call of a function the language does not have.
    UnknownFunction,
    /// A function called with the wrong number of arguments.
    Arity,
    /// A `regex()` pattern that is not a valid regular expression.
    Regex,
    /// A `${name}` that names no variable (or a bare identifier that names no choice column).
    UnknownReference,
    /// An operand or argument of the wrong type (e.g. a select_multiple in arithmetic).
    Type,
    /// A repeated (roster) variable used outside an aggregate such as `count()` or `sum()`,
    /// or `position()` outside a roster row.
    Scope,
    /// A `format-date()` pattern with an unknown `%` directive.
    Format,
}

impl ErrorCode {
    /// The stable snake_case name used in findings and in the conformance corpus.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Parse => "parse",
            ErrorCode::Depth => "depth",
            ErrorCode::UnknownFunction => "unknown_function",
            ErrorCode::Arity => "arity",
            ErrorCode::Regex => "regex",
            ErrorCode::UnknownReference => "unknown_reference",
            ErrorCode::Type => "type",
            ErrorCode::Scope => "scope",
            ErrorCode::Format => "format",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An expression that cannot be parsed or resolved: what is wrong and where.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct ExprError {
    /// The kind of problem.
    pub code: ErrorCode,
    /// A sentence for the survey designer.
    pub message: String,
    /// Where in the expression (byte offsets).
    pub span: Span,
    column: usize,
}

impl ExprError {
    /// Builds an error at `span` of `src`, computing its column.
    pub(crate) fn new(
        code: ErrorCode,
        message: impl Into<String>,
        span: Span,
        src: &str,
    ) -> ExprError {
        ExprError {
            code,
            message: message.into(),
            span,
            column: column_of(src, span.start),
        }
    }

    /// The 1-based column (in characters) where the problem starts.
    pub fn column(&self) -> usize {
        self.column
    }
}

/// A failure while evaluating a parsed expression.
///
/// The language is designed so that answers alone never make evaluation fail (an empty or
/// unconvertible operand gives an empty result); these errors mean the caller skipped a step.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum EvalError {
    /// The expression still holds a `${name}` that [`crate::questionnaire::expr::Expr::resolve`]
    /// has not turned into a variable slot.
    #[error("reference ${{{name}}} was not resolved before evaluation")]
    Unresolved {
        /// The unresolved name.
        name: String,
    },
    /// A `regex()` pattern computed at evaluation time is not a valid regular expression.
    #[error("invalid regular expression {pattern:?}: {message}")]
    Regex {
        /// The pattern text.
        pattern: String,
        /// What is wrong with it.
        message: String,
    },
    /// A `format-date()` pattern computed at evaluation time has an unknown directive.
    #[error("invalid format-date() pattern {pattern:?}: {message}")]
    Format {
        /// The pattern text.
        pattern: String,
        /// What is wrong with it.
        message: String,
    },
}

impl EvalError {
    /// A stable snake_case name for this error (`unresolved`, `regex`, `format`).
    pub fn code(&self) -> &'static str {
        match self {
            EvalError::Unresolved { .. } => "unresolved",
            EvalError::Regex { .. } => "regex",
            EvalError::Format { .. } => "format",
        }
    }
}
