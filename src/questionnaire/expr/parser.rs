//! The parser: a precedence-climbing (Pratt) parser over the pull lexer.
//!
//! Recursion happens only for parentheses, function arguments, unary minus and right-hand
//! operands, and every level is counted: past [`MAX_DEPTH`] levels of nesting, or a tree
//! deeper than that, parsing stops with a `depth` error instead of exhausting the stack.

use crate::questionnaire::expr::MAX_DEPTH;
use crate::questionnaire::expr::ast::{BinOp, Func, Node, NodeKind};
use crate::questionnaire::expr::error::{ErrorCode, ExprError};
use crate::questionnaire::expr::lexer::{Lexer, Token, TokenKind};
use crate::questionnaire::expr::regex::Regex;
use crate::questionnaire::expr::span::{Span, column_of};

/// Parses a whole expression into a tree.
pub(crate) fn parse_tree(src: &str) -> Result<Node, ExprError> {
    let mut lexer = Lexer::new(src);
    let first = lexer.next_token()?;
    if first.kind == TokenKind::Eof {
        return Err(ExprError::new(
            ErrorCode::Parse,
            "empty expression",
            first.span,
            src,
        ));
    }
    let mut parser = Parser {
        src,
        lexer,
        current: first,
        nesting: 0,
    };
    let (node, _) = parser.expression(0)?;
    match parser.current.kind {
        TokenKind::Eof => Ok(node),
        TokenKind::RParen => {
            Err(parser.error("unbalanced ')': no matching '('", parser.current.span))
        }
        _ => Err(parser.error(
            format!(
                "unexpected {} after a complete expression",
                parser.describe_current()
            ),
            parser.current.span,
        )),
    }
}

struct Parser<'s> {
    src: &'s str,
    lexer: Lexer<'s>,
    current: Token,
    nesting: usize,
}

impl<'s> Parser<'s> {
    fn error(&self, message: impl Into<String>, span: Span) -> ExprError {
        ExprError::new(ErrorCode::Parse, message, span, self.src)
    }

    fn depth_error(&self, span: Span) -> ExprError {
        ExprError::new(
            ErrorCode::Depth,
            format!("expression is nested more than {MAX_DEPTH} levels deep"),
            span,
            self.src,
        )
    }

    fn advance(&mut self) -> Result<Token, ExprError> {
        let previous = self.current;
        self.current = self.lexer.next_token()?;
        Ok(previous)
    }

    fn text(&self, span: Span) -> &'s str {
        &self.src[span.start..span.end]
    }

    fn describe_current(&self) -> String {
        match self.current.kind {
            TokenKind::Eof => "end of expression".to_string(),
            _ => format!("'{}'", self.text(self.current.span)),
        }
    }

    /// Counts one level of recursion; fails past [`MAX_DEPTH`].
    fn enter(&mut self) -> Result<(), ExprError> {
        self.nesting += 1;
        if self.nesting > MAX_DEPTH {
            return Err(self.depth_error(self.current.span));
        }
        Ok(())
    }

    fn infix_operator(&self) -> Option<BinOp> {
        Some(match self.current.kind {
            TokenKind::Plus => BinOp::Add,
            TokenKind::Minus => BinOp::Sub,
            TokenKind::Star => BinOp::Mul,
            TokenKind::Eq => BinOp::Eq,
            TokenKind::Ne => BinOp::Ne,
            TokenKind::Lt => BinOp::Lt,
            TokenKind::Le => BinOp::Le,
            TokenKind::Gt => BinOp::Gt,
            TokenKind::Ge => BinOp::Ge,
            TokenKind::Name => match self.text(self.current.span) {
                "and" => BinOp::And,
                "or" => BinOp::Or,
                "div" => BinOp::Div,
                "mod" => BinOp::Mod,
                _ => return None,
            },
            _ => return None,
        })
    }

    /// Parses operators binding at least as tightly as `min_precedence`; returns the node
    /// and the depth of its tree.
    fn expression(&mut self, min_precedence: u8) -> Result<(Node, usize), ExprError> {
        self.enter()?;
        let (mut lhs, mut depth) = self.unary()?;
        while let Some(op) = self.infix_operator() {
            if op.precedence() < min_precedence {
                break;
            }
            let op_span = self.advance()?.span;
            let (rhs, rhs_depth) = self.expression(op.precedence() + 1)?;
            depth = depth.max(rhs_depth) + 1;
            if depth > MAX_DEPTH {
                return Err(self.depth_error(op_span));
            }
            let span = lhs.span.to(rhs.span);
            lhs = Node {
                kind: NodeKind::Binary {
                    op,
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                },
                span,
            };
        }
        self.nesting -= 1;
        Ok((lhs, depth))
    }

    fn unary(&mut self) -> Result<(Node, usize), ExprError> {
        if self.current.kind != TokenKind::Minus {
            return self.primary();
        }
        let minus = self.advance()?.span;
        self.enter()?;
        let (inner, depth) = self.unary()?;
        self.nesting -= 1;
        if depth + 1 > MAX_DEPTH {
            return Err(self.depth_error(minus));
        }
        let span = minus.to(inner.span);
        Ok((
            Node {
                kind: NodeKind::Neg(Box::new(inner)),
                span,
            },
            depth + 1,
        ))
    }

    fn primary(&mut self) -> Result<(Node, usize), ExprError> {
        let token = self.current;
        let span = token.span;
        let kind = match token.kind {
            TokenKind::Number(x) => NodeKind::Number(x),
            TokenKind::Str => {
                NodeKind::Text(self.text(Span::new(span.start + 1, span.end - 1)).into())
            }
            TokenKind::Ref => NodeKind::Ref {
                name: self.text(Span::new(span.start + 2, span.end - 1)).into(),
                var: None,
            },
            TokenKind::Dot => NodeKind::Dot,
            TokenKind::LParen => return self.parenthesised(),
            TokenKind::Name if self.lexer.next_is_lparen() => return self.call(),
            TokenKind::Name => NodeKind::Ident(self.text(span).into()),
            TokenKind::Eof => {
                return Err(self.error("expression ends where a value was expected", span));
            }
            TokenKind::RParen => {
                return Err(self.error("unexpected ')' where a value was expected", span));
            }
            _ => {
                let message = format!(
                    "unexpected {} where a value was expected",
                    self.describe_current()
                );
                return Err(self.error(message, span));
            }
        };
        self.advance()?;
        Ok((Node { kind, span }, 1))
    }

    fn expect_close(&mut self, open: Span) -> Result<Span, ExprError> {
        if self.current.kind == TokenKind::RParen {
            return Ok(self.advance()?.span);
        }
        let message = format!(
            "expected ')' to close the '(' at column {}, found {}",
            column_of(self.src, open.start),
            self.describe_current()
        );
        Err(self.error(message, self.current.span))
    }

    fn parenthesised(&mut self) -> Result<(Node, usize), ExprError> {
        let open = self.advance()?.span;
        let (inner, depth) = self.expression(0)?;
        self.expect_close(open)?;
        Ok((inner, depth))
    }

    fn call(&mut self) -> Result<(Node, usize), ExprError> {
        let name_span = self.advance()?.span;
        let name = self.text(name_span);
        let open = self.advance()?.span; // The lexer promised a '('.
        let Some(func) = Func::from_name(name) else {
            let message = match suggest(name) {
                Some(close) => format!("unknown function '{name}()'; did you mean '{close}()'?"),
                None => format!("unknown function '{name}()'"),
            };
            return Err(ExprError::new(
                ErrorCode::UnknownFunction,
                message,
                name_span,
                self.src,
            ));
        };
        let mut args = Vec::new();
        let mut depth = 0;
        if self.current.kind != TokenKind::RParen {
            loop {
                let (arg, arg_depth) = self.expression(0)?;
                depth = depth.max(arg_depth);
                args.push(arg);
                if self.current.kind != TokenKind::Comma {
                    break;
                }
                self.advance()?;
            }
        }
        let close = self.expect_close(open)?;
        let span = name_span.to(close);
        if depth + 1 > MAX_DEPTH {
            return Err(self.depth_error(name_span));
        }
        let (min, max) = func.arity();
        if args.len() < min || max.is_some_and(|max| args.len() > max) {
            let expected = match max {
                Some(max) if max == min => format!("{min}"),
                Some(max) => format!("{min} to {max}"),
                None => format!("at least {min}"),
            };
            let message = format!(
                "{}() takes {expected} argument{}, found {}",
                func.name(),
                if expected == "1" { "" } else { "s" },
                args.len()
            );
            return Err(ExprError::new(ErrorCode::Arity, message, span, self.src));
        }
        let compiled = match (func, args.get(1).map(|a| &a.kind)) {
            (Func::Regex, Some(NodeKind::Text(pattern))) => match Regex::new(pattern) {
                Ok(regex) => Some(Box::new(regex)),
                Err(message) => {
                    let message = format!("invalid regular expression: {message}");
                    return Err(ExprError::new(
                        ErrorCode::Regex,
                        message,
                        args[1].span,
                        self.src,
                    ));
                }
            },
            (Func::FormatDate, Some(NodeKind::Text(pattern))) => {
                if let Err(message) =
                    crate::questionnaire::expr::date_format::check_pattern(pattern)
                {
                    let message = format!("invalid format-date() pattern: {message}");
                    return Err(ExprError::new(
                        ErrorCode::Format,
                        message,
                        args[1].span,
                        self.src,
                    ));
                }
                None
            }
            _ => None,
        };
        Ok((
            Node {
                kind: NodeKind::Call {
                    func,
                    args,
                    compiled,
                },
                span,
            },
            depth + 1,
        ))
    }
}

/// The known function closest to `name` by edit distance, if it is close enough to be a
/// plausible typo.
fn suggest(name: &str) -> Option<&'static str> {
    Func::ALL
        .iter()
        .map(|f| (edit_distance(name, f.name()), f.name()))
        .filter(|(distance, candidate)| *distance <= 2.max(candidate.len() / 4))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}
