//! The 2025 province merger as data: GSO 2004 codes (63 provinces) to the 34 provinces of
//! Resolution 202/2025/QH15, effective 1 July 2025.
//!
//! The table is `data/provinces_2025.csv`, embedded at compile time so that a frame can be
//! checked without any file next to the binary. New-province codes follow the rule "the new
//! province keeps the code of the province hosting its administrative centre"
//! (`vietnam-electronics.md` §6.2 says to verify them against Decision 19/2025/QĐ-TTg); they
//! are data, so a correction is an edit of the CSV, not of code.

use std::sync::LazyLock;

/// The embedded crosswalk table (CSV with a header row).
pub const CROSSWALK_CSV: &str = include_str!("data/provinces_2025.csv");

/// One row of the crosswalk: a pre-2025 province and the province it belongs to from
/// `effective_from`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProvinceChange {
    pub code_2004: String,
    pub name_2004: String,
    pub code_2025: String,
    pub name_2025: String,
    /// First day the 2025 code applies.
    pub effective_from: IsoDate,
    pub legal_basis: String,
}

/// A calendar date `YYYY-MM-DD`, compared chronologically.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IsoDate {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl IsoDate {
    /// Parses `YYYY-MM-DD` (month 1–12, day 1–31); `None` otherwise.
    pub fn parse(text: &str) -> Option<IsoDate> {
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return None;
        }
        let year: u16 = text[0..4].parse().ok()?;
        let month: u8 = text[5..7].parse().ok()?;
        let day: u8 = text[8..10].parse().ok()?;
        ((1..=12).contains(&month) && (1..=31).contains(&day)).then_some(IsoDate {
            year,
            month,
            day,
        })
    }
}

impl std::fmt::Display for IsoDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

static CROSSWALK: LazyLock<Vec<ProvinceChange>> = LazyLock::new(|| parse_crosswalk(CROSSWALK_CSV));

/// Parses a crosswalk table with the columns of `data/provinces_2025.csv`. Rows that do not
/// parse are skipped; the embedded table is checked by a test to parse completely.
pub fn parse_crosswalk(text: &str) -> Vec<ProvinceChange> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            if fields.len() != 6 {
                return None;
            }
            Some(ProvinceChange {
                code_2004: fields[0].to_string(),
                name_2004: fields[1].to_string(),
                code_2025: fields[2].to_string(),
                name_2025: fields[3].to_string(),
                effective_from: IsoDate::parse(fields[4])?,
                legal_basis: fields[5].to_string(),
            })
        })
        .collect()
}

/// Every row of the embedded crosswalk (63 rows, one per pre-2025 province).
pub fn crosswalk() -> &'static [ProvinceChange] {
    &CROSSWALK
}

/// The crosswalk row of pre-2025 province `code_2004`.
pub fn province_change(code_2004: &str) -> Option<&'static ProvinceChange> {
    CROSSWALK.iter().find(|row| row.code_2004 == code_2004)
}

/// Is `code` one of the 63 pre-2025 GSO province codes?
pub fn is_province_2004(code: &str) -> bool {
    province_change(code).is_some()
}

/// Is `code` one of the 34 post-merger province codes?
pub fn is_province_2025(code: &str) -> bool {
    CROSSWALK.iter().any(|row| row.code_2025 == code)
}

/// The province code in force on `date` for a unit registered in pre-2025 province
/// `code_2004`: the old code before the merger's effective date, the new one from it.
pub fn province_on(code_2004: &str, date: IsoDate) -> Option<&'static str> {
    let row = province_change(code_2004)?;
    Some(if date < row.effective_from {
        row.code_2004.as_str()
    } else {
        row.code_2025.as_str()
    })
}
