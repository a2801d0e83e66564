//! The expression language of questionnaires: the XLSForm/ODK XPath subset used in
//! `relevant`, `required`, `rules`, `calculation`, `choice_filter` and roster `count`.
//!
//! A tour, in the order an expression goes through it:
//!
//! 1. [`parse`] turns source text into an [`Expr`]: a typed syntax tree ([`Node`]) with
//!    byte-offset [`Span`]s, plus the source. Context-free errors are found here: syntax,
//!    unbalanced parentheses, nesting deeper than [`MAX_DEPTH`], unknown functions, wrong
//!    argument counts, invalid literal `regex()` and `format-date()` patterns ([`ExprError`] with an
//!    [`ErrorCode`] and a 1-based column).
//! 2. [`check`] checks the expression against the questionnaire's variables (a
//!    [`Symbols`] implementation): unknown `${names}`, type errors, roster variables used
//!    outside aggregates, bare identifiers outside a `choice_filter`. It returns every
//!    [`ExprDiagnostic`]. Cycle detection is the caller's job, over
//!    [`Expr::references`].
//! 3. [`Expr::resolve`] replaces names with [`VarId`] slots chosen by the caller, once per
//!    questionnaire version.
//! 4. [`evaluate`] (or [`evaluate_bool`]) computes a [`Value`] against a [`Scope`], which
//!    serves answers by slot. This is the hot path: no name lookup, and texts are borrowed.
//!
//! Resolution also compiles the tree into a flatter form (`program.rs`: flattened `and`/`or`,
//! comparisons against literals specialised, truth values without building values), which
//! evaluation runs; an unresolved expression is evaluated by walking its tree. `cargo run --release --example expr_bench`
//! measures it against hand-written Rust for typical relevance, rule and calculation
//! expressions.
//!
//! The semantics (empty values, coercions, dates, select_multiple, roster scoping,
//! don't-know/refused) are specified in `docs/questionnaire-format.md`, "Expressions", and
//! pinned by the language-neutral conformance corpus `tests/data/expressions.json`.
//!
//! The questionnaire-dependent functions get what they need from the same two traits:
//! `position()` asks [`Symbols::in_roster_row`] (static check) and [`Scope::position`],
//! `choice-label()` asks [`Symbols::has_choice_list`] and [`Scope::choice_label`] (the scope
//! holds the choice lists and the interview language). Both run on the tree walker, so the
//! compiled form of every other expression is unchanged.
//!
//! What this module deliberately does not do: it knows nothing of the questionnaire model
//! (it sees variables only through [`Symbols`] and [`Scope`]), of JSON answers, or of
//! which expressions depend on which (the linter builds that graph from
//! [`Expr::references`]). It has no XPath paths, predicates or axes: `${name}` is the only
//! way to name a variable.

mod ast;
mod check;
mod date;
mod date_format;
mod error;
mod eval;
mod lexer;
mod parser;
mod program;
mod regex;
mod span;
mod value;

pub use crate::questionnaire::expr::ast::{BinOp, Func, Node, NodeKind, VarId};
pub use crate::questionnaire::expr::check::{
    ExprDiagnostic, Severity, Symbol, Symbols, Type, check, check_typed,
};
pub use crate::questionnaire::expr::date::{Date, DateTime};
pub use crate::questionnaire::expr::error::{ErrorCode, EvalError, ExprError};
pub use crate::questionnaire::expr::eval::{Scope, evaluate, evaluate_bool};
use crate::questionnaire::expr::program::Program;
pub use crate::questionnaire::expr::regex::Regex;
pub use crate::questionnaire::expr::span::{Span, column_of};
pub use crate::questionnaire::expr::value::{
    GeoPoint, Value, ValueRef, format_number, parse_number,
};

/// The deepest nesting the parser accepts: parentheses, function calls, operators and
/// unary minus all count. Deeper input is a `depth` error, so no input can exhaust the
/// stack of the recursive tree walks.
pub const MAX_DEPTH: usize = 256;

/// A parsed expression: its syntax tree and the source it came from.
#[derive(Debug, Clone)]
pub struct Expr {
    source: String,
    pub(crate) root: Node,
    /// The compiled form, built by a successful [`Expr::resolve`] (see `program.rs`);
    /// `None` until then, and evaluation walks the tree.
    pub(crate) program: Option<Box<Program>>,
}

/// Parses an expression.
///
/// Errors carry an [`ErrorCode`] (`parse`, `depth`, `unknown_function`, `arity`, `regex`),
/// a message, a span and a 1-based column. The input must already be a `&str`: callers
/// turn non-UTF-8 bytes into their own error before getting here.
pub fn parse(src: &str) -> Result<Expr, ExprError> {
    let root = crate::questionnaire::expr::parser::parse_tree(src)?;
    Ok(Expr {
        source: src.to_string(),
        root,
        program: None,
    })
}

impl Expr {
    /// The source text as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The root of the syntax tree.
    pub fn root(&self) -> &Node {
        &self.root
    }

    /// Every `${name}` in source order, with its span (repeats included).
    pub fn references(&self) -> Vec<(&str, Span)> {
        let mut found = Vec::new();
        walk(&self.root, &mut |node| {
            if let NodeKind::Ref { name, .. } = &node.kind {
                found.push((&**name, node.span));
            }
        });
        found
    }

    /// Whether the expression uses `.`.
    pub fn uses_dot(&self) -> bool {
        let mut found = false;
        walk(&self.root, &mut |node| {
            found |= matches!(node.kind, NodeKind::Dot)
        });
        found
    }

    /// Whether the expression calls `today()` (its value then changes from day to day).
    pub fn uses_today(&self) -> bool {
        let mut found = false;
        walk(&self.root, &mut |node| {
            found |= matches!(
                node.kind,
                NodeKind::Call {
                    func: Func::Today,
                    ..
                }
            );
        });
        found
    }

    /// Every bare identifier (a `choice_filter` column name, or a mistake elsewhere) in
    /// source order, with its span.
    pub fn bare_identifiers(&self) -> Vec<(&str, Span)> {
        let mut found = Vec::new();
        walk(&self.root, &mut |node| {
            if let NodeKind::Ident(name) = &node.kind {
                found.push((&**name, node.span));
            }
        });
        found
    }

    /// Whether the expression calls `position()` (its value then depends on the roster row).
    pub fn uses_position(&self) -> bool {
        let mut found = false;
        walk(&self.root, &mut |node| {
            found |= matches!(
                node.kind,
                NodeKind::Call {
                    func: Func::Position,
                    ..
                }
            );
        });
        found
    }

    /// The value of an expression that depends on nothing (no `${name}`, `.`, bare
    /// identifier, `today()` or `position()`), e.g. `false()` or `1 = 2`; `None` otherwise.
    /// The linter uses it to flag relevance that is constantly false.
    pub fn constant_value(&self) -> Option<Value> {
        if !self.references().is_empty()
            || self.uses_dot()
            || !self.bare_identifiers().is_empty()
            || self.uses_today()
            || self.uses_position()
        {
            return None;
        }
        evaluate(self, &crate::questionnaire::expr::eval::NoAnswers).ok()
    }

    /// Resolves every `${name}` to the slot `resolver` returns for it, so that evaluation
    /// needs no name lookup. Fails with an `unknown_reference` error (at the first name the
    /// resolver does not know) and then leaves the expression partly resolved. Resolving
    /// again replaces earlier slots.
    pub fn resolve(
        &mut self,
        resolver: &mut dyn FnMut(&str) -> Option<VarId>,
    ) -> Result<(), ExprError> {
        let mut first_error = None;
        walk_mut(&mut self.root, &mut |node| {
            if let NodeKind::Ref { name, var } = &mut node.kind {
                *var = resolver(name);
                if var.is_none() && first_error.is_none() {
                    first_error = Some((name.to_string(), node.span));
                }
            }
        });
        // Compiled only when every name has a slot: a partly resolved expression keeps the
        // tree walker, which reports the unresolved name.
        self.program = first_error
            .is_none()
            .then(|| Box::new(Program::new(&self.root)));
        match first_error {
            None => Ok(()),
            Some((name, span)) => Err(ExprError::new(
                ErrorCode::UnknownReference,
                format!("unknown variable ${{{name}}}"),
                span,
                &self.source,
            )),
        }
    }

    /// Whether every `${name}` has a slot.
    pub fn is_resolved(&self) -> bool {
        let mut resolved = true;
        walk(&self.root, &mut |node| {
            resolved &= !matches!(node.kind, NodeKind::Ref { var: None, .. });
        });
        resolved
    }

    /// Structural equality of the syntax trees (spans and slots ignored).
    pub fn same_tree(&self, other: &Expr) -> bool {
        self.root.same_as(&other.root)
    }
}

/// The canonical form (see [`Node`]'s `Display`): minimal parentheses, reparses to the
/// same tree.
impl std::fmt::Display for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.root.fmt(f)
    }
}

/// Resolves every name to slot 0 (unit tests of the evaluator).
#[cfg(test)]
pub(crate) fn resolve_for_tests(expr: &mut Expr) {
    expr.resolve(&mut |_| Some(VarId(0)))
        .expect("every name resolves");
}

/// Visits every node, parents before children, left to right. Recursion depth is bounded
/// by [`MAX_DEPTH`] because the parser builds no deeper tree.
fn walk<'a>(node: &'a Node, visit: &mut dyn FnMut(&'a Node)) {
    visit(node);
    match &node.kind {
        NodeKind::Neg(inner) => walk(inner, visit),
        NodeKind::Binary { lhs, rhs, .. } => {
            walk(lhs, visit);
            walk(rhs, visit);
        }
        NodeKind::Call { args, .. } => {
            for arg in args {
                walk(arg, visit);
            }
        }
        _ => {}
    }
}

fn walk_mut(node: &mut Node, visit: &mut dyn FnMut(&mut Node)) {
    visit(node);
    match &mut node.kind {
        NodeKind::Neg(inner) => walk_mut(inner, visit),
        NodeKind::Binary { lhs, rhs, .. } => {
            walk_mut(lhs, visit);
            walk_mut(rhs, visit);
        }
        NodeKind::Call { args, .. } => {
            for arg in args {
                walk_mut(arg, visit);
            }
        }
        _ => {}
    }
}
