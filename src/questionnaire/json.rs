//! Reading JSON text (questionnaires and answers) into `serde_json::Value`, with findings
//! that name the place: the byte offset of invalid UTF-8, the line and column of a syntax
//! error, and a plain sentence for documents nested beyond serde_json's recursion limit.
//!
//! Submitted answers are read with [`parse_answers_bytes`] / [`parse_answers_str`], which also
//! reject a key repeated in one object: `serde_json` would keep the last one silently, and an
//! interview whose `age` says both 17 and 71 must not be accepted as either.

use serde_json::Value;

use crate::questionnaire::diagnostic::Diagnostic;
use crate::questionnaire::duplicate_keys::{UniqueError, parse_unique};

/// Parses JSON bytes. Invalid UTF-8 is reported with the byte offset of the first bad byte.
pub fn parse_json_bytes(bytes: &[u8]) -> Result<Value, Diagnostic> {
    match std::str::from_utf8(bytes) {
        Ok(text) => parse_json_str(text),
        Err(error) => Err(Diagnostic::error(
            "invalid_utf8",
            "",
            format!(
                "the file is not valid UTF-8: invalid byte sequence at byte offset {} \
                 (save the file as UTF-8)",
                error.valid_up_to()
            ),
        )),
    }
}

/// Parses submitted answers (JSON bytes): like [`parse_json_bytes`], and a key repeated in
/// one object is a `duplicate_key` error whose path is the JSON Pointer of the repeated key.
pub fn parse_answers_bytes(bytes: &[u8]) -> Result<Value, Diagnostic> {
    match std::str::from_utf8(bytes) {
        Ok(text) => parse_answers_str(text),
        Err(_) => parse_json_bytes(bytes),
    }
}

/// Parses submitted answers (JSON text); see [`parse_answers_bytes`]. One pass over the
/// text: the duplicate check costs no second parse.
pub fn parse_answers_str(text: &str) -> Result<Value, Diagnostic> {
    match parse_unique(text) {
        Ok(value) => Ok(value),
        Err(UniqueError::Json(error)) => Err(json_error(&error)),
        Err(UniqueError::Duplicate {
            pointer,
            line,
            column,
        }) => {
            // A syntax error later in the text is the more basic problem: report it first,
            // as `Questionnaire::parse` does (this second pass runs only on the error path).
            if let Err(error) = serde_json::from_str::<serde::de::IgnoredAny>(text) {
                return Err(json_error(&error));
            }
            let key = pointer.rsplit('/').next().unwrap_or("");
            let key = key.replace("~1", "/").replace("~0", "~");
            Err(Diagnostic::error(
                "duplicate_key",
                pointer.clone(),
                format!(
                    "the key `{key}` appears twice in one object (line {line}, column {column}); \
                     JSON keeps only one of them, so the submission is ambiguous: send each \
                     answer once"
                ),
            ))
        }
    }
}

/// Parses JSON text, translating serde_json's errors into findings.
pub fn parse_json_str(text: &str) -> Result<Value, Diagnostic> {
    serde_json::from_str(text).map_err(|error| json_error(&error))
}

/// A serde_json error as a finding that names the place.
fn json_error(error: &serde_json::Error) -> Diagnostic {
    let (line, column) = (error.line(), error.column());
    let message = error.to_string();
    if message.starts_with("recursion limit exceeded") {
        Diagnostic::error(
            "json_too_deep",
            "",
            format!(
                "the JSON is nested more than 128 levels deep (at line {line}, column \
                     {column}); no questionnaire or submission needs that, so the file is \
                     rejected"
            ),
        )
    } else {
        // serde_json appends " at line L column C"; keep our own wording of the place.
        let reason = message
            .rsplit_once(" at line ")
            .map(|(reason, _)| reason)
            .unwrap_or(&message);
        Diagnostic::error(
            "json_syntax",
            "",
            format!("malformed JSON at line {line}, column {column}: {reason}"),
        )
    }
}
