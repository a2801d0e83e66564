//! A calendar date (proleptic Gregorian), enough for effective-date lookups of legal
//! parameters. Parsing is strict: `YYYY-MM-DD` with a real day of the month.

use std::fmt;

/// A calendar date; ordering is chronological.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CivilDate {
    year: i32,
    month: u8,
    day: u8,
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
            if leap { 29 } else { 28 }
        }
    }
}

impl CivilDate {
    /// A date from its parts, or `None` if it does not exist.
    pub fn new(year: i32, month: u8, day: u8) -> Option<CivilDate> {
        if (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month) {
            Some(CivilDate { year, month, day })
        } else {
            None
        }
    }

    /// Parses `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Option<CivilDate> {
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return None;
        }
        let year = text[0..4].parse().ok()?;
        let month = text[5..7].parse().ok()?;
        let day = text[8..10].parse().ok()?;
        CivilDate::new(year, month, day)
    }

    pub fn year(self) -> i32 {
        self.year
    }
}

impl fmt::Display for CivilDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}
