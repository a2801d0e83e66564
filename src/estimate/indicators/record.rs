//! Worker records as the indicators see them: named columns of typed values, stored by
//! column.
//!
//! A row store of [`Value`]s costs ~32 bytes a cell plus a heap string per text cell (about
//! 2.4 KB per worker with the derived columns). Each [`Column`] here keeps one tag byte and
//! one `f64` per cell: the number itself, a boolean as 0/1, or the index of the text in the
//! column's label table (labels are stored once per distinct text). Cells read back exactly
//! as the [`Value`] they were built from, so the expression semantics do not change.

use std::collections::HashMap;

use crate::estimate::indicators::error::Error;

/// One value of a record. select_one answers are text ("1", "2"), numbers are numbers, and
/// anything unanswered (skipped, don't know, refused, blank) is `Missing`.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Missing,
    Number(f64),
    Text(String),
    Bool(bool),
}

impl Value {
    /// A CSV cell: blank or `NA` → Missing; a number written canonically (`48`, `2.5`) →
    /// Number; anything else → Text. Codes with leading zeros (`01`, a province) stay text so
    /// domains keep their labels; comparisons still treat numeric texts as numbers.
    pub fn from_cell(cell: &str) -> Value {
        let trimmed = cell.trim();
        if trimmed.is_empty() || trimmed.eq_ignore_ascii_case("na") {
            return Value::Missing;
        }
        match trimmed.parse::<f64>() {
            Ok(number) if number.is_finite() => {
                let value = Value::Number(number);
                if value.as_text() == trimmed {
                    value
                } else {
                    Value::Text(trimmed.to_string())
                }
            }
            _ => Value::Text(trimmed.to_string()),
        }
    }

    /// The value as a number (text that parses, `true` = 1), else `None`.
    pub fn as_number(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            Value::Text(t) => t.trim().parse().ok(),
            Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
            Value::Missing => None,
        }
    }

    /// The value as text for grouping and display ("" for Missing).
    pub fn as_text(&self) -> String {
        match self {
            Value::Number(n) => {
                if n.fract() == 0.0 && n.abs() < 1e15 {
                    format!("{}", *n as i64)
                } else {
                    format!("{n}")
                }
            }
            Value::Text(t) => t.clone(),
            Value::Bool(b) => {
                if *b {
                    "1".to_string()
                } else {
                    "0".to_string()
                }
            }
            Value::Missing => String::new(),
        }
    }

    /// Whether a code-valued answer equals `code` ("1" = yes for yes_no lists). Numbers
    /// compare numerically ("1" read from a CSV cell is the number 1).
    pub fn is_code(&self, code: &str) -> bool {
        match self {
            Value::Text(t) => t == code,
            Value::Number(n) => code.parse::<f64>().is_ok_and(|c| c == *n),
            Value::Bool(b) => code == if *b { "1" } else { "0" },
            Value::Missing => false,
        }
    }
}

/// Column names of a set of records.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Schema {
    names: Vec<String>,
    index: HashMap<String, usize>,
}

impl Schema {
    /// A schema from column names; a repeated name keeps its first position.
    pub fn new(names: &[String]) -> Schema {
        let mut schema = Schema::default();
        for name in names {
            schema.push(name);
        }
        schema
    }

    /// Adds a column (no-op if it exists) and returns its index.
    pub fn push(&mut self, name: &str) -> usize {
        if let Some(&idx) = self.index.get(name) {
            return idx;
        }
        self.names.push(name.to_string());
        self.index.insert(name.to_string(), self.names.len() - 1);
        self.names.len() - 1
    }

    /// The index of a column.
    pub fn get(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// Column names in order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

const MISSING: u8 = 0;
const NUMBER: u8 = 1;
const TEXT: u8 = 2;
const BOOL: u8 = 3;

/// One column: per cell a tag and a payload (number, 0/1, or label index).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Column {
    tags: Vec<u8>,
    payload: Vec<f64>,
    labels: Vec<String>,
    label_index: HashMap<String, u32>,
}

/// A borrowed cell of a [`Column`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cell<'a> {
    Missing,
    Number(f64),
    Text(&'a str),
    Bool(bool),
}

impl Column {
    /// An empty column with room for `n` cells.
    pub fn with_capacity(n: usize) -> Column {
        Column {
            tags: Vec::with_capacity(n),
            payload: Vec::with_capacity(n),
            ..Column::default()
        }
    }

    /// A column of `n` missing cells.
    pub fn missing(n: usize) -> Column {
        Column {
            tags: vec![MISSING; n],
            payload: vec![0.0; n],
            ..Column::default()
        }
    }

    fn push_text(&mut self, text: &str) {
        let idx = match self.label_index.get(text) {
            Some(&idx) => idx,
            None => {
                let idx = self.labels.len() as u32;
                self.labels.push(text.to_string());
                self.label_index.insert(text.to_string(), idx);
                idx
            }
        };
        self.tags.push(TEXT);
        self.payload.push(f64::from(idx));
    }

    /// Appends a value.
    pub fn push(&mut self, value: &Value) {
        match value {
            Value::Missing => {
                self.tags.push(MISSING);
                self.payload.push(0.0);
            }
            Value::Number(n) => {
                self.tags.push(NUMBER);
                self.payload.push(*n);
            }
            Value::Text(t) => self.push_text(t),
            Value::Bool(b) => {
                self.tags.push(BOOL);
                self.payload.push(if *b { 1.0 } else { 0.0 });
            }
        }
    }

    /// Appends a CSV cell as [`Value::from_cell`] reads it. Plain integers (the codes and
    /// counts that make up most of a worker file) and plain decimals skip the
    /// canonical-form check, which formats the number back to text.
    pub fn push_cell(&mut self, cell: &str) {
        if let Some(n) = plain_integer(cell.trim()).or_else(|| plain_decimal(cell.trim())) {
            self.tags.push(NUMBER);
            self.payload.push(n);
            return;
        }
        match Value::from_cell(cell) {
            Value::Text(_) => self.push_text(cell.trim()),
            value => self.push(&value),
        }
    }

    /// The cell of row `row` (Missing past the end).
    pub fn cell(&self, row: usize) -> Cell<'_> {
        match self.tags.get(row) {
            Some(&NUMBER) => Cell::Number(self.payload[row]),
            Some(&TEXT) => Cell::Text(&self.labels[self.payload[row] as usize]),
            Some(&BOOL) => Cell::Bool(self.payload[row] != 0.0),
            _ => Cell::Missing,
        }
    }

    /// The cell of row `row` as an owned [`Value`].
    pub fn value(&self, row: usize) -> Value {
        match self.cell(row) {
            Cell::Missing => Value::Missing,
            Cell::Number(n) => Value::Number(n),
            Cell::Text(t) => Value::Text(t.to_string()),
            Cell::Bool(b) => Value::Bool(b),
        }
    }

    fn resize(&mut self, n: usize) {
        self.tags.resize(n, MISSING);
        self.payload.resize(n, 0.0);
    }

    pub fn len(&self) -> usize {
        self.tags.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tags.is_empty()
    }
}

/// A decimal integer in the canonical form [`Value::from_cell`] keeps as a number: an
/// optional `-`, 1–15 digits, no leading zero (and not `-0`). Anything else is `None` and
/// takes the general path.
fn plain_integer(text: &str) -> Option<f64> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let bytes = digits.as_bytes();
    if bytes.is_empty() || bytes.len() > 15 || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if bytes[0] == b'0' && (bytes.len() > 1 || digits.len() != text.len()) {
        return None;
    }
    let magnitude = bytes
        .iter()
        .fold(0i64, |acc, b| acc * 10 + i64::from(b - b'0'));
    Some(if digits.len() == text.len() {
        magnitude as f64
    } else {
        -(magnitude as f64)
    })
}

/// A decimal `int.frac` that [`Value::from_cell`] keeps as a number, recognised without
/// formatting: an optional `-`, an integer part without a leading zero (or just `0`), a
/// fraction not ending in `0`, and at most 15 significant digits. With at most 15
/// significant digits distinct decimals are distinct doubles, so the shortest text that
/// reads back as the parsed double (what `{}` prints) is the cell itself.
fn plain_decimal(text: &str) -> Option<f64> {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (int, frac) = unsigned.split_once('.')?;
    let ib = int.as_bytes();
    let fb = frac.as_bytes();
    if ib.is_empty() || fb.is_empty() || fb[fb.len() - 1] == b'0' {
        return None;
    }
    if !ib.iter().chain(fb).all(u8::is_ascii_digit) || (ib[0] == b'0' && ib.len() > 1) {
        return None;
    }
    let significant = if ib == b"0" {
        fb.len() - fb.iter().take_while(|&&b| b == b'0').count()
    } else {
        ib.len() + fb.len()
    };
    if significant > 15 {
        return None;
    }
    text.parse().ok()
}

/// Records over one schema, stored by column.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Records {
    pub schema: Schema,
    columns: Vec<Column>,
    len: usize,
}

impl Records {
    /// Records from columns (one per schema name, all of one length).
    pub fn from_columns(schema: Schema, columns: Vec<Column>) -> Result<Records, Error> {
        if columns.len() != schema.len() {
            return Err(Error::Record(format!(
                "{} columns for {} names",
                columns.len(),
                schema.len()
            )));
        }
        let len = columns.first().map_or(0, Column::len);
        if let Some(bad) = columns.iter().position(|c| c.len() != len) {
            return Err(Error::Record(format!(
                "column `{}` has {} rows, not {len}",
                schema.names()[bad],
                columns[bad].len()
            )));
        }
        Ok(Records {
            schema,
            columns,
            len,
        })
    }

    /// Records from rows of values (a short row is padded with Missing; extra values are an
    /// error naming the row).
    pub fn from_rows(schema: Schema, rows: &[Vec<Value>]) -> Result<Records, Error> {
        let mut columns: Vec<Column> = (0..schema.len())
            .map(|_| Column::with_capacity(rows.len()))
            .collect();
        for (k, row) in rows.iter().enumerate() {
            if row.len() > schema.len() {
                return Err(Error::Record(format!(
                    "row {}: {} values for {} columns",
                    k + 1,
                    row.len(),
                    schema.len()
                )));
            }
            for (idx, column) in columns.iter_mut().enumerate() {
                column.push(row.get(idx).unwrap_or(&Value::Missing));
            }
        }
        Ok(Records {
            schema,
            columns,
            len: rows.len(),
        })
    }

    /// The value of `column` in row `row` (Missing when the column is absent).
    pub fn get(&self, row: usize, column: &str) -> Value {
        match self.schema.get(column) {
            Some(idx) => self.columns[idx].value(row),
            None => Value::Missing,
        }
    }

    /// The cell at column index `idx` of row `row` (Missing when either is out of range).
    pub fn cell(&self, row: usize, idx: usize) -> Cell<'_> {
        self.columns
            .get(idx)
            .map_or(Cell::Missing, |column| column.cell(row))
    }

    /// The column at index `idx`.
    pub fn column(&self, idx: usize) -> Option<&Column> {
        self.columns.get(idx)
    }

    /// Adds (or overwrites) a column computed per row (a short list leaves the rest
    /// missing).
    pub fn set_column(&mut self, name: &str, values: Vec<Value>) {
        let mut column = Column::with_capacity(self.len);
        for k in 0..self.len {
            column.push(values.get(k).unwrap_or(&Value::Missing));
        }
        self.put_column(name, column);
    }

    /// Adds (or overwrites) a built column; a column of another length is padded with
    /// missing cells or cut to the records' length.
    pub fn put_column(&mut self, name: &str, mut column: Column) {
        if column.len() != self.len {
            column.resize(self.len);
        }
        let idx = self.schema.push(name);
        if idx < self.columns.len() {
            self.columns[idx] = column;
        } else {
            self.columns.push(column);
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast path of `push_cell` must read every cell exactly as `Value::from_cell`.
    #[test]
    fn push_cell_reads_cells_as_from_cell() {
        let cells = [
            "0",
            "-0",
            "1",
            "01",
            "-1",
            "-01",
            "48",
            " 48 ",
            "2.5",
            "48.0",
            "",
            "NA",
            "na",
            "dk",
            "I",
            "999999999999999",
            "1000000000000000",
            "-999999999999999",
            "1e3",
            "+5",
            "- 5",
            "35653.8460",
            "38393.0076",
            "00",
            "9",
        ];
        let mut column = Column::default();
        for cell in cells {
            column.push_cell(cell);
        }
        for (row, cell) in cells.iter().enumerate() {
            assert_eq!(column.value(row), Value::from_cell(cell), "cell `{cell}`");
        }
    }

    /// The decimal fast path against `Value::from_cell` on many generated decimals: every
    /// digit count up to 17 around the 15-digit limit, with leading and trailing zeros.
    #[test]
    fn push_cell_reads_generated_decimals_as_from_cell() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            state >> 33
        };
        let mut cells = Vec::new();
        for _ in 0..20_000 {
            let int_digits = (next() % 9) as usize;
            let frac_digits = 1 + (next() % 10) as usize;
            let mut cell = String::new();
            if next() % 4 == 0 {
                cell.push('-');
            }
            if int_digits == 0 {
                cell.push('0');
            }
            for _ in 0..int_digits {
                cell.push(char::from(b'0' + (next() % 10) as u8));
            }
            cell.push('.');
            for _ in 0..frac_digits {
                cell.push(char::from(b'0' + (next() % 10) as u8));
            }
            cells.push(cell);
        }
        cells.extend(
            [
                "0.1",
                "0.30000000000000004",
                "0.000000000000001",
                "123456789.123456",
            ]
            .map(String::from),
        );
        cells.extend(["1234567.12345678", "-0.0", "0.0", "5.", ".5", "1.2.3"].map(String::from));
        let mut column = Column::default();
        for cell in &cells {
            column.push_cell(cell);
        }
        for (row, cell) in cells.iter().enumerate() {
            assert_eq!(column.value(row), Value::from_cell(cell), "cell `{cell}`");
        }
    }
}
