//! Values and the coercions between them.
//!
//! There is one notion of "no value": [`Value::Empty`]. Skipped questions, don't-know and
//! refused answers, the empty string, an empty select_multiple, a text that is not a number
//! when a number is needed, a division by zero: all of them are `Empty`. XPath would produce
//! `NaN` or `""` in these places; having a single empty state makes the rules simple to
//! state and identical in the Rust and JavaScript evaluators. Numbers are therefore always
//! finite.

use std::borrow::Cow;

use crate::questionnaire::expr::date::{Date, DateTime};

/// A geographic point as answered to a `geopoint` question.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeoPoint {
    /// Latitude in degrees.
    pub lat: f64,
    /// Longitude in degrees.
    pub lon: f64,
    /// Altitude in metres, when recorded.
    pub alt: Option<f64>,
    /// Accuracy in metres, when recorded.
    pub accuracy: Option<f64>,
}

/// The result of evaluating an expression (owned).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// No value (see the module documentation for everything that becomes empty).
    Empty,
    /// A boolean, from comparisons, `and`, `or`, `not()`, `selected()`, ….
    Bool(bool),
    /// A finite number (integer and decimal answers alike).
    Number(f64),
    /// A non-empty text (select_one answers are texts: the choice `value`).
    Text(String),
    /// A calendar date.
    Date(Date),
    /// An instant with its UTC offset.
    DateTime(DateTime),
    /// A non-empty select_multiple answer: the chosen values in answer order.
    Multi(Vec<String>),
    /// A geopoint answer.
    GeoPoint(GeoPoint),
}

/// A borrowed view of one answer, as a [`crate::questionnaire::expr::Scope`] hands it to the
/// evaluator. Borrowing lets evaluation read text and select_multiple answers without
/// copying them.
///
/// Unlike [`Value`], it distinguishes the two missing-answer states, so that
/// `is-dont-know()` and `is-refused()` can see them; everywhere else they are empty.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    /// Skipped, not answered, or not present.
    Empty,
    /// Answered "don't know" (`{"missing": "dont_know"}`).
    DontKnow,
    /// Refused (`{"missing": "refused"}`).
    Refused,
    /// A boolean.
    Bool(bool),
    /// A number; a non-finite number is treated as empty.
    Number(f64),
    /// A text; the empty string is treated as empty.
    Text(&'a str),
    /// A date.
    Date(Date),
    /// A date-time.
    DateTime(DateTime),
    /// A select_multiple answer; an empty list is treated as empty.
    Multi(&'a [String]),
    /// A geopoint.
    GeoPoint(GeoPoint),
}

/// The evaluator's working value: like [`Value`] but able to borrow texts from the
/// expression and the scope. Invariants: `Text` is never empty, `Multi` never empty,
/// `Number` always finite.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val<'a> {
    Empty,
    Bool(bool),
    Number(f64),
    Text(Cow<'a, str>),
    Date(Date),
    DateTime(DateTime),
    Multi(Cow<'a, [String]>),
    /// Boxed: geopoints are rare in expressions, and a small `Val` keeps evaluation fast.
    GeoPoint(Box<GeoPoint>),
}

impl<'a> ValueRef<'a> {
    /// Whether this answer carries no value (empty, don't know or refused).
    pub fn is_empty(&self) -> bool {
        matches!(self.to_val(), Val::Empty)
    }

    #[inline]
    pub(crate) fn to_val(self) -> Val<'a> {
        match self {
            ValueRef::Empty | ValueRef::DontKnow | ValueRef::Refused => Val::Empty,
            ValueRef::Bool(b) => Val::Bool(b),
            ValueRef::Number(x) => Val::number(x),
            ValueRef::Text(s) => Val::text(Cow::Borrowed(s)),
            ValueRef::Date(d) => Val::Date(d),
            ValueRef::DateTime(t) => Val::DateTime(t),
            ValueRef::Multi([]) => Val::Empty,
            ValueRef::Multi(items) => Val::Multi(Cow::Borrowed(items)),
            ValueRef::GeoPoint(p) => Val::GeoPoint(Box::new(p)),
        }
    }
}

impl Value {
    /// Whether this is [`Value::Empty`].
    pub fn is_empty(&self) -> bool {
        matches!(self, Value::Empty)
    }

    /// Truth value: empty → false; a boolean is itself; a number is true unless 0; a text,
    /// date, date-time, select_multiple or geopoint (all non-empty by construction) → true.
    pub fn to_bool(&self) -> bool {
        self.as_val().to_bool()
    }

    /// Numeric value: a number is itself; true → 1, false → 0; a text is parsed as an
    /// XPath number (optional `-`, digits, optional `.` and digits; surrounding whitespace
    /// allowed; no exponent); a date → days since 1970-01-01; a date-time → fractional
    /// days since 1970-01-01T00:00Z. Everything else, and unparsable text, → `None`.
    pub fn to_number(&self) -> Option<f64> {
        self.as_val().to_number()
    }

    /// Text value: empty → `""`; booleans → `true`/`false`; numbers → shortest decimal
    /// that reads back to the same number, without exponent, `-0` as `0`; dates →
    /// `YYYY-MM-DD`; date-times → RFC 3339 in their own offset (`Z` for UTC);
    /// select_multiple → values joined by one space; geopoints → `lat lon alt accuracy`.
    pub fn to_text(&self) -> String {
        self.as_val().to_text().into_owned()
    }

    pub(crate) fn as_val(&self) -> Val<'_> {
        match self {
            Value::Empty => Val::Empty,
            Value::Bool(b) => Val::Bool(*b),
            Value::Number(x) => Val::number(*x),
            Value::Text(s) => Val::text(Cow::Borrowed(s.as_str())),
            Value::Date(d) => Val::Date(*d),
            Value::DateTime(t) => Val::DateTime(*t),
            Value::Multi(items) if items.is_empty() => Val::Empty,
            Value::Multi(items) => Val::Multi(Cow::Borrowed(items.as_slice())),
            Value::GeoPoint(p) => Val::GeoPoint(Box::new(*p)),
        }
    }
}

impl<'a> Val<'a> {
    /// A number, or empty when not finite (so no NaN or infinity ever escapes).
    pub(crate) fn number(x: f64) -> Val<'a> {
        if x.is_finite() {
            Val::Number(if x == 0.0 { 0.0 } else { x })
        } else {
            Val::Empty
        }
    }

    /// A text, or empty for the empty string.
    pub(crate) fn text(s: Cow<'a, str>) -> Val<'a> {
        if s.is_empty() {
            Val::Empty
        } else {
            Val::Text(s)
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        matches!(self, Val::Empty)
    }

    pub(crate) fn to_bool(&self) -> bool {
        match self {
            Val::Empty => false,
            Val::Bool(b) => *b,
            Val::Number(x) => *x != 0.0,
            Val::Text(_) | Val::Date(_) | Val::DateTime(_) | Val::Multi(_) | Val::GeoPoint(_) => {
                true
            }
        }
    }

    pub(crate) fn to_number(&self) -> Option<f64> {
        match self {
            Val::Empty | Val::Multi(_) | Val::GeoPoint(_) => None,
            Val::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
            Val::Number(x) => Some(*x),
            Val::Text(s) => parse_number(s),
            Val::Date(d) => Some(d.days() as f64),
            Val::DateTime(t) => Some(t.epoch_days()),
        }
    }

    pub(crate) fn to_text(&self) -> Cow<'a, str> {
        match self {
            Val::Empty => Cow::Borrowed(""),
            Val::Bool(true) => Cow::Borrowed("true"),
            Val::Bool(false) => Cow::Borrowed("false"),
            Val::Number(x) => Cow::Owned(format_number(*x)),
            Val::Text(s) => s.clone(),
            Val::Date(d) => Cow::Owned(d.to_string()),
            Val::DateTime(t) => Cow::Owned(t.to_string()),
            Val::Multi(items) => Cow::Owned(items.join(" ")),
            Val::GeoPoint(p) => {
                let mut text = format!("{} {}", format_number(p.lat), format_number(p.lon));
                for part in [p.alt, p.accuracy] {
                    text.push(' ');
                    text.push_str(&format_number(part.unwrap_or(0.0)));
                }
                Cow::Owned(text)
            }
        }
    }

    /// A date view: a date is itself; a date-time is its local calendar date; a text in `YYYY-MM-DD` form is parsed; a number is
    /// taken as whole days since 1970-01-01 (floored).
    pub(crate) fn to_date(&self) -> Option<Date> {
        match self {
            Val::Date(d) => Some(*d),
            Val::DateTime(t) => t.local_date(),
            Val::Text(s) => Date::parse(s.trim()),
            Val::Number(x) => Date::from_days(x.floor() as i64),
            _ => None,
        }
    }

    pub(crate) fn into_owned(self) -> Value {
        match self {
            Val::Empty => Value::Empty,
            Val::Bool(b) => Value::Bool(b),
            Val::Number(x) => Value::Number(x),
            Val::Text(s) => Value::Text(s.into_owned()),
            Val::Date(d) => Value::Date(d),
            Val::DateTime(t) => Value::DateTime(t),
            Val::Multi(items) => Value::Multi(items.into_owned()),
            Val::GeoPoint(p) => Value::GeoPoint(*p),
        }
    }
}

/// Parses an XPath number: optional surrounding whitespace, optional `-`, then
/// `digits[.digits]` or `.digits`. No `+`, exponent, `Infinity` or `NaN`.
pub fn parse_number(text: &str) -> Option<f64> {
    let trimmed = text.trim_matches([' ', '\t', '\n', '\r']);
    let unsigned = trimmed.strip_prefix('-').unwrap_or(trimmed);
    let (int_part, frac_part) = match unsigned.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (unsigned, None),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let valid = all_digits(int_part)
        && frac_part.is_none_or(all_digits)
        && (!int_part.is_empty() || frac_part.is_some_and(|f| !f.is_empty()));
    if !valid {
        return None;
    }
    trimmed.parse::<f64>().ok().filter(|x| x.is_finite())
}

/// Formats a finite number as the shortest decimal that reads back to the same `f64`,
/// never with an exponent; integers print without a decimal point and `-0` prints as `0`.
pub fn format_number(x: f64) -> String {
    if x == 0.0 {
        return "0".to_string();
    }
    // Rust's `Display` for f64 is the shortest round-trip representation without exponent.
    format!("{x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_parse_like_xpath() {
        assert_eq!(parse_number(" 12 "), Some(12.0));
        assert_eq!(parse_number("-1.5"), Some(-1.5));
        assert_eq!(parse_number(".5"), Some(0.5));
        assert_eq!(parse_number("5."), Some(5.0));
        for bad in [
            "", "-", ".", "1e3", "+1", "abc", "1.2.3", "NaN", "inf", "- 1",
        ] {
            assert_eq!(parse_number(bad), None, "{bad}");
        }
    }

    #[test]
    fn numbers_format_shortest() {
        assert_eq!(format_number(15.0), "15");
        assert_eq!(format_number(-0.0), "0");
        assert_eq!(format_number(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(format_number(1e21), "1000000000000000000000");
        assert_eq!(format_number(2.5), "2.5");
    }
}
