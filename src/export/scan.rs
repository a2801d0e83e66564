//! The byte scanner the export runs over each stored revision: a [`Plan`] of the names
//! that matter per level, per-level [`Table`]s of slots (byte ranges of unparsed values),
//! and the [`Reader`] that fills them in one pass; [`encode_slot`] turns a slot into its
//! CSV field.

use std::collections::HashMap;
use std::io::Write;

use serde_json::Value;

use crate::export::{Error, Layout, SKIPPED, encode};

/// Where a name found in an answers (or calculations) object leads.
#[derive(Debug, Clone, Copy)]
pub(super) enum Target {
    /// A column of this level; `rank` orders the column's names (current name first, then
    /// former names), so the current name wins when both are present.
    Column { column: usize, rank: usize },
    /// A roster whose rows belong to this level of the plan.
    Roster { level: usize },
}

/// One level of the layout as the reader sees it.
pub(super) struct PlanLevel<'l> {
    pub(super) level: &'l crate::export::Level,
    pub(super) parent: Option<usize>,
    /// Roster name (the last element of the path; empty for the main level).
    roster: &'l str,
    names: HashMap<&'l str, Target, BuildNameHasher>,
}

/// What to read: per level, the names that matter (the columns of the requested levels,
/// and the rosters leading to them); everything else is skipped unread.
pub(super) struct Plan<'l> {
    pub(super) levels: Vec<PlanLevel<'l>>,
}

impl<'l> Plan<'l> {
    pub(super) fn new(layout: &'l Layout, wanted: &[usize]) -> Result<Plan<'l>, Error> {
        let n = layout.levels.len();
        if let Some(bad) = wanted.iter().find(|i| **i >= n) {
            return Err(Error::UnknownLevel {
                level: format!("#{bad}"),
                known: layout
                    .levels
                    .iter()
                    .map(|l| l.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        let parents: Vec<Option<usize>> = layout
            .levels
            .iter()
            .map(|level| {
                let (_, up) = level.path.split_last()?;
                layout.levels.iter().position(|l| l.path == up)
            })
            .collect();
        // A level is needed when it is wanted or leads to a wanted one; parents come before
        // their children in the layout, so one backward sweep settles it.
        let mut needed: Vec<bool> = (0..n).map(|i| wanted.contains(&i)).collect();
        for i in (0..n).rev() {
            if needed[i]
                && let Some(p) = parents[i]
            {
                needed[p] = true;
            }
        }
        let mut levels: Vec<PlanLevel<'l>> = layout
            .levels
            .iter()
            .zip(&parents)
            .map(|(level, parent)| PlanLevel {
                level,
                parent: *parent,
                roster: level.path.last().map_or("", String::as_str),
                names: HashMap::default(),
            })
            .collect();
        for (i, plan_level) in levels.iter_mut().enumerate() {
            if wanted.contains(&i) {
                for (column, c) in plan_level.level.columns.iter().enumerate() {
                    for (rank, name) in c.names.iter().enumerate() {
                        // A name shared by two columns keeps the first.
                        plan_level
                            .names
                            .entry(name.as_str())
                            .or_insert(Target::Column { column, rank });
                    }
                }
            }
        }
        for child in 0..n {
            if let (true, Some(p)) = (needed[child], parents[child]) {
                let roster = levels[child].roster;
                levels[p]
                    .names
                    .entry(roster)
                    .or_insert(Target::Roster { level: child });
            }
        }
        Ok(Plan { levels })
    }

    /// Builds every row's KEY: the instance id for the main level, then
    /// `parent KEY/roster[n]` (1-based) down the levels (parents come first).
    pub(super) fn fill_keys(&self, tables: &mut [Table], instance_id: &str) {
        tables[0].keys.extend_from_slice(instance_id.as_bytes());
        tables[0].key_ends.push(tables[0].keys.len());
        for i in 1..tables.len() {
            let Some(p) = self.levels[i].parent else {
                continue;
            };
            let (before, after) = tables.split_at_mut(i);
            let (parent, table) = (&before[p], &mut after[0]);
            for row in 0..table.rows() {
                let parent_key = parent.key(table.parent[row] as usize);
                table.keys.extend_from_slice(parent_key);
                table.keys.push(b'/');
                table
                    .keys
                    .extend_from_slice(self.levels[i].roster.as_bytes());
                let _ = write!(table.keys, "[{}]", table.ordinal[row]);
                table.key_ends.push(table.keys.len());
            }
        }
    }
}

/// FNV-1a for the name lookups (one per answer of every interview). SipHash's
/// protection against chosen keys buys nothing here: the names come from published
/// questionnaires and the answers were validated against them; FNV on names of a few
/// bytes is several times faster.
#[derive(Default, Clone, Copy)]
pub(super) struct NameHasher(u64);

impl std::hash::Hasher for NameHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut hash = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for byte in bytes {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = hash;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

pub(super) type BuildNameHasher = std::hash::BuildHasherDefault<NameHasher>;

/// One answer found for a column: the byte range of its unparsed JSON value in the stored
/// revision, and the rank of the name it was found under.
#[derive(Debug, Clone, Copy)]
pub(super) struct Slot {
    start: usize,
    end: usize,
    rank: usize,
}

pub(super) const EMPTY: Slot = Slot {
    start: 0,
    end: 0,
    rank: usize::MAX,
};

impl Slot {
    pub(super) fn is_empty(&self) -> bool {
        self.end == 0
    }
}

/// One level's rows of the current interview: `width` slots per row for answers and as
/// many for calculations, each row's parent row and position, and the rows' keys.
pub(super) struct Table {
    width: usize,
    answers: Vec<Slot>,
    calcs: Vec<Slot>,
    pub(super) parent: Vec<u32>,
    ordinal: Vec<u32>,
    /// Per parent row: this level's first row for it and how many (to match calculation
    /// rows to answer rows).
    spans: Vec<(usize, usize)>,
    keys: Vec<u8>,
    key_ends: Vec<usize>,
}

impl Table {
    pub(super) fn new(width: usize) -> Table {
        Table {
            width,
            answers: Vec::new(),
            calcs: Vec::new(),
            parent: Vec::new(),
            ordinal: Vec::new(),
            spans: Vec::new(),
            keys: Vec::new(),
            key_ends: Vec::new(),
        }
    }

    pub(super) fn clear(&mut self) {
        self.answers.clear();
        self.calcs.clear();
        self.parent.clear();
        self.ordinal.clear();
        self.spans.clear();
        self.keys.clear();
        self.key_ends.clear();
    }

    pub(super) fn rows(&self) -> usize {
        self.parent.len()
    }

    pub(super) fn add_row(&mut self, parent: usize, ordinal: usize) -> usize {
        let row = self.rows();
        self.answers.extend(std::iter::repeat_n(EMPTY, self.width));
        self.calcs.extend(std::iter::repeat_n(EMPTY, self.width));
        self.parent.push(parent as u32);
        self.ordinal.push(ordinal as u32);
        row
    }

    pub(super) fn answers(&self, row: usize) -> &[Slot] {
        &self.answers[row * self.width..(row + 1) * self.width]
    }

    pub(super) fn calcs(&self, row: usize) -> &[Slot] {
        &self.calcs[row * self.width..(row + 1) * self.width]
    }

    pub(super) fn key(&self, row: usize) -> &[u8] {
        let start = if row == 0 { 0 } else { self.key_ends[row - 1] };
        &self.keys[start..self.key_ends[row]]
    }
}

/// Reads one revision's answers and calculations into the tables.
///
/// A small scanner over the stored bytes rather than a serde visitor: the store wrote
/// them (canonical JSON, already validated when the submission arrived, and checked by
/// the record decoding that located `content` and `calculations`), so the export only
/// has to find keys and the byte ranges of values; it never builds values or re-checks
/// UTF-8. Anything unexpected is reported as a corrupt revision, never a panic.
pub(super) struct Reader<'p, 'l, 'b> {
    plan: &'p Plan<'l>,
    tables: &'p mut [Table],
    bytes: &'b [u8],
    at: usize,
    /// A name with escapes, decoded (keys of our questionnaires never have any).
    name: String,
}

/// What went wrong, and where (a byte offset in the stored revision).
pub(super) struct Malformed(pub &'static str, pub usize);

pub(super) type Scan<T> = Result<T, Malformed>;

impl Reader<'_, '_, '_> {
    fn peek(&self) -> Scan<u8> {
        self.bytes
            .get(self.at)
            .copied()
            .ok_or(Malformed("unexpected end", self.at))
    }

    fn skip_space(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.bytes.get(self.at) {
            self.at += 1;
        }
    }

    fn expect(&mut self, byte: u8, what: &'static str) -> Scan<()> {
        self.skip_space();
        if self.peek()? != byte {
            return Err(Malformed(what, self.at));
        }
        self.at += 1;
        Ok(())
    }

    /// A string at the cursor: the range inside the quotes and whether it has escapes.
    fn string(&mut self) -> Scan<(usize, usize, bool)> {
        self.expect(b'"', "expected a string")?;
        let start = self.at;
        let mut escaped = false;
        loop {
            match self.bytes.get(self.at) {
                None => return Err(Malformed("unterminated string", start)),
                Some(b'"') => break,
                Some(b'\\') => {
                    escaped = true;
                    self.at += 2;
                }
                Some(_) => self.at += 1,
            }
        }
        let end = self.at;
        self.at += 1;
        Ok((start, end, escaped))
    }

    /// Skips one value and returns its byte range.
    fn value(&mut self) -> Scan<(usize, usize)> {
        self.skip_space();
        let start = self.at;
        match self.peek()? {
            b'"' => {
                self.string()?;
            }
            b'{' | b'[' => {
                let mut depth = 0usize;
                loop {
                    match self.peek()? {
                        b'"' => {
                            self.string()?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.at += 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                    self.at += 1;
                }
            }
            _ => {
                while let Some(byte) = self.bytes.get(self.at) {
                    if matches!(byte, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t') {
                        break;
                    }
                    self.at += 1;
                }
                if self.at == start {
                    return Err(Malformed("expected a value", start));
                }
            }
        }
        Ok((start, self.at))
    }

    /// Walks an object, calling `each(self, key)` with the cursor on each value; `each`
    /// must consume the value.
    fn object(
        &mut self,
        mut each: impl FnMut(&mut Self, (usize, usize, bool)) -> Scan<()>,
    ) -> Scan<()> {
        self.expect(b'{', "expected an object")?;
        self.skip_space();
        if self.peek()? == b'}' {
            self.at += 1;
            return Ok(());
        }
        loop {
            let key = self.string()?;
            self.expect(b':', "expected ':'")?;
            each(self, key)?;
            self.skip_space();
            match self.peek()? {
                b',' => {
                    self.at += 1;
                    self.skip_space();
                }
                b'}' => {
                    self.at += 1;
                    return Ok(());
                }
                _ => return Err(Malformed("expected ',' or '}'", self.at)),
            }
        }
    }

    /// Walks an array, calling `each(self, index)` with the cursor on each element.
    fn array(&mut self, mut each: impl FnMut(&mut Self, usize) -> Scan<()>) -> Scan<()> {
        self.expect(b'[', "expected an array")?;
        self.skip_space();
        if self.peek()? == b']' {
            self.at += 1;
            return Ok(());
        }
        let mut index = 0;
        loop {
            each(self, index)?;
            index += 1;
            self.skip_space();
            match self.peek()? {
                b',' => self.at += 1,
                b']' => {
                    self.at += 1;
                    return Ok(());
                }
                _ => return Err(Malformed("expected ',' or ']'", self.at)),
            }
        }
    }

    /// What a key leads to at `level`.
    fn target(
        &mut self,
        level: usize,
        (start, end, escaped): (usize, usize, bool),
    ) -> Option<Target> {
        let names = &self.plan.levels[level].names;
        if !escaped {
            let key = std::str::from_utf8(&self.bytes[start..end]).ok()?;
            return names.get(key).copied();
        }
        let quoted = &self.bytes[start - 1..end + 1];
        self.name = serde_json::from_slice::<String>(quoted).ok()?;
        names.get(self.name.as_str()).copied()
    }

    /// `{"answers": {...}, "paradata": ...}`: the answers are the main level's row.
    fn content(&mut self) -> Scan<()> {
        let mut seen = false;
        self.object(|r, key| {
            if !seen && &r.bytes[key.0..key.1] == b"answers" {
                seen = true;
                r.skip_space();
                if r.peek()? != b'{' {
                    return Err(Malformed("answers are not an object", r.at));
                }
                r.row(0, 0, false)
            } else {
                r.value().map(drop)
            }
        })?;
        if !seen {
            return Err(Malformed("no answers", self.at));
        }
        Ok(())
    }

    /// The calculations object, or anything else (then no calculations are used).
    fn calculations(&mut self) -> Scan<()> {
        self.skip_space();
        if self.peek()? == b'{' {
            self.row(0, 0, true)
        } else {
            self.value().map(drop)
        }
    }

    /// One row's object of answers (`calc` false) or calculations (`calc` true).
    fn row(&mut self, level: usize, row: usize, calc: bool) -> Scan<()> {
        self.object(|r, key| match r.target(level, key) {
            Some(Target::Column { column, rank }) => {
                let (start, end) = r.value()?;
                r.offer(level, row, column, rank, calc, start, end);
                Ok(())
            }
            Some(Target::Roster { level: child }) => r.roster(child, row, calc),
            None => r.value().map(drop),
        })
    }

    /// A roster's array of row objects. Answers add one row per element (an element that
    /// is not an object still counts, so KEYs follow positions); calculations fill the
    /// rows the answers made, matched by position. A roster value that is not an array
    /// has no rows.
    fn roster(&mut self, level: usize, parent_row: usize, calc: bool) -> Scan<()> {
        self.skip_space();
        if self.peek()? != b'[' {
            return self.value().map(drop);
        }
        if calc {
            let (first, count) = self.tables[level]
                .spans
                .get(parent_row)
                .copied()
                .unwrap_or_default();
            return self.array(|r, i| {
                r.skip_space();
                if i < count && r.peek()? == b'{' {
                    r.row(level, first + i, true)
                } else {
                    r.value().map(drop)
                }
            });
        }
        let first = self.tables[level].rows();
        let mut count = 0;
        self.array(|r, i| {
            let row = r.tables[level].add_row(parent_row, i + 1);
            count += 1;
            r.skip_space();
            if r.peek()? == b'{' {
                r.row(level, row, false)
            } else {
                r.value().map(drop)
            }
        })?;
        let spans = &mut self.tables[level].spans;
        if spans.len() <= parent_row {
            spans.resize(parent_row + 1, (0, 0));
        }
        spans[parent_row] = (first, count);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn offer(
        &mut self,
        level: usize,
        row: usize,
        column: usize,
        rank: usize,
        calc: bool,
        start: usize,
        end: usize,
    ) {
        if &self.bytes[start..end] == b"null" {
            return;
        }
        let table = &mut self.tables[level];
        let index = row * table.width + column;
        let slots = if calc {
            &mut table.calcs
        } else {
            &mut table.answers
        };
        if let Some(slot) = slots.get_mut(index)
            && rank < slot.rank
        {
            *slot = Slot { start, end, rank };
        }
    }
}

/// Encodes one slot of the stored revision for CSV, decoding only what needs it (strings
/// with escapes, arrays, objects) into `scratch`.
pub(super) fn encode_slot<'b>(bytes: &'b [u8], slot: &Slot, scratch: &'b mut Vec<u8>) -> &'b [u8] {
    if slot.is_empty() {
        return SKIPPED.as_bytes();
    }
    let Some(text) = bytes.get(slot.start..slot.end) else {
        return SKIPPED.as_bytes();
    };
    match text.first() {
        None | Some(b'n') => SKIPPED.as_bytes(),
        Some(b't') => b"1",
        Some(b'f') => b"0",
        Some(b'"') => {
            let inner = &text[1..text.len().saturating_sub(1).max(1)];
            if !inner.contains(&b'\\') {
                return inner;
            }
            scratch.clear();
            if let Ok(s) = serde_json::from_slice::<String>(text) {
                scratch.extend_from_slice(s.as_bytes());
            }
            let shared: &'b Vec<u8> = scratch;
            shared
        }
        Some(b'[' | b'{') => {
            scratch.clear();
            let value = serde_json::from_slice::<Value>(text).ok();
            scratch.extend_from_slice(encode(value.as_ref()).as_bytes());
            let shared: &'b Vec<u8> = scratch;
            shared
        }
        Some(_) => text,
    }
}

/// Reads one interview's answers (`content` from byte `content_at` of `bytes`) and
/// calculations (from `calculations_at`) into `tables`, cleared first, and fills the row
/// keys. `name` is a scratch string reused across calls.
pub(super) fn read_interview(
    plan: &Plan<'_>,
    tables: &mut [Table],
    bytes: &[u8],
    content_at: usize,
    calculations_at: usize,
    name: &mut String,
    instance_id: &str,
) -> Result<(), Malformed> {
    tables.iter_mut().for_each(Table::clear);
    tables[0].add_row(0, 1);
    let mut reader = Reader {
        plan,
        tables,
        bytes,
        at: content_at,
        name: std::mem::take(name),
    };
    let read = reader.content().and_then(|()| {
        reader.at = calculations_at;
        reader.calculations()
    });
    *name = reader.name;
    read?;
    plan.fill_keys(tables, instance_id);
    Ok(())
}
