//! `questionnaires/schema.json` agrees with the model: every key the parser accepts is in
//! the schema (and no other), the enumerations match, and the shipped questionnaires use
//! only keys the schema declares.

use std::path::PathBuf;

use chainsurvey::questionnaire::{
    CHOICE_KEYS, ITEM_KEYS, ItemKind, QuestionType, RULE_KEYS, TOP_LEVEL_KEYS,
};
use serde_json::Value;

fn schema() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("questionnaires/schema.json");
    let text = std::fs::read_to_string(path).expect("read schema.json");
    serde_json::from_str(&text).expect("schema.json is JSON")
}

fn property_names(object_schema: &Value) -> Vec<String> {
    let mut names: Vec<String> = object_schema["properties"]
        .as_object()
        .expect("properties")
        .keys()
        .cloned()
        .collect();
    names.sort();
    names
}

fn sorted(keys: &[&str]) -> Vec<String> {
    let mut keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    keys.sort();
    keys
}

/// Asserts the schema object at `pointer` declares exactly `keys` and forbids others.
fn check_object(schema: &Value, pointer: &str, keys: &[&str]) {
    let object = schema
        .pointer(pointer)
        .unwrap_or_else(|| panic!("schema has {pointer}"));
    assert_eq!(property_names(object), sorted(keys), "keys of {pointer}");
    assert_eq!(
        object["additionalProperties"],
        Value::Bool(false),
        "{pointer} is closed"
    );
}

#[test]
fn schema_keys_match_the_model() {
    let schema = schema();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    check_object(&schema, "", TOP_LEVEL_KEYS);
    check_object(&schema, "/$defs/item", ITEM_KEYS);
    check_object(&schema, "/$defs/choice", CHOICE_KEYS);
    check_object(&schema, "/$defs/rule", RULE_KEYS);
    let kinds: Vec<&str> = schema["$defs"]["item"]["properties"]["kind"]["enum"]
        .as_array()
        .expect("kind enum")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let model_kinds: Vec<&str> = ItemKind::ALL.iter().map(|k| k.as_str()).collect();
    assert_eq!(kinds, model_kinds);
    let types: Vec<&str> = schema["$defs"]["item"]["properties"]["type"]["enum"]
        .as_array()
        .expect("type enum")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let model_types: Vec<&str> = QuestionType::ALL.iter().map(|t| t.as_str()).collect();
    assert_eq!(types, model_types);
}

/// Walks a questionnaire document and collects every key that the schema does not declare
/// for the object it appears in.
fn undeclared_keys(document: &Value, schema: &Value) -> Vec<String> {
    let top = property_names(schema);
    let item = property_names(&schema["$defs"]["item"]);
    let choice = property_names(&schema["$defs"]["choice"]);
    let rule = property_names(&schema["$defs"]["rule"]);
    let mut out = Vec::new();
    let mut check = |object: &Value, allowed: &[String], path: &str| {
        if let Some(map) = object.as_object() {
            for key in map.keys() {
                if !allowed.contains(key) {
                    out.push(format!("{path}/{key}"));
                }
            }
        }
    };
    check(document, &top, "");
    if let Some(lists) = document["choice_lists"].as_object() {
        for (name, list) in lists {
            for (i, c) in list.as_array().into_iter().flatten().enumerate() {
                check(c, &choice, &format!("/choice_lists/{name}/{i}"));
            }
        }
    }
    fn walk(items: &Value, path: &str, visit: &mut dyn FnMut(&Value, &str, bool)) {
        for (i, item) in items.as_array().into_iter().flatten().enumerate() {
            let item_path = format!("{path}/{i}");
            visit(item, &item_path, true);
            for (r, rule) in item["rules"].as_array().into_iter().flatten().enumerate() {
                visit(rule, &format!("{item_path}/rules/{r}"), false);
            }
            walk(&item["items"], &format!("{item_path}/items"), visit);
        }
    }
    walk(
        &document["items"],
        "/items",
        &mut |object, path, is_item| check(object, if is_item { &item } else { &rule }, path),
    );
    out
}

#[test]
fn shipped_questionnaires_use_only_schema_keys() {
    let schema = schema();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("questionnaires");
    let mut checked = 0;
    for name in ["enterprise.json", "worker.json", "household_unit.json"] {
        let Ok(text) = std::fs::read_to_string(dir.join(name)) else {
            continue;
        };
        let document: Value = serde_json::from_str(&text).expect("shipped file is JSON");
        let undeclared = undeclared_keys(&document, &schema);
        assert!(
            undeclared.is_empty(),
            "{name}: keys not in schema.json: {undeclared:?}"
        );
        checked += 1;
    }
    // The test fixture is also a questionnaire and must agree with the schema.
    let fixture = crate::questionnaire::clean_json();
    assert!(undeclared_keys(&fixture, &schema).is_empty());
    let mut bad = fixture.clone();
    bad["items"][0]["colour"] = Value::from("red");
    assert_eq!(undeclared_keys(&bad, &schema), ["/items/0/colour"]);
    eprintln!("checked {checked} shipped questionnaire(s) against schema.json");
}
