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
}

/// Sets the expression at `pointer` (in the clean fixture) and asserts `code` at `column`.
fn check_expression(pointer: &str, expression: &str, code: &str, column: Option<usize>) {
    let expression = expression.to_string();
    check_lint(
        |q| *at(q, pointer) = Value::String(expression),
        code,
        Severity::Error,
        pointer,
        column,
    );
}

#[test]
fn expression_syntax_and_functions() {
    let relevant = "/items/1/items/1/relevant";
    check_expression(relevant, "(${consent} = '1'", "expression_syntax", Some(18));
    check_expression(relevant, "${consent} = '1')", "expression_syntax", Some(17));
    check_expression(relevant, "${consent} = ", "expression_syntax", Some(14));
    check_expression(
        relevant,
        "lenght(${consent}) > 0",
        "unknown_function",
        Some(1),
    );
    check_expression(
        relevant,
        "string-length(${consent}, 2) > 0",
        "arity",
        Some(1),
    );
    check_expression(
        relevant,
        "regex(${consent}, '[a-') ",
        "invalid_regex",
        Some(19),
    );
    let deep = format!("{}1{}", "(".repeat(300), ")".repeat(300));
    check_lint(
        |q| *at(q, relevant) = Value::String(deep),
        "expression_too_deep",
        Severity::Error,
        relevant,
        None,
    );
}

#[test]
fn expression_references_and_types() {
    let relevant = "/items/1/items/1/relevant";
    check_expression(relevant, "${consnt} = '1'", "undefined_reference", Some(1));
    let text = clean_with(|q| *at(q, relevant) = "${consnt} = '1'".into());
    let findings = lint_source(text.as_bytes());
    assert!(
        findings[0].message.contains("did you mean `consent`?"),
        "{findings:#?}"
    );
    check_expression(relevant, "consent = '1'", "undefined_reference", Some(1));
    check_expression(relevant, "${intro} = '1'", "undefined_reference", Some(1));
    check_expression(relevant, "${benefits} + 1 > 2", "type_mismatch", Some(1));
    check_expression(relevant, "${children} > 0", "type_mismatch", Some(1));
    // A roster variable read from outside its roster without an aggregate.
    check_expression(
        "/items/6/calculation",
        "${child_age} + 1",
        "roster_scope",
        Some(1),
    );
    // The same variable inside an aggregate is fine, and inside its own roster too.
    for (pointer, expression) in [
        (
            "/items/6/calculation",
            "sum(${child_age}) + max(${job_hours})",
        ),
        (
            "/items/3/items/1/relevant",
            "${child_age} >= 6 and ${age} > 20",
        ),
        (
            "/items/1/items/4/choice_filter",
            "value != '79' and region = ${region}",
        ),
    ] {
        let text = clean_with(|q| *at(q, pointer) = expression.into());
        let findings = lint_source(text.as_bytes());
        assert!(findings.is_empty(), "{expression}: {findings:#?}");
    }
    // `.` only means something in a question's own rules.
    check_expression(relevant, ". > 3", "dot_outside_rule", Some(1));
    check_expression("/items/6/calculation", ". + 1", "dot_outside_rule", Some(1));
    check_expression(
        "/items/1/items/4/choice_filter",
        "regoin = ${region}",
        "unknown_choice_column",
        Some(1),
    );
}

#[test]
fn cycles() {
    // A calculation reading itself.
    check_expression("/items/6/calculation", "${long_hours} + 1", "cycle", None);
    // Relevance and a calculation reading each other.
    check_lint(
        |q| {
            *at(q, "/items/1/items/5/relevant") = "${long_hours} = 0".into();
        },
        "cycle",
        Severity::Error,
        "/items/1/items/5/relevant",
        None,
    );
    // A group whose relevance reads one of its own questions.
    check_lint(
        |q| *at(q, "/items/1/relevant") = "${age} > 15".into(),
        "cycle",
        Severity::Error,
        "/items/1/relevant",
        None,
    );
    // A roster count read from inside the roster.
    check_lint(
        |q| *at(q, "/items/3/count") = "count(${child_age})".into(),
        "cycle",
        Severity::Error,
        "/items/3/count",
        None,
    );
    check_lint(
        |q| *at(q, "/items/1/items/2/required") = "${sex} = ''".into(),
        "cycle",
        Severity::Error,
        "/items/1/items/2/required",
        None,
    );
}

#[test]
fn constant_false_relevance_is_unreachable() {
    check_lint(
        |q| *at(q, "/items/1/items/8/relevant") = "1 = 2".into(),
        "unreachable",
        Severity::Warning,
        "/items/1/items/8/relevant",
        None,
    );
    check_lint(
        |q| *at(q, "/items/3/relevant") = "false()".into(),
        "unreachable",
        Severity::Warning,
        "/items/3/relevant",
        None,
    );
}
