//! The frame module's errors: CSV import problems with positions, and rule errors.

/// A place in an input CSV: file, 1-based line, and the column when one is at fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Position {
    pub file: String,
    pub line: u64,
    /// 1-based column number and header name.
    pub column: Option<(usize, String)>,
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)?;
        if let Some((number, name)) = &self.column {
            write!(f, ": column {number} `{name}`")?;
        }
        Ok(())
    }
}

/// One problem found while importing a frame CSV.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{position}: {kind}")]
pub struct ImportError {
    pub position: Position,
    pub kind: ImportErrorKind,
}

/// What is wrong at an [`ImportError`]'s position.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ImportErrorKind {
    /// The file could not be read or is not CSV (bad quoting, invalid UTF-8).
    #[error("unreadable CSV: {0}")]
    Malformed(String),
    /// The header lacks a column the format requires.
    #[error("missing required column `{0}`")]
    MissingColumn(String),
    /// The header names a column twice.
    #[error("column `{0}` appears twice in the header")]
    DuplicateColumn(String),
    /// A row has a different number of fields from the header.
    #[error("expected {expected} fields, found {found}")]
    FieldCount { expected: usize, found: usize },
    /// A required value is empty.
    #[error("value is empty")]
    Empty,
    /// A value does not have the expected form.
    #[error("`{value}` is not {expected}")]
    BadValue { value: String, expected: String },
    /// A count or weight is below zero.
    #[error("`{value}` is negative")]
    Negative { value: String },
    /// A unit id already used on an earlier line.
    #[error("duplicate unit id `{id}` (first on line {first_line})")]
    DuplicateId { id: String, first_line: u64 },
    /// Two units with the same (normalised) tax code: record linkage would be ambiguous.
    #[error("tax code `{tax_code}` already belongs to unit `{other_id}` (line {first_line})")]
    DuplicateTaxCode {
        tax_code: String,
        other_id: String,
        first_line: u64,
    },
    /// The province code is not one of the 63 pre-2025 GSO codes.
    #[error("`{0}` is not a pre-2025 GSO province code (01–96, 63 provinces)")]
    UnknownProvince(String),
    /// The given 2025 province disagrees with the crosswalk of the pre-2025 province.
    #[error(
        "province_2025 `{given}` contradicts the crosswalk: province {province} became {expected}"
    )]
    CrosswalkMismatch {
        given: String,
        province: String,
        expected: String,
    },
    /// The same buyer → supplier pair appears twice; counting it twice would inflate L.
    #[error("duplicate link {buyer} -> {supplier} (first on line {first_line})")]
    DuplicateLink {
        buyer: String,
        supplier: String,
        first_line: u64,
    },
    /// A link names a unit id that the units file does not have.
    #[error("unknown unit id `{0}`")]
    UnknownUnit(String),
    /// A link from a unit to itself.
    #[error("self-link: unit `{0}` cannot supply itself")]
    SelfLink(String),
}

/// The errors of a failed import: the first `errors.len()` problems (up to the cap) and how
/// many there were in all.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportErrors {
    pub errors: Vec<ImportError>,
    pub total: usize,
}

impl std::fmt::Display for ImportErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for error in &self.errors {
            writeln!(f, "{error}")?;
        }
        if self.total > self.errors.len() {
            writeln!(
                f,
                "… and {} more errors not shown",
                self.total - self.errors.len()
            )?;
        }
        Ok(())
    }
}

/// Errors at the `frame` module boundary.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The CSV files have problems; every one found (up to the cap) is listed.
    #[error("the frame has {} error(s):\n{}", .0.total, .0)]
    Import(ImportErrors),
    /// A tier-0 rule names a unit id that is not in the frame.
    #[error("tier-0 list names unknown unit id `{0}`")]
    UnknownTier0Id(String),
    /// A tier-0 rule selects no unit at all.
    #[error("the tier-0 rule selects no unit")]
    EmptyTier0,
}
