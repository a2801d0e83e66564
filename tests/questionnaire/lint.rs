//! The linter: the clean fixture stays clean, and every lint code fires on a small edit of it
//! at the expected place.

use chainsurvey::questionnaire::{Questionnaire, Severity, lint, lint_source};
use serde_json::{Value, json};

use crate::questionnaire::{at, clean_json, clean_with};

/// Lints the clean fixture after `edit` and asserts a finding with `code`, `severity` and
/// `path` (and `column`, when given) is among the findings.
fn check_lint(
    edit: impl FnOnce(&mut Value),
    code: &str,
    severity: Severity,
    path: &str,
    column: Option<usize>,
) {
    let text = clean_with(edit);
    let findings = lint_source(text.as_bytes());
    let found = findings.iter().any(|d| {
        d.code == code
            && d.severity == severity
            && d.path == path
            && (column.is_none() || d.column == column)
    });
    assert!(
        found,
        "expected {severity:?} {code} at {path} (column {column:?}), got {findings:#?}"
    );
}

fn push_item(q: &mut Value, pointer: &str, item: Value) {
    at(q, pointer).as_array_mut().expect("array").push(item);
}

fn note(name: &str) -> Value {
    json!({"kind": "note", "name": name, "label": {"en": "N", "vi": "N"}})
}

fn question(name: &str, qtype: &str) -> Value {
    json!({"kind": "question", "name": name, "type": qtype, "label": {"en": "Q", "vi": "Q"}})
}

#[test]
fn the_clean_fixture_has_no_findings() {
    let text = clean_json().to_string();
    let questionnaire = Questionnaire::parse(&text).expect("parses");
    let findings = lint(&questionnaire);
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn names() {
    check_lint(
        |q| *at(q, "/items/1/items/1/name") = "Age".into(),
        "invalid_name",
        Severity::Error,
        "/items/1/items/1/name",
        None,
    );
    check_lint(
        |q| *at(q, "/items/1/items/1/name") = "a".repeat(65).into(),
        "invalid_name",
        Severity::Error,
        "/items/1/items/1/name",
        None,
    );
    check_lint(
        |q| *at(q, "/id") = "Worker Survey".into(),
        "invalid_id",
        Severity::Error,
        "/id",
        None,
    );
    check_lint(
        |q| *at(q, "/version") = " ".into(),
        "invalid_version",
        Severity::Error,
        "/version",
        None,
    );
    // The same name inside a nested roster and at the top level.
    check_lint(
        |q| *at(q, "/items/3/items/2/items/0/name") = "hours".into(),
        "duplicate_name",
        Severity::Error,
        "/items/3/items/2/items/0/name",
        None,
    );
    // A group name clashing with a question name.
    check_lint(
        |q| *at(q, "/items/1/name") = "n_children".into(),
        "duplicate_name",
        Severity::Error,
        "/items/2/name",
        None,
    );
    check_lint(
        |q| *at(q, "/items/1/items/1/aliases") = json!(["sex"]),
        "alias_conflict",
        Severity::Error,
        "/items/1/items/1/aliases/0",
        None,
    );
    check_lint(
        |q| {
            *at(q, "/items/1/items/1/aliases") = json!(["old_age"]);
            *at(q, "/items/1/items/2/aliases") = json!(["old_age"]);
        },
        "alias_conflict",
        Severity::Error,
        "/items/1/items/2/aliases/0",
        None,
    );
}

#[test]
fn structure() {
    check_lint(
        |q| {
            push_item(
                q,
                "/items",
                json!({"kind": "note", "name": "n2", "label": {"en": "x", "vi": "x"},
            "rules": [{"check": "1 = 1", "severity": "error", "message": {"en": "x", "vi": "x"}}]}),
            )
        },
        "rules_on_note",
        Severity::Error,
        "/items/7/rules",
        None,
    );
    check_lint(
        |q| {
            push_item(
                q,
                "/items",
                json!({"kind": "note", "name": "n2", "label": {"en": "x", "vi": "x"}, "min": 1}),
            )
        },
        "misplaced_key",
        Severity::Error,
        "/items/7/min",
        None,
    );
    check_lint(
        |q| {
            push_item(
                q,
                "/items",
                json!({"kind": "question", "name": "q2", "type": "text"}),
            )
        },
        "missing_label",
        Severity::Error,
        "/items/7",
        None,
    );
    check_lint(
        |q| {
            push_item(
                q,
                "/items",
                json!({"kind": "question", "name": "q2", "label": {"en": "x", "vi": "x"}}),
            )
        },
        "missing_type",
        Severity::Error,
        "/items/7",
        None,
    );
    check_lint(
        |q| push_item(q, "/items", json!({"kind": "calculate", "name": "c2"})),
        "missing_calculation",
        Severity::Error,
        "/items/7",
        None,
    );
    check_lint(
        |q| {
            push_item(
                q,
                "/items",
                json!({"kind": "group", "name": "g2", "label": {"en": "x", "vi": "x"}, "items": []}),
            )
        },
        "empty_container",
        Severity::Warning,
        "/items/7",
        None,
    );
}

#[test]
fn roster_bounds() {
    check_lint(
        |q| *at(q, "/items/3/items/2/min") = json!(-1),
        "roster_bounds",
        Severity::Error,
        "/items/3/items/2/min",
        None,
    );
    check_lint(
        |q| *at(q, "/items/3/items/2/min") = json!(5),
        "roster_bounds",
        Severity::Error,
        "/items/3/items/2/min",
        None,
    );
    check_lint(
        |q| *at(q, "/items/3/count") = json!("12"),
        "roster_bounds",
        Severity::Error,
        "/items/3/count",
        None,
    );
    check_lint(
        |q| *at(q, "/items/3/items/2/max") = json!(0),
        "roster_bounds",
        Severity::Warning,
        "/items/3/items/2/max",
        None,
    );
}

#[test]
fn choices() {
    check_lint(
        |q| {
            at(q, "/items/1/items/0")
                .as_object_mut()
                .expect("object")
                .remove("choices");
        },
        "missing_choices",
        Severity::Error,
        "/items/1/items/0",
        None,
    );
    check_lint(
        |q| *at(q, "/items/1/items/0/choices") = "yesno".into(),
        "unknown_choice_list",
        Severity::Error,
        "/items/1/items/0/choices",
        None,
    );
    check_lint(
        |q| {
            at(q, "/items/1/items/1")
                .as_object_mut()
                .expect("object")
                .insert("choices".into(), "yes_no".into());
        },
        "choices_on_non_select",
        Severity::Error,
        "/items/1/items/1/choices",
        None,
    );
    check_lint(
        |q| *at(q, "/choice_lists/yes_no/1/value") = "1".into(),
        "duplicate_choice_value",
        Severity::Error,
        "/choice_lists/yes_no/1/value",
        None,
    );
    check_lint(
        |q| *at(q, "/choice_lists/yes_no/1/value") = "".into(),
        "invalid_choice_value",
        Severity::Error,
        "/choice_lists/yes_no/1/value",
        None,
    );
    check_lint(
        |q| *at(q, "/choice_lists/spare") = json!([]),
        "empty_choice_list",
        Severity::Error,
        "/choice_lists/spare",
        None,
    );
    check_lint(
        |q| {
            *at(q, "/choice_lists/spare") = json!([{"value": "1", "label": {"en": "a", "vi": "a"}}])
        },
        "unused_choice_list",
        Severity::Warning,
        "/choice_lists/spare",
        None,
    );
}

#[test]
fn languages() {
    check_lint(
        |q| {
            at(q, "/items/1/items/1/label")
                .as_object_mut()
                .expect("object")
                .remove("vi");
        },
        "missing_translation",
        Severity::Error,
        "/items/1/items/1/label",
        None,
    );
    check_lint(
        |q| *at(q, "/choice_lists/sex/0/label/vi") = " ".into(),
        "missing_translation",
        Severity::Error,
        "/choice_lists/sex/0/label/vi",
        None,
    );
    check_lint(
        |q| *at(q, "/items/1/items/1/rules/0/message/fr") = "Âge".into(),
        "undeclared_language",
        Severity::Warning,
        "/items/1/items/1/rules/0/message/fr",
        None,
    );
    check_lint(
        |q| *at(q, "/languages") = json!([]),
        "no_languages",
        Severity::Error,
        "/languages",
        None,
    );
    check_lint(
        |q| *at(q, "/languages") = json!(["en", "vi", "en"]),
        "duplicate_language",
        Severity::Error,
        "/languages/2",
        None,
    );
}

#[test]
fn parse_failures_come_back_from_lint_source() {
    let findings = lint_source(b"{\"schema_version\": 1,");
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].code, "json_syntax");
    let _ = note("unused");
    let _ = question("unused", "text");
}
