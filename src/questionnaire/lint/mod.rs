//! The linter: whole-document checks a survey designer runs before publishing.
//!
//! Every finding carries a stable code (listed with its meaning in
//! `docs/questionnaire-format.md`, "Lint codes"), a JSON Pointer into the questionnaire and,
//! for a place inside an expression, the 1-based column. The linter never stops at the first
//! problem.
//!
//! Checks are grouped by concept, one file each: names (`names.rs`), item structure and roster
//! bounds (`structure.rs`), choice lists (`choices.rs`), languages (`languages.rs`) and
//! expressions: syntax, references, scoping, types, cycles, unreachable items
//! (`expressions.rs`).

mod choices;
mod expressions;
mod languages;
mod names;
mod structure;

use crate::questionnaire::diagnostic::Diagnostic;
use crate::questionnaire::model::{Item, Questionnaire};

pub use names::{MAX_NAME_LEN, is_valid_id, is_valid_name};

/// Lints a parsed questionnaire. Findings are sorted by path, errors before warnings at the
/// same path.
pub fn lint(questionnaire: &Questionnaire) -> Vec<Diagnostic> {
    let items: Vec<&Item> = questionnaire.all_items();
    let mut out = Vec::new();
    names::lint_names(questionnaire, &items, &mut out);
    for item in &items {
        structure::lint_item_structure(item, &mut out);
    }
    choices::lint_choices(questionnaire, &items, &mut out);
    languages::lint_languages(questionnaire, &items, &mut out);
    expressions::lint_expressions(questionnaire, &mut out);
    out.sort_by(|a, b| {
        a.path
            .cmp(&b.path)
            .then(b.severity.cmp(&a.severity))
            .then(a.column.cmp(&b.column))
    });
    out.dedup();
    out
}

/// Parses questionnaire bytes and lints them: the parse findings when the document does not
/// parse, else the lint findings. This is what `questionnaire lint` and uploads call.
pub fn lint_source(bytes: &[u8]) -> Vec<Diagnostic> {
    match Questionnaire::parse_bytes(bytes) {
        Ok(questionnaire) => lint(&questionnaire),
        Err(diagnostics) => diagnostics,
    }
}
