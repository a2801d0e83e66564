//! The one place where the server meets the questionnaire engine.
//!
//! Draft uploads are linted, drafts are diffed against the latest published version, and
//! submissions are validated through the [`Engine`] trait held in the application state.
//! The server never judges answers itself. [`QuestionnaireEngine`] is the production
//! implementation over `crate::questionnaire` (lint, compile, validate, diff); it compiles
//! each published version once and keeps it, keyed by the definition's content hash.
//!
//! `today()` in a rule means the survey's local date, not UTC: an interview taken at 06:00
//! in Ha Noi (23:00 UTC the day before) is dated by the calendar the enumerator sees. The
//! engine holds the survey's UTC offset ([`UtcOffset`], +07:00 by default, `chainsurvey
//! serve --utc-offset`) and a clock that tests can replace.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use serde::Serialize;
use serde_json::Value;

use crate::questionnaire::expr::Date;
use crate::questionnaire::{self, CompiledQuestionnaire, Diagnostic, Questionnaire};

/// The offset of the survey's local time from UTC, whole minutes in −14:00..=+14:00.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UtcOffset {
    minutes: i32,
}

impl UtcOffset {
    /// Viet Nam (Indochina Time, no daylight saving): the default.
    pub const VIET_NAM: UtcOffset = UtcOffset { minutes: 7 * 60 };
    /// UTC itself.
    pub const UTC: UtcOffset = UtcOffset { minutes: 0 };

    /// An offset of `minutes`, or `None` outside −14:00..=+14:00.
    pub fn from_minutes(minutes: i32) -> Option<UtcOffset> {
        (-14 * 60..=14 * 60)
            .contains(&minutes)
            .then_some(UtcOffset { minutes })
    }

    /// Minutes east of UTC.
    pub fn minutes(self) -> i32 {
        self.minutes
    }

    /// The local calendar date at `epoch_ms` (milliseconds since the Unix epoch).
    pub fn date_at(self, epoch_ms: i64) -> Option<Date> {
        let local_ms = epoch_ms + i64::from(self.minutes) * 60_000;
        Date::from_days(local_ms.div_euclid(86_400_000))
    }
}

impl std::str::FromStr for UtcOffset {
    type Err = String;

    /// `+07:00`, `-03:30`, `+0700`, `Z` or `UTC`.
    fn from_str(text: &str) -> Result<UtcOffset, String> {
        let bad = || {
            format!("{text:?} is not a UTC offset; write it like +07:00 (Viet Nam), -03:30 or Z")
        };
        let text = text.trim();
        if text.eq_ignore_ascii_case("z") || text.eq_ignore_ascii_case("utc") {
            return Ok(UtcOffset::UTC);
        }
        let (sign, rest) = match text.as_bytes().first() {
            Some(b'+') => (1, &text[1..]),
            Some(b'-') => (-1, &text[1..]),
            _ => return Err(bad()),
        };
        let (hours, minutes) = match rest.split_once(':') {
            Some((h, m)) => (h, m),
            None if rest.len() == 4 => rest.split_at(2),
            None => (rest, "00"),
        };
        let digits = |s: &str| {
            (!s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse::<i32>().ok())
                .flatten()
        };
        let (Some(hours), Some(minutes)) = (digits(hours), digits(minutes)) else {
            return Err(bad());
        };
        if minutes >= 60 {
            return Err(bad());
        }
        UtcOffset::from_minutes(sign * (hours * 60 + minutes)).ok_or_else(bad)
    }
}

impl std::fmt::Display for UtcOffset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.minutes < 0 { '-' } else { '+' };
        let abs = self.minutes.abs();
        write!(f, "{sign}{:02}:{:02}", abs / 60, abs % 60)
    }
}

/// Where the engine reads the time: milliseconds since the Unix epoch.
pub type Clock = fn() -> i64;

/// A lint or validation finding, as the questionnaire engine reports it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Finding {
    /// `error` or `warning`.
    pub severity: String,
    pub code: String,
    /// JSON pointer into the questionnaire (lint) or into the answers (validation).
    pub path: String,
    pub message: String,
    /// 1-based column inside an expression, when the finding is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
}

impl Finding {
    /// True for error severity.
    pub fn is_error(&self) -> bool {
        self.severity == "error"
    }
}

/// The identity of a lint-clean draft.
#[derive(Debug, Clone)]
pub struct LintedDraft {
    pub id: String,
    pub version: String,
    /// Warnings the linter reported (a draft with warnings may still be published).
    pub warnings: Vec<Finding>,
}

/// A submission that passed validation.
#[derive(Debug, Clone)]
pub struct Validated {
    pub warnings: Vec<Finding>,
    /// The calculations recomputed by the engine.
    pub calculations: Value,
}

/// Why the engine did not accept something.
#[derive(Debug, Clone)]
pub enum EngineError {
    /// The input has error-severity findings (all findings are included, warnings too).
    Findings(Vec<Finding>),
    /// The engine cannot judge right now (not built into this server).
    Unavailable(String),
}

/// What the server needs from the questionnaire engine.
pub trait Engine: Send + Sync + 'static {
    /// Lints a questionnaire definition; a draft must have no error finding.
    fn lint(&self, definition: &Value) -> Result<LintedDraft, EngineError>;

    /// Classifies the changes from `old` to `new` (compatible or breaking).
    fn diff(&self, old: &Value, new: &Value) -> Result<Value, EngineError>;

    /// Validates `answers` against a published definition. `definition_hash` identifies the
    /// definition so implementations can compile it once and reuse it.
    fn validate(
        &self,
        definition_hash: &str,
        definition: &str,
        answers: &Value,
        lang: &str,
    ) -> Result<Validated, EngineError>;
}

/// The questionnaire engine of this crate behind the [`Engine`] trait.
pub struct QuestionnaireEngine {
    /// Compiled versions by definition hash. A std mutex: held only for a map lookup or
    /// insert, never while compiling or validating.
    compiled: Mutex<HashMap<String, Arc<CompiledQuestionnaire>>>,
    /// The survey's local time, for `today()`.
    offset: UtcOffset,
    clock: Clock,
}

impl Default for QuestionnaireEngine {
    fn default() -> Self {
        QuestionnaireEngine::with_local_time(UtcOffset::VIET_NAM, crate::store::now_ms)
    }
}

impl QuestionnaireEngine {
    /// An engine with an empty compile cache, dating interviews in Viet Nam's local time.
    pub fn new() -> Self {
        Self::default()
    }

    /// An engine whose `today()` is the date at `offset` from UTC, read from `clock`
    /// (tests pass a fixed clock; the server passes the system clock).
    pub fn with_local_time(offset: UtcOffset, clock: Clock) -> Self {
        QuestionnaireEngine {
            compiled: Mutex::default(),
            offset,
            clock,
        }
    }

    /// The survey's local date now: what `today()` means in rules.
    pub fn local_date(&self) -> Option<Date> {
        self.offset.date_at((self.clock)())
    }

    fn compiled(
        &self,
        hash: &str,
        definition: &str,
    ) -> Result<Arc<CompiledQuestionnaire>, EngineError> {
        if let Some(found) = self.lock().get(hash) {
            return Ok(Arc::clone(found));
        }
        let parsed = Questionnaire::parse(definition).map_err(findings)?;
        let compiled = Arc::new(questionnaire::compile(&parsed).map_err(findings)?);
        self.lock().insert(hash.to_owned(), Arc::clone(&compiled));
        Ok(compiled)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<CompiledQuestionnaire>>> {
        // The map holds only finished compilations; a panic elsewhere cannot corrupt it.
        self.compiled.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn finding(d: &Diagnostic) -> Finding {
    Finding {
        severity: d.severity.as_str().to_owned(),
        code: d.code.to_owned(),
        path: d.path.clone(),
        message: d.message.clone(),
        column: d.column,
    }
}

fn findings(diagnostics: Vec<Diagnostic>) -> EngineError {
    EngineError::Findings(diagnostics.iter().map(finding).collect())
}

impl Engine for QuestionnaireEngine {
    fn lint(&self, definition: &Value) -> Result<LintedDraft, EngineError> {
        let parsed = Questionnaire::from_value(definition).map_err(findings)?;
        let diagnostics = questionnaire::lint(&parsed);
        if questionnaire::has_errors(&diagnostics) {
            return Err(findings(diagnostics));
        }
        // Compiling catches what only the compiler sees (e.g. dependency cycles).
        questionnaire::compile(&parsed).map_err(findings)?;
        Ok(LintedDraft {
            id: parsed.id,
            version: parsed.version,
            warnings: diagnostics.iter().map(finding).collect(),
        })
    }

    fn diff(&self, old: &Value, new: &Value) -> Result<Value, EngineError> {
        let old = Questionnaire::from_value(old).map_err(findings)?;
        let new = Questionnaire::from_value(new).map_err(findings)?;
        let report = questionnaire::diff(&old, &new);
        Ok(serde_json::to_value(report).unwrap_or(Value::Null))
    }

    fn validate(
        &self,
        definition_hash: &str,
        definition: &str,
        answers: &Value,
        lang: &str,
    ) -> Result<Validated, EngineError> {
        let compiled = self.compiled(definition_hash, definition)?;
        let today = self.local_date().ok_or_else(|| {
            EngineError::Unavailable(
                "the server clock is outside the supported calendar range".to_owned(),
            )
        })?;
        let report = questionnaire::validate_on(&compiled, answers, lang, today);
        if report.has_errors() {
            return Err(findings(report.findings));
        }
        Ok(Validated {
            warnings: report.findings.iter().map(finding).collect(),
            calculations: report.calculations,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_parse_and_print() {
        assert_eq!("+07:00".parse(), Ok(UtcOffset::VIET_NAM));
        assert_eq!("+0700".parse(), Ok(UtcOffset::VIET_NAM));
        assert_eq!("+7".parse(), Ok(UtcOffset::VIET_NAM));
        assert_eq!("Z".parse(), Ok(UtcOffset::UTC));
        assert_eq!(
            "-03:30".parse::<UtcOffset>().map(UtcOffset::minutes),
            Ok(-210)
        );
        assert_eq!(UtcOffset::VIET_NAM.to_string(), "+07:00");
        assert_eq!(
            UtcOffset::from_minutes(-210).map(|o| o.to_string()),
            Some("-03:30".into())
        );
        for bad in ["07:00", "+15:00", "+07:60", "+x", "", "+07:0a", "+123:00"] {
            let err = bad.parse::<UtcOffset>().unwrap_err();
            assert!(err.contains("UTC offset"), "{bad}: {err}");
        }
    }

    #[test]
    fn the_local_date_changes_at_local_midnight() {
        // 2026-11-21T16:59:59Z is 23:59:59 in Viet Nam; one second later it is the 22nd.
        let before = 1_795_280_399_000;
        let vn = UtcOffset::VIET_NAM;
        assert_eq!(vn.date_at(before), Date::from_ymd(2026, 11, 21));
        assert_eq!(vn.date_at(before + 1000), Date::from_ymd(2026, 11, 22));
        assert_eq!(
            UtcOffset::UTC.date_at(before + 1000),
            Date::from_ymd(2026, 11, 21)
        );
        // West of UTC the local date lags.
        let west = UtcOffset::from_minutes(-5 * 60).unwrap();
        assert_eq!(
            west.date_at(1_795_314_026_000 - 3 * 3_600_000),
            Date::from_ymd(2026, 11, 21)
        );
    }
}
