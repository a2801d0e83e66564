//! The evaluator: computes an expression's value against a [`Scope`].
//!
//! Evaluation walks the tree once. Values borrow from the tree (literals) and from the
//! scope (answers) wherever possible, so a typical relevance or rule expression allocates
//! nothing. The semantics are documented in `docs/questionnaire-format.md`, "Expressions";
//! the comments here say how, that document says what.

use std::borrow::Cow;
use std::cmp::Ordering;

use crate::questionnaire::expr::Expr;
use crate::questionnaire::expr::ast::{BinOp, Func, Node, NodeKind, VarId};
use crate::questionnaire::expr::date::{Date, DateTime};
use crate::questionnaire::expr::date_format::{self, DateParts};
use crate::questionnaire::expr::error::EvalError;
use crate::questionnaire::expr::regex::Regex;
use crate::questionnaire::expr::value::{Val, Value, ValueRef, format_number, parse_number};

/// Where an expression finds its values: the answers of one submission, seen from the
/// item the expression belongs to.
///
/// Variables are addressed by the [`VarId`] slots handed out during
/// [`Expr::resolve`], so an implementation can keep answers in a plain vector indexed by
/// slot (per roster row) and never hash a name on the hot path. Values are returned as
/// borrowed [`ValueRef`]s so that texts and select_multiple answers are not copied.
///
/// Roster scoping is the implementation's job and is defined relative to the
/// expression's *context* (the roster row, if any, that the expression is evaluated for):
/// - [`Scope::value`] of a variable in the same roster is the value in the context row; of
///   a variable in an enclosing roster, the value in the enclosing row of the context; of a
///   top-level variable, its value. A variable that has several instances from the context
///   (it sits in a roster the context is not inside) is `Empty` here: the static check
///   ([`crate::questionnaire::expr::check`]) only lets such variables appear inside
///   aggregates.
/// - [`Scope::for_each_instance`] and [`Scope::row_count`] serve the aggregates (`count()`,
///   `sum()`, `min()`, `max()`): they cover every instance below the deepest roster row
///   that the context and the variable share (all rows of all nested rosters inside it).
pub trait Scope {
    /// The value of `var` seen from the context (see the trait documentation).
    fn value(&self, var: VarId) -> ValueRef<'_>;

    /// The value of `.` (the question's own value in its `rules`; the answer being
    /// checked). `Empty` where `.` has no meaning.
    fn dot(&self) -> ValueRef<'_> {
        ValueRef::Empty
    }

    /// When `var` is a roster: the number of its rows in scope (all instances, for a roster
    /// nested in a roster the context is not inside). `None` when `var` is not a roster.
    fn row_count(&self, var: VarId) -> Option<usize> {
        let _ = var;
        None
    }

    /// Calls `visit` with every instance of `var` in scope, in row order, including empty
    /// ones. The default treats every variable as single-instance.
    fn for_each_instance(&self, var: VarId, visit: &mut dyn FnMut(ValueRef<'_>)) {
        visit(self.value(var));
    }

    /// In a `choice_filter`: the column `name` of the choice being tested (`value` is the
    /// choice value). `None` when there is no such column (evaluates as empty).
    fn choice_column(&self, name: &str) -> Option<&str> {
        let _ = name;
        None
    }

    /// The date `today()` returns. Taken from the scope so evaluation is reproducible (the
    /// validator passes the submission's date, tests pass a fixed one).
    fn today(&self) -> Date;

    /// `position()`: the 1-based number of the context's row in its innermost roster
    /// (`roster` is `None`), or of the context's enclosing row of the roster `roster`.
    /// `None` (evaluates as empty) when the context is not in such a row; the static check
    /// rejects those uses, so the default only serves scopes without rosters.
    fn position(&self, roster: Option<VarId>) -> Option<usize> {
        let _ = roster;
        None
    }

    /// `choice-label()`: the label, in the interview language, of the choice `value` of
    /// the choice list of the select question `question`; `None` (empty) when the list
    /// has no such value. The scope owns the choice lists and the language, so
    /// expressions that do not call `choice-label()` pay nothing for them.
    fn choice_label(&self, question: VarId, value: &str) -> Option<&str> {
        let _ = (question, value);
        None
    }
}

/// Evaluates `expr` against `scope`.
///
/// Fails only when the expression was not resolved (see [`Expr::resolve`]) or when a
/// `regex()` pattern computed at run time is invalid; answers alone never make it fail.
pub fn evaluate(expr: &Expr, scope: &dyn Scope) -> Result<Value, EvalError> {
    let value = match &expr.program {
        Some(program) => program.value(scope),
        None => eval(&expr.root, scope),
    };
    value.map(Val::into_owned).map_err(|err| *err)
}

/// Evaluates `expr` and takes its truth value (as relevance, rules and `required` do).
/// Cheaper than [`evaluate`] because no owned value is built.
pub fn evaluate_bool(expr: &Expr, scope: &dyn Scope) -> Result<bool, EvalError> {
    let truth = match &expr.program {
        Some(program) => program.truth(scope),
        None => eval(&expr.root, scope).map(|v| v.to_bool()),
    };
    truth.map_err(|err| *err)
}

pub(crate) fn eval<'a>(node: &'a Node, scope: &'a dyn Scope) -> Result<Val<'a>, Box<EvalError>> {
    Ok(match &node.kind {
        NodeKind::Number(x) => Val::number(*x),
        NodeKind::Text(s) => Val::text(Cow::Borrowed(s)),
        NodeKind::Ref { name, var } => match var {
            Some(var) => scope.value(*var).to_val(),
            None => {
                return Err(Box::new(EvalError::Unresolved {
                    name: name.to_string(),
                }));
            }
        },
        NodeKind::Dot => scope.dot().to_val(),
        NodeKind::Ident(name) => match scope.choice_column(name) {
            Some(text) => Val::text(Cow::Borrowed(text)),
            None => Val::Empty,
        },
        NodeKind::Neg(inner) => match eval(inner, scope)?.to_number() {
            Some(x) => Val::number(-x),
            None => Val::Empty,
        },
        NodeKind::Binary { op, lhs, rhs } => binary(*op, lhs, rhs, scope)?,
        NodeKind::Call {
            func,
            args,
            compiled,
        } => call(*func, args, compiled.as_deref(), scope)?,
    })
}

fn binary<'a>(
    op: BinOp,
    lhs: &'a Node,
    rhs: &'a Node,
    scope: &'a dyn Scope,
) -> Result<Val<'a>, Box<EvalError>> {
    // `and` and `or` short-circuit: the right side is not evaluated when the left decides.
    match op {
        BinOp::And => {
            return Ok(Val::Bool(
                eval(lhs, scope)?.to_bool() && eval(rhs, scope)?.to_bool(),
            ));
        }
        BinOp::Or => {
            return Ok(Val::Bool(
                eval(lhs, scope)?.to_bool() || eval(rhs, scope)?.to_bool(),
            ));
        }
        _ => {}
    }
    let left = eval(lhs, scope)?;
    let right = eval(rhs, scope)?;
    Ok(combine(op, left, right))
}

/// A binary operator other than `and`/`or` applied to two evaluated operands (shared with
/// the compiled form, see `program.rs`).
pub(crate) fn combine<'a>(op: BinOp, left: Val<'a>, right: Val<'a>) -> Val<'a> {
    // Fast path for the commonest case, two numbers (ages, hours, amounts): the same
    // results as the general rules below, without their dispatch.
    if let (Val::Number(a), Val::Number(b)) = (&left, &right) {
        let (a, b) = (*a, *b);
        return match op {
            BinOp::Eq => Val::Bool(a == b),
            BinOp::Ne => Val::Bool(a != b),
            BinOp::Lt => Val::Bool(a < b),
            BinOp::Le => Val::Bool(a <= b),
            BinOp::Gt => Val::Bool(a > b),
            BinOp::Ge => Val::Bool(a >= b),
            BinOp::Add => Val::number(a + b),
            BinOp::Sub => Val::number(a - b),
            BinOp::Mul => Val::number(a * b),
            BinOp::Div => Val::number(a / b),
            BinOp::Mod => Val::number(a % b),
            BinOp::And | BinOp::Or => Val::Empty,
        };
    }
    match op {
        BinOp::Eq => Val::Bool(equals(&left, &right)),
        BinOp::Ne => Val::Bool(!equals(&left, &right)),
        BinOp::Lt => Val::Bool(order(&left, &right) == Some(Ordering::Less)),
        BinOp::Le => Val::Bool(matches!(
            order(&left, &right),
            Some(Ordering::Less | Ordering::Equal)
        )),
        BinOp::Gt => Val::Bool(order(&left, &right) == Some(Ordering::Greater)),
        BinOp::Ge => Val::Bool(matches!(
            order(&left, &right),
            Some(Ordering::Greater | Ordering::Equal)
        )),
        BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod => {
            arithmetic(op, &left, &right)
        }
        BinOp::And | BinOp::Or => Val::Empty,
    }
}

/// `=`: empty equals only empty; otherwise booleans compare as booleans, dates as dates,
/// numbers as numbers (the other side converted; a failed conversion is unequal), and
/// texts as texts. select_multiple and geopoints compare by their text form.
pub(crate) fn equals(left: &Val<'_>, right: &Val<'_>) -> bool {
    match (left, right) {
        (Val::Empty, Val::Empty) => true,
        (Val::Empty, _) | (_, Val::Empty) => false,
        (Val::Bool(_), _) | (_, Val::Bool(_)) => left.to_bool() == right.to_bool(),
        (Val::Multi(_) | Val::GeoPoint(_), _) | (_, Val::Multi(_) | Val::GeoPoint(_)) => {
            left.to_text() == right.to_text()
        }
        (Val::Date(_) | Val::DateTime(_), _) | (_, Val::Date(_) | Val::DateTime(_)) => {
            match (date_key(left), date_key(right)) {
                (Some(a), Some(b)) => a == b,
                _ => false,
            }
        }
        (Val::Number(_), _) | (_, Val::Number(_)) => match (left.to_number(), right.to_number()) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        },
        (Val::Text(a), Val::Text(b)) => a == b,
    }
}

/// `< <= > >=`: `None` (every ordering false) when either side is empty or the two cannot
/// be put on one scale. Booleans order as 0/1, dates by instant, numbers numerically (the
/// other side converted), and two texts numerically when both are numbers, otherwise by
/// Unicode code points.
pub(crate) fn order(left: &Val<'_>, right: &Val<'_>) -> Option<Ordering> {
    let numeric = |a: Option<f64>, b: Option<f64>| a?.partial_cmp(&b?);
    match (left, right) {
        (Val::Empty, _) | (_, Val::Empty) => None,
        (Val::Multi(_) | Val::GeoPoint(_), _) | (_, Val::Multi(_) | Val::GeoPoint(_)) => None,
        (Val::Bool(_), _) | (_, Val::Bool(_)) => numeric(left.to_number(), right.to_number()),
        (Val::Date(_) | Val::DateTime(_), _) | (_, Val::Date(_) | Val::DateTime(_)) => {
            numeric(date_key(left), date_key(right))
        }
        (Val::Number(_), _) | (_, Val::Number(_)) => numeric(left.to_number(), right.to_number()),
        (Val::Text(a), Val::Text(b)) => match (parse_number(a), parse_number(b)) {
            (Some(x), Some(y)) => x.partial_cmp(&y),
            _ => Some(a.as_ref().cmp(b.as_ref())),
        },
    }
}

/// A value on the date scale, in days since 1970-01-01 (UTC midnight for dates): dates and
/// date-times as themselves, texts parsed as `YYYY-MM-DD` or RFC 3339, numbers as days.
fn date_key(value: &Val<'_>) -> Option<f64> {
    match value {
        Val::Date(d) => Some(d.days() as f64),
        Val::DateTime(t) => Some(t.epoch_days()),
        Val::Number(x) => Some(*x),
        Val::Text(s) => {
            let s = s.trim();
            Date::parse(s)
                .map(|d| d.days() as f64)
                .or_else(|| DateTime::parse(s).map(DateTime::epoch_days))
        }
        _ => None,
    }
}

fn arithmetic<'a>(op: BinOp, left: &Val<'a>, right: &Val<'a>) -> Val<'a> {
    if left.is_empty() || right.is_empty() {
        return Val::Empty;
    }
    // Date arithmetic first: date ± days, date − date.
    match (op, left, right) {
        (BinOp::Add, Val::Date(d), other) | (BinOp::Add, other, Val::Date(d))
            if !matches!(other, Val::Date(_) | Val::DateTime(_)) =>
        {
            return shift_date(*d, other.to_number());
        }
        (BinOp::Sub, Val::Date(d), other) if !matches!(other, Val::Date(_) | Val::DateTime(_)) => {
            return shift_date(*d, other.to_number().map(|n| -n));
        }
        (BinOp::Add, Val::DateTime(t), other) | (BinOp::Add, other, Val::DateTime(t))
            if !matches!(other, Val::Date(_) | Val::DateTime(_)) =>
        {
            return shift_datetime(*t, other.to_number());
        }
        (BinOp::Sub, Val::DateTime(t), other)
            if !matches!(other, Val::Date(_) | Val::DateTime(_)) =>
        {
            return shift_datetime(*t, other.to_number().map(|n| -n));
        }
        _ => {}
    }
    let (Some(a), Some(b)) = (left.to_number(), right.to_number()) else {
        return Val::Empty;
    };
    Val::number(match op {
        BinOp::Add => a + b,
        BinOp::Sub => a - b,
        BinOp::Mul => a * b,
        BinOp::Div => a / b,
        // Truncated remainder (sign of the dividend), as XPath, Java and JavaScript.
        BinOp::Mod => a % b,
        _ => f64::NAN,
    })
}

/// A date plus a whole number of days is a date; plus a fractional number it is a number
/// of days (the date's day number plus the fraction).
fn shift_date<'a>(date: Date, days: Option<f64>) -> Val<'a> {
    match days {
        // A whole number beyond ±10^7 days leaves 0001–9999 whatever the date: empty.
        Some(n) if n.fract() == 0.0 => {
            match (n.abs() < 1e7).then(|| Date::from_days(date.days() + n as i64)) {
                Some(Some(shifted)) => Val::Date(shifted),
                _ => Val::Empty,
            }
        }
        Some(n) => Val::number(date.days() as f64 + n),
        None => Val::Empty,
    }
}

/// A date-time plus a number of days (fractions allowed), to the millisecond.
fn shift_datetime<'a>(instant: DateTime, days: Option<f64>) -> Val<'a> {
    match days {
        Some(n) if n.abs() < 1e7 => match instant.plus_millis((n * 86_400_000.0).round() as i64) {
            Some(shifted) => Val::DateTime(shifted),
            None => Val::Empty,
        },
        _ => Val::Empty,
    }
}

// Kept out of line: inlined into `eval`, its many locals would make every node's
// evaluation pay for a large stack frame.
#[inline(never)]
fn call<'a>(
    func: Func,
    args: &'a [Node],
    compiled: Option<&'a Regex>,
    scope: &'a dyn Scope,
) -> Result<Val<'a>, Box<EvalError>> {
    let arg = |i: usize| eval(&args[i], scope);
    let number_arg = |i: usize| -> Result<Option<f64>, Box<EvalError>> { Ok(arg(i)?.to_number()) };
    let map_number = |i: usize, f: fn(f64) -> f64| -> Result<Val<'a>, Box<EvalError>> {
        Ok(number_arg(i)?.map_or(Val::Empty, |x| Val::number(f(x))))
    };
    Ok(match func {
        Func::If => {
            if arg(0)?.to_bool() {
                arg(1)?
            } else {
                arg(2)?
            }
        }
        Func::Selected => {
            let set = arg(0)?;
            let wanted = arg(1)?.to_text();
            Val::Bool(match &set {
                Val::Empty => false,
                Val::Multi(items) => items.iter().any(|item| *item == *wanted),
                other => other
                    .to_text()
                    .split_whitespace()
                    .any(|item| item == wanted),
            })
        }
        Func::CountSelected => Val::Number(match arg(0)? {
            Val::Empty => 0.0,
            Val::Multi(items) => items.len() as f64,
            other => other.to_text().split_whitespace().count() as f64,
        }),
        Func::Coalesce => {
            for i in 0..args.len() {
                let value = arg(i)?;
                if !value.is_empty() {
                    return Ok(value);
                }
            }
            Val::Empty
        }
        Func::Regex => {
            let subject = arg(0)?.to_text();
            match compiled {
                Some(regex) => Val::Bool(regex.is_match(&subject)),
                None => {
                    let pattern = arg(1)?.to_text();
                    match Regex::new(&pattern) {
                        Ok(regex) => Val::Bool(regex.is_match(&subject)),
                        Err(message) => {
                            return Err(Box::new(EvalError::Regex {
                                pattern: pattern.into_owned(),
                                message,
                            }));
                        }
                    }
                }
            }
        }
        Func::StringLength => Val::Number(arg(0)?.to_text().chars().count() as f64),
        Func::Today => Val::Date(scope.today()),
        Func::Int => map_number(0, f64::trunc)?,
        Func::Round => {
            let digits = if args.len() > 1 {
                number_arg(1)?
            } else {
                Some(0.0)
            };
            match (number_arg(0)?, digits) {
                (Some(x), Some(d)) => Val::number(round_decimal(x, d.trunc())),
                _ => Val::Empty,
            }
        }
        Func::Number => map_number(0, |x| x)?,
        Func::Concat => {
            let mut text = String::new();
            for i in 0..args.len() {
                text.push_str(&arg(i)?.to_text());
            }
            Val::text(Cow::Owned(text))
        }
        Func::Count => match args[0].kind {
            NodeKind::Ref { var: Some(var), .. } => Val::Number(match scope.row_count(var) {
                Some(rows) => rows as f64,
                None => {
                    let mut count = 0usize;
                    scope.for_each_instance(var, &mut |v| count += usize::from(!v.is_empty()));
                    count as f64
                }
            }),
            _ => Val::Number(if arg(0)?.is_empty() { 0.0 } else { 1.0 }),
        },
        Func::Sum => {
            let mut total = 0.0;
            for_each_value(&args[0], scope, &mut |v| {
                total += v.to_number().unwrap_or(0.0)
            })?;
            Val::number(total)
        }
        Func::Min | Func::Max => {
            let wanted = if func == Func::Min {
                Ordering::Less
            } else {
                Ordering::Greater
            };
            extreme(args, scope, wanted)?
        }
        Func::Not => Val::Bool(!arg(0)?.to_bool()),
        Func::True => Val::Bool(true),
        Func::False => Val::Bool(false),
        Func::Boolean => Val::Bool(arg(0)?.to_bool()),
        Func::String => Val::text(arg(0)?.to_text()),
        Func::Date => match arg(0)?.to_date() {
            Some(date) => Val::Date(date),
            None => Val::Empty,
        },
        Func::Contains => Val::Bool(arg(0)?.to_text().contains(arg(1)?.to_text().as_ref())),
        Func::StartsWith => Val::Bool(arg(0)?.to_text().starts_with(arg(1)?.to_text().as_ref())),
        Func::EndsWith => Val::Bool(arg(0)?.to_text().ends_with(arg(1)?.to_text().as_ref())),
        Func::Abs => map_number(0, f64::abs)?,
        Func::Floor => map_number(0, f64::floor)?,
        Func::Ceiling => map_number(0, f64::ceil)?,
        Func::IsDontKnow => Val::Bool(matches!(
            raw_answer(&args[0], scope),
            Some(ValueRef::DontKnow)
        )),
        Func::IsRefused => Val::Bool(matches!(
            raw_answer(&args[0], scope),
            Some(ValueRef::Refused)
        )),
        Func::Position => {
            let roster = match args.first() {
                None => None,
                Some(node) => Some(variable(node)?),
            };
            scope
                .position(roster)
                .map_or(Val::Empty, |row| Val::Number(row as f64))
        }
        Func::ChoiceLabel => {
            let value = arg(0)?;
            let question = variable(&args[1])?;
            if value.is_empty() {
                Val::Empty
            } else {
                match scope.choice_label(question, &value.to_text()) {
                    Some(label) => Val::text(Cow::Borrowed(label)),
                    None => Val::Empty,
                }
            }
        }
        Func::FormatDate => {
            let parts = match arg(0)? {
                Val::DateTime(t) => DateParts::of_datetime(t),
                Val::Text(s) => {
                    let s = s.trim();
                    match Date::parse(s) {
                        Some(d) => Some(DateParts::of_date(d)),
                        None => DateTime::parse(s).and_then(DateParts::of_datetime),
                    }
                }
                other => other.to_date().map(DateParts::of_date),
            };
            let pattern = arg(1)?.to_text();
            match parts {
                None => Val::Empty,
                Some(parts) => match date_format::format(&pattern, &parts) {
                    Ok(text) => Val::text(Cow::Owned(text)),
                    Err(message) => {
                        return Err(Box::new(EvalError::Format {
                            pattern: pattern.into_owned(),
                            message,
                        }));
                    }
                },
            }
        }
    })
}

/// The slot of a `${name}` argument that names a variable rather than reading it
/// (`position(${roster})`, the question of `choice-label()`).
fn variable(node: &Node) -> Result<VarId, Box<EvalError>> {
    match &node.kind {
        NodeKind::Ref { var: Some(var), .. } => Ok(*var),
        NodeKind::Ref { name, var: None } => Err(Box::new(EvalError::Unresolved {
            name: name.to_string(),
        })),
        // The static check accepts only `${name}` here; an unchecked expression names
        // nothing, which is an unresolved name.
        _ => Err(Box::new(EvalError::Unresolved {
            name: node.to_string(),
        })),
    }
}

/// The answer behind a `${name}` or `.` argument, with its missing state intact.
fn raw_answer<'a>(node: &Node, scope: &'a dyn Scope) -> Option<ValueRef<'a>> {
    match node.kind {
        NodeKind::Ref { var: Some(var), .. } => Some(scope.value(var)),
        NodeKind::Dot => Some(scope.dot()),
        _ => None,
    }
}

/// Visits the values an aggregate argument contributes: every instance of a `${name}`, or
/// the one value of any other expression.
fn for_each_value<'a>(
    node: &'a Node,
    scope: &'a dyn Scope,
    visit: &mut dyn FnMut(Val<'_>),
) -> Result<(), Box<EvalError>> {
    match &node.kind {
        NodeKind::Ref { var: Some(var), .. } => {
            scope.for_each_instance(*var, &mut |v| visit(v.to_val()));
            Ok(())
        }
        NodeKind::Ref { name, var: None } => Err(Box::new(EvalError::Unresolved {
            name: name.to_string(),
        })),
        _ => {
            visit(eval(node, scope)?);
            Ok(())
        }
    }
}

/// `min()`/`max()`: the extreme of all non-empty contributions on one scale. When any
/// contribution is a date or date-time the scale is dates (chronological order; texts and
/// numbers converted as for `=`) and the result is the date or date-time found; otherwise
/// numbers. So neither the order of the arguments nor which of them are empty changes the
/// scale. Contributions that do not fit the scale are ignored.
///
/// One pass keeps both candidates, so a roster variable's instances are read once.
fn extreme<'a>(
    args: &'a [Node],
    scope: &'a dyn Scope,
    wanted: Ordering,
) -> Result<Val<'a>, Box<EvalError>> {
    let better =
        |key: f64, best: Option<f64>| best.is_none_or(|b| key.partial_cmp(&b) == Some(wanted));
    let mut by_number: Option<f64> = None;
    let mut by_date: Option<(f64, Val<'static>)> = None;
    let mut dated = false;
    for arg in args {
        for_each_value(arg, scope, &mut |v| {
            if v.is_empty() {
                return;
            }
            dated |= matches!(v, Val::Date(_) | Val::DateTime(_));
            if let Some(x) = v.to_number()
                && better(x, by_number)
            {
                by_number = Some(x);
            }
            if let Some((key, value)) = on_date_scale(&v)
                && better(key, by_date.as_ref().map(|(k, _)| *k))
            {
                by_date = Some((key, value));
            }
        })?;
    }
    Ok(if dated {
        by_date.map_or(Val::Empty, |(_, v)| v)
    } else {
        by_number.map_or(Val::Empty, Val::number)
    })
}

/// A contribution to `min()`/`max()` on the date scale: its key (as [`date_key`]) and the
/// value it stands for: a date or date-time as itself, a `YYYY-MM-DD` text as that date,
/// an RFC 3339 text as that date-time, a number as the date of its (floored) day number.
fn on_date_scale(value: &Val<'_>) -> Option<(f64, Val<'static>)> {
    let owned = match value {
        Val::Date(d) => Val::Date(*d),
        Val::DateTime(t) => Val::DateTime(*t),
        Val::Text(s) => {
            let s = s.trim();
            match Date::parse(s) {
                Some(d) => Val::Date(d),
                None => Val::DateTime(DateTime::parse(s)?),
            }
        }
        Val::Number(x) => Val::Date(Date::from_days(x.floor() as i64)?),
        _ => return None,
    };
    Some((date_key(&owned)?, owned))
}

/// Rounds `x` to `digits` decimal places (negative: to tens, hundreds, …), half away from
/// zero, on the shortest decimal representation of `x` — so `round(1.005, 2)` is 1.01, as
/// the number reads, not 1.0 as its binary value would give.
pub(crate) fn round_decimal(x: f64, digits: f64) -> f64 {
    if !(-20.0..=20.0).contains(&digits) {
        return if digits > 0.0 { x } else { 0.0 };
    }
    let digits = digits as i64;
    let text = format_number(x.abs());
    let (int_part, frac_part) = text.split_once('.').unwrap_or((&text, ""));
    let mut all: Vec<u8> = int_part
        .bytes()
        .chain(frac_part.bytes())
        .map(|b| b - b'0')
        .collect();
    let point = int_part.len() as i64;
    let keep = point + digits;
    if keep >= all.len() as i64 {
        return x;
    }
    if keep < 0 {
        return 0.0;
    }
    let keep = keep as usize;
    let round_up = all[keep] >= 5;
    all.truncate(keep);
    if round_up {
        // Propagate the carry; a carry out of the first digit adds a new leading 1.
        let mut i = keep;
        loop {
            if i == 0 {
                all.insert(0, 1);
                break;
            }
            i -= 1;
            if all[i] == 9 {
                all[i] = 0;
            } else {
                all[i] += 1;
                break;
            }
        }
    }
    let carried = all.len() as i64 - keep as i64;
    let point = point + carried;
    let mut result = String::with_capacity(all.len() + 2);
    for (i, d) in all.iter().enumerate() {
        if i as i64 == point {
            result.push('.');
        }
        result.push((b'0' + d) as char);
    }
    for _ in all.len() as i64..point {
        result.push('0');
    }
    let magnitude: f64 = result.parse().unwrap_or(0.0);
    if x < 0.0 { -magnitude } else { magnitude }
}

/// Evaluation for [`Expr::constant_value`]: a scope with no answers.
pub(crate) struct NoAnswers;

impl Scope for NoAnswers {
    fn value(&self, _var: VarId) -> ValueRef<'_> {
        ValueRef::Empty
    }

    fn today(&self) -> Date {
        Date::EPOCH
    }
}

#[cfg(test)]
mod tests {
    use super::round_decimal;

    #[test]
    fn rounding_is_decimal_half_away_from_zero() {
        assert_eq!(round_decimal(2.5, 0.0), 3.0);
        assert_eq!(round_decimal(-2.5, 0.0), -3.0);
        assert_eq!(round_decimal(1.005, 2.0), 1.01);
        assert_eq!(round_decimal(9.995, 2.0), 10.0);
        assert_eq!(round_decimal(1234.5, -2.0), 1200.0);
        assert_eq!(round_decimal(1250.0, -2.0), 1300.0);
        assert_eq!(round_decimal(499.0, -3.0), 0.0);
        assert_eq!(round_decimal(500.0, -3.0), 1000.0);
        assert_eq!(round_decimal(0.4, 0.0), 0.0);
        assert_eq!(round_decimal(99.96, 1.0), 100.0);
        assert_eq!(round_decimal(4.56789, 3.0), 4.568);
    }
}
