//! `format-date()` patterns: a documented subset of ODK's `%` directives.
//!
//! The output is ASCII except for the pattern's own literal characters: numbers are ASCII
//! digits, and the only names (`%a`, `%b`) are English abbreviations, whatever the
//! interview language. Localised month and day names would make the same expression give
//! different texts (and different rule outcomes) in the server and in each browser; a
//! designer who needs them writes `if()` over `%m`.
//!
//! What this deliberately does not do: ODK's `%h` (unpadded hour), `%3` (milliseconds) and
//! `%W`, locale-dependent names, or padding flags. An unknown directive is an error (the
//! `format` code), found when the expression is parsed for a literal pattern.

/// The calendar and clock fields a pattern can print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DateParts {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    /// 0 = Sunday … 6 = Saturday.
    pub weekday: u32,
    pub hour: i64,
    pub minute: i64,
    pub second: i64,
}

impl DateParts {
    /// The parts of a date (time 00:00:00).
    pub(crate) fn of_date(date: crate::questionnaire::expr::date::Date) -> DateParts {
        let (year, month, day) = date.ymd();
        DateParts {
            year,
            month,
            day,
            weekday: weekday_of(date.days()),
            hour: 0,
            minute: 0,
            second: 0,
        }
    }

    /// The parts of a date-time read in its own offset (as it was recorded).
    pub(crate) fn of_datetime(
        instant: crate::questionnaire::expr::date::DateTime,
    ) -> Option<DateParts> {
        let local = instant.epoch_millis() + i64::from(instant.offset_minutes()) * 60_000;
        let days = local.div_euclid(86_400_000);
        let in_day = local.rem_euclid(86_400_000) / 1000;
        let date = crate::questionnaire::expr::date::Date::from_days(days)?;
        Some(DateParts {
            hour: in_day / 3600,
            minute: in_day / 60 % 60,
            second: in_day % 60,
            ..DateParts::of_date(date)
        })
    }
}

/// Day of the week of a day number: 1970-01-01 was a Thursday (4).
fn weekday_of(days: i64) -> u32 {
    (days + 4).rem_euclid(7) as u32
}

const DAY_NAMES: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTH_NAMES: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The directives, for messages.
const DIRECTIVES: &str = "%Y %y %m %n %d %e %H %M %S %a %b %%";

/// Checks a pattern without formatting anything (literal patterns, at parse time).
/// The error is a sentence naming the bad directive.
pub(crate) fn check_pattern(pattern: &str) -> Result<(), String> {
    let epoch = DateParts::of_date(crate::questionnaire::expr::date::Date::EPOCH);
    format(pattern, &epoch).map(drop)
}

/// Formats `parts` by `pattern`: `%Y` four-digit year, `%y` two-digit year, `%m` month
/// 01–12, `%n` month 1–12, `%d` day 01–31, `%e` day 1–31, `%H` hour 00–23, `%M` minute,
/// `%S` second, `%a` English day abbreviation (`Mon`), `%b` English month abbreviation
/// (`Jan`), `%%` a `%`. Every other character is copied.
pub(crate) fn format(pattern: &str, parts: &DateParts) -> Result<String, String> {
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(directive) = chars.next() else {
            return Err(format!(
                "the pattern ends with a lone '%' (write %% for a percent sign; directives: \
                 {DIRECTIVES})"
            ));
        };
        // Writing into a String cannot fail.
        use std::fmt::Write as _;
        let _ = match directive {
            'Y' => write!(out, "{:04}", parts.year),
            'y' => write!(out, "{:02}", parts.year.rem_euclid(100)),
            'm' => write!(out, "{:02}", parts.month),
            'n' => write!(out, "{}", parts.month),
            'd' => write!(out, "{:02}", parts.day),
            'e' => write!(out, "{}", parts.day),
            'H' => write!(out, "{:02}", parts.hour),
            'M' => write!(out, "{:02}", parts.minute),
            'S' => write!(out, "{:02}", parts.second),
            'a' => write!(out, "{}", DAY_NAMES[parts.weekday as usize % 7]),
            'b' => write!(
                out,
                "{}",
                MONTH_NAMES[(parts.month as usize).saturating_sub(1) % 12]
            ),
            '%' => write!(out, "%"),
            other => {
                return Err(format!(
                    "unknown directive %{other} (directives: {DIRECTIVES})"
                ));
            }
        };
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::questionnaire::expr::date::{Date, DateTime};

    #[test]
    fn directives_print_the_documented_fields() {
        let date = Date::parse("2026-03-01").expect("a date");
        let parts = DateParts::of_date(date);
        assert_eq!(
            format("%Y-%m-%d %e/%n/%y %a %b %H:%M:%S %%", &parts).as_deref(),
            Ok("2026-03-01 1/3/26 Sun Mar 00:00:00 %")
        );
        let t = DateTime::parse("2026-03-01T01:05:09-07:00").expect("a datetime");
        let parts = DateParts::of_datetime(t).expect("in range");
        assert_eq!(
            format("%a %e %b %Y %H:%M:%S", &parts).as_deref(),
            Ok("Sun 1 Mar 2026 01:05:09")
        );
        assert_eq!(
            format(
                "%Y",
                &DateParts::of_date(Date::from_days(-719_162).expect("0001"))
            )
            .as_deref(),
            Ok("0001")
        );
        assert!(format("%q", &parts).is_err());
        assert!(format("100%", &parts).is_err());
        assert!(check_pattern("ngày %d tháng %m").is_ok());
    }

    #[test]
    fn weekdays_over_a_full_cycle() {
        // 2024-01-01 was a Monday.
        let monday = Date::parse("2024-01-01").expect("a date").days();
        for offset in 0..14 {
            let parts = DateParts::of_date(Date::from_days(monday + offset).expect("a date"));
            assert_eq!(parts.weekday, ((1 + offset) % 7) as u32);
        }
    }
}
