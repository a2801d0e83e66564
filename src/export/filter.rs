//! Which interviews an export keeps: by status and by the date their latest revision
//! arrived. The HTTP query (`status`, `from`, `to`) and the CLI flags (`--status`,
//! `--from`, `--to`) are parsed here, so both mean the same thing.

use crate::export::Error;
use crate::store::{InterviewStatus, parse_date_ms};

/// Which interviews to export. The default keeps every interview.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    /// Only interviews in one of these statuses (empty: any status).
    pub statuses: Vec<InterviewStatus>,
    /// Only interviews whose latest revision arrived at or after this time (ms).
    pub from_ms: Option<i64>,
    /// Only interviews whose latest revision arrived before this time (ms).
    pub to_ms: Option<i64>,
}

const DAY_MS: i64 = 86_400_000;

impl Filter {
    /// Parses the filter as the HTTP query and the CLI take it: `status` a comma-separated
    /// list of interview statuses (`completed,approved`), `from` and `to` `YYYY-MM-DD`
    /// dates, both inclusive, in UTC, compared with the latest revision's arrival.
    pub fn parse(
        status: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<Filter, Error> {
        let mut statuses = Vec::new();
        for name in status.into_iter().flat_map(|s| s.split(',')).map(str::trim) {
            if name.is_empty() {
                continue;
            }
            let parsed = InterviewStatus::ALL
                .into_iter()
                .find(|s| s.as_str() == name)
                .ok_or_else(|| {
                    Error::BadFilter(format!(
                        "status {name:?} is not one of {}",
                        InterviewStatus::ALL.map(InterviewStatus::as_str).join(", ")
                    ))
                })?;
            if !statuses.contains(&parsed) {
                statuses.push(parsed);
            }
        }
        let date = |name: &str, value: Option<&str>| -> Result<Option<i64>, Error> {
            value
                .map(|d| {
                    parse_date_ms(d).ok_or_else(|| {
                        Error::BadFilter(format!("{name} {d:?} is not a YYYY-MM-DD date"))
                    })
                })
                .transpose()
        };
        let from_ms = date("from", from)?;
        let to_day = date("to", to)?;
        if let (Some(f), Some(t), Some(from), Some(to)) = (from_ms, to_day, from, to)
            && f > t
        {
            return Err(Error::BadFilter(format!(
                "from {from} is after to {to}; no interview could match"
            )));
        }
        Ok(Filter {
            statuses,
            from_ms,
            // `to` is inclusive: everything before the next day's midnight.
            to_ms: to_day.map(|t| t + DAY_MS),
        })
    }

    /// True when an interview in this status is kept.
    pub fn keeps_status(&self, status: InterviewStatus) -> bool {
        self.statuses.is_empty() || self.statuses.contains(&status)
    }

    /// True when an interview whose latest revision arrived at `ms` is kept.
    pub fn keeps_time(&self, ms: i64) -> bool {
        self.from_ms.is_none_or(|t| ms >= t) && self.to_ms.is_none_or(|t| ms < t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status_lists_and_inclusive_dates() {
        let f = Filter::parse(
            Some("completed, approved,completed"),
            Some("2026-11-01"),
            Some("2026-11-02"),
        )
        .unwrap();
        assert_eq!(
            f.statuses,
            [InterviewStatus::Completed, InterviewStatus::Approved]
        );
        assert!(f.keeps_status(InterviewStatus::Approved));
        assert!(!f.keeps_status(InterviewStatus::Rejected));
        let from = parse_date_ms("2026-11-01").unwrap();
        assert!(!f.keeps_time(from - 1));
        assert!(f.keeps_time(from));
        assert!(f.keeps_time(from + 2 * DAY_MS - 1), "to is inclusive");
        assert!(!f.keeps_time(from + 2 * DAY_MS));
        assert_eq!(Filter::parse(None, None, None).unwrap(), Filter::default());
        assert!(Filter::default().keeps_status(InterviewStatus::Rejected));
    }

    #[test]
    fn refuses_unknown_statuses_bad_dates_and_empty_ranges() {
        let err = Filter::parse(Some("completed,done"), None, None).unwrap_err();
        assert!(err.to_string().contains("\"done\""), "{err}");
        assert!(err.to_string().contains("approved"), "{err}");
        let err = Filter::parse(None, Some("2026-13-01"), None).unwrap_err();
        assert!(err.to_string().contains("from \"2026-13-01\""), "{err}");
        let err = Filter::parse(None, None, Some("yesterday")).unwrap_err();
        assert!(err.to_string().contains("to \"yesterday\""), "{err}");
        let err = Filter::parse(None, Some("2026-11-02"), Some("2026-11-01")).unwrap_err();
        assert!(err.to_string().contains("after"), "{err}");
        assert!(Filter::parse(None, Some("2026-11-01"), Some("2026-11-01")).is_ok());
    }
}
