//! A small compiler for the indicator expressions of `questionnaires/indicators.json`.
//!
//! The expressions are written in the questionnaire expression language (the XLSForm/ODK
//! XPath subset of docs/questionnaire-format.md), so the catalog reads like the
//! questionnaires. Until the shared evaluator (`questionnaire::expr`) is available on this
//! branch, this module compiles the subset the catalog uses into a typed tree over resolved
//! column indices:
//!
//! - `${name}`, numbers, `'text'` / `"text"`, parentheses;
//! - `+ - * div mod`, unary `-`; `= != < <= > >=`; `and`, `or`;
//! - `not(x)`, `if(c, a, b)`, `coalesce(a, b, …)`, `selected(x, 'code')`, `number(x)`.
//!
//! Semantics (as in the questionnaire language): arithmetic with a missing operand, or a
//! division by zero, is missing; a comparison with a missing operand is false, except `=` and
//! `!=` against the empty string `''`, which test for missing; `"1" = 1` is true (both sides
//! are compared as numbers when both parse as numbers); a missing condition is false.
//!
//! Deliberately not here: dates, rosters, regex and the rest of the questionnaire
//! language, which indicators do not need.

use std::borrow::Cow;

use crate::estimate::indicators::error::Error;
use crate::estimate::indicators::record::{Schema, Value};

/// A compiled expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Column(usize),
    /// A survey-level parameter computed per weight set (e.g. the median for low pay).
    Parameter(usize),
    /// A number or text literal.
    Literal(Value),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    Negate(Box<Expr>),
    Not(Box<Expr>),
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    Coalesce(Vec<Expr>),
    Selected(Box<Expr>, Box<Expr>),
    ToNumber(Box<Expr>),
}

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Ref(String),
    Number(f64),
    Text(String),
    Ident(String),
    Op(&'static str),
    LParen,
    RParen,
    Comma,
}

struct Lexed {
    token: Token,
    column: usize,
}

fn lex(source: &str) -> Result<Vec<Lexed>, (usize, String)> {
    let chars: Vec<char> = source.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let token = if c == '$' {
            if chars.get(i + 1) != Some(&'{') {
                return Err((column, "expected `{` after `$`".to_string()));
            }
            let start = i + 2;
            let end = (start..chars.len())
                .find(|&j| chars[j] == '}')
                .ok_or((column, "unterminated `${`".to_string()))?;
            let name: String = chars[start..end].iter().collect();
            if name.is_empty() {
                return Err((column, "empty reference `${}`".to_string()));
            }
            i = end + 1;
            Token::Ref(name)
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let text: String = chars[start..i].iter().collect();
            let value = text
                .parse()
                .map_err(|_| (column, format!("bad number `{text}`")))?;
            Token::Number(value)
        } else if c == '\'' || c == '"' {
            let end = (i + 1..chars.len())
                .find(|&j| chars[j] == c)
                .ok_or((column, "unterminated string".to_string()))?;
            let text: String = chars[i + 1..end].iter().collect();
            i = end + 1;
            Token::Text(text)
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == '-')
            {
                i += 1;
            }
            Token::Ident(chars[start..i].iter().collect())
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            let op = match two.as_str() {
                "!=" => Some("!="),
                "<=" => Some("<="),
                ">=" => Some(">="),
                _ => None,
            };
            if let Some(op) = op {
                i += 2;
                Token::Op(op)
            } else {
                i += 1;
                match c {
                    '+' => Token::Op("+"),
                    '-' => Token::Op("-"),
                    '*' => Token::Op("*"),
                    '=' => Token::Op("="),
                    '<' => Token::Op("<"),
                    '>' => Token::Op(">"),
                    '(' => Token::LParen,
                    ')' => Token::RParen,
                    ',' => Token::Comma,
                    other => return Err((column, format!("unexpected character `{other}`"))),
                }
            }
        };
        out.push(Lexed { token, column });
    }
    Ok(out)
}

struct Parser<'a> {
    tokens: Vec<Lexed>,
    pos: usize,
    schema: &'a Schema,
    parameters: &'a [String],
    end_column: usize,
}

type ParseResult = Result<Expr, (usize, String)>;

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos).map(|l| &l.token)
    }

    fn column(&self) -> usize {
        self.tokens
            .get(self.pos)
            .map(|l| l.column)
            .unwrap_or(self.end_column)
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Ident(w)) if w == word)
    }

    fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Some(Token::Op(o)) if *o == op)
    }

    fn expect(&mut self, token: Token, what: &str) -> Result<(), (usize, String)> {
        if self.peek() == Some(&token) {
            self.pos += 1;
            Ok(())
        } else {
            Err((self.column(), format!("expected {what}")))
        }
    }

    fn or(&mut self) -> ParseResult {
        let mut left = self.and()?;
        while self.is_word("or") {
            self.pos += 1;
            let right = self.and()?;
            left = Expr::Binary(BinaryOp::Or, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> ParseResult {
        let mut left = self.comparison()?;
        while self.is_word("and") {
            self.pos += 1;
            let right = self.comparison()?;
            left = Expr::Binary(BinaryOp::And, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn comparison(&mut self) -> ParseResult {
        let left = self.additive()?;
        let op = match self.peek() {
            Some(Token::Op("=")) => BinaryOp::Eq,
            Some(Token::Op("!=")) => BinaryOp::Ne,
            Some(Token::Op("<")) => BinaryOp::Lt,
            Some(Token::Op("<=")) => BinaryOp::Le,
            Some(Token::Op(">")) => BinaryOp::Gt,
            Some(Token::Op(">=")) => BinaryOp::Ge,
            _ => return Ok(left),
        };
        self.pos += 1;
        let right = self.additive()?;
        Ok(Expr::Binary(op, Box::new(left), Box::new(right)))
    }

    fn additive(&mut self) -> ParseResult {
        let mut left = self.multiplicative()?;
        loop {
            let op = if self.is_op("+") {
                BinaryOp::Add
            } else if self.is_op("-") {
                BinaryOp::Sub
            } else {
                return Ok(left);
            };
            self.pos += 1;
            let right = self.multiplicative()?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
    }

    fn multiplicative(&mut self) -> ParseResult {
        let mut left = self.unary()?;
        loop {
            let op = if self.is_op("*") {
                BinaryOp::Mul
            } else if self.is_word("div") {
                BinaryOp::Div
            } else if self.is_word("mod") {
                BinaryOp::Mod
            } else {
                return Ok(left);
            };
            self.pos += 1;
            let right = self.unary()?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
    }

    fn unary(&mut self) -> ParseResult {
        if self.is_op("-") {
            self.pos += 1;
            return Ok(Expr::Negate(Box::new(self.unary()?)));
        }
        self.primary()
    }

    fn arguments(&mut self) -> Result<Vec<Expr>, (usize, String)> {
        self.expect(Token::LParen, "`(`")?;
        let mut args = Vec::new();
        if self.peek() == Some(&Token::RParen) {
            self.pos += 1;
            return Ok(args);
        }
        loop {
            args.push(self.or()?);
            match self.peek() {
                Some(Token::Comma) => self.pos += 1,
                Some(Token::RParen) => {
                    self.pos += 1;
                    return Ok(args);
                }
                _ => return Err((self.column(), "expected `,` or `)`".to_string())),
            }
        }
    }

    fn primary(&mut self) -> ParseResult {
        let column = self.column();
        let token = self.tokens.get(self.pos).map(|l| l.token.clone());
        match token {
            Some(Token::Number(n)) => {
                self.pos += 1;
                Ok(Expr::Literal(Value::Number(n)))
            }
            Some(Token::Text(t)) => {
                self.pos += 1;
                Ok(Expr::Literal(Value::Text(t)))
            }
            Some(Token::Ref(name)) => {
                self.pos += 1;
                if let Some(idx) = self.parameters.iter().position(|p| *p == name) {
                    return Ok(Expr::Parameter(idx));
                }
                match self.schema.get(&name) {
                    Some(idx) => Ok(Expr::Column(idx)),
                    None => Err((column, format!("unknown variable `${{{name}}}`"))),
                }
            }
            Some(Token::LParen) => {
                self.pos += 1;
                let inner = self.or()?;
                self.expect(Token::RParen, "`)`")?;
                Ok(inner)
            }
            Some(Token::Ident(name)) => {
                self.pos += 1;
                let args = self.arguments()?;
                let arity = |n: usize| -> Result<(), (usize, String)> {
                    if args.len() == n {
                        Ok(())
                    } else {
                        Err((
                            column,
                            format!("`{name}()` takes {n} argument(s), got {}", args.len()),
                        ))
                    }
                };
                let mut args_iter = args.clone().into_iter();
                let mut next =
                    || Box::new(args_iter.next().unwrap_or(Expr::Literal(Value::Missing)));
                match name.as_str() {
                    "not" => {
                        arity(1)?;
                        Ok(Expr::Not(next()))
                    }
                    "number" => {
                        arity(1)?;
                        Ok(Expr::ToNumber(next()))
                    }
                    "if" => {
                        arity(3)?;
                        Ok(Expr::If(next(), next(), next()))
                    }
                    "selected" => {
                        arity(2)?;
                        Ok(Expr::Selected(next(), next()))
                    }
                    "coalesce" => {
                        if args.is_empty() {
                            return Err((column, "`coalesce()` needs arguments".to_string()));
                        }
                        Ok(Expr::Coalesce(args))
                    }
                    other => Err((column, format!("unknown function `{other}()`"))),
                }
            }
            Some(Token::Op(op)) => Err((column, format!("unexpected `{op}`"))),
            Some(Token::RParen) => Err((column, "unexpected `)`".to_string())),
            Some(Token::Comma) => Err((column, "unexpected `,`".to_string())),
            None => Err((column, "unexpected end of expression".to_string())),
        }
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
    let fail = |(column, message): (usize, String)| Error::Expression {
        place: place.to_string(),
        expression: source.to_string(),
        column,
        message,
    };
    let tokens = lex(source).map_err(fail)?;
    let end_column = source.chars().count() + 1;
    let mut parser = Parser {
        tokens,
        pos: 0,
        schema,
        parameters,
        end_column,
    };
    let expr = parser.or().map_err(fail)?;
    if parser.pos < parser.tokens.len() {
        return Err(fail((
            parser.column(),
            "unexpected text after the expression".to_string(),
        )));
    }
    Ok(expr)
}

fn truthy(value: &Value) -> bool {
    match value {
        Value::Bool(b) => *b,
        Value::Number(n) => *n != 0.0,
        Value::Text(t) => !t.is_empty(),
        Value::Missing => false,
    }
}

fn compare(op: BinaryOp, left: &Value, right: &Value) -> bool {
    let empty_literal = |v: &Value| matches!(v, Value::Text(t) if t.is_empty());
    if matches!(left, Value::Missing) || matches!(right, Value::Missing) {
        let other = if matches!(left, Value::Missing) {
            right
        } else {
            left
        };
        let both_missing = matches!(left, Value::Missing) && matches!(right, Value::Missing);
        return match op {
            BinaryOp::Eq => both_missing || empty_literal(other),
            BinaryOp::Ne => !(both_missing || empty_literal(other)),
            _ => false,
        };
    }
    let ordering = match (left, right) {
        // Two numbers, or a number and a text, compare as numbers when both are numeric.
        (Value::Number(a), Value::Number(b)) => a.partial_cmp(b),
        (Value::Text(a), Value::Text(b)) => {
            match (a.trim().parse::<f64>(), b.trim().parse::<f64>()) {
                (Ok(x), Ok(y)) => x.partial_cmp(&y),
                _ => Some(a.as_str().cmp(b.as_str())),
            }
        }
        _ => match (left.as_number(), right.as_number()) {
            (Some(a), Some(b)) => a.partial_cmp(&b),
            _ => Some(left.as_text().cmp(&right.as_text())),
        },
    };
    let Some(ordering) = ordering else {
        return false;
    };
    match op {
        BinaryOp::Eq => ordering.is_eq(),
        BinaryOp::Ne => ordering.is_ne(),
        BinaryOp::Lt => ordering.is_lt(),
        BinaryOp::Le => ordering.is_le(),
        BinaryOp::Gt => ordering.is_gt(),
        BinaryOp::Ge => ordering.is_ge(),
        _ => false,
    }
}

fn arithmetic(op: BinaryOp, left: &Value, right: &Value) -> Value {
    let (Some(a), Some(b)) = (left.as_number(), right.as_number()) else {
        return Value::Missing;
    };
    let result = match op {
        BinaryOp::Add => a + b,
        BinaryOp::Sub => a - b,
        BinaryOp::Mul => a * b,
        BinaryOp::Div => a / b,
        BinaryOp::Mod => a % b,
        _ => f64::NAN,
    };
    if result.is_finite() {
        Value::Number(result)
    } else {
        Value::Missing
    }
}

/// Evaluates a compiled expression on one row. Column values and literals are borrowed,
/// so reading an answer never copies it.
pub fn evaluate<'a>(expr: &'a Expr, row: &'a [Value], params: &[f64]) -> Cow<'a, Value> {
    const MISSING: Value = Value::Missing;
    let owned = Cow::Owned;
    match expr {
        Expr::Column(idx) => row.get(*idx).map_or(Cow::Borrowed(&MISSING), Cow::Borrowed),
        Expr::Parameter(idx) => owned(match params.get(*idx) {
            Some(v) if v.is_finite() => Value::Number(*v),
            _ => Value::Missing,
        }),
        Expr::Literal(value) => Cow::Borrowed(value),
        Expr::Negate(inner) => owned(match evaluate(inner, row, params).as_number() {
            Some(n) => Value::Number(-n),
            None => Value::Missing,
        }),
        Expr::Not(inner) => owned(Value::Bool(!truthy(&evaluate(inner, row, params)))),
        Expr::If(cond, then, otherwise) => {
            if truthy(&evaluate(cond, row, params)) {
                evaluate(then, row, params)
            } else {
                evaluate(otherwise, row, params)
            }
        }
        Expr::Coalesce(args) => args
            .iter()
            .map(|a| evaluate(a, row, params))
            .find(|v| {
                !matches!(**v, Value::Missing) && !matches!(&**v, Value::Text(t) if t.is_empty())
            })
            .unwrap_or(Cow::Borrowed(&MISSING)),
        Expr::Selected(value, code) => {
            let code = evaluate(code, row, params).as_text();
            let value = evaluate(value, row, params);
            owned(Value::Bool(
                !matches!(*value, Value::Missing)
                    && value.as_text().split_whitespace().any(|c| c == code),
            ))
        }
        Expr::ToNumber(inner) => owned(match evaluate(inner, row, params).as_number() {
            Some(n) => Value::Number(n),
            None => Value::Missing,
        }),
        Expr::Binary(op, left, right) => owned(match op {
            BinaryOp::And => Value::Bool(
                truthy(&evaluate(left, row, params)) && truthy(&evaluate(right, row, params)),
            ),
            BinaryOp::Or => Value::Bool(
                truthy(&evaluate(left, row, params)) || truthy(&evaluate(right, row, params)),
            ),
            BinaryOp::Eq
            | BinaryOp::Ne
            | BinaryOp::Lt
            | BinaryOp::Le
            | BinaryOp::Gt
            | BinaryOp::Ge => Value::Bool(compare(
                *op,
                &evaluate(left, row, params),
                &evaluate(right, row, params),
            )),
            _ => arithmetic(
                *op,
                &evaluate(left, row, params),
                &evaluate(right, row, params),
            ),
        }),
    }
}

/// Evaluates a condition: missing is false.
pub fn holds(expr: &Expr, row: &[Value], params: &[f64]) -> bool {
    truthy(&evaluate(expr, row, params))
}

/// Whether the expression reads a survey-level parameter (so it must be re-evaluated for
/// every weight set, e.g. inside each replicate).
pub fn uses_parameters(expr: &Expr) -> bool {
    match expr {
        Expr::Parameter(_) => true,
        Expr::Column(_) | Expr::Literal(_) => false,
        Expr::Negate(e) | Expr::Not(e) | Expr::ToNumber(e) => uses_parameters(e),
        Expr::Binary(_, a, b) | Expr::Selected(a, b) => uses_parameters(a) || uses_parameters(b),
        Expr::If(a, b, c) => uses_parameters(a) || uses_parameters(b) || uses_parameters(c),
        Expr::Coalesce(args) => args.iter().any(uses_parameters),
    }
}
