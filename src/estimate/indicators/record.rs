//! Worker records as the indicators see them: named columns of typed values.

use std::collections::HashMap;

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

/// Records over one schema (row-major values).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Records {
    pub schema: Schema,
    pub rows: Vec<Vec<Value>>,
}

impl Records {
    /// The value of `column` in row `row` (Missing when the column is absent).
    pub fn get(&self, row: usize, column: &str) -> &Value {
        match self.schema.get(column) {
            Some(idx) => &self.rows[row][idx],
            None => &Value::Missing,
        }
    }

    /// Adds (or overwrites) a column computed per row.
    pub fn set_column(&mut self, name: &str, values: Vec<Value>) {
        let idx = self.schema.push(name);
        for (row, value) in self.rows.iter_mut().zip(values) {
            if row.len() <= idx {
                row.resize(idx + 1, Value::Missing);
            }
            row[idx] = value;
        }
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}
