//! Decoding one answer from JSON by question type, and the states an answer can be in.
//!
//! The JSON encoding (see `docs/questionnaire-format.md`, "Answers"): an absent key or `null`
//! is *skipped*; `{"missing": "dont_know"}` and `{"missing": "refused"}` are the two explicit
//! non-answers; anything else is the value, which must match the question's type.

use serde_json::Value as Json;

use crate::questionnaire::expr::{Date, DateTime, GeoPoint, Value, ValueRef};
use crate::questionnaire::model::QuestionType;
use crate::questionnaire::parse::describe;

/// The state of one answer (or computed value) during validation.
#[derive(Debug, Clone, PartialEq)]
pub enum Slot<'a> {
    /// Skipped, not answered, not relevant, or not (yet) computed.
    Empty,
    /// Present but unusable (wrong type, malformed): already reported, and empty for every
    /// expression that reads it. Kept apart from `Empty` so that it does not also produce
    /// `required_missing` or `not_relevant`.
    Invalid,
    /// `{"missing": "dont_know"}`.
    DontKnow,
    /// `{"missing": "refused"}`.
    Refused,
    /// A text or select_one answer, borrowed from the answers JSON.
    Text(&'a str),
    /// An integer or decimal answer.
    Number(f64),
    /// A date answer.
    Date(Date),
    /// A datetime answer.
    DateTime(DateTime),
    /// A select_multiple answer (values in answer order).
    Multi(Vec<String>),
    /// A geopoint answer.
    GeoPoint(GeoPoint),
    /// A value computed by a calculation.
    Computed(Value),
}

impl Slot<'_> {
    /// The view the expression evaluator reads.
    #[inline]
    pub fn as_value_ref(&self) -> ValueRef<'_> {
        match self {
            Slot::Empty | Slot::Invalid => ValueRef::Empty,
            Slot::DontKnow => ValueRef::DontKnow,
            Slot::Refused => ValueRef::Refused,
            Slot::Text(s) => ValueRef::Text(s),
            Slot::Number(x) => ValueRef::Number(*x),
            Slot::Date(d) => ValueRef::Date(*d),
            Slot::DateTime(t) => ValueRef::DateTime(*t),
            Slot::Multi(values) => ValueRef::Multi(values),
            Slot::GeoPoint(p) => ValueRef::GeoPoint(*p),
            Slot::Computed(value) => value_ref_of(value),
        }
    }
}

/// Borrows an owned evaluator value as a [`ValueRef`].
#[inline]
pub fn value_ref_of(value: &Value) -> ValueRef<'_> {
    match value {
        Value::Empty => ValueRef::Empty,
        Value::Bool(b) => ValueRef::Bool(*b),
        Value::Number(x) => ValueRef::Number(*x),
        Value::Text(s) => ValueRef::Text(s),
        Value::Date(d) => ValueRef::Date(*d),
        Value::DateTime(t) => ValueRef::DateTime(*t),
        Value::Multi(values) => ValueRef::Multi(values),
        Value::GeoPoint(p) => ValueRef::GeoPoint(*p),
    }
}

/// Why an answer could not be decoded: a finding code and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// The finding code (`wrong_type`, `invalid_date`, …).
    pub code: &'static str,
    /// A sentence for the enumerator.
    pub message: String,
}

fn wrong(code: &'static str, message: String) -> DecodeError {
    DecodeError { code, message }
}

/// Which explicit non-answer a `{"missing": …}` object is, if it is one.
pub enum Missing {
    /// Don't know.
    DontKnow,
    /// Refused.
    Refused,
}

/// Recognises `{"missing": "dont_know" | "refused"}`. Returns `None` for other values and an
/// error for a malformed missing object.
pub fn decode_missing(json: &Json) -> Option<Result<Missing, DecodeError>> {
    let map = json.as_object()?;
    let missing = map.get("missing")?;
    if map.len() != 1 {
        return Some(Err(wrong(
            "invalid_missing",
            "a missing-answer object has exactly one key, `missing`".to_string(),
        )));
    }
    Some(match missing.as_str() {
        Some("dont_know") => Ok(Missing::DontKnow),
        Some("refused") => Ok(Missing::Refused),
        _ => Err(wrong(
            "invalid_missing",
            format!(
                "`missing` must be \"dont_know\" or \"refused\", found {}",
                describe(missing)
            ),
        )),
    })
}

/// Decodes an answered value of type `question_type`. `null` and absence are handled by the
/// caller; an empty string or empty array decodes to [`Slot::Empty`].
pub fn decode_value(question_type: QuestionType, json: &Json) -> Result<Slot<'_>, DecodeError> {
    match question_type {
        QuestionType::Text | QuestionType::SelectOne => match json {
            Json::String(s) if s.is_empty() => Ok(Slot::Empty),
            Json::String(s) => Ok(Slot::Text(s)),
            other => Err(expected("a string", other)),
        },
        QuestionType::Integer => match json {
            Json::Number(n) if n.is_i64() || n.is_u64() => n
                .as_f64()
                .filter(|x| x.abs() <= 9_007_199_254_740_992.0)
                .map(Slot::Number)
                .ok_or_else(|| {
                    wrong(
                        "wrong_type",
                        format!("the integer {n} is too large (at most 2^53 in magnitude)"),
                    )
                }),
            Json::Number(n) => match n.as_f64() {
                Some(x) if x.fract() == 0.0 && x.abs() <= 9_007_199_254_740_992.0 => {
                    Ok(Slot::Number(x))
                }
                _ => Err(wrong(
                    "wrong_type",
                    format!("expected an integer, found the decimal number {n}"),
                )),
            },
            other => Err(expected("an integer", other)),
        },
        QuestionType::Decimal => match json {
            Json::Number(n) => n
                .as_f64()
                .filter(|x| x.is_finite())
                .map(Slot::Number)
                .ok_or_else(|| wrong("wrong_type", format!("the number {n} is out of range"))),
            other => Err(expected("a number", other)),
        },
        QuestionType::SelectMultiple => match json {
            Json::Array(values) => {
                let mut out = Vec::with_capacity(values.len());
                for (index, value) in values.iter().enumerate() {
                    match value {
                        Json::String(s) => {
                            if out.contains(s) {
                                return Err(wrong(
                                    "duplicate_choice",
                                    format!("choice \"{s}\" is selected twice"),
                                ));
                            }
                            out.push(s.clone());
                        }
                        other => {
                            return Err(wrong(
                                "wrong_type",
                                format!(
                                    "element {index} must be a choice value (a string), found {}",
                                    describe(other)
                                ),
                            ));
                        }
                    }
                }
                Ok(if out.is_empty() {
                    Slot::Empty
                } else {
                    Slot::Multi(out)
                })
            }
            other => Err(expected("an array of choice values", other)),
        },
        QuestionType::Date => match json {
            Json::String(s) => Date::parse(s).map(Slot::Date).ok_or_else(|| {
                wrong(
                    "invalid_date",
                    format!("\"{s}\" is not a calendar date in the form YYYY-MM-DD"),
                )
            }),
            other => Err(expected("a date string YYYY-MM-DD", other)),
        },
        QuestionType::Datetime => match json {
            Json::String(s) => DateTime::parse(s).map(Slot::DateTime).ok_or_else(|| {
                wrong(
                    "invalid_datetime",
                    format!(
                        "\"{s}\" is not an RFC 3339 date and time with offset, e.g. \
                         2026-03-01T09:30:00+07:00"
                    ),
                )
            }),
            other => Err(expected("an RFC 3339 date-time string", other)),
        },
        QuestionType::Geopoint => decode_geopoint(json).map(Slot::GeoPoint),
    }
}

fn decode_geopoint(json: &Json) -> Result<GeoPoint, DecodeError> {
    let Json::Object(map) = json else {
        return Err(expected("a geopoint object {\"lat\": …, \"lon\": …}", json));
    };
    for key in map.keys() {
        if !["lat", "lon", "alt", "accuracy"].contains(&key.as_str()) {
            return Err(wrong(
                "invalid_geopoint",
                format!("unknown geopoint key `{key}` (allowed: lat, lon, alt, accuracy)"),
            ));
        }
    }
    let number = |key: &str, required: bool| -> Result<Option<f64>, DecodeError> {
        match map.get(key) {
            None | Some(Json::Null) if !required => Ok(None),
            None | Some(Json::Null) => Err(wrong(
                "invalid_geopoint",
                format!("a geopoint needs `{key}`"),
            )),
            Some(Json::Number(n)) => Ok(n.as_f64()),
            Some(other) => Err(wrong(
                "invalid_geopoint",
                format!(
                    "geopoint `{key}` must be a number, found {}",
                    describe(other)
                ),
            )),
        }
    };
    let lat = number("lat", true)?.unwrap_or(f64::NAN);
    let lon = number("lon", true)?.unwrap_or(f64::NAN);
    if !(-90.0..=90.0).contains(&lat) {
        return Err(wrong(
            "invalid_geopoint",
            format!("latitude {lat} is outside -90..90"),
        ));
    }
    if !(-180.0..=180.0).contains(&lon) {
        return Err(wrong(
            "invalid_geopoint",
            format!("longitude {lon} is outside -180..180"),
        ));
    }
    let alt = number("alt", false)?;
    let accuracy = number("accuracy", false)?;
    if accuracy.is_some_and(|a| a < 0.0) {
        return Err(wrong(
            "invalid_geopoint",
            "geopoint accuracy must not be negative".to_string(),
        ));
    }
    Ok(GeoPoint {
        lat,
        lon,
        alt,
        accuracy,
    })
}

fn expected(what: &str, found: &Json) -> DecodeError {
    wrong(
        "wrong_type",
        format!("expected {what}, found {}", describe(found)),
    )
}
