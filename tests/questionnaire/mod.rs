//! Tests of the questionnaire engine: parsing, lint, validation, diff, the JSON Schema and
//! the `chainsurvey questionnaire` commands. Each area has one `check` helper that all its
//! cases go through.

mod cli;
mod diff;
mod lint;
mod parse;
mod schema;
mod validate;

use std::path::PathBuf;

use serde_json::Value;

/// Path of a fixture under `tests/data/questionnaire/`.
pub fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/questionnaire")
        .join(name)
}

/// The clean fixture questionnaire as a JSON value, for tests that mutate it.
pub fn clean_json() -> Value {
    let text = std::fs::read_to_string(fixture_path("clean.json")).expect("read clean.json");
    serde_json::from_str(&text).expect("clean.json is JSON")
}

/// Applies `edit` to the clean fixture and returns the JSON text.
pub fn clean_with(edit: impl FnOnce(&mut Value)) -> String {
    let mut value = clean_json();
    edit(&mut value);
    value.to_string()
}

/// The value at a JSON Pointer, mutably. A missing last key of an existing object is
/// created as `null` so tests can add keys; anything else missing panics (the fixture
/// changed shape).
pub fn at<'v>(value: &'v mut Value, pointer: &str) -> &'v mut Value {
    if value.pointer(pointer).is_none()
        && let Some((parent, key)) = pointer.rsplit_once('/')
        && let Some(Value::Object(map)) = value.pointer_mut(parent)
    {
        map.insert(key.to_string(), Value::Null);
    }
    value
        .pointer_mut(pointer)
        .unwrap_or_else(|| panic!("fixture has no {pointer}"))
}
