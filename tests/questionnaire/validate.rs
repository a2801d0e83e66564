//! Submission validation: the clean answers are valid with the expected calculations, and
//! every validation code fires at the expected place in the answers.

use std::sync::OnceLock;

use chainsurvey::questionnaire::expr::Date;
use chainsurvey::questionnaire::{
    CompiledQuestionnaire, Questionnaire, Severity, ValidationReport, compile, parse_answers_bytes,
    parse_answers_str, validate_on,
};
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::questionnaire::{at, clean_json, fixture_path};

fn compiled() -> &'static CompiledQuestionnaire {
    static COMPILED: OnceLock<CompiledQuestionnaire> = OnceLock::new();
    COMPILED.get_or_init(|| {
        let questionnaire =
            Questionnaire::parse(&clean_json().to_string()).expect("clean fixture parses");
        compile(&questionnaire).expect("clean fixture compiles")
    })
}

fn clean_answers() -> Value {
    let text =
        std::fs::read_to_string(fixture_path("clean_answers.json")).expect("read clean answers");
    serde_json::from_str(&text).expect("clean answers are JSON")
}

fn run(answers: &Value, lang: &str) -> ValidationReport {
    let today = Date::from_ymd(2026, 3, 15).expect("a date");
    validate_on(compiled(), answers, lang, today)
}

/// Validates the clean answers after `edit` and asserts a finding with `code`, `severity`
/// and `path`; returns its message for further checks.
fn check_validate(
    edit: impl FnOnce(&mut Value),
    code: &str,
    severity: Severity,
    path: &str,
) -> String {
    let mut answers = clean_answers();
    edit(&mut answers);
    let report = run(&answers, "en");
    match report
        .findings
        .iter()
        .find(|d| d.code == code && d.severity == severity && d.path == path)
    {
        Some(d) => d.message.clone(),
        None => panic!(
            "expected {severity:?} {code} at {path}, got {:#?}",
            report.findings
        ),
    }
}

fn remove(answers: &mut Value, pointer: &str, key: &str) {
    at(answers, pointer)
        .as_object_mut()
        .expect("object")
        .remove(key);
}

#[test]
fn clean_answers_are_valid_and_calculations_are_returned() {
    let report = run(&clean_answers(), "en");
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    assert_eq!(
        report.calculations,
        json!({
            "n_in_school": 1,
            "total_child_hours": 15.5,
            "long_hours": 0,
            "children": [{"child_job_hours": 15.5}, {"child_job_hours": 0}]
        })
    );
    let json = report.to_json();
    assert_eq!(json["valid"], json!(true));
}

#[test]
fn answers_must_be_an_object() {
    for answers in [json!([]), json!("x"), json!(null), json!(3)] {
        let report = run(&answers, "en");
        assert_eq!(report.findings.len(), 1);
        assert_eq!(report.findings[0].code, "answers_not_object");
    }
}

#[test]
fn unknown_fields() {
    let message = check_validate(
        |a| a["agee"] = json!(3),
        "unknown_field",
        Severity::Error,
        "/agee",
    );
    assert!(message.contains("did you mean `age`?"), "{message}");
    let message = check_validate(
        |a| a["child_age"] = json!(3),
        "unknown_field",
        Severity::Error,
        "/child_age",
    );
    assert!(message.contains("rows of roster `children`"), "{message}");
    check_validate(
        |a| a["children"][1]["age"] = json!(3),
        "unknown_field",
        Severity::Error,
        "/children/1/age",
    );
    check_validate(
        |a| a["sec_a"] = json!({}),
        "unknown_field",
        Severity::Error,
        "/sec_a",
    );
    check_validate(
        |a| a["long_hours"] = json!(1),
        "calculation_submitted",
        Severity::Warning,
        "/long_hours",
    );
}

#[test]
fn wrong_types() {
    let message = check_validate(
        |a| a["age"] = json!(40.5),
        "wrong_type",
        Severity::Error,
        "/age",
    );
    assert!(message.contains("decimal"), "{message}");
    check_validate(
        |a| a["age"] = json!("40"),
        "wrong_type",
        Severity::Error,
        "/age",
    );
    check_validate(
        |a| a["hours"] = json!("many"),
        "wrong_type",
        Severity::Error,
        "/hours",
    );
    check_validate(
        |a| a["sex"] = json!(2),
        "wrong_type",
        Severity::Error,
        "/sex",
    );
    check_validate(
        |a| a["benefits"] = json!("si"),
        "wrong_type",
        Severity::Error,
        "/benefits",
    );
    check_validate(
        |a| a["benefits"] = json!(["si", 3]),
        "wrong_type",
        Severity::Error,
        "/benefits",
    );
    check_validate(
        |a| a["benefits"] = json!(["si", "si"]),
        "duplicate_choice",
        Severity::Error,
        "/benefits",
    );
    check_validate(
        |a| a["interview_date"] = json!("2026-02-30"),
        "invalid_date",
        Severity::Error,
        "/interview_date",
    );
    check_validate(
        |a| a["interview_date"] = json!("01/03/2026"),
        "invalid_date",
        Severity::Error,
        "/interview_date",
    );
    check_validate(
        |a| a["start_time"] = json!("2026-03-01 09:30"),
        "invalid_datetime",
        Severity::Error,
        "/start_time",
    );
    check_validate(
        |a| a["start_time"] = json!("2026-03-01T09:30:00"),
        "invalid_datetime",
        Severity::Error,
        "/start_time",
    );
    check_validate(
        |a| a["location"] = json!({"lat": 95.0, "lon": 105.8}),
        "invalid_geopoint",
        Severity::Error,
        "/location",
    );
    check_validate(
        |a| a["location"] = json!({"lat": 21.0}),
        "invalid_geopoint",
        Severity::Error,
        "/location",
    );
    check_validate(
        |a| a["location"] = json!({"lat": 21.0, "lon": 105.8, "speed": 1}),
        "invalid_geopoint",
        Severity::Error,
        "/location",
    );
    check_validate(
        |a| a["children"] = json!({}),
        "wrong_type",
        Severity::Error,
        "/children",
    );
    check_validate(
        |a| a["children"][1] = json!(4),
        "wrong_type",
        Severity::Error,
        "/children/1",
    );
    check_validate(
        |a| a["age"] = json!({"missing": "forgot"}),
        "invalid_missing",
        Severity::Error,
        "/age",
    );
}

#[test]
fn a_malformed_answer_is_reported_once() {
    // `sex` is required: a wrong type must not also count as "required but missing", and
    // a malformed answer to a skipped question is not also "not relevant".
    let mut answers = clean_answers();
    answers["sex"] = json!(2);
    let report = run(&answers, "en");
    let found: Vec<(&str, &str)> = report
        .findings
        .iter()
        .map(|d| (d.code, d.path.as_str()))
        .collect();
    assert_eq!(found, [("wrong_type", "/sex")]);
}

#[test]
fn choices() {
    let message = check_validate(
        |a| a["sex"] = json!("3"),
        "invalid_choice",
        Severity::Error,
        "/sex",
    );
    assert!(message.contains("valid: 1, 2"), "{message}");
    check_validate(
        |a| a["benefits"] = json!(["si", "pension"]),
        "invalid_choice",
        Severity::Error,
        "/benefits/1",
    );
    // Province 79 is in the south; the region answered is north.
    check_validate(
        |a| a["province"] = json!("79"),
        "choice_filtered",
        Severity::Error,
        "/province",
    );
}

#[test]
fn required_and_missing_states() {
    check_validate(
        |a| remove(a, "", "sex"),
        "required_missing",
        Severity::Error,
        "/sex",
    );
    check_validate(
        |a| a["sex"] = json!(null),
        "required_missing",
        Severity::Error,
        "/sex",
    );
    check_validate(
        |a| remove(a, "/children/1", "child_age"),
        "required_missing",
        Severity::Error,
        "/children/1/child_age",
    );
    check_validate(
        |a| a["sex"] = json!({"missing": "dont_know"}),
        "dont_know_not_allowed",
        Severity::Error,
        "/sex",
    );
    check_validate(
        |a| a["hours"] = json!({"missing": "refused"}),
        "refused_not_allowed",
        Severity::Error,
        "/hours",
    );
    // Allowed missing states satisfy `required` and skip the rules.
    let mut answers = clean_answers();
    answers["age"] = json!({"missing": "refused"});
    answers["hours"] = json!({"missing": "dont_know"});
    // The child-age rule compares with ${age}; a refused age is empty, so the rule fails.
    let report = run(&answers, "en");
    let codes: Vec<(&str, &str)> = report
        .findings
        .iter()
        .map(|d| (d.code, d.path.as_str()))
        .collect();
    assert_eq!(
        codes,
        [
            ("rule_failed", "/children/0/child_age"),
            ("rule_failed", "/children/1/child_age")
        ],
        "{:#?}",
        report.findings
    );
}

#[test]
fn relevance() {
    let mut answers = clean_answers();
    answers["consent"] = json!("2");
    for key in [
        "age",
        "sex",
        "region",
        "province",
        "hours",
        "benefits",
        "n_children",
        "children",
    ] {
        remove(&mut answers, "", key);
    }
    let report = run(&answers, "en");
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    // A calculation without its own skip condition is computed even from empty inputs.
    assert_eq!(report.calculations["long_hours"], json!(0));
    check_validate(
        |a| a["consent"] = json!("2"),
        "not_relevant",
        Severity::Error,
        "/age",
    );
    check_validate(
        |a| a["children"][1]["child_school"] = json!("1"),
        "not_relevant",
        Severity::Error,
        "/children/1/child_school",
    );
    check_validate(
        |a| a["children"][1]["jobs"] = json!([{"job_hours": 3}]),
        "not_relevant",
        Severity::Error,
        "/children/1/jobs",
    );
    // A non-relevant roster: rows present although n_children is 0.
    let message = check_validate(
        |a| a["n_children"] = json!(0),
        "not_relevant",
        Severity::Error,
        "/children",
    );
    assert!(message.contains("2 row(s)"), "{message}");
}

#[test]
fn rules_in_the_requested_language() {
    let message = check_validate(
        |a| a["age"] = json!(12),
        "rule_failed",
        Severity::Error,
        "/age",
    );
    assert_eq!(message, "Age must be 15-99");
    let message = check_validate(
        |a| a["age"] = json!(85),
        "rule_failed",
        Severity::Warning,
        "/age",
    );
    assert_eq!(message, "Age 80 or more: please confirm");
    let mut answers = clean_answers();
    answers["hours"] = json!(90);
    let report = run(&answers, "vi");
    assert_eq!(report.findings.len(), 1, "{:#?}", report.findings);
    assert_eq!(report.findings[0].severity, Severity::Warning);
    assert_eq!(report.findings[0].message, "Trên 84 giờ");
    assert!(!report.has_errors());
    check_validate(
        |a| a["benefits"] = json!(["none", "si"]),
        "rule_failed",
        Severity::Error,
        "/benefits",
    );
    // A rule that reads another variable, inside a roster row.
    check_validate(
        |a| a["children"][0]["child_age"] = json!(41),
        "rule_failed",
        Severity::Error,
        "/children/0/child_age",
    );
}

#[test]
fn group_rules() {
    let message = check_validate(
        |a| {
            a["age"] = json!(16);
            a["hours"] = json!(65);
            a["children"] = json!([]);
            a["n_children"] = json!(0);
        },
        "rule_failed",
        Severity::Warning,
        "",
    );
    assert_eq!(message, "A young worker with long hours: please confirm");
}

#[test]
fn roster_min_needs_a_recompiled_definition() {
    let mut definition = clean_json();
    at(&mut definition, "/items/3")
        .as_object_mut()
        .expect("roster")
        .remove("count");
    *at(&mut definition, "/items/3/min") = json!(3);
    let questionnaire = Questionnaire::parse(&definition.to_string()).expect("parses");
    let compiled = compile(&questionnaire).expect("compiles");
    let today = Date::from_ymd(2026, 3, 15).expect("a date");
    let report = validate_on(&compiled, &clean_answers(), "en", today);
    let found: Vec<(&str, &str)> = report
        .findings
        .iter()
        .map(|d| (d.code, d.path.as_str()))
        .collect();
    assert_eq!(
        found,
        [("roster_min", "/children")],
        "{:#?}",
        report.findings
    );
}

#[test]
fn roster_counts() {
    let message = check_validate(
        |a| a["n_children"] = json!(3),
        "roster_count",
        Severity::Error,
        "/children",
    );
    assert!(message.contains("2 row(s)"), "{message}");
    check_validate(
        |a| {
            a["children"][0]["jobs"] =
                json!([{"job_hours": 1}, {"job_hours": 1}, {"job_hours": 1}, {"job_hours": 1}]);
        },
        "roster_max",
        Severity::Error,
        "/children/0/jobs",
    );
    check_validate(
        |a| a["children"][0]["jobs"][1] = json!({}),
        "required_missing",
        Severity::Error,
        "/children/0/jobs/1/job_hours",
    );
}

#[test]
fn nested_roster_calculations_follow_the_rows() {
    let mut answers = clean_answers();
    answers["children"][1]["child_age"] = json!(15);
    answers["children"][1]["jobs"] = json!([{"job_hours": 2.25}]);
    let report = run(&answers, "en");
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    assert_eq!(
        report.calculations["children"][1]["child_job_hours"],
        json!(2.25)
    );
    assert_eq!(report.calculations["total_child_hours"], json!(17.75));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Any JSON value as answers (or as one answer, or one roster row) gives a report,
    /// never a panic.
    #[test]
    fn arbitrary_answers_never_panic(value in arbitrary_json(), key in "[a-z_]{1,12}") {
        let _ = run(&value, "en");
        let mut answers = clean_answers();
        answers[key.as_str()] = value.clone();
        let _ = run(&answers, "vi");
        for target in ["age", "benefits", "location", "children", "interview_date", "province"] {
            let mut answers = clean_answers();
            answers[target] = value.clone();
            let report = run(&answers, "en");
            prop_assert!(report.findings.iter().all(|d| !d.path.is_empty() || d.code == "answers_not_object"));
        }
        let mut answers = clean_answers();
        answers["children"][0] = value.clone();
        let _ = run(&answers, "en");
        answers["children"][1]["jobs"] = json!([value]);
        let _ = run(&answers, "en");
    }
}

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_map(|x| serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)),
        "[ -~]{0,12}".prop_map(Value::String),
        prop_oneof![
            Just("1"),
            Just("2"),
            Just("north"),
            Just("2026-03-01"),
            Just("dont_know")
        ]
        .prop_map(|s| Value::String(s.to_string())),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,10}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// The server shares one compiled questionnaire between request handlers.
#[test]
fn compiled_questionnaires_can_be_shared_between_threads() {
    fn assert_send_sync<T: Send + Sync>(_: &T) {}
    assert_send_sync(compiled());
    let handles: Vec<_> = (0..2)
        .map(|_| std::thread::spawn(|| run(&clean_answers(), "en").findings.len()))
        .collect();
    for handle in handles {
        assert_eq!(handle.join().expect("thread"), 0);
    }
}

/// "Did you mean" costs an edit distance per name, so a submission stuffed with unknown keys
/// gets suggestions for the first ten only (every key is still reported).
#[test]
fn suggestions_are_capped_per_submission() {
    let mut answers = clean_answers();
    for letter in 'a'..='l' {
        answers[format!("age{letter}")] = json!(1);
    }
    let report = run(&answers, "en");
    let unknown: Vec<&str> = report
        .findings
        .iter()
        .filter(|d| d.code == "unknown_field")
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(unknown.len(), 12);
    let suggested = unknown
        .iter()
        .filter(|m| m.contains("did you mean `age`?"))
        .count();
    assert_eq!(suggested, 10, "{unknown:#?}");
}

/// A key sent twice in submitted answers is rejected with the pointer of the repeated key:
/// `serde_json` would keep the last one silently and validate an answer nobody can vouch for.
#[test]
fn duplicate_answer_keys_are_rejected_with_their_place() {
    let cases: [(&str, &str, &str); 4] = [
        (
            r#"{"age": 17, "sex": "2", "age": 71}"#,
            "/age",
            "`age` appears twice",
        ),
        (
            r#"{"children": [{"child_age": 4}, {"child_age": 5, "child_age": 6}]}"#,
            "/children/1/child_age",
            "line 1, column",
        ),
        (
            r#"{"location": {"lat": 1, "lat": 2}}"#,
            "/location/lat",
            "`lat`",
        ),
        (r#"{"a/b": 1, "a/b": 2}"#, "/a~1b", "`a/b` appears twice"),
    ];
    for (text, path, needle) in cases {
        let error = parse_answers_str(text).expect_err(text);
        assert_eq!(error.code, "duplicate_key", "{text}");
        assert_eq!(error.path, path, "{text}");
        assert!(error.message.contains(needle), "{text}: {}", error.message);
        let error = parse_answers_bytes(text.as_bytes()).expect_err(text);
        assert_eq!(error.path, path, "{text}");
    }
    // A syntax error is the more basic problem and is reported first, as for questionnaires.
    let error = parse_answers_str(r#"{"age": 1, "age": 2,"#).expect_err("truncated");
    assert_eq!(error.code, "json_syntax");
    // Equal keys in different objects are not duplicates.
    let text = r#"{"children": [{"child_age": 4}, {"child_age": 5}], "age": 40}"#;
    assert_eq!(
        parse_answers_str(text).expect("no duplicates"),
        serde_json::from_str::<Value>(text).expect("JSON")
    );
    // Other failures keep their codes.
    assert_eq!(
        parse_answers_bytes(b"{\"a\": \xff}").map_err(|d| d.code),
        Err("invalid_utf8")
    );
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    assert_eq!(
        parse_answers_str(&deep).map_err(|d| d.code),
        Err("json_too_deep")
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Without duplicate keys, the answers reader builds exactly the value `serde_json`
    /// builds, so validation sees the same answers.
    #[test]
    fn answers_reader_agrees_with_serde_json(value in arbitrary_json()) {
        // Compared with serde_json's own parse of the text (not `value`): without its
        // `float_roundtrip` feature a float may read back one unit in the last place off.
        let text = value.to_string();
        let expected: Value = serde_json::from_str(&text).expect("JSON");
        prop_assert_eq!(parse_answers_str(&text).expect("unique keys"), expected);
    }
}
