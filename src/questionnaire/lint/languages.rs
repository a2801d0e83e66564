//! Languages: every label, hint and message has each declared language, and no other.

use std::collections::HashSet;

use crate::questionnaire::diagnostic::{Diagnostic, pointer_index, pointer_push};
use crate::questionnaire::model::{Item, Questionnaire};
use crate::questionnaire::text::Text;

/// Lints declared languages and every text of the document against them.
pub fn lint_languages(questionnaire: &Questionnaire, items: &[&Item], out: &mut Vec<Diagnostic>) {
    let declared = &questionnaire.languages;
    if declared.is_empty() {
        out.push(Diagnostic::error(
            "no_languages",
            "/languages",
            "declare at least one language, e.g. [\"en\", \"vi\"]",
        ));
        return;
    }
    let mut seen = HashSet::new();
    for (index, lang) in declared.iter().enumerate() {
        if !seen.insert(lang.as_str()) {
            out.push(Diagnostic::error(
                "duplicate_language",
                pointer_index("/languages", index),
                format!("language `{lang}` is declared twice"),
            ));
        }
    }
    check_text(&questionnaire.title, "/title", declared, out);
    for list in &questionnaire.choice_lists {
        for (index, choice) in list.choices.iter().enumerate() {
            let path = pointer_push(&pointer_index(&list.pointer, index), "label");
            check_text(&choice.label, &path, declared, out);
        }
    }
    for item in items {
        let texts = [
            ("label", item.label.as_ref()),
            ("hint", item.hint.as_ref()),
            ("required_message", item.required_message.as_ref()),
        ];
        for (key, text) in texts {
            if let Some(text) = text {
                check_text(text, &pointer_push(&item.pointer, key), declared, out);
            }
        }
        for rule in &item.rules {
            check_text(
                &rule.message,
                &pointer_push(&rule.pointer, "message"),
                declared,
                out,
            );
        }
    }
}

fn check_text(text: &Text, path: &str, declared: &[String], out: &mut Vec<Diagnostic>) {
    for lang in declared {
        match text.get(lang) {
            None => out.push(Diagnostic::error(
                "missing_translation",
                path,
                format!(
                    "the `{lang}` text is missing (declared languages: {})",
                    declared.join(", ")
                ),
            )),
            Some(s) if s.trim().is_empty() => out.push(Diagnostic::error(
                "missing_translation",
                pointer_push(path, lang),
                format!("the `{lang}` text is empty"),
            )),
            Some(_) => {}
        }
    }
    for lang in text.languages() {
        if !declared.iter().any(|d| d == lang) {
            out.push(Diagnostic::warning(
                "undeclared_language",
                pointer_push(path, lang),
                format!(
                    "language `{lang}` is not declared in `languages` ({}); add it there or \
                     remove this text",
                    declared.join(", ")
                ),
            ));
        }
    }
}
