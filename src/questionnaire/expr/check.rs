//! Static checks: unknown references, types, roster scoping, misuse of functions.
//!
//! The checker infers a [`Type`] for every node from the variables' declared types (given
//! by a [`Symbols`] implementation) and reports every problem it finds, not just the first.
//! It is deliberately strict where XPath would silently coerce into nonsense (a
//! select_multiple compared with `=`, a text question in arithmetic, a roster used as a
//! value) and lenient where coercion is what designers mean (`${sex} = 1` on a select_one).

use crate::questionnaire::expr::Expr;
use crate::questionnaire::expr::ast::{BinOp, Func, Node, NodeKind};
use crate::questionnaire::expr::date::Date;
use crate::questionnaire::expr::error::ErrorCode;
use crate::questionnaire::expr::span::{Span, column_of};
use crate::questionnaire::expr::value::parse_number;

/// The static type of a variable or expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Type {
    /// true/false.
    Bool,
    /// integer and decimal questions, arithmetic results.
    Number,
    /// text and select_one questions, string literals.
    Text,
    /// date questions, `today()`, `date()`.
    Date,
    /// datetime questions.
    DateTime,
    /// select_multiple questions.
    Multi,
    /// geopoint questions.
    GeoPoint,
    /// A roster itself (`${suppliers}`): only meaningful as `count(${suppliers})`.
    Roster,
    /// Unknown or mixed (e.g. the empty literal `''`, or `if()` with branches of two types).
    Any,
}

impl Type {
    /// The type of a question of the given questionnaire type name (`integer`,
    /// `select_one`, …), or `None` for an unknown name.
    pub fn of_question_type(name: &str) -> Option<Type> {
        Some(match name {
            "text" | "select_one" => Type::Text,
            "integer" | "decimal" => Type::Number,
            "select_multiple" => Type::Multi,
            "date" => Type::Date,
            "datetime" => Type::DateTime,
            "geopoint" => Type::GeoPoint,
            _ => return None,
        })
    }

    /// The name used in messages.
    pub fn name(self) -> &'static str {
        match self {
            Type::Bool => "boolean",
            Type::Number => "number",
            Type::Text => "text",
            Type::Date => "date",
            Type::DateTime => "datetime",
            Type::Multi => "select_multiple",
            Type::GeoPoint => "geopoint",
            Type::Roster => "roster",
            Type::Any => "any",
        }
    }
}

/// What the checker knows about one variable, seen from the expression's context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Symbol {
    /// Its type ([`Type::Roster`] for a roster; calculations: the type of their
    /// calculation, or [`Type::Any`]).
    pub ty: Type,
    /// Whether it has several instances from the expression's context: it sits in a
    /// roster (or is a roster nested in a roster) that the context is not inside. Such a
    /// variable may only appear as the direct argument of an aggregate (`count()`, `sum()`,
    /// `min()`, `max()`).
    pub repeated: bool,
}

/// The names an expression may use, from its context in the questionnaire.
pub trait Symbols {
    /// The variable `name`, or `None` when no item has that name.
    fn lookup(&self, name: &str) -> Option<Symbol>;

    /// The type of `.`, or `None` when `.` has no meaning here (only a question's own
    /// `rules` and `choice_filter` have a `.`).
    fn dot(&self) -> Option<Type> {
        None
    }

    /// Whether the expression is a `choice_filter` (where bare identifiers are choice
    /// columns).
    fn in_choice_filter(&self) -> bool {
        false
    }

    /// In a `choice_filter`: whether the choice list has the column `name`. `value` is
    /// always a column and is not asked about.
    fn has_choice_column(&self, name: &str) -> bool {
        let _ = name;
        false
    }

    /// Whether the expression's context is a roster row: a row of the roster `name` (the
    /// context's own roster or one it is nested in), or of any roster when `name` is
    /// `None`. Decides where `position()` is allowed; the default is the top level.
    fn in_roster_row(&self, roster: Option<&str>) -> bool {
        let _ = roster;
        false
    }

    /// Whether `name` is a select question with a choice list (the second argument of
    /// `choice-label()`).
    fn has_choice_list(&self, name: &str) -> bool {
        let _ = name;
        false
    }
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Severity {
    /// The expression is wrong: it will not do what it says.
    Error,
    /// The expression is legal but almost certainly not what was meant.
    Warning,
}

/// One finding of [`check`].
#[derive(Debug, Clone, PartialEq)]
pub struct ExprDiagnostic {
    /// The stable kind of problem.
    pub code: ErrorCode,
    /// Error or warning.
    pub severity: Severity,
    /// A sentence for the survey designer.
    pub message: String,
    /// Where in the expression (byte offsets).
    pub span: Span,
    /// 1-based column (in characters) of `span.start`.
    pub column: usize,
}

/// Checks `expr` against the variables in `symbols`; returns every problem found (empty
/// when the expression is fine).
pub fn check(expr: &Expr, symbols: &dyn Symbols) -> Vec<ExprDiagnostic> {
    check_typed(expr, symbols).1
}

/// Like [`check`], and also returns the expression's inferred type.
pub fn check_typed(expr: &Expr, symbols: &dyn Symbols) -> (Type, Vec<ExprDiagnostic>) {
    let mut checker = Checker {
        src: expr.source(),
        symbols,
        diagnostics: Vec::new(),
    };
    let ty = checker.node(&expr.root, Position::Plain);
    (ty, checker.diagnostics)
}

/// Where a node sits, for the rule that repeated variables only appear in aggregates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Position {
    Plain,
    /// Direct argument of `count()`: rosters and repeated variables allowed.
    CountArgument,
    /// Direct argument of `sum()`, `min()`, `max()`: repeated variables allowed.
    AggregateArgument,
}

struct Checker<'a> {
    src: &'a str,
    symbols: &'a dyn Symbols,
    diagnostics: Vec<ExprDiagnostic>,
}

fn numeric(ty: Type) -> bool {
    matches!(ty, Type::Number | Type::Bool | Type::Any)
}

fn is_empty_literal(node: &Node) -> bool {
    matches!(&node.kind, NodeKind::Text(s) if s.is_empty())
}

impl Checker<'_> {
    fn report(&mut self, severity: Severity, code: ErrorCode, span: Span, message: String) {
        let column = column_of(self.src, span.start);
        self.diagnostics.push(ExprDiagnostic {
            code,
            severity,
            message,
            span,
            column,
        });
    }

    fn error(&mut self, code: ErrorCode, span: Span, message: String) {
        self.report(Severity::Error, code, span, message);
    }

    fn node(&mut self, node: &Node, position: Position) -> Type {
        match &node.kind {
            NodeKind::Number(_) => Type::Number,
            NodeKind::Text(s) if s.is_empty() => Type::Any,
            NodeKind::Text(_) => Type::Text,
            NodeKind::Ref { name, .. } => self.reference(name, node.span, position),
            NodeKind::Dot => match self.symbols.dot() {
                Some(ty) => ty,
                None => {
                    let message =
                        "'.' (this question's value) has no meaning here; use ${name}".to_string();
                    self.error(ErrorCode::UnknownReference, node.span, message);
                    Type::Any
                }
            },
            NodeKind::Ident(name) => {
                if !self.symbols.in_choice_filter() {
                    let message = format!(
                        "bare name '{name}': write ${{{name}}} to refer to a question \
                         (bare names are choice columns, only in a choice_filter)"
                    );
                    self.error(ErrorCode::UnknownReference, node.span, message);
                } else if &**name != "value" && !self.symbols.has_choice_column(name) {
                    let message = format!("the choice list has no column '{name}'");
                    self.error(ErrorCode::UnknownReference, node.span, message);
                }
                Type::Text
            }
            NodeKind::Neg(inner) => {
                let ty = self.node(inner, Position::Plain);
                if !numeric(ty) {
                    let message = format!("cannot negate a {} value", ty.name());
                    self.error(ErrorCode::Type, inner.span, message);
                }
                Type::Number
            }
            NodeKind::Binary { op, lhs, rhs } => self.binary(*op, lhs, rhs),
            NodeKind::Call { func, args, .. } => self.call(*func, args, node.span),
        }
    }

    fn reference(&mut self, name: &str, span: Span, position: Position) -> Type {
        let Some(symbol) = self.symbols.lookup(name) else {
            self.error(
                ErrorCode::UnknownReference,
                span,
                format!("unknown variable ${{{name}}}"),
            );
            return Type::Any;
        };
        if symbol.ty == Type::Roster && position != Position::CountArgument {
            let message = format!(
                "${{{name}}} is a roster, not a value; count(${{{name}}}) gives its number of rows"
            );
            self.error(ErrorCode::Type, span, message);
            return Type::Any;
        }
        if symbol.repeated && position == Position::Plain {
            let message = format!(
                "${{{name}}} is in a roster this expression is not inside, so it has one value \
                 per row; use it inside count(), sum(), min() or max()"
            );
            self.error(ErrorCode::Scope, span, message);
            return Type::Any;
        }
        symbol.ty
    }

    fn binary(&mut self, op: BinOp, lhs: &Node, rhs: &Node) -> Type {
        let left = self.node(lhs, Position::Plain);
        let right = self.node(rhs, Position::Plain);
        match op {
            BinOp::And | BinOp::Or => Type::Bool,
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                self.comparison(op, (lhs, left), (rhs, right));
                Type::Bool
            }
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod => {
                self.arithmetic(op, (lhs, left), (rhs, right))
            }
        }
    }

    fn comparison(&mut self, op: BinOp, (lhs, left): (&Node, Type), (rhs, right): (&Node, Type)) {
        let equality = matches!(op, BinOp::Eq | BinOp::Ne);
        for (node, ty, other) in [(lhs, left, rhs), (rhs, right, lhs)] {
            match ty {
                // `${multi} = ''` is the idiomatic "nothing chosen" test; anything else
                // compares the space-joined text and is almost always a mistake.
                Type::Multi if !(equality && is_empty_literal(other)) => {
                    let message = "a select_multiple cannot be compared with '=' or '<'; \
                                   use selected(${q}, 'value') or count-selected(${q})"
                        .to_string();
                    self.error(ErrorCode::Type, node.span, message);
                    return;
                }
                Type::GeoPoint if !(equality && is_empty_literal(other)) => {
                    let message = "a geopoint can only be tested for emptiness (= '')".to_string();
                    self.error(ErrorCode::Type, node.span, message);
                    return;
                }
                _ => {}
            }
        }
        let dated = |ty| matches!(ty, Type::Date | Type::DateTime);
        for (ty, other_node, other) in [(left, rhs, right), (right, lhs, left)] {
            if !dated(ty) {
                continue;
            }
            match (&other_node.kind, other) {
                (NodeKind::Text(s), _)
                    if !s.is_empty()
                        && Date::parse(s.trim()).is_none()
                        && crate::questionnaire::expr::date::DateTime::parse(s.trim())
                            .is_none() =>
                {
                    let message = format!("'{s}' is not a date (write dates as 'YYYY-MM-DD')");
                    self.error(ErrorCode::Type, other_node.span, message);
                    return;
                }
                (_, Type::Number | Type::Bool | Type::Multi) => {
                    let message = format!(
                        "a {} cannot be compared with a {}; compare with a date, today() or \
                         date('YYYY-MM-DD')",
                        ty.name(),
                        other.name()
                    );
                    self.error(ErrorCode::Type, other_node.span, message);
                    return;
                }
                _ => {}
            }
        }
        // A number compared with a text literal that is not a number is constant.
        for (ty, other_node) in [(left, rhs), (right, lhs)] {
            if let (Type::Number, NodeKind::Text(s)) = (ty, &other_node.kind)
                && !s.is_empty()
                && parse_number(s).is_none()
            {
                let message = format!(
                    "'{s}' is not a number, so this comparison with a number is always {}",
                    if op == BinOp::Ne { "true" } else { "false" }
                );
                self.report(Severity::Warning, ErrorCode::Type, other_node.span, message);
            }
        }
    }

    fn arithmetic(
        &mut self,
        op: BinOp,
        (lhs, left): (&Node, Type),
        (rhs, right): (&Node, Type),
    ) -> Type {
        use Type::{Any, Date, DateTime};
        let dated = |ty| matches!(ty, Date | DateTime);
        match (op, left, right) {
            (BinOp::Add, Date, r) | (BinOp::Add, r, Date) if numeric(r) && r != Any => return Date,
            (BinOp::Add, DateTime, r) | (BinOp::Add, r, DateTime) if numeric(r) && r != Any => {
                return DateTime;
            }
            (BinOp::Sub, Date, r) if numeric(r) && r != Any => return Date,
            (BinOp::Sub, DateTime, r) if numeric(r) && r != Any => return DateTime,
            (BinOp::Sub, l, r) if dated(l) && dated(r) => return Type::Number,
            (BinOp::Add | BinOp::Sub, l, r) if (dated(l) && r == Any) || (dated(r) && l == Any) => {
                return Any;
            }
            _ => {}
        }
        for (node, ty) in [(lhs, left), (rhs, right)] {
            if numeric(ty) {
                continue;
            }
            let message = match ty {
                Type::Text => format!(
                    "text used in arithmetic '{}'; convert it with number() if it holds a number",
                    op.symbol()
                ),
                Date | DateTime => {
                    "dates only take + and - (a date ± days, or date − date)".to_string()
                }
                other => format!("a {} value cannot be used in arithmetic", other.name()),
            };
            self.error(ErrorCode::Type, node.span, message);
            return Any;
        }
        Type::Number
    }

    fn expect_reference(&mut self, func: Func, arg: &Node, allow_dot: bool) -> bool {
        let ok = matches!(arg.kind, NodeKind::Ref { .. })
            || (allow_dot && matches!(arg.kind, NodeKind::Dot));
        if !ok {
            let what = if allow_dot {
                "${name} or '.'"
            } else {
                "${name}"
            };
            let message = format!("{}() takes a {what} as its argument", func.name());
            self.error(ErrorCode::Type, arg.span, message);
        }
        ok
    }

    fn call(&mut self, func: Func, args: &[Node], span: Span) -> Type {
        match func {
            Func::Count => {
                if self.expect_reference(func, &args[0], false) {
                    self.node(&args[0], Position::CountArgument);
                }
                return Type::Number;
            }
            Func::Sum => {
                if self.expect_reference(func, &args[0], false) {
                    let ty = self.node(&args[0], Position::AggregateArgument);
                    if !numeric(ty) {
                        let message = format!("sum() needs numbers, not {}", ty.name());
                        self.error(ErrorCode::Type, args[0].span, message);
                    }
                }
                return Type::Number;
            }
            Func::Min | Func::Max => return self.extreme(func, args),
            Func::IsDontKnow | Func::IsRefused => {
                if self.expect_reference(func, &args[0], true) {
                    self.node(&args[0], Position::Plain);
                }
                return Type::Bool;
            }
            Func::Position => {
                self.position(args, span);
                return Type::Number;
            }
            Func::ChoiceLabel => {
                let ty = self.node(&args[0], Position::Plain);
                if matches!(ty, Type::Multi | Type::GeoPoint | Type::Roster | Type::Bool) {
                    let message = format!(
                        "choice-label() takes one choice value, not a {}{}",
                        ty.name(),
                        if ty == Type::Multi {
                            "; test a select_multiple with selected()"
                        } else {
                            ""
                        }
                    );
                    self.error(ErrorCode::Type, args[0].span, message);
                }
                self.choice_list_argument(&args[1]);
                return Type::Text;
            }
            _ => {}
        }
        let types: Vec<Type> = args
            .iter()
            .map(|arg| self.node(arg, Position::Plain))
            .collect();
        let reject = |checker: &mut Self, i: usize, bad: &[Type], need: &str| {
            if bad.contains(&types[i]) {
                let message = format!("{}() needs {need}, not a {}", func.name(), types[i].name());
                checker.error(ErrorCode::Type, args[i].span, message);
            }
        };
        let not_scalar = [Type::Multi, Type::GeoPoint, Type::Roster];
        match func {
            Func::If => unify(types[1], types[2]),
            Func::Coalesce => types.iter().copied().reduce(unify).unwrap_or(Type::Any),
            Func::Selected => {
                reject(
                    self,
                    0,
                    &[
                        Type::Number,
                        Type::Bool,
                        Type::Date,
                        Type::DateTime,
                        Type::GeoPoint,
                    ],
                    "a select_multiple or select_one",
                );
                reject(self, 1, &not_scalar, "a value");
                Type::Bool
            }
            Func::CountSelected => {
                reject(
                    self,
                    0,
                    &[
                        Type::Number,
                        Type::Bool,
                        Type::Date,
                        Type::DateTime,
                        Type::GeoPoint,
                    ],
                    "a select_multiple",
                );
                Type::Number
            }
            Func::Regex | Func::Contains | Func::StartsWith | Func::EndsWith => {
                for i in 0..args.len() {
                    reject(self, i, &not_scalar, "a text");
                }
                Type::Bool
            }
            Func::StringLength => {
                reject(self, 0, &not_scalar, "a text");
                Type::Number
            }
            Func::Int | Func::Round | Func::Number | Func::Abs | Func::Floor | Func::Ceiling => {
                for i in 0..args.len() {
                    reject(self, i, &not_scalar, "a number");
                }
                Type::Number
            }
            Func::Date => {
                reject(
                    self,
                    0,
                    &[Type::Multi, Type::GeoPoint, Type::Bool],
                    "a 'YYYY-MM-DD' text or a day number",
                );
                Type::Date
            }
            Func::FormatDate => {
                reject(
                    self,
                    0,
                    &[Type::Multi, Type::GeoPoint, Type::Bool, Type::Roster],
                    "a date, a date-time or a 'YYYY-MM-DD' text",
                );
                reject(self, 1, &not_scalar, "a pattern text");
                Type::Text
            }
            Func::Today => Type::Date,
            Func::Concat | Func::String => Type::Text,
            Func::Not | Func::True | Func::False | Func::Boolean => Type::Bool,
            Func::Count
            | Func::Sum
            | Func::Min
            | Func::Max
            | Func::IsDontKnow
            | Func::IsRefused
            | Func::Position
            | Func::ChoiceLabel => Type::Any,
        }
    }

    /// `min()`/`max()`: numbers (and booleans) or dates and date-times, not both: mixing
    /// them is as meaningless as comparing a date with a number. The result is a date when
    /// every dated argument is a date, a date-time when every one is a date-time, else
    /// unknown; a number when no argument is dated.
    fn extreme(&mut self, func: Func, args: &[Node]) -> Type {
        let mut dated: Option<Type> = None;
        let mut numbers = false;
        for arg in args {
            let position = if matches!(arg.kind, NodeKind::Ref { .. }) {
                Position::AggregateArgument
            } else {
                Position::Plain
            };
            let ty = self.node(arg, position);
            let problem = match ty {
                Type::Date | Type::DateTime if numbers => Some(format!(
                    "{}() mixes numbers and dates; compare dates with dates (date() turns a \
                     'YYYY-MM-DD' text into a date)",
                    func.name()
                )),
                Type::Number | Type::Bool if dated.is_some() => Some(format!(
                    "{}() mixes dates and numbers; a number is not a date",
                    func.name()
                )),
                Type::Date | Type::DateTime => {
                    dated = Some(match dated {
                        Some(seen) if seen != ty => Type::Any,
                        _ => ty,
                    });
                    None
                }
                Type::Number | Type::Bool => {
                    numbers = true;
                    None
                }
                Type::Any => None,
                other => Some(format!(
                    "{}() needs numbers or dates, not {}",
                    func.name(),
                    other.name()
                )),
            };
            if let Some(message) = problem {
                self.error(ErrorCode::Type, arg.span, message);
            }
        }
        dated.unwrap_or(Type::Number)
    }

    /// `position()` needs a roster row as its context; `position(${roster})` a row of
    /// that roster around the context.
    fn position(&mut self, args: &[Node], span: Span) {
        let Some(arg) = args.first() else {
            if !self.symbols.in_roster_row(None) {
                let message = "position() is the number of the current roster row, and this \
                               expression is not evaluated in a roster row (a roster's own \
                               relevant, count and rules are evaluated outside its rows)"
                    .to_string();
                self.error(ErrorCode::Scope, span, message);
            }
            return;
        };
        let NodeKind::Ref { name, .. } = &arg.kind else {
            let message = "position() takes no argument or a roster ${name}".to_string();
            self.error(ErrorCode::Type, arg.span, message);
            return;
        };
        match self.symbols.lookup(name) {
            None => {
                let message = format!("unknown variable ${{{name}}}");
                self.error(ErrorCode::UnknownReference, arg.span, message);
            }
            Some(symbol) if symbol.ty != Type::Roster => {
                let message = format!(
                    "position() takes a roster, and ${{{name}}} is a {}",
                    symbol.ty.name()
                );
                self.error(ErrorCode::Type, arg.span, message);
            }
            Some(_) if !self.symbols.in_roster_row(Some(name)) => {
                let message = format!(
                    "position(${{{name}}}) needs a row of roster {name} around this \
                     expression, and it is not evaluated inside one"
                );
                self.error(ErrorCode::Scope, arg.span, message);
            }
            Some(_) => {}
        }
    }

    /// The second argument of `choice-label()`: `${question}` of a select question. It
    /// names the question's choice list; its answer is not read, so a question of another
    /// roster is fine.
    fn choice_list_argument(&mut self, arg: &Node) {
        let NodeKind::Ref { name, .. } = &arg.kind else {
            let message = "choice-label() takes the select question as ${name} in its second \
                           argument"
                .to_string();
            self.error(ErrorCode::Type, arg.span, message);
            return;
        };
        if self.symbols.lookup(name).is_none() {
            let message = format!("unknown variable ${{{name}}}");
            self.error(ErrorCode::UnknownReference, arg.span, message);
        } else if !self.symbols.has_choice_list(name) {
            let message =
                format!("${{{name}}} is not a select question, so it has no choices to label");
            self.error(ErrorCode::Type, arg.span, message);
        }
    }
}

/// The type of a value that is one of two types: the same type, the other one when one
/// side is unknown (e.g. `''`), else unknown.
fn unify(a: Type, b: Type) -> Type {
    match (a, b) {
        _ if a == b => a,
        (Type::Any, other) | (other, Type::Any) => other,
        _ => Type::Any,
    }
}
