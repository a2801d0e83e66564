//! A small regular-expression matcher for selecting replicate-weight columns by name, as R
//! `svrepdesign(repweights = "pattern")` does with `grep`.
//!
//! Supported: literals, `.`, classes `[a-z0-9_]` and `[^…]`, escapes `\d`, `\w`, `\.` (any
//! escaped character is literal), quantifiers `*`, `+`, `?` after an atom, and the anchors `^`
//! and `$`. Unanchored patterns match anywhere in the name. Alternation and groups are
//! deliberately absent: column patterns such as `^repw[0-9]+$` do not need them, and a full
//! regex engine is a dependency we do not otherwise need.

/// A compiled pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    items: Vec<(Atom, Repeat)>,
    anchored_start: bool,
    anchored_end: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum Atom {
    Any,
    Char(char),
    Class {
        ranges: Vec<(char, char)>,
        negated: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Repeat {
    One,
    ZeroOrMore,
    OneOrMore,
    ZeroOrOne,
}

impl Pattern {
    /// Compiles `text`, or explains what is not supported.
    pub fn parse(text: &str) -> Result<Pattern, String> {
        let chars: Vec<char> = text.chars().collect();
        let mut i = 0;
        let anchored_start = chars.first() == Some(&'^');
        if anchored_start {
            i = 1;
        }
        let mut end = chars.len();
        let anchored_end = end > i && chars[end - 1] == '$' && (end < 2 || chars[end - 2] != '\\');
        if anchored_end {
            end -= 1;
        }
        let mut items = Vec::new();
        while i < end {
            let atom = match chars[i] {
                '.' => {
                    i += 1;
                    Atom::Any
                }
                '\\' => {
                    let c = *chars.get(i + 1).ok_or("pattern ends with a backslash")?;
                    i += 2;
                    match c {
                        'd' => Atom::Class {
                            ranges: vec![('0', '9')],
                            negated: false,
                        },
                        'w' => Atom::Class {
                            ranges: vec![('a', 'z'), ('A', 'Z'), ('0', '9'), ('_', '_')],
                            negated: false,
                        },
                        other => Atom::Char(other),
                    }
                }
                '[' => {
                    let mut j = i + 1;
                    let negated = chars.get(j) == Some(&'^');
                    if negated {
                        j += 1;
                    }
                    let mut ranges = Vec::new();
                    while j < end && chars[j] != ']' {
                        let lo = chars[j];
                        if j + 2 < end && chars[j + 1] == '-' && chars[j + 2] != ']' {
                            ranges.push((lo, chars[j + 2]));
                            j += 3;
                        } else {
                            ranges.push((lo, lo));
                            j += 1;
                        }
                    }
                    if j >= end {
                        return Err(format!("unclosed `[` in pattern `{text}`"));
                    }
                    i = j + 1;
                    Atom::Class { ranges, negated }
                }
                c @ ('(' | ')' | '|' | '{' | '}') => {
                    return Err(format!(
                        "`{c}` is not supported in replicate column patterns (`{text}`)"
                    ));
                }
                c @ ('*' | '+' | '?') => {
                    return Err(format!("`{c}` has nothing to repeat in `{text}`"));
                }
                c => {
                    i += 1;
                    Atom::Char(c)
                }
            };
            let repeat = match chars.get(i).filter(|_| i < end) {
                Some('*') => Repeat::ZeroOrMore,
                Some('+') => Repeat::OneOrMore,
                Some('?') => Repeat::ZeroOrOne,
                _ => Repeat::One,
            };
            if repeat != Repeat::One {
                i += 1;
            }
            items.push((atom, repeat));
        }
        Ok(Pattern {
            items,
            anchored_start,
            anchored_end,
        })
    }

    /// Does the pattern match somewhere in `name` (or at its start/end when anchored)?
    pub fn is_match(&self, name: &str) -> bool {
        let chars: Vec<char> = name.chars().collect();
        let starts = if self.anchored_start {
            0..=0
        } else {
            0..=chars.len()
        };
        starts.into_iter().any(|s| self.match_here(0, &chars, s))
    }

    fn match_here(&self, item: usize, chars: &[char], pos: usize) -> bool {
        if item == self.items.len() {
            return !self.anchored_end || pos == chars.len();
        }
        let (atom, repeat) = &self.items[item];
        let (min, max) = match repeat {
            Repeat::One => (1, 1),
            Repeat::ZeroOrMore => (0, usize::MAX),
            Repeat::OneOrMore => (1, usize::MAX),
            Repeat::ZeroOrOne => (0, 1),
        };
        let mut count = 0;
        while count < max && pos + count < chars.len() && atom.matches(chars[pos + count]) {
            count += 1;
        }
        // Greedy, then back off.
        (min..=count)
            .rev()
            .any(|c| self.match_here(item + 1, chars, pos + c))
    }
}

impl Atom {
    fn matches(&self, c: char) -> bool {
        match self {
            Atom::Any => true,
            Atom::Char(x) => *x == c,
            Atom::Class { ranges, negated } => {
                ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c)) != *negated
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_like_grep() {
        let p = Pattern::parse("^repw[0-9]+$").unwrap();
        assert!(p.is_match("repw1") && p.is_match("repw200"));
        assert!(!p.is_match("repw") && !p.is_match("xrepw1") && !p.is_match("repw1a"));
        let q = Pattern::parse("rep\\.").unwrap();
        assert!(q.is_match("w.rep.1") && !q.is_match("wrepx1"));
        assert!(Pattern::parse("a(b|c)").is_err());
        assert!(Pattern::parse("[abc").is_err());
    }
}
