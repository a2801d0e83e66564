//! The compiled form of a resolved expression: what [`crate::questionnaire::expr::evaluate`]
//! runs when it can.
//!
//! The syntax tree is shaped for reading, printing and checking; evaluating it node by node
//! pays, on every submission, for decisions that depend only on the expression: which side
//! of `=` is a literal, whether that literal text is a number, how deep an `and` chain is.
//! A [`Program`] takes those decisions once, when the expression is resolved:
//!
//! - `and`/`or` chains are flattened into one list each, evaluated to a `bool` directly
//!   (relevance, rules and `required` only need the truth value);
//! - a comparison against a text literal (`${sex} = '2'`, the commonest condition in
//!   questionnaires) keeps the literal and its number value (parsed once), so the usual case
//!   is one string comparison;
//! - a comparison against a number literal (`. >= 15`) compares two `f64`s when the answer
//!   is a number;
//! - `not()`, `if()` and `coalesce()` evaluate their arguments compiled.
//!
//! Everything else (other functions, unary minus, bare identifiers) runs the tree walker on
//! that subtree, so there is one definition of each operation's semantics; the fast paths
//! above fall back to the same general functions (`equals`, `combine`) whenever the value
//! is not the one they expect. The conformance corpus (`tests/data/expressions.json`) runs
//! through this form, since it evaluates resolved expressions.

use std::borrow::Cow;

use crate::questionnaire::expr::ast::{BinOp, Func, Node, NodeKind, VarId};
use crate::questionnaire::expr::error::EvalError;
use crate::questionnaire::expr::eval::{Scope, combine, equals, eval};
use crate::questionnaire::expr::value::{Val, parse_number};

/// A compiled expression (see the module documentation).
#[derive(Debug, Clone)]
pub(crate) struct Program {
    root: Op,
}

#[derive(Debug, Clone)]
enum Op {
    /// A literal that is empty (the text `''`).
    Empty,
    /// A number literal, normalised as the tree walker's `Val::number` does.
    Number(f64),
    /// A non-empty text literal.
    Text(Box<str>),
    /// A resolved `${name}`.
    Var(VarId),
    /// `.`.
    Dot,
    /// `a and b and …`, short-circuit from the left.
    All(Vec<Op>),
    /// `a or b or …`, short-circuit from the left.
    Any(Vec<Op>),
    /// `x = 'text'` (or `!=` when `negate`), either side. `number` is the literal's number
    /// value, for answers that are numbers.
    EqText {
        operand: Box<Op>,
        text: Box<str>,
        number: Option<f64>,
        negate: bool,
    },
    /// `x op 12` for a comparison `op`; `literal_left` when written `12 op x`.
    CmpNumber {
        operand: Box<Op>,
        op: BinOp,
        number: f64,
        literal_left: bool,
    },
    /// Any other binary operator.
    Binary {
        op: BinOp,
        lhs: Box<Op>,
        rhs: Box<Op>,
    },
    /// `not(x)`.
    Not(Box<Op>),
    /// `if(c, a, b)`.
    If(Box<[Op; 3]>),
    /// `coalesce(a, b, …)`.
    Coalesce(Vec<Op>),
    /// Anything else: the tree walker on a copy of the subtree.
    Tree(Box<Node>),
}

impl Program {
    /// Compiles a resolved tree. Unresolved references stay in `Tree` parts, which report
    /// them exactly as the tree walker does.
    pub(crate) fn new(root: &Node) -> Program {
        Program { root: build(root) }
    }

    /// The value of the expression.
    pub(crate) fn value<'a>(&'a self, scope: &'a dyn Scope) -> Result<Val<'a>, Box<EvalError>> {
        value(&self.root, scope)
    }

    /// The truth value of the expression, without building a value where it can.
    pub(crate) fn truth(&self, scope: &dyn Scope) -> Result<bool, Box<EvalError>> {
        truth(&self.root, scope)
    }
}

fn build(node: &Node) -> Op {
    match &node.kind {
        NodeKind::Number(x) => match Val::number(*x) {
            Val::Number(x) => Op::Number(x),
            _ => Op::Empty,
        },
        NodeKind::Text(s) if s.is_empty() => Op::Empty,
        NodeKind::Text(s) => Op::Text(s.clone()),
        NodeKind::Ref { var: Some(var), .. } => Op::Var(*var),
        NodeKind::Dot => Op::Dot,
        NodeKind::Binary { op, lhs, rhs } => build_binary(*op, lhs, rhs),
        NodeKind::Call { func, args, .. } => match (func, args.as_slice()) {
            (Func::Not, [arg]) => Op::Not(Box::new(build(arg))),
            (Func::If, [c, a, b]) => Op::If(Box::new([build(c), build(a), build(b)])),
            (Func::Coalesce, args) => Op::Coalesce(args.iter().map(build).collect()),
            _ => Op::Tree(Box::new(node.clone())),
        },
        NodeKind::Ref { var: None, .. } | NodeKind::Ident(_) | NodeKind::Neg(_) => {
            Op::Tree(Box::new(node.clone()))
        }
    }
}

fn build_binary(op: BinOp, lhs: &Node, rhs: &Node) -> Op {
    match op {
        BinOp::And | BinOp::Or => {
            // `a and b and c` parses as `(a and b) and c`; the flat list evaluates the same
            // operands in the same order and stops at the same one.
            let mut operands = Vec::new();
            flatten(op, lhs, &mut operands);
            flatten(op, rhs, &mut operands);
            if op == BinOp::And {
                Op::All(operands)
            } else {
                Op::Any(operands)
            }
        }
        BinOp::Eq | BinOp::Ne => {
            // `=` is symmetric and a literal cannot fail, so which side the literal is on
            // does not matter.
            let literal = match (&lhs.kind, &rhs.kind) {
                (_, NodeKind::Text(text)) if !text.is_empty() => Some((lhs, text)),
                (NodeKind::Text(text), _) if !text.is_empty() => Some((rhs, text)),
                _ => None,
            };
            match literal {
                Some((operand, text)) => Op::EqText {
                    operand: Box::new(build(operand)),
                    number: parse_number(text),
                    text: text.clone(),
                    negate: op == BinOp::Ne,
                },
                None => compare_number(op, lhs, rhs),
            }
        }
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => compare_number(op, lhs, rhs),
        BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod => Op::Binary {
            op,
            lhs: Box::new(build(lhs)),
            rhs: Box::new(build(rhs)),
        },
    }
}

/// A comparison with a number literal on one side becomes `CmpNumber`; any other
/// comparison a plain `Binary`.
fn compare_number(op: BinOp, lhs: &Node, rhs: &Node) -> Op {
    let number = |node: &Node| match node.kind {
        NodeKind::Number(x) => match Val::number(x) {
            Val::Number(x) => Some(x),
            _ => None,
        },
        _ => None,
    };
    match (number(lhs), number(rhs)) {
        (_, Some(x)) => Op::CmpNumber {
            operand: Box::new(build(lhs)),
            op,
            number: x,
            literal_left: false,
        },
        (Some(x), None) => Op::CmpNumber {
            operand: Box::new(build(rhs)),
            op,
            number: x,
            literal_left: true,
        },
        (None, None) => Op::Binary {
            op,
            lhs: Box::new(build(lhs)),
            rhs: Box::new(build(rhs)),
        },
    }
}

fn flatten(op: BinOp, node: &Node, out: &mut Vec<Op>) {
    match &node.kind {
        NodeKind::Binary {
            op: inner,
            lhs,
            rhs,
        } if *inner == op => {
            flatten(op, lhs, out);
            flatten(op, rhs, out);
        }
        _ => out.push(build(node)),
    }
}

fn value<'a>(op: &'a Op, scope: &'a dyn Scope) -> Result<Val<'a>, Box<EvalError>> {
    Ok(match op {
        Op::Empty => Val::Empty,
        Op::Number(x) => Val::Number(*x),
        Op::Text(s) => Val::Text(Cow::Borrowed(s)),
        Op::Var(var) => scope.value(*var).to_val(),
        Op::Dot => scope.dot().to_val(),
        Op::All(_) | Op::Any(_) | Op::EqText { .. } | Op::CmpNumber { .. } | Op::Not(_) => {
            Val::Bool(truth(op, scope)?)
        }
        Op::Binary { op, lhs, rhs } => combine(*op, value(lhs, scope)?, value(rhs, scope)?),
        Op::If(parts) => {
            let [condition, then, otherwise] = &**parts;
            if truth(condition, scope)? {
                value(then, scope)?
            } else {
                value(otherwise, scope)?
            }
        }
        Op::Coalesce(args) => {
            for arg in args {
                let value = value(arg, scope)?;
                if !value.is_empty() {
                    return Ok(value);
                }
            }
            Val::Empty
        }
        Op::Tree(node) => eval(node, scope)?,
    })
}

fn truth(op: &Op, scope: &dyn Scope) -> Result<bool, Box<EvalError>> {
    match op {
        Op::All(operands) => {
            for operand in operands {
                if !truth(operand, scope)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        Op::Any(operands) => {
            for operand in operands {
                if truth(operand, scope)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Op::EqText {
            operand,
            text,
            number,
            negate,
        } => {
            let left = value(operand, scope)?;
            // The same answers as `equals(left, text)`, with its two commonest branches
            // (a text answer, a number answer) taken directly.
            let equal = match &left {
                Val::Empty => false,
                Val::Text(s) => **s == **text,
                Val::Number(a) => number.is_some_and(|b| *a == b),
                other => equals(other, &Val::Text(Cow::Borrowed(text))),
            };
            Ok(equal != *negate)
        }
        Op::CmpNumber {
            operand,
            op,
            number,
            literal_left,
        } => {
            let other = value(operand, scope)?;
            let (left, right) = if *literal_left {
                (Val::Number(*number), other)
            } else {
                (other, Val::Number(*number))
            };
            // Two numbers: the same comparison `combine` makes, without building a value.
            if let (Val::Number(a), Val::Number(b)) = (&left, &right) {
                let (a, b) = (*a, *b);
                return Ok(match op {
                    BinOp::Eq => a == b,
                    BinOp::Ne => a != b,
                    BinOp::Lt => a < b,
                    BinOp::Le => a <= b,
                    BinOp::Gt => a > b,
                    _ => a >= b,
                });
            }
            Ok(combine(*op, left, right).to_bool())
        }
        Op::Not(inner) => Ok(!truth(inner, scope)?),
        _ => Ok(value(op, scope)?.to_bool()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::questionnaire::expr::date::Date;
    use crate::questionnaire::expr::value::ValueRef;
    use crate::questionnaire::expr::{parse, resolve_for_tests};

    /// One variable `${x}` (and `.`) holding `answer`.
    struct One<'a>(ValueRef<'a>);

    impl Scope for One<'_> {
        fn value(&self, _var: VarId) -> ValueRef<'_> {
            self.0
        }

        fn dot(&self) -> ValueRef<'_> {
            self.0
        }

        fn today(&self) -> Date {
            Date::EPOCH
        }
    }

    /// The compiled form gives the tree walker's value and truth for every fast path, with
    /// every kind of answer on the other side.
    #[test]
    fn compiled_form_agrees_with_the_tree_walker() {
        let multi = ["2".to_string(), "3".to_string()];
        let answers = [
            ValueRef::Empty,
            ValueRef::DontKnow,
            ValueRef::Bool(true),
            ValueRef::Bool(false),
            ValueRef::Number(2.0),
            ValueRef::Number(15.0),
            ValueRef::Number(0.0),
            ValueRef::Text("2"),
            ValueRef::Text("02"),
            ValueRef::Text(" 15 "),
            ValueRef::Text("abc"),
            ValueRef::Text(""),
            ValueRef::Text("1970-01-03"),
            ValueRef::Date(Date::from_days(2).expect("a date")),
            ValueRef::Multi(&multi),
            ValueRef::Multi(&[]),
        ];
        let sources = [
            "${x} = '2'",
            "'2' != ${x}",
            "${x} = ''",
            "${x} != 'true'",
            ". >= 15 and . <= 99 and ${x} = '2'",
            "15 <= . or ${x} < 2 or not(${x} = '02')",
            "${x} > -1",
            "if(${x} = '2', ${x} + 1, coalesce(${x}, 7))",
            "${x} = 2.0",
            "${x} * 2 > 3 and (${x} = 'abc' or . = '1970-01-03')",
            "coalesce(${x}, '') = ''",
            "count-selected(${x}) > 1 or selected(${x}, '3')",
        ];
        for source in sources {
            let mut expr = parse(source).expect(source);
            resolve_for_tests(&mut expr);
            let program = expr.program.as_deref().expect("resolved");
            for answer in answers {
                let scope = One(answer);
                let tree = eval(&expr.root, &scope).map_err(|e| e.to_string());
                let compiled = program.value(&scope).map_err(|e| e.to_string());
                assert_eq!(compiled, tree, "{source} with {answer:?}");
                let truth = program.truth(&scope).map_err(|e| e.to_string());
                assert_eq!(truth, tree.map(|v| v.to_bool()), "{source} with {answer:?}");
            }
        }
    }
}
