//! The lexer: turns source text into tokens, one at a time.
//!
//! It is a pull lexer (no token vector), so a 10 MB expression costs no memory beyond the
//! source: the parser stops at the first error, for example when nesting gets too deep.

use crate::questionnaire::expr::error::{ErrorCode, ExprError};
use crate::questionnaire::expr::span::Span;

/// One token.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

/// Token kinds. Names and literals carry no text: the parser slices it from the source
/// with the span (string literals: without the quotes; references: without `${` and `}`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum TokenKind {
    Number(f64),
    /// A quoted string; the span covers the quotes.
    Str,
    /// `${name}`; the span covers `${` … `}`.
    Ref,
    /// An XPath name: a function name, an operator word (`and or div mod`) or a bare
    /// identifier, told apart by the parser from position.
    Name,
    Dot,
    LParen,
    RParen,
    Comma,
    Plus,
    Minus,
    Star,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Eof,
}

pub(crate) struct Lexer<'s> {
    src: &'s str,
    pos: usize,
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

impl<'s> Lexer<'s> {
    pub(crate) fn new(src: &'s str) -> Lexer<'s> {
        Lexer { src, pos: 0 }
    }

    fn rest(&self) -> &'s str {
        &self.src[self.pos..]
    }

    fn error(&self, message: impl Into<String>, span: Span) -> ExprError {
        ExprError::new(ErrorCode::Parse, message, span, self.src)
    }

    /// Whether the next non-blank character is `(` (a name before it is a function call).
    pub(crate) fn next_is_lparen(&self) -> bool {
        self.rest()
            .trim_start_matches([' ', '\t', '\n', '\r'])
            .starts_with('(')
    }

    pub(crate) fn next_token(&mut self) -> Result<Token, ExprError> {
        let trimmed = self.rest().trim_start_matches([' ', '\t', '\n', '\r']);
        self.pos = self.src.len() - trimmed.len();
        let start = self.pos;
        let Some(c) = trimmed.chars().next() else {
            return Ok(Token {
                kind: TokenKind::Eof,
                span: Span::new(start, start),
            });
        };
        let single = |kind| (kind, c.len_utf8());
        let (kind, len) = match c {
            '(' => single(TokenKind::LParen),
            ')' => single(TokenKind::RParen),
            ',' => single(TokenKind::Comma),
            '+' => single(TokenKind::Plus),
            '-' => single(TokenKind::Minus),
            '*' => single(TokenKind::Star),
            '=' => single(TokenKind::Eq),
            '!' if trimmed.starts_with("!=") => (TokenKind::Ne, 2),
            '<' if trimmed.starts_with("<=") => (TokenKind::Le, 2),
            '<' => single(TokenKind::Lt),
            '>' if trimmed.starts_with(">=") => (TokenKind::Ge, 2),
            '>' => single(TokenKind::Gt),
            '\'' | '"' => match trimmed[1..].find(c) {
                Some(close) => (TokenKind::Str, close + 2),
                None => {
                    let span = Span::new(start, self.src.len());
                    return Err(
                        self.error(format!("unterminated string: missing closing {c}"), span)
                    );
                }
            },
            '$' => return self.reference(start),
            '.' if trimmed[1..].starts_with(|d: char| d.is_ascii_digit()) => {
                return self.number(start);
            }
            '.' if trimmed.starts_with("..") => {
                let span = Span::new(start, start + 2);
                return Err(self.error("'..' (parent step) is not supported; use ${name} (and position() for the number \
                     of the current roster row)", span));
            }
            '.' => single(TokenKind::Dot),
            d if d.is_ascii_digit() => return self.number(start),
            n if is_name_start(n) => (TokenKind::Name, self.name_len(trimmed)),
            other => {
                let span = Span::new(start, start + other.len_utf8());
                let hint = match other {
                    '/' => "; use div for division",
                    '%' => "; use mod for the remainder",
                    '&' | '|' => "; use and / or",
                    '[' | ']' | '@' => "; paths and predicates are not supported, use ${name}",
                    ':' => {
                        "; namespaced functions are not supported (for jr:choice-name() use \
                         choice-label(value, ${question}))"
                    }
                    _ => "",
                };
                return Err(self.error(format!("unexpected character {other:?}{hint}"), span));
            }
        };
        self.pos = start + len;
        Ok(Token {
            kind,
            span: Span::new(start, start + len),
        })
    }

    /// Length of the name at the start of `text`. A `-` belongs to the name only when a
    /// letter follows it, so `count-selected` is one name while `x-1` is `x`, `-`, `1`.
    fn name_len(&self, text: &str) -> usize {
        let bytes = text.as_bytes();
        let mut len = 0;
        while len < bytes.len() {
            let c = bytes[len] as char;
            let hyphen_in_name =
                c == '-' && bytes.get(len + 1).is_some_and(|b| b.is_ascii_alphabetic());
            if !(is_name_char(c) || hyphen_in_name) {
                break;
            }
            len += 1;
        }
        len
    }

    fn number(&mut self, start: usize) -> Result<Token, ExprError> {
        let bytes = self.src.as_bytes();
        let mut end = start;
        while end < bytes.len() && bytes[end].is_ascii_digit() {
            end += 1;
        }
        if end < bytes.len() && bytes[end] == b'.' {
            end += 1;
            while end < bytes.len() && bytes[end].is_ascii_digit() {
                end += 1;
            }
        }
        let span = Span::new(start, end);
        if end < bytes.len() && (bytes[end].is_ascii_alphabetic() || bytes[end] == b'_') {
            let bad = Span::new(start, end + 1);
            return Err(self.error("a number must not be followed by a letter", bad));
        }
        let value: f64 = self.src[start..end].parse().unwrap_or(f64::INFINITY);
        if !value.is_finite() {
            return Err(self.error("number literal is too large", span));
        }
        self.pos = end;
        Ok(Token {
            kind: TokenKind::Number(value),
            span,
        })
    }

    fn reference(&mut self, start: usize) -> Result<Token, ExprError> {
        let rest = &self.src[start..];
        if !rest.starts_with("${") {
            return Err(self.error(
                "'$' must start a reference ${name}",
                Span::new(start, start + 1),
            ));
        }
        let body = &rest[2..];
        let name_len = body.find(|c: char| !is_name_char(c)).unwrap_or(body.len());
        let valid_start = body.starts_with(is_name_start);
        if !valid_start || !body[name_len..].starts_with('}') {
            let end = body.find('}').map_or(self.src.len(), |i| start + 2 + i + 1);
            let message = if body.find('}').is_none() {
                "unterminated reference: missing '}'"
            } else {
                "a reference is ${name} where name is letters, digits and '_', starting with a letter"
            };
            return Err(self.error(message, Span::new(start, end)));
        }
        let end = start + 2 + name_len + 1;
        self.pos = end;
        Ok(Token {
            kind: TokenKind::Ref,
            span: Span::new(start, end),
        })
    }
}
