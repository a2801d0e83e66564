//! Set-up shared by the store benches (`ingest`, `export`): the DW-SCS worker
//! questionnaire, linted by the real engine, published by an admin.

use std::path::Path;

use chainsurvey::server::{Engine, LintedDraft, QuestionnaireEngine};
use chainsurvey::store::{Role, Store};
use serde_json::Value;

/// `questionnaires/worker.json` and what the engine's linter made of it.
pub fn worker_questionnaire(engine: &QuestionnaireEngine) -> (Value, LintedDraft) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let definition: Value = serde_json::from_slice(
        &std::fs::read(root.join("questionnaires/worker.json")).expect("worker.json"),
    )
    .expect("json");
    let linted = engine
        .lint(&definition)
        .unwrap_or_else(|_| panic!("worker.json must lint clean"));
    (definition, linted)
}

/// Adds the admin `boss` and publishes `definition` as version `linted.version`.
pub fn publish_as_boss(store: &Store, definition: &Value, linted: &LintedDraft) {
    store
        .add_user("boss", Role::Admin, None, None, "bench")
        .and_then(|d| d.wait_blocking())
        .expect("user");
    store
        .put_draft(&linted.id, &linted.version, definition, "boss")
        .and_then(|d| d.wait_blocking())
        .expect("draft");
    store
        .publish(&linted.id, "boss")
        .and_then(|d| d.wait_blocking())
        .expect("publish");
}
