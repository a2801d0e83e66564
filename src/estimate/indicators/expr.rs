//! The indicator expressions of `questionnaires/indicators.json`, compiled with the shared
//! questionnaire expression language (`crate::questionnaire::expr`): the catalog is parsed,
//! its `${names}` resolved once to record columns (and to survey-level parameters such as
//! the low-pay median), and evaluated per row through a [`Scope`] over one row of the column store.
//!
//! Semantics are the questionnaire language's (docs/questionnaire-format.md,
//! "Expressions"): one empty value; arithmetic with an empty operand is empty; `= ''` tests
//! for empty; ordering with an empty side is false; a number and a text compare as numbers.
//! `today()` is the survey's reference date.
//!
//! This module only adapts: record values ↔ the language's values, and parse/resolve
//! errors → [`Error::Expression`] with the catalog field and the column.

use crate::estimate::indicators::error::Error;
use crate::estimate::indicators::record::{Cell, Records, Schema, Value};
use crate::questionnaire::expr::{self as shared, Date, Scope, ValueRef, VarId};

/// A compiled expression: the shared syntax tree with every name resolved to a slot
/// (columns first, then parameters after the last column).
#[derive(Clone, Debug)]
pub struct Expr {
    inner: shared::Expr,
    n_columns: usize,
    uses_parameters: bool,
}

impl PartialEq for Expr {
    fn eq(&self, other: &Expr) -> bool {
        self.inner.same_tree(&other.inner) && self.n_columns == other.n_columns
    }
}

/// Compiles `source` against the columns of `schema` and the named `parameters` (which take
/// precedence); `place` names the catalog field for the error.
pub fn compile(
    source: &str,
    schema: &Schema,
    parameters: &[String],
    place: &str,
) -> Result<Expr, Error> {
    let fail = |e: shared::ExprError| Error::Expression {
        place: place.to_string(),
        expression: source.to_string(),
        column: e.column(),
        message: e.message.clone(),
    };
    let mut inner = shared::parse(source).map_err(fail)?;
    let n_columns = schema.len();
    let mut uses_parameters = false;
    inner
        .resolve(&mut |name| {
            if let Some(idx) = parameters.iter().position(|p| p == name) {
                uses_parameters = true;
                return Some(VarId((n_columns + idx) as u32));
            }
            schema.get(name).map(|idx| VarId(idx as u32))
        })
        .map_err(fail)?;
    Ok(Expr {
        inner,
        n_columns,
        uses_parameters,
    })
}

/// One record row plus the parameters, as the evaluator's scope.
struct RowScope<'a> {
    records: &'a Records,
    row: usize,
    params: &'a [f64],
    n_columns: usize,
}

impl Scope for RowScope<'_> {
    fn value(&self, var: VarId) -> ValueRef<'_> {
        let idx = var.0 as usize;
        if idx >= self.n_columns {
            return match self.params.get(idx - self.n_columns) {
                Some(v) if v.is_finite() => ValueRef::Number(*v),
                _ => ValueRef::Empty,
            };
        }
        match self.records.cell(self.row, idx) {
            Cell::Number(n) => ValueRef::Number(n),
            Cell::Text(t) => ValueRef::Text(t),
            Cell::Bool(b) => ValueRef::Bool(b),
            Cell::Missing => ValueRef::Empty,
        }
    }

    fn today(&self) -> Date {
        // Indicators do not use today(); a fixed date keeps evaluation reproducible.
        Date::from_days(0).unwrap_or_else(|| unreachable!("day 0 is 1970-01-01"))
    }
}

/// Evaluates a compiled expression on row `row` of `records` (an evaluation failure, which
/// the shared language reserves for unresolved names and computed regexes, is empty).
pub fn evaluate(expr: &Expr, records: &Records, row: usize, params: &[f64]) -> Value {
    let scope = RowScope {
        records,
        row,
        params,
        n_columns: expr.n_columns,
    };
    match shared::evaluate(&expr.inner, &scope) {
        Ok(shared::Value::Number(n)) => Value::Number(n),
        Ok(shared::Value::Bool(b)) => Value::Bool(b),
        Ok(shared::Value::Empty) | Err(_) => Value::Missing,
        Ok(other) => Value::Text(other.to_text()),
    }
}

/// Evaluates a condition on row `row` of `records`: empty (and an evaluation failure) is
/// false.
pub fn holds(expr: &Expr, records: &Records, row: usize, params: &[f64]) -> bool {
    let scope = RowScope {
        records,
        row,
        params,
        n_columns: expr.n_columns,
    };
    shared::evaluate_bool(&expr.inner, &scope).unwrap_or(false)
}

/// Whether the expression reads a survey-level parameter (so it must be re-evaluated for
/// every weight set, e.g. inside each replicate).
pub fn uses_parameters(expr: &Expr) -> bool {
    expr.uses_parameters
}
