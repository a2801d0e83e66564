//! `Questionnaire::parse`: every bad-input case of the issue gets a clear finding naming the
//! place, and never a panic.

use chainsurvey::questionnaire::{Diagnostic, Questionnaire};

use crate::questionnaire::{at, clean_json, clean_with};

/// Parses `bytes` and asserts it fails with a finding of `code` at `path` whose message
/// contains `needle`.
fn check_parse_error(bytes: &[u8], code: &str, path: &str, needle: &str) {
    let findings: Vec<Diagnostic> = match Questionnaire::parse_bytes(bytes) {
        Ok(_) => panic!("expected a `{code}` finding, but the document parsed"),
        Err(findings) => findings,
    };
    assert!(
        findings
            .iter()
            .any(|d| d.code == code && d.path == path && d.message.contains(needle)),
        "expected {code} at {path:?} containing {needle:?}, got {findings:#?}"
    );
}

#[test]
fn the_clean_fixture_parses() {
    let text = clean_json().to_string();
    let questionnaire = Questionnaire::parse(&text).expect("clean fixture parses");
    assert_eq!(questionnaire.id, "test-mini");
    assert_eq!(questionnaire.languages, ["en", "vi"]);
    assert_eq!(questionnaire.items.len(), 7);
    let children = &questionnaire.items[3];
    assert_eq!(children.name, "children");
    assert_eq!(children.pointer, "/items/3");
    assert_eq!(
        children.items[2].items[0].pointer,
        "/items/3/items/2/items/0"
    );
}

#[test]
fn malformed_json_names_line_and_column() {
    check_parse_error(
        b"{\"id\": \"x\",\n  \"version\": }",
        "json_syntax",
        "",
        "line 2, column",
    );
    check_parse_error(b"", "json_syntax", "", "line 1");
    check_parse_error(b"{\"a\": 1} trailing", "json_syntax", "", "trailing");
}

#[test]
fn a_questionnaire_must_be_an_object() {
    check_parse_error(b"[1, 2, 3]", "not_an_object", "", "found an array");
    check_parse_error(b"\"text\"", "not_an_object", "", "found the string");
    check_parse_error(b"null", "not_an_object", "", "found null");
}

#[test]
fn deep_nesting_is_rejected_clearly() {
    // 10 MB of nesting: serde_json's recursion limit stops at 128 levels, long before the
    // stack is at risk.
    let depth = 5 * 1024 * 1024;
    let mut bytes = vec![b'['; depth];
    bytes.extend(std::iter::repeat_n(b']', depth));
    check_parse_error(&bytes, "json_too_deep", "", "nested more than 128 levels");
    let mut objects = Vec::new();
    for _ in 0..200 {
        objects.extend_from_slice(b"{\"items\": ");
    }
    check_parse_error(&objects, "json_too_deep", "", "line 1");
}

#[test]
fn non_utf8_bytes_report_the_offset() {
    let mut bytes = b"{\"id\": \"caf".to_vec();
    let offset = bytes.len();
    bytes.push(0xE9); // Latin-1 "é", invalid in UTF-8.
    bytes.extend_from_slice(b"\"}");
    check_parse_error(&bytes, "invalid_utf8", "", &format!("byte offset {offset}"));
}

#[test]
fn unknown_keys_get_a_path_and_a_suggestion() {
    let text = clean_with(|q| {
        at(q, "/items/1/items/1")
            .as_object_mut()
            .expect("object")
            .insert("relevent".into(), "${consent} = '1'".into());
    });
    check_parse_error(
        text.as_bytes(),
        "unknown_key",
        "/items/1/items/1/relevent",
        "did you mean `relevant`?",
    );
    let text = clean_with(|q| {
        q.as_object_mut()
            .expect("object")
            .insert("titel".into(), "x".into());
    });
    check_parse_error(
        text.as_bytes(),
        "unknown_key",
        "/titel",
        "did you mean `title`?",
    );
    let text = clean_with(|q| {
        at(q, "/choice_lists/yes_no/0")
            .as_object_mut()
            .expect("object")
            .insert("lable".into(), "x".into());
    });
    check_parse_error(
        text.as_bytes(),
        "unknown_key",
        "/choice_lists/yes_no/0/lable",
        "did you mean `label`?",
    );
    let text = clean_with(|q| {
        at(q, "/items/1/items/1/rules/0")
            .as_object_mut()
            .expect("object")
            .insert("severty".into(), "x".into());
    });
    check_parse_error(
        text.as_bytes(),
        "unknown_key",
        "/items/1/items/1/rules/0/severty",
        "did you mean `severity`?",
    );
    // A key far from every known key gets no suggestion.
    let text = clean_with(|q| {
        q.as_object_mut()
            .expect("object")
            .insert("zzzzzz".into(), 1.into());
    });
    let findings = Questionnaire::parse(&text).expect_err("unknown key");
    assert!(
        findings
            .iter()
            .any(|d| d.code == "unknown_key" && !d.message.contains("did you mean")),
        "{findings:#?}"
    );
}

#[test]
fn every_structural_problem_is_reported_at_once() {
    let text = clean_with(|q| {
        *at(q, "/items/1/items/0/kind") = "questoin".into();
        *at(q, "/items/1/items/1/type") = "int".into();
        *at(q, "/choice_lists/yes_no/0/value") = 1.into();
        *at(q, "/items/1/items/1/rules/0/severity") = "fatal".into();
        at(q, "").as_object_mut().expect("object").remove("version");
    });
    let findings = Questionnaire::parse(&text).expect_err("five problems");
    let codes: Vec<(&str, &str)> = findings.iter().map(|d| (d.code, d.path.as_str())).collect();
    for expected in [
        ("invalid_value", "/items/1/items/0/kind"),
        ("invalid_value", "/items/1/items/1/type"),
        ("wrong_type", "/choice_lists/yes_no/0/value"),
        ("invalid_value", "/items/1/items/1/rules/0/severity"),
        ("missing_key", ""),
    ] {
        assert!(
            codes.contains(&expected),
            "missing {expected:?} in {findings:#?}"
        );
    }
    let kind = findings
        .iter()
        .find(|d| d.path == "/items/1/items/0/kind")
        .expect("kind finding");
    assert!(
        kind.message.contains("did you mean `question`?"),
        "{kind:?}"
    );
    let value = findings
        .iter()
        .find(|d| d.path == "/choice_lists/yes_no/0/value")
        .expect("value finding");
    assert!(value.message.contains("write it as a string"), "{value:?}");
}

#[test]
fn wrong_value_types_name_the_key() {
    let cases: [(&str, serde_json::Value, &str, &str); 6] = [
        (
            "/items/1/items/0/required",
            3.into(),
            "/items/1/items/0/required",
            "found the number 3",
        ),
        (
            "/items/3/max",
            "ten".into(),
            "/items/3/max",
            "must be an integer",
        ),
        (
            "/items/3/max",
            2.5.into(),
            "/items/3/max",
            "must be an integer",
        ),
        (
            "/items/1/label",
            "Respondent".into(),
            "/items/1/label",
            "object by language",
        ),
        (
            "/items/1/items/1/relevant",
            true.into(),
            "/items/1/items/1/relevant",
            "expression string",
        ),
        ("/languages", "en".into(), "/languages", "array of strings"),
    ];
    for (pointer, replacement, path, needle) in cases {
        let text = clean_with(|q| *at(q, pointer) = replacement);
        check_parse_error(text.as_bytes(), "wrong_type", path, needle);
    }
}

#[test]
fn duplicate_keys_are_not_silently_dropped() {
    let text = clean_json().to_string().replacen(
        "\"relevant\":\"${consent} = '1'\"",
        "\"relevant\":\"${consent} = '1'\",\"relevant\":\"1 = 1\"",
        1,
    );
    check_parse_error(
        text.as_bytes(),
        "duplicate_key",
        "",
        "the key `relevant` appears twice",
    );
    check_parse_error(
        b"{\"a\": {\"b\": 1, \"b\": 2}}",
        "duplicate_key",
        "",
        "line 1, column",
    );
}

#[test]
fn schema_version_must_be_supported() {
    let text = clean_with(|q| *at(q, "/schema_version") = 2.into());
    check_parse_error(
        text.as_bytes(),
        "unsupported_schema_version",
        "/schema_version",
        "must be 1",
    );
}

#[test]
fn json_pointer_tokens_are_escaped() {
    let text = clean_with(|q| {
        q.as_object_mut()
            .expect("object")
            .insert("a/b~c".into(), 1.into());
    });
    check_parse_error(text.as_bytes(), "unknown_key", "/a~1b~0c", "unknown key");
}

mod properties {
    use chainsurvey::questionnaire::{Questionnaire, compile, diff, lint, lint_source, outline};
    use proptest::prelude::*;
    use serde_json::Value;

    use crate::questionnaire::clean_json;

    /// Every place in the fixture where a value can be replaced, as JSON Pointers.
    fn pointers(value: &Value, prefix: &str, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    let pointer = format!("{prefix}/{}", key.replace('~', "~0").replace('/', "~1"));
                    out.push(pointer.clone());
                    pointers(child, &pointer, out);
                }
            }
            Value::Array(items) => {
                for (index, child) in items.iter().enumerate() {
                    let pointer = format!("{prefix}/{index}");
                    out.push(pointer.clone());
                    pointers(child, &pointer, out);
                }
            }
            _ => {}
        }
    }

    fn replacement() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            Just(Value::Bool(true)),
            Just(Value::from(-1)),
            Just(Value::from(2.5)),
            Just(Value::from("")),
            Just(Value::from("${age} + ")),
            Just(Value::from("${children}")),
            Just(Value::from("((")),
            Just(Value::from("roster")),
            Just(Value::from("select_one")),
            Just(Value::from("age")),
            Just(serde_json::json!([])),
            Just(serde_json::json!({})),
            Just(serde_json::json!({"en": "x"})),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Arbitrary bytes never panic the parser or the linter.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            let _ = Questionnaire::parse_bytes(&bytes);
            let _ = lint_source(&bytes);
        }

        /// Replacing any one value of the fixture never panics parse, lint, compile, diff or
        /// outline, and a document that compiles has no lint error.
        #[test]
        fn mutated_fixture_never_panics(pick in any::<prop::sample::Index>(), new_value in replacement()) {
            let original = clean_json();
            let mut all = Vec::new();
            pointers(&original, "", &mut all);
            let pointer = &all[pick.index(all.len())];
            let mut mutated = original.clone();
            if let Some(slot) = mutated.pointer_mut(pointer) {
                *slot = new_value;
            }
            let text = mutated.to_string();
            if let Ok(questionnaire) = Questionnaire::parse(&text) {
                let findings = lint(&questionnaire);
                let compiled = compile(&questionnaire);
                prop_assert_eq!(compiled.is_ok(), !findings.iter().any(|d| d.is_error()));
                let base = Questionnaire::parse(&original.to_string()).expect("fixture parses");
                let _ = diff(&base, &questionnaire);
                let _ = outline(&questionnaire, "vi");
            }
        }
    }
}
