//! The syntax tree of an expression, and its canonical printing.
//!
//! Nodes own their children in `Box`es. That is safe because the parser refuses trees
//! deeper than [`crate::questionnaire::expr::MAX_DEPTH`], so every recursive walk (checking,
//! evaluation, printing, dropping) is bounded.

use std::fmt;

use crate::questionnaire::expr::regex::Regex;
use crate::questionnaire::expr::span::Span;

/// A slot number for a variable, handed out by the caller's resolver (see
/// [`crate::questionnaire::expr::Expr::resolve`]). Evaluation looks values up by slot, never
/// by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VarId(pub u32);

/// One node of the syntax tree with the source span it came from.
#[derive(Debug, Clone)]
pub struct Node {
    /// What the node is.
    pub kind: NodeKind,
    /// Where it is in the source (byte offsets).
    pub span: Span,
}

/// The kinds of nodes.
#[derive(Debug, Clone)]
pub enum NodeKind {
    /// A number literal such as `12` or `0.5` (always finite).
    Number(f64),
    /// A string literal, without its quotes (may be empty).
    Text(Box<str>),
    /// `${name}`; `var` is filled in by resolution.
    Ref {
        /// The variable name between `${` and `}`.
        name: Box<str>,
        /// The slot, once resolved.
        var: Option<VarId>,
    },
    /// `.`, the current question's own value.
    Dot,
    /// A bare identifier: in a `choice_filter`, a column of the choice being filtered
    /// (`value` is the choice value).
    Ident(Box<str>),
    /// Unary minus.
    Neg(Box<Node>),
    /// A binary operation.
    Binary {
        /// The operator.
        op: BinOp,
        /// Left operand.
        lhs: Box<Node>,
        /// Right operand.
        rhs: Box<Node>,
    },
    /// A function call.
    Call {
        /// The function.
        func: Func,
        /// The arguments (their count is checked at parse time).
        args: Vec<Node>,
        /// For `regex()` with a literal pattern: the pattern compiled once at parse time.
        compiled: Option<Box<Regex>>,
    },
}

/// Binary operators, from loosest to tightest binding:
/// `or` < `and` < `= !=` < `< <= > >=` < `+ -` < `* div mod`. All are left-associative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinOp {
    /// `or`
    Or,
    /// `and`
    And,
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `div`
    Div,
    /// `mod`
    Mod,
}

impl BinOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::Eq => "=",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "div",
            BinOp::Mod => "mod",
        }
    }

    /// Binding power: higher binds tighter.
    pub(crate) fn precedence(self) -> u8 {
        match self {
            BinOp::Or => 1,
            BinOp::And => 2,
            BinOp::Eq | BinOp::Ne => 3,
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => 4,
            BinOp::Add | BinOp::Sub => 5,
            BinOp::Mul | BinOp::Div | BinOp::Mod => 6,
        }
    }
}

macro_rules! functions {
    ($($variant:ident => $name:literal, $min:expr, $max:expr, $doc:literal;)*) => {
        /// The functions of the language. See `docs/questionnaire-format.md`, "Expressions".
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Func {
            $(#[doc = $doc] $variant,)*
        }

        impl Func {
            /// Every function, in documentation order.
            pub const ALL: &'static [Func] = &[$(Func::$variant,)*];

            /// The function's name as written in expressions.
            pub fn name(self) -> &'static str {
                match self { $(Func::$variant => $name,)* }
            }

            /// Looks a function up by name.
            pub fn from_name(name: &str) -> Option<Func> {
                match name { $($name => Some(Func::$variant),)* _ => None }
            }

            /// (minimum, maximum) number of arguments; `None` maximum means variadic.
            pub fn arity(self) -> (usize, Option<usize>) {
                match self { $(Func::$variant => ($min, $max),)* }
            }
        }
    };
}

functions! {
    If => "if", 3, Some(3), "`if(cond, then, else)`: `then` when `cond` is true, else `else`; only the chosen branch is evaluated.";
    Selected => "selected", 2, Some(2), "`selected(multi, value)`: whether `value` is among the chosen values (also works on select_one).";
    CountSelected => "count-selected", 1, Some(1), "`count-selected(multi)`: number of chosen values (0 when empty).";
    Coalesce => "coalesce", 2, None, "`coalesce(a, b, …)`: the first non-empty argument, else empty.";
    Regex => "regex", 2, Some(2), "`regex(text, pattern)`: whether the pattern matches somewhere in the text.";
    StringLength => "string-length", 1, Some(1), "`string-length(text)`: number of characters (Unicode scalar values).";
    Today => "today", 0, Some(0), "`today()`: the current date (from the scope).";
    Int => "int", 1, Some(1), "`int(x)`: `x` truncated toward zero.";
    Round => "round", 1, Some(2), "`round(x[, digits])`: `x` rounded half away from zero, in decimal.";
    Number => "number", 1, Some(1), "`number(x)`: `x` as a number, or empty.";
    Concat => "concat", 1, None, "`concat(a, …)`: the texts of the arguments joined.";
    Count => "count", 1, Some(1), "`count(${v})`: rows of a roster, or instances of `v` that have a value, in scope.";
    Sum => "sum", 1, Some(1), "`sum(${v})`: sum of the numeric values of `v` in scope (0 when none).";
    Min => "min", 1, None, "`min(a, …)`: the smallest value; a repeated `${v}` contributes all its instances.";
    Max => "max", 1, None, "`max(a, …)`: the largest value; a repeated `${v}` contributes all its instances.";
    Not => "not", 1, Some(1), "`not(x)`: boolean negation.";
    True => "true", 0, Some(0), "`true()`.";
    False => "false", 0, Some(0), "`false()`.";
    Boolean => "boolean", 1, Some(1), "`boolean(x)`: the truth value of `x`.";
    String => "string", 1, Some(1), "`string(x)`: the text of `x`.";
    Date => "date", 1, Some(1), "`date(x)`: a `YYYY-MM-DD` text or a day number as a date, or empty.";
    Contains => "contains", 2, Some(2), "`contains(text, part)`: whether `part` occurs in `text`.";
    StartsWith => "starts-with", 2, Some(2), "`starts-with(text, prefix)`.";
    EndsWith => "ends-with", 2, Some(2), "`ends-with(text, suffix)`.";
    Abs => "abs", 1, Some(1), "`abs(x)`.";
    Floor => "floor", 1, Some(1), "`floor(x)`.";
    Ceiling => "ceiling", 1, Some(1), "`ceiling(x)`.";
    IsDontKnow => "is-dont-know", 1, Some(1), "`is-dont-know(${v})` (or `.`): whether the answer is don't know.";
    IsRefused => "is-refused", 1, Some(1), "`is-refused(${v})` (or `.`): whether the answer is refused.";
    Position => "position", 0, Some(1), "`position()`: the 1-based number of the context's roster row; `position(${roster})`: of its row in that enclosing roster.";
    ChoiceLabel => "choice-label", 2, Some(2), "`choice-label(value, ${question})`: the label, in the interview language, of the choice `value` of the question's list (ODK `jr:choice-name`).";
    FormatDate => "format-date", 2, Some(2), "`format-date(date, pattern)`: the date (or date-time) formatted by a pattern of `%` directives.";
}

impl Func {
    /// Whether the function reads every instance of a repeated variable (so a roster
    /// variable may appear as its argument from outside the roster).
    pub fn is_aggregate(self) -> bool {
        matches!(self, Func::Count | Func::Sum | Func::Min | Func::Max)
    }
}

impl Node {
    /// Structural equality, ignoring spans, resolution and compiled patterns.
    pub fn same_as(&self, other: &Node) -> bool {
        match (&self.kind, &other.kind) {
            (NodeKind::Number(a), NodeKind::Number(b)) => a == b,
            (NodeKind::Text(a), NodeKind::Text(b)) => a == b,
            (NodeKind::Ref { name: a, .. }, NodeKind::Ref { name: b, .. }) => a == b,
            (NodeKind::Dot, NodeKind::Dot) => true,
            (NodeKind::Ident(a), NodeKind::Ident(b)) => a == b,
            (NodeKind::Neg(a), NodeKind::Neg(b)) => a.same_as(b),
            (
                NodeKind::Binary {
                    op: o1,
                    lhs: l1,
                    rhs: r1,
                },
                NodeKind::Binary {
                    op: o2,
                    lhs: l2,
                    rhs: r2,
                },
            ) => o1 == o2 && l1.same_as(l2) && r1.same_as(r2),
            (
                NodeKind::Call {
                    func: f1, args: a1, ..
                },
                NodeKind::Call {
                    func: f2, args: a2, ..
                },
            ) => f1 == f2 && a1.len() == a2.len() && a1.iter().zip(a2).all(|(x, y)| x.same_as(y)),
            _ => false,
        }
    }
}

/// Canonical printing: parentheses only where precedence and left-associativity need
/// them, numbers in the shortest round-trip form, strings in whichever quote they do not
/// contain. Reparsing the printed text gives the same tree (property tests and the fuzz
/// target hold us to it).
///
/// Minimal parentheses matter for more than looks: any source text that parses to a tree
/// has at least these parentheses, so the printed form never nests deeper than its source
/// and a tree accepted under [`crate::questionnaire::expr::MAX_DEPTH`] always reparses.
impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            NodeKind::Number(x) => {
                f.write_str(&crate::questionnaire::expr::value::format_number(*x))
            }
            NodeKind::Text(s) if s.contains('\'') => write!(f, "\"{s}\""),
            NodeKind::Text(s) => write!(f, "'{s}'"),
            NodeKind::Ref { name, .. } => write!(f, "${{{name}}}"),
            NodeKind::Dot => f.write_str("."),
            NodeKind::Ident(name) => f.write_str(name),
            NodeKind::Neg(inner) if matches!(inner.kind, NodeKind::Binary { .. }) => {
                write!(f, "-({inner})")
            }
            NodeKind::Neg(inner) => write!(f, "-{inner}"),
            NodeKind::Binary { op, lhs, rhs } => {
                let precedence = |node: &Node| match &node.kind {
                    NodeKind::Binary { op, .. } => Some(op.precedence()),
                    _ => None,
                };
                // Operators are left-associative: a left operand needs parentheses only
                // when it binds more loosely, a right operand also when it binds equally.
                if precedence(lhs).is_some_and(|p| p < op.precedence()) {
                    write!(f, "({lhs})")?;
                } else {
                    write!(f, "{lhs}")?;
                }
                write!(f, " {} ", op.symbol())?;
                if precedence(rhs).is_some_and(|p| p <= op.precedence()) {
                    write!(f, "({rhs})")
                } else {
                    write!(f, "{rhs}")
                }
            }
            NodeKind::Call { func, args, .. } => {
                write!(f, "{}(", func.name())?;
                for (i, arg) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{arg}")?;
                }
                f.write_str(")")
            }
        }
    }
}
