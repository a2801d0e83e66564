//! An in-memory data table with typed columns, read from CSV.
//!
//! Column types are inferred the way R's `read.csv(stringsAsFactors = TRUE, na.strings =
//! c("", "NA"))` infers them, so a design that R evaluates on the same file sees the same
//! variables: a column is numeric when every non-missing cell parses as a number, otherwise it
//! is a factor whose levels are the distinct texts in byte order (R in the C locale). Column
//! names are taken literally (they may contain dots, spaces or anything else).

use std::collections::HashMap;
use std::io::Read;

use crate::estimate::Error;

/// One column of a [`Table`].
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    /// Numbers; `NaN` marks a missing cell.
    Numeric(Vec<f64>),
    /// Categories: `codes[k]` indexes `levels`, or is [`Column::MISSING`].
    Factor {
        codes: Vec<u32>,
        levels: Vec<String>,
    },
}

impl Column {
    /// The code of a missing factor cell.
    pub const MISSING: u32 = u32::MAX;

    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            Column::Numeric(v) => v.len(),
            Column::Factor { codes, .. } => codes.len(),
        }
    }

    /// True when the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True when row `k` is missing.
    pub fn is_missing(&self, k: usize) -> bool {
        match self {
            Column::Numeric(v) => v[k].is_nan(),
            Column::Factor { codes, .. } => codes[k] == Column::MISSING,
        }
    }

    /// The cell as text, formatted as R prints it in labels (`15`, `2.5`, `E`).
    pub fn label(&self, k: usize) -> String {
        match self {
            Column::Numeric(v) => format_number(v[k]),
            Column::Factor { codes, levels } => match codes[k] {
                Column::MISSING => "NA".to_string(),
                c => levels[c as usize].clone(),
            },
        }
    }

    /// Does row `k` equal `value` (a JSON scalar from a specification)?
    pub fn equals(&self, k: usize, value: &CellValue) -> bool {
        match (self, value) {
            (Column::Numeric(v), CellValue::Number(x)) => v[k] == *x,
            (Column::Numeric(v), CellValue::Text(t)) => {
                t.parse::<f64>().map(|x| v[k] == x).unwrap_or(false)
            }
            (Column::Factor { codes, levels }, CellValue::Text(t)) => {
                codes[k] != Column::MISSING && levels[codes[k] as usize] == *t
            }
            (Column::Factor { codes, levels }, CellValue::Number(x)) => {
                codes[k] != Column::MISSING && levels[codes[k] as usize] == format_number(*x)
            }
        }
    }
}

/// A scalar from a JSON specification, compared with cells by [`Column::equals`].
#[derive(Debug, Clone, PartialEq)]
pub enum CellValue {
    Number(f64),
    Text(String),
}

/// Named typed columns of equal length.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    names: Vec<String>,
    columns: Vec<Column>,
    rows: usize,
}

impl Table {
    /// Builds a table; every column must have the same length and names must be unique.
    pub fn new(names: Vec<String>, columns: Vec<Column>) -> Result<Table, Error> {
        let rows = columns.first().map_or(0, Column::len);
        if names.len() != columns.len() {
            return Err(Error::Data(format!(
                "{} names for {} columns",
                names.len(),
                columns.len()
            )));
        }
        for (name, column) in names.iter().zip(&columns) {
            if column.len() != rows {
                return Err(Error::Data(format!(
                    "column `{name}` has {} rows, expected {rows}",
                    column.len()
                )));
            }
        }
        let mut seen = HashMap::new();
        for name in &names {
            if seen.insert(name.as_str(), ()).is_some() {
                return Err(Error::Data(format!(
                    "column `{name}` appears twice in the header"
                )));
            }
        }
        Ok(Table {
            names,
            columns,
            rows,
        })
    }

    /// Reads a CSV with a header row (RFC 4180 quoting). Cells are gathered per column into
    /// one byte buffer (no allocation per cell), then each column's type is inferred.
    pub fn from_csv<R: Read>(reader: R) -> Result<Table, Error> {
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(reader);
        let names: Vec<String> = csv
            .headers()
            .map_err(|e| Error::Data(format!("CSV header: {e}")))?
            .iter()
            .map(str::to_string)
            .collect();
        let mut buffers: Vec<RawColumn> = names.iter().map(|_| RawColumn::default()).collect();
        let mut record = csv::ByteRecord::new();
        let mut line = 1;
        loop {
            match csv.read_byte_record(&mut record) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => return Err(Error::Data(format!("CSV record {}: {e}", line + 1))),
            }
            line += 1;
            for (j, cell) in record.iter().enumerate() {
                let column = &mut buffers[j];
                column.bytes.extend_from_slice(cell);
                column.ends.push(column.bytes.len());
            }
        }
        let columns = buffers
            .iter()
            .zip(&names)
            .map(|(raw, name)| raw.infer(name))
            .collect::<Result<Vec<_>, _>>()?;
        Table::new(names, columns)
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Column names in file order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The column called `name`.
    pub fn column(&self, name: &str) -> Result<&Column, Error> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|j| &self.columns[j])
            .ok_or_else(|| Error::UnknownColumn {
                name: name.to_string(),
                suggestion: self.suggest(name),
            })
    }

    /// A numeric column, refusing factors.
    pub fn numeric(&self, name: &str) -> Result<&[f64], Error> {
        match self.column(name)? {
            Column::Numeric(v) => Ok(v),
            Column::Factor { .. } => Err(Error::NotNumeric {
                name: name.to_string(),
            }),
        }
    }

    fn suggest(&self, name: &str) -> Option<String> {
        let lower = name.to_lowercase();
        self.names
            .iter()
            .find(|n| n.to_lowercase() == lower)
            .or_else(|| {
                self.names
                    .iter()
                    .find(|n| n.contains(name) || name.contains(n.as_str()))
            })
            .cloned()
    }
}

/// Formats a number as R's `as.character` does for the values found in survey files.
pub fn format_number(x: f64) -> String {
    if x.is_nan() {
        "NA".to_string()
    } else if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// The cells of one column as read: concatenated bytes and the end offset of each cell.
#[derive(Default)]
struct RawColumn {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl RawColumn {
    fn cell(&self, k: usize) -> &[u8] {
        let start = if k == 0 { 0 } else { self.ends[k - 1] };
        &self.bytes[start..self.ends[k]]
    }

    /// Numeric when every non-missing cell parses as a number, else a factor.
    fn infer(&self, name: &str) -> Result<Column, Error> {
        let rows = self.ends.len();
        let mut text: Vec<&str> = Vec::with_capacity(rows);
        for k in 0..rows {
            let cell = std::str::from_utf8(self.cell(k)).map_err(|_| {
                Error::Data(format!(
                    "column `{name}`, data row {}: not valid UTF-8",
                    k + 1
                ))
            })?;
            text.push(cell);
        }
        let is_missing = |c: &str| c.is_empty() || c == "NA";
        let parsed: Option<Vec<f64>> = text
            .iter()
            .map(|c| {
                if is_missing(c) {
                    Some(f64::NAN)
                } else {
                    parse_r_number(c.trim())
                }
            })
            .collect();
        if let Some(values) = parsed {
            return Ok(Column::Numeric(values));
        }
        let mut levels: Vec<&str> = text.iter().copied().filter(|c| !is_missing(c)).collect();
        levels.sort_unstable();
        levels.dedup();
        let index: HashMap<&str, u32> = levels
            .iter()
            .enumerate()
            .map(|(i, l)| (*l, i as u32))
            .collect();
        let codes = text
            .iter()
            .map(|c| {
                if is_missing(c) {
                    Column::MISSING
                } else {
                    index[c]
                }
            })
            .collect();
        Ok(Column::Factor {
            codes,
            levels: levels.into_iter().map(str::to_string).collect(),
        })
    }
}

fn parse_r_number(text: &str) -> Option<f64> {
    match text {
        "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        _ => {
            // Rust accepts "inf"/"nan" spellings that R reads as text; refuse them here.
            let first = text.chars().next()?;
            if first.is_ascii_digit() || matches!(first, '-' | '+' | '.') {
                text.parse::<f64>().ok()
            } else {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infers_types_like_read_csv() {
        let csv = "a.b,stype,n\n1,E,\n2.5,H,3\nNA,E,4\n";
        let t = Table::from_csv(csv.as_bytes()).unwrap();
        assert_eq!(t.names(), ["a.b", "stype", "n"]);
        let a = t.numeric("a.b").unwrap();
        assert_eq!(a[..2], [1.0, 2.5]);
        assert!(a[2].is_nan());
        match t.column("stype").unwrap() {
            Column::Factor { codes, levels } => {
                assert_eq!(levels, &["E", "H"]);
                assert_eq!(codes, &[0, 1, 0]);
            }
            other => panic!("expected a factor, got {other:?}"),
        }
        assert!(matches!(t.numeric("stype"), Err(Error::NotNumeric { .. })));
        assert!(matches!(
            t.column("A.B"),
            Err(Error::UnknownColumn {
                suggestion: Some(_),
                ..
            })
        ));
    }
}
