//! Version diff: each kind of change is classified, and the verdict is the worst change.

use chainsurvey::questionnaire::{Compatibility, Questionnaire, diff};
use serde_json::{Value, json};

use crate::questionnaire::{at, clean_json, clean_with};

/// Diffs the clean fixture against an edited copy and asserts the change `code` about `name`
/// has `compatibility`, and that the overall verdict is `verdict`.
fn check_diff(
    edit: impl FnOnce(&mut Value),
    code: &str,
    name: &str,
    compatibility: Compatibility,
    verdict: Compatibility,
) {
    let old = Questionnaire::parse(&clean_json().to_string()).expect("old parses");
    let new = Questionnaire::parse(&clean_with(edit)).expect("new parses");
    let report = diff(&old, &new);
    assert!(
        report
            .changes
            .iter()
            .any(|c| c.code == code && c.name == name && c.compatibility == compatibility),
        "expected {compatibility:?} {code} on {name}, got {report:#?}"
    );
    assert_eq!(report.verdict, verdict, "{report:#?}");
}

fn items_of<'v>(q: &'v mut Value, pointer: &str) -> &'v mut Vec<Value> {
    at(q, pointer).as_array_mut().expect("array")
}

use Compatibility::{Breaking, Compatible};

#[test]
fn identical_versions_have_no_changes() {
    let q = Questionnaire::parse(&clean_json().to_string()).expect("parses");
    let report = diff(&q, &q);
    assert!(report.changes.is_empty(), "{report:#?}");
    assert_eq!(report.verdict, Compatible);
}

#[test]
fn compatible_changes() {
    check_diff(
        |q| {
            items_of(q, "/items").push(json!({"kind": "question", "name": "phone", "type": "text",
            "label": {"en": "Phone", "vi": "Điện thoại"}}))
        },
        "question_added",
        "phone",
        Compatible,
        Compatible,
    );
    check_diff(
        |q| {
            items_of(q, "/choice_lists/sex")
                .push(json!({"value": "3", "label": {"en": "Other", "vi": "Khác"}}))
        },
        "choice_added",
        "sex",
        Compatible,
        Compatible,
    );
    check_diff(
        |q| *at(q, "/items/1/items/1/label/en") = "Age in completed years".into(),
        "text_changed",
        "age",
        Compatible,
        Compatible,
    );
    check_diff(
        |q| *at(q, "/choice_lists/sex/0/label/vi") = "Giới tính nam".into(),
        "text_changed",
        "sex",
        Compatible,
        Compatible,
    );
    check_diff(
        |q| {
            items_of(q, "/items/1/items/1/rules")
                .push(json!({"check": ". < 90", "severity": "warning",
            "message": {"en": "Over 90?", "vi": "Trên 90?"}}))
        },
        "warning_rule_added",
        "age",
        Compatible,
        Compatible,
    );
    check_diff(
        |q| {
            *at(q, "/items/1/items/5/name") = "usual_hours".into();
            *at(q, "/items/1/items/5/aliases") = json!(["hours"]);
            *at(q, "/items/6/calculation") = "if(${usual_hours} > 48, 1, 0)".into();
        },
        "renamed",
        "usual_hours",
        Compatible,
        Compatible,
    );
}

#[test]
fn moving_out_of_a_group_is_not_a_change() {
    let old = Questionnaire::parse(&clean_json().to_string()).expect("old parses");
    let new = Questionnaire::parse(&clean_with(|q| {
        let moved = items_of(q, "/items/1/items").remove(7);
        items_of(q, "/items").push(moved);
    }))
    .expect("new parses");
    let report = diff(&old, &new);
    assert!(report.changes.is_empty(), "{report:#?}");
}

#[test]
fn breaking_changes() {
    check_diff(
        |q| {
            items_of(q, "/items/1/items").remove(8);
        },
        "question_removed",
        "location",
        Breaking,
        Breaking,
    );
    check_diff(
        |q| *at(q, "/items/1/items/5/type") = "integer".into(),
        "type_changed",
        "hours",
        Breaking,
        Breaking,
    );
    check_diff(
        |q| {
            items_of(q, "/choice_lists/benefits").remove(1);
        },
        "choice_removed",
        "benefits",
        Breaking,
        Breaking,
    );
    check_diff(
        |q| {
            // Move `hours` into the children roster.
            let moved = items_of(q, "/items/1/items").remove(5);
            items_of(q, "/items/3/items").push(moved);
            *at(q, "/items/6/calculation") = "1".into();
        },
        "roster_structure_changed",
        "hours",
        Breaking,
        Breaking,
    );
    check_diff(
        |q| *at(q, "/items/1/items/5/required") = true.into(),
        "required_changed",
        "hours",
        Breaking,
        Breaking,
    );
    check_diff(
        |q| {
            items_of(q, "/items/1/items/5/rules")
                .push(json!({"check": ". <= 100", "severity": "error",
            "message": {"en": "At most 100", "vi": "Tối đa 100"}}))
        },
        "error_rule_added",
        "hours",
        Breaking,
        Breaking,
    );
    check_diff(
        |q| {
            items_of(q, "/items").push(json!({"kind": "question", "name": "phone", "type": "text",
            "required": true, "label": {"en": "Phone", "vi": "Điện thoại"}}))
        },
        "required_question_added",
        "phone",
        Breaking,
        Breaking,
    );
    check_diff(
        |q| *at(q, "/items/1/items/5/allow_dont_know") = false.into(),
        "missing_option_changed",
        "hours",
        Breaking,
        Breaking,
    );
    check_diff(
        |q| *at(q, "/items/3/items/2/max") = 2.into(),
        "roster_bounds_changed",
        "jobs",
        Breaking,
        Breaking,
    );
    check_diff(
        |q| *at(q, "/items/1/items/1/kind") = "calculate".into(),
        "kind_changed",
        "age",
        Breaking,
        Breaking,
    );
}

#[test]
fn loosening_is_compatible() {
    check_diff(
        |q| *at(q, "/items/3/items/2/max") = 5.into(),
        "roster_bounds_changed",
        "jobs",
        Compatible,
        Compatible,
    );
    check_diff(
        |q| *at(q, "/items/1/items/1/required") = false.into(),
        "required_changed",
        "age",
        Compatible,
        Compatible,
    );
}

#[test]
fn other_change_kinds() {
    check_diff(
        |q| {
            items_of(q, "/items").push(
                json!({"kind": "note", "name": "outro", "label": {"en": "Bye", "vi": "Tạm biệt"}}),
            )
        },
        "item_added",
        "outro",
        Compatible,
        Compatible,
    );
    check_diff(
        |q| {
            items_of(q, "/items").remove(0);
        },
        "item_removed",
        "intro",
        Compatible,
        Compatible,
    );
    check_diff(
        |q| {
            items_of(q, "/items").push(json!({"kind": "roster", "name": "pets", "min": 1,
            "label": {"en": "Pets", "vi": "Thú nuôi"},
            "items": [{"kind": "question", "name": "pet_name", "type": "text", "label": {"en": "Name", "vi": "Tên"}}]}))
        },
        "roster_added",
        "pets",
        Breaking,
        Breaking,
    );
    check_diff(
        |q| {
            items_of(q, "/items/3/items").remove(2);
            *at(q, "/items/3/items/2/calculation") = "0".into();
        },
        "roster_removed",
        "jobs",
        Breaking,
        Breaking,
    );
    check_diff(
        |q| {
            items_of(q, "/items").remove(6);
        },
        "calculate_removed",
        "long_hours",
        Breaking,
        Breaking,
    );
    check_diff(
        |q| {
            items_of(q, "/items/1/items/1/rules").remove(1);
        },
        "rule_removed",
        "age",
        Compatible,
        Compatible,
    );
    check_diff(
        |q| *at(q, "/items/1/items/1/rules/1/severity") = "error".into(),
        "rule_severity_changed",
        "age",
        Breaking,
        Breaking,
    );
    check_diff(
        |q| *at(q, "/items/1/items/1/rules/0/severity") = "warning".into(),
        "rule_severity_changed",
        "age",
        Compatible,
        Compatible,
    );
    check_diff(
        |q| *at(q, "/items/1/items/5/relevant") = "${consent} = '1' and ${age} >= 15".into(),
        "relevance_changed",
        "hours",
        Compatible,
        Compatible,
    );
    check_diff(
        |q| *at(q, "/items/6/calculation") = "if(${hours} > 60, 1, 0)".into(),
        "calculation_changed",
        "long_hours",
        Compatible,
        Compatible,
    );
    check_diff(
        |q| *at(q, "/items/3/count") = "${n_children} + 0".into(),
        "roster_structure_changed",
        "children",
        Breaking,
        Breaking,
    );
    check_diff(
        |q| *at(q, "/languages") = json!(["vi", "en"]),
        "languages_changed",
        "",
        Compatible,
        Compatible,
    );
    check_diff(
        |q| *at(q, "/id") = "other-survey".into(),
        "id_changed",
        "",
        Breaking,
        Breaking,
    );
}
