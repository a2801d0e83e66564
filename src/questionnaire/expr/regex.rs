//! A small regular-expression engine for `regex()`.
//!
//! Why our own: the crate has no regex dependency, and `regex()` in questionnaires is used
//! for short format checks (tax codes, phone numbers). This engine compiles the pattern to a
//! program for a Pike virtual machine, which runs in time linear in the text for a fixed
//! pattern (no catastrophic backtracking), so a hostile pattern or answer cannot stall the
//! validator.
//!
//! Supported syntax (a common subset of JavaScript and Java regular expressions, so the
//! browser evaluator can hand the same pattern to `RegExp`): literal characters; `.` (any
//! character except line breaks); classes `[abc]`, `[a-z]`, `[^…]`; escapes `\d \D \w \W \s
//! \S` (ASCII digits and word characters; whitespace as in Unicode), `\t \n \r` and `\`
//! before any punctuation; anchors `^` and `$` (start and end of the whole text); groups
//! `( )` and `(?: )`; alternation `|`; quantifiers `* + ? {n} {n,} {n,m}` (a trailing `?`
//! for laziness is accepted and makes no difference to whether there is a match).
//! Matching is a search: the pattern may match anywhere unless anchored.
//!
//! Not supported (rejected with an error): backreferences, lookaround, named groups, flags,
//! Unicode property classes.

/// A compiled pattern.
#[derive(Debug, Clone)]
pub struct Regex {
    program: Vec<Inst>,
    /// The pattern starts with `^` (outside any alternation): a match can only start at
    /// the beginning of the text, so the search stops as soon as no thread is alive.
    anchored: bool,
}

#[derive(Debug, Clone)]
enum Inst {
    Char(char),
    AnyButNewline,
    Class(Class),
    Split(usize, usize),
    Jump(usize),
    AssertStart,
    AssertEnd,
    Match,
}

#[derive(Debug, Clone, PartialEq)]
struct Class {
    negated: bool,
    ranges: Vec<(char, char)>,
    /// Named classes inside the brackets (`\d`, `\w`, `\s` and their negations).
    named: Vec<Named>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Named {
    Digit(bool),
    Word(bool),
    Space(bool),
}

impl Named {
    fn matches(self, c: char) -> bool {
        match self {
            Named::Digit(positive) => c.is_ascii_digit() == positive,
            Named::Word(positive) => (c.is_ascii_alphanumeric() || c == '_') == positive,
            Named::Space(positive) => c.is_whitespace() == positive,
        }
    }
}

impl Class {
    fn matches(&self, c: char) -> bool {
        let inside = self.ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi)
            || self.named.iter().any(|n| n.matches(c));
        inside != self.negated
    }
}

#[derive(Debug, Clone)]
enum Ast {
    Empty,
    Char(char),
    Any,
    Class(Class),
    Start,
    End,
    Concat(Vec<Ast>),
    Alternate(Vec<Ast>),
    Repeat {
        inner: Box<Ast>,
        min: u32,
        max: Option<u32>,
    },
}

/// Limits that keep compilation small: nesting of groups, counted repetition, and the
/// size of the compiled program.
const MAX_GROUP_DEPTH: usize = 32;
const MAX_REPEAT: u32 = 1000;
const MAX_PROGRAM: usize = 20_000;
const MAX_COMPILE_STEPS: usize = 100_000;

impl Regex {
    /// Compiles `pattern`, or says what is wrong with it.
    pub fn new(pattern: &str) -> Result<Regex, String> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut parser = PatternParser {
            chars: &chars,
            pos: 0,
            depth: 0,
        };
        let ast = parser.alternation()?;
        if parser.pos < chars.len() {
            return Err(format!("unmatched ')' at character {}", parser.pos + 1));
        }
        let mut program = Vec::new();
        let mut budget = MAX_COMPILE_STEPS;
        compile(&ast, &mut program, &mut budget)?;
        program.push(Inst::Match);
        let anchored = matches!(program.first(), Some(Inst::AssertStart));
        Ok(Regex { program, anchored })
    }

    /// Whether the pattern matches anywhere in `text`.
    pub fn is_match(&self, text: &str) -> bool {
        // The thread lists are reused from one match to the next on the same thread, so a
        // rule like `regex(${tax_code}, …)` checked for every submission allocates nothing.
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => self.run(&mut scratch, text),
            Err(_) => self.run(&mut Scratch::default(), text),
        })
    }

    fn run(&self, scratch: &mut Scratch, text: &str) -> bool {
        let n = self.program.len();
        let Scratch {
            current,
            next,
            stack,
        } = scratch;
        current.reset(n);
        next.reset(n);
        stack.clear();
        let mut chars = text.chars().peekable();
        let mut at_start = true;
        loop {
            let at_end = chars.peek().is_none();
            // Unanchored search: a new thread starts at every position.
            if at_start || !self.anchored {
                self.add_thread(current, stack, 0, at_start, at_end);
            } else if current.dense.is_empty() {
                return false;
            }
            let c = chars.next();
            for i in 0..current.dense.len() {
                let pc = current.dense[i];
                let advance = match (&self.program[pc], c) {
                    (Inst::Match, _) => return true,
                    (Inst::Char(expected), Some(c)) => *expected == c,
                    (Inst::AnyButNewline, Some(c)) => c != '\n' && c != '\r',
                    (Inst::Class(class), Some(c)) => class.matches(c),
                    _ => false,
                };
                if advance {
                    let next_at_end = chars.peek().is_none();
                    self.add_thread(next, stack, pc + 1, false, next_at_end);
                }
            }
            if c.is_none() {
                return false;
            }
            std::mem::swap(current, next);
            next.clear();
            at_start = false;
        }
    }

    /// Adds the thread at `pc` and everything reachable from it without consuming input.
    /// Uses an explicit stack: patterns like `(a*)*` would otherwise recurse deeply.
    fn add_thread(
        &self,
        list: &mut ThreadList,
        stack: &mut Vec<usize>,
        pc: usize,
        at_start: bool,
        at_end: bool,
    ) {
        stack.clear();
        stack.push(pc);
        while let Some(pc) = stack.pop() {
            if !list.insert(pc) {
                continue;
            }
            match self.program[pc] {
                Inst::Jump(target) => stack.push(target),
                Inst::Split(first, second) => {
                    stack.push(second);
                    stack.push(first);
                }
                Inst::AssertStart if at_start => stack.push(pc + 1),
                Inst::AssertEnd if at_end => stack.push(pc + 1),
                _ => {}
            }
        }
    }
}

/// A sparse set of program counters (threads), in insertion order.
#[derive(Default)]
struct ThreadList {
    dense: Vec<usize>,
    seen: Vec<bool>,
}

/// Per-thread working memory of [`Regex::is_match`].
#[derive(Default)]
struct Scratch {
    current: ThreadList,
    next: ThreadList,
    stack: Vec<usize>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

impl ThreadList {
    /// Empties the list and sizes it for a program of `n` instructions.
    fn reset(&mut self, n: usize) {
        self.dense.clear();
        self.seen.clear();
        self.seen.resize(n, false);
    }

    fn insert(&mut self, pc: usize) -> bool {
        if self.seen[pc] {
            return false;
        }
        self.seen[pc] = true;
        self.dense.push(pc);
        true
    }

    fn clear(&mut self) {
        for &pc in &self.dense {
            self.seen[pc] = false;
        }
        self.dense.clear();
    }
}

fn emit(program: &mut Vec<Inst>, inst: Inst) -> Result<usize, String> {
    if program.len() >= MAX_PROGRAM {
        return Err("pattern is too large".to_string());
    }
    program.push(inst);
    Ok(program.len() - 1)
}

fn compile(ast: &Ast, program: &mut Vec<Inst>, budget: &mut usize) -> Result<(), String> {
    // Repetitions of parts that compile to nothing (`(){1000}`) emit no instructions, so
    // the program size alone would not bound the work: count the steps too.
    *budget = budget
        .checked_sub(1)
        .ok_or_else(|| "pattern is too large".to_string())?;
    match ast {
        Ast::Empty => {}
        Ast::Char(c) => {
            emit(program, Inst::Char(*c))?;
        }
        Ast::Any => {
            emit(program, Inst::AnyButNewline)?;
        }
        Ast::Class(class) => {
            emit(program, Inst::Class(class.clone()))?;
        }
        Ast::Start => {
            emit(program, Inst::AssertStart)?;
        }
        Ast::End => {
            emit(program, Inst::AssertEnd)?;
        }
        Ast::Concat(parts) => {
            for part in parts {
                compile(part, program, budget)?;
            }
        }
        Ast::Alternate(options) => {
            // split L1, next; L1: option; jump end; next: split L2, … ; last option.
            let mut jumps = Vec::new();
            for (i, option) in options.iter().enumerate() {
                if i + 1 < options.len() {
                    let split = emit(program, Inst::Split(0, 0))?;
                    compile(option, program, budget)?;
                    jumps.push(emit(program, Inst::Jump(0))?);
                    program[split] = Inst::Split(split + 1, program.len());
                } else {
                    compile(option, program, budget)?;
                }
            }
            let end = program.len();
            for jump in jumps {
                program[jump] = Inst::Jump(end);
            }
        }
        Ast::Repeat { inner, min, max } => {
            for _ in 0..*min {
                compile(inner, program, budget)?;
            }
            match max {
                None => {
                    // loop: split body, end; body; jump loop.
                    let split = emit(program, Inst::Split(0, 0))?;
                    compile(inner, program, budget)?;
                    emit(program, Inst::Jump(split))?;
                    program[split] = Inst::Split(split + 1, program.len());
                }
                Some(max) => {
                    // Each optional copy: split body, end.
                    let mut splits = Vec::new();
                    for _ in *min..*max {
                        splits.push(emit(program, Inst::Split(0, 0))?);
                        compile(inner, program, budget)?;
                    }
                    let end = program.len();
                    for split in splits {
                        program[split] = Inst::Split(split + 1, end);
                    }
                }
            }
        }
    }
    Ok(())
}

struct PatternParser<'p> {
    chars: &'p [char],
    pos: usize,
    depth: usize,
}

impl PatternParser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn alternation(&mut self) -> Result<Ast, String> {
        let mut options = vec![self.concatenation()?];
        while self.peek() == Some('|') {
            self.pos += 1;
            options.push(self.concatenation()?);
        }
        Ok(if options.len() == 1 {
            options.remove(0)
        } else {
            Ast::Alternate(options)
        })
    }

    fn concatenation(&mut self) -> Result<Ast, String> {
        let mut parts = Vec::new();
        while let Some(c) = self.peek() {
            if c == '|' || c == ')' {
                break;
            }
            let atom = self.atom()?;
            let atom = self.quantified(atom)?;
            parts.push(atom);
        }
        Ok(match parts.len() {
            0 => Ast::Empty,
            1 => parts.remove(0),
            _ => Ast::Concat(parts),
        })
    }

    fn atom(&mut self) -> Result<Ast, String> {
        let at = self.pos + 1;
        let Some(c) = self.peek() else {
            return Err("pattern ends unexpectedly".to_string());
        };
        self.pos += 1;
        Ok(match c {
            '.' => Ast::Any,
            '^' => Ast::Start,
            '$' => Ast::End,
            '(' => {
                self.depth += 1;
                if self.depth > MAX_GROUP_DEPTH {
                    return Err(format!("groups nested more than {MAX_GROUP_DEPTH} deep"));
                }
                if self.peek() == Some('?') {
                    if self.chars.get(self.pos + 1) == Some(&':') {
                        self.pos += 2;
                    } else {
                        return Err(format!("unsupported group syntax '(?' at character {at}"));
                    }
                }
                let inner = self.alternation()?;
                if self.peek() != Some(')') {
                    return Err(format!(
                        "missing ')' for the group opened at character {at}"
                    ));
                }
                self.pos += 1;
                self.depth -= 1;
                inner
            }
            '[' => Ast::Class(self.class(at)?),
            '\\' => self.escape(false)?,
            '*' | '+' | '?' => {
                return Err(format!("nothing to repeat before '{c}' at character {at}"));
            }
            other => Ast::Char(other),
        })
    }

    /// Parses an escape after `\`. Inside a class, named classes are returned as a class.
    fn escape(&mut self, in_class: bool) -> Result<Ast, String> {
        let Some(c) = self.peek() else {
            return Err("pattern ends with '\\'".to_string());
        };
        self.pos += 1;
        let named = |n| {
            Ast::Class(Class {
                negated: false,
                ranges: Vec::new(),
                named: vec![n],
            })
        };
        Ok(match c {
            'd' => named(Named::Digit(true)),
            'D' => named(Named::Digit(false)),
            'w' => named(Named::Word(true)),
            'W' => named(Named::Word(false)),
            's' => named(Named::Space(true)),
            'S' => named(Named::Space(false)),
            'n' => Ast::Char('\n'),
            't' => Ast::Char('\t'),
            'r' => Ast::Char('\r'),
            'b' if in_class => Ast::Char('\u{8}'),
            p if p.is_ascii_punctuation() => Ast::Char(p),
            other => return Err(format!("unsupported escape '\\{other}'")),
        })
    }

    fn class(&mut self, at: usize) -> Result<Class, String> {
        let mut class = Class {
            negated: false,
            ranges: Vec::new(),
            named: Vec::new(),
        };
        if self.peek() == Some('^') {
            class.negated = true;
            self.pos += 1;
        }
        let mut first = true;
        loop {
            let Some(c) = self.peek() else {
                return Err(format!(
                    "missing ']' for the class opened at character {at}"
                ));
            };
            if c == ']' && !first {
                self.pos += 1;
                return Ok(class);
            }
            first = false;
            self.pos += 1;
            let low = if c == '\\' {
                match self.escape(true)? {
                    Ast::Char(ch) => ch,
                    Ast::Class(named) => {
                        class.named.extend(named.named);
                        continue;
                    }
                    _ => unreachable_class_escape()?,
                }
            } else {
                c
            };
            let is_range = self.peek() == Some('-')
                && self
                    .chars
                    .get(self.pos + 1)
                    .is_some_and(|&next| next != ']');
            if !is_range {
                class.ranges.push((low, low));
                continue;
            }
            self.pos += 1;
            let Some(high) = self.peek() else {
                return Err(format!(
                    "missing ']' for the class opened at character {at}"
                ));
            };
            self.pos += 1;
            let high = if high == '\\' {
                match self.escape(true)? {
                    Ast::Char(ch) => ch,
                    _ => return Err("a class range cannot end in a named class".to_string()),
                }
            } else {
                high
            };
            if high < low {
                return Err(format!("class range {low}-{high} is out of order"));
            }
            class.ranges.push((low, high));
        }
    }

    fn quantified(&mut self, atom: Ast) -> Result<Ast, String> {
        let mut atom = atom;
        let mut repeated = false;
        loop {
            let single = match self.peek() {
                Some('*') => Some((0, None)),
                Some('+') => Some((1, None)),
                Some('?') => Some((0, Some(1))),
                _ => None,
            };
            let (min, max) = match single {
                Some(bounds) => {
                    self.pos += 1;
                    bounds
                }
                None if self.peek() == Some('{') => match self.counted()? {
                    Some(bounds) => bounds,
                    None => return Ok(atom),
                },
                None => return Ok(atom),
            };
            if matches!(atom, Ast::Start | Ast::End) {
                return Err("an anchor cannot be repeated".to_string());
            }
            if repeated {
                return Err("a quantifier cannot follow another quantifier".to_string());
            }
            // A lazy marker changes which match is found, not whether one exists.
            if self.peek() == Some('?') {
                self.pos += 1;
            }
            atom = Ast::Repeat {
                inner: Box::new(atom),
                min,
                max,
            };
            repeated = true;
        }
    }

    /// Parses `{n}`, `{n,}` or `{n,m}` at the cursor, consuming it. Returns `None` (and
    /// consumes nothing) when the brace does not start a valid counted repetition, in
    /// which case it is a literal `{` as in JavaScript.
    fn counted(&mut self) -> Result<Option<(u32, Option<u32>)>, String> {
        let start = self.pos;
        let mut pos = start + 1;
        let number = |pos: &mut usize| -> Option<u32> {
            let begin = *pos;
            while self.chars.get(*pos).is_some_and(char::is_ascii_digit) {
                *pos += 1;
            }
            let digits: String = self.chars[begin..*pos].iter().collect();
            digits.parse().ok()
        };
        let Some(min) = number(&mut pos) else {
            return Ok(None);
        };
        let max = if self.chars.get(pos) == Some(&',') {
            pos += 1;
            if self.chars.get(pos) == Some(&'}') {
                None
            } else {
                Some(number(&mut pos))
            }
        } else {
            Some(Some(min))
        };
        let max = match max {
            Some(None) => return Ok(None),
            Some(Some(m)) => Some(m),
            None => None,
        };
        if self.chars.get(pos) != Some(&'}') {
            return Ok(None);
        }
        if min > MAX_REPEAT || max.is_some_and(|m| m > MAX_REPEAT) {
            return Err(format!("counted repetition above {MAX_REPEAT}"));
        }
        if max.is_some_and(|m| m < min) {
            return Err(format!(
                "repetition {{{min},{}}} is out of order",
                max.unwrap_or(0)
            ));
        }
        self.pos = pos + 1;
        Ok(Some((min, max)))
    }
}

fn unreachable_class_escape() -> Result<char, String> {
    Err("unsupported escape inside a class".to_string())
}

#[cfg(test)]
mod tests {
    use super::Regex;

    fn matches(pattern: &str, text: &str) -> bool {
        Regex::new(pattern).unwrap().is_match(text)
    }

    #[test]
    fn common_patterns() {
        assert!(matches("^[0-9]{10}(-[0-9]{3})?$", "0101234567"));
        assert!(matches("^[0-9]{10}(-[0-9]{3})?$", "0101234567-001"));
        assert!(!matches("^[0-9]{10}(-[0-9]{3})?$", "010123456"));
        assert!(!matches("^[0-9]{10}(-[0-9]{3})?$", "0101234567-01"));
        assert!(matches("b", "abc"));
        assert!(!matches("^b", "abc"));
        assert!(matches("^(0|\\+84)\\d{9}$", "+84912345678"));
        assert!(matches("^\\w+@\\w+\\.\\w{2,}$", "a_b@example.vn"));
        assert!(matches("^$", ""));
        assert!(matches("x*", ""));
        assert!(matches("^(a|b)*c$", "ababc"));
        assert!(!matches("^(a|b)*c$", "abxc"));
        assert!(matches("^[^0-9]+$", "Nguyễn"));
        assert!(matches("^.{3}$", "Hà Nội".get(0..4).unwrap()));
        assert!(matches("a{2,}", "caab"));
        assert!(!matches("a{2,3}$", "a"));
        assert!(matches("^(a*)*$", "aaaa"));
        assert!(matches("^x{,2}$", "x{,2}"));
        assert!(!matches("^ab", "xab"));
        assert!(matches("^a|b", "xb"));
        assert!(matches("^$|x", "ax"));
    }

    #[test]
    fn bad_patterns_are_errors() {
        for bad in [
            "(", "(a", "a)", "[a", "*a", "a**", "\\", "[z-a]", "(?=a)", "a{3,1}", "\\q",
        ] {
            assert!(Regex::new(bad).is_err(), "{bad}");
        }
        let deep = "(".repeat(100) + &")".repeat(100);
        assert!(Regex::new(&deep).is_err());
        assert!(Regex::new("(a{1000}){1000}").is_err());
        assert!(Regex::new("((((){1000}){1000}){1000}){1000}").is_err());
    }

    #[test]
    fn linear_on_pathological_input() {
        let regex = Regex::new("^(a|a)*(a|a)*b$").unwrap();
        let text = "a".repeat(5000);
        assert!(!regex.is_match(&text));
    }
}
