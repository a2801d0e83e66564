//! Source positions inside one expression.

/// A half-open range of byte offsets `start..end` into an expression's source text.
///
/// Byte offsets are what slicing needs; people read columns, so every error also offers a
/// 1-based column counted in characters (see [`column_of`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// Offset of the first byte.
    pub start: usize,
    /// Offset one past the last byte.
    pub end: usize,
}

impl Span {
    /// The span `start..end`.
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// The smallest span covering both `self` and `other`.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// The 1-based column, counted in Unicode scalar values, of byte offset `offset` in `src`.
///
/// An offset that is past the end or inside a multi-byte character is clamped to the
/// character boundary before it, so this never panics.
pub fn column_of(src: &str, offset: usize) -> usize {
    let mut offset = offset.min(src.len());
    while !src.is_char_boundary(offset) {
        offset -= 1;
    }
    src[..offset].chars().count() + 1
}
