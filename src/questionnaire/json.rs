//! Reading JSON text (questionnaires and answers) into `serde_json::Value`, with findings
//! that name the place: the byte offset of invalid UTF-8, the line and column of a syntax
//! error, and a plain sentence for documents nested beyond serde_json's recursion limit.

use serde_json::Value;

use crate::questionnaire::diagnostic::Diagnostic;

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

/// Parses JSON text, translating serde_json's errors into findings.
pub fn parse_json_str(text: &str) -> Result<Value, Diagnostic> {
    serde_json::from_str(text).map_err(|error| {
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
    })
}
