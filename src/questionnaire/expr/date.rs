//! Calendar dates and instants, with the arithmetic the expression language needs.
//!
//! Dates are proleptic Gregorian days counted from 1970-01-01 (day 0), the same origin ODK
//! uses when it turns a date into a number. We carry our own small implementation (the
//! classic days-from-civil conversion) rather than a date crate: the language needs parsing
//! of `YYYY-MM-DD` and RFC 3339, day arithmetic and formatting, nothing more.

/// A calendar date, stored as days since 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    days: i32,
}

/// The first and last supported years: four-digit years only, as in `YYYY-MM-DD`.
const MIN_YEAR: i64 = 1;
const MAX_YEAR: i64 = 9999;

impl Date {
    /// 1970-01-01, day 0.
    pub const EPOCH: Date = Date { days: 0 };

    /// The date `days` days after 1970-01-01, if its year is within 0001–9999.
    pub fn from_days(days: i64) -> Option<Date> {
        // 0001-01-01 is day -719,162 and 9999-12-31 day 2,932,896; checking the range first
        // also keeps the calendar arithmetic below far from overflow.
        if !(-719_162..=2_932_896).contains(&days) {
            return None;
        }
        let (year, _, _) = civil_from_days(days);
        if (MIN_YEAR..=MAX_YEAR).contains(&year) {
            Some(Date { days: days as i32 })
        } else {
            None
        }
    }

    /// The date with this year, month (1–12) and day (1–31), if it exists.
    pub fn from_ymd(year: i64, month: u32, day: u32) -> Option<Date> {
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) || !(1..=12).contains(&month) || day == 0 {
            return None;
        }
        if day > days_in_month(year, month) {
            return None;
        }
        Date::from_days(days_from_civil(year, month, day))
    }

    /// Parses exactly `YYYY-MM-DD` (a real calendar date).
    pub fn parse(text: &str) -> Option<Date> {
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return None;
        }
        let year = digits(&bytes[0..4])?;
        let month = digits(&bytes[5..7])?;
        let day = digits(&bytes[8..10])?;
        Date::from_ymd(year, month as u32, day as u32)
    }

    /// Days since 1970-01-01 (negative before).
    pub fn days(self) -> i64 {
        i64::from(self.days)
    }

    /// (year, month, day).
    pub fn ymd(self) -> (i64, u32, u32) {
        civil_from_days(self.days())
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

/// An instant with the UTC offset it was recorded in (RFC 3339).
///
/// Comparison and arithmetic use the instant; the offset is kept only to print the value
/// the way it was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateTime {
    millis: i64,
    offset_minutes: i16,
}

impl DateTime {
    /// Parses RFC 3339: `YYYY-MM-DDTHH:MM[:SS[.fff]](Z|±HH:MM)`. A lower-case `t`/`z` or a
    /// space instead of `T` is accepted; the offset is required.
    pub fn parse(text: &str) -> Option<DateTime> {
        let bytes = text.as_bytes();
        if bytes.len() < 17 || !matches!(bytes[10], b'T' | b't' | b' ') || bytes[13] != b':' {
            return None;
        }
        let date = Date::parse(text.get(0..10)?)?;
        let hour = digits(&bytes[11..13])?;
        let minute = digits(&bytes[14..16])?;
        let mut pos = 16;
        let mut second = 0;
        let mut millis = 0;
        if bytes.get(pos) == Some(&b':') {
            second = digits(bytes.get(pos + 1..pos + 3)?)?;
            pos += 3;
            if bytes.get(pos) == Some(&b'.') {
                pos += 1;
                let start = pos;
                while bytes.get(pos).is_some_and(u8::is_ascii_digit) {
                    pos += 1;
                }
                if pos == start {
                    return None;
                }
                // Milliseconds: the first three fraction digits, padded.
                let mut scale = 100;
                for &b in &bytes[start..pos.min(start + 3)] {
                    millis += i64::from(b - b'0') * scale;
                    scale /= 10;
                }
            }
        }
        if hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        let offset_minutes: i64 = match bytes.get(pos)? {
            b'Z' | b'z' if pos + 1 == bytes.len() => 0,
            sign @ (b'+' | b'-') if pos + 6 == bytes.len() && bytes[pos + 3] == b':' => {
                let oh = digits(&bytes[pos + 1..pos + 3])?;
                let om = digits(&bytes[pos + 4..pos + 6])?;
                if oh > 23 || om > 59 {
                    return None;
                }
                let total = oh * 60 + om;
                if *sign == b'-' { -total } else { total }
            }
            _ => return None,
        };
        let local_seconds = date.days() * 86_400 + hour * 3600 + minute * 60 + second;
        let utc_millis = (local_seconds - offset_minutes * 60) * 1000 + millis;
        Some(DateTime {
            millis: utc_millis,
            offset_minutes: offset_minutes as i16,
        })
    }

    /// The instant as milliseconds since 1970-01-01T00:00:00Z.
    pub fn epoch_millis(self) -> i64 {
        self.millis
    }

    /// The UTC offset in minutes the value was recorded in.
    pub fn offset_minutes(self) -> i16 {
        self.offset_minutes
    }

    /// The calendar date in the value's own offset (`2026-03-01T01:00:00+07:00` is
    /// 2026-03-01 even though it is still 2026-02-28 in UTC).
    pub fn local_date(self) -> Option<Date> {
        let local = self.millis + i64::from(self.offset_minutes) * 60_000;
        Date::from_days(local.div_euclid(86_400_000))
    }

    /// The instant as (fractional) days since 1970-01-01T00:00:00Z.
    pub fn epoch_days(self) -> f64 {
        self.millis as f64 / 86_400_000.0
    }

    /// The same instant shifted by `millis`, keeping the offset; `None` outside 0001–9999.
    pub fn plus_millis(self, millis: i64) -> Option<DateTime> {
        let shifted = self.millis.checked_add(millis)?;
        Date::from_days(shifted.div_euclid(86_400_000))?;
        Some(DateTime {
            millis: shifted,
            offset_minutes: self.offset_minutes,
        })
    }
}

impl std::fmt::Display for DateTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let local = self.millis + i64::from(self.offset_minutes) * 60_000;
        let days = local.div_euclid(86_400_000);
        let in_day = local.rem_euclid(86_400_000);
        let (y, mo, d) = civil_from_days(days);
        let (h, mi, s, ms) = (
            in_day / 3_600_000,
            in_day / 60_000 % 60,
            in_day / 1000 % 60,
            in_day % 1000,
        );
        write!(f, "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}")?;
        if ms != 0 {
            write!(f, ".{ms:03}")?;
        }
        if self.offset_minutes == 0 {
            f.write_str("Z")
        } else {
            let sign = if self.offset_minutes < 0 { '-' } else { '+' };
            let abs = self.offset_minutes.unsigned_abs();
            write!(f, "{sign}{:02}:{:02}", abs / 60, abs % 60)
        }
    }
}

impl PartialOrd for DateTime {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for DateTime {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.millis
            .cmp(&other.millis)
            .then(self.offset_minutes.cmp(&other.offset_minutes))
    }
}

fn digits(bytes: &[u8]) -> Option<i64> {
    let mut value = 0i64;
    for &b in bytes {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value * 10 + i64::from(b - b'0');
    }
    Some(value)
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date. Works in 400-year eras of 146,097
/// days, with years starting in March so that the leap day is the last day of a year.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = i64::from((month + 9) % 12);
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month as u32, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip_over_many_years() {
        for days in (-719_162..2_932_896).step_by(97) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
        assert_eq!(Date::parse("1970-01-01").map(Date::days), Some(0));
        assert_eq!(Date::parse("2000-03-01").map(Date::days), Some(11_017));
        assert_eq!(
            Date::parse("2024-02-29").map(|d| d.to_string()).as_deref(),
            Some("2024-02-29")
        );
        assert_eq!(Date::parse("2023-02-29"), None);
        assert_eq!(Date::parse("2023-13-01"), None);
        assert_eq!(Date::from_days(i64::MAX), None);
        assert_eq!(Date::from_days(i64::MIN), None);
        assert_eq!(
            Date::from_days(2_932_896).map(|d| d.to_string()).as_deref(),
            Some("9999-12-31")
        );
        assert_eq!(
            Date::from_days(-719_162).map(|d| d.to_string()).as_deref(),
            Some("0001-01-01")
        );
        assert_eq!(Date::from_days(2_932_897), None);
    }

    #[test]
    fn datetime_parse_and_print() {
        let t = DateTime::parse("2026-03-01T09:30:00+07:00").unwrap();
        assert_eq!(
            t.epoch_millis(),
            (20_513 * 86_400 + 2 * 3600 + 30 * 60) * 1000
        );
        assert_eq!(t.to_string(), "2026-03-01T09:30:00+07:00");
        let z = DateTime::parse("2026-03-01T02:30:00.5Z").unwrap();
        assert_eq!(z.to_string(), "2026-03-01T02:30:00.500Z");
        assert_eq!(DateTime::parse("2026-03-01T09:30"), None);
        assert_eq!(DateTime::parse("2026-03-01T24:00:00Z"), None);
    }
}
