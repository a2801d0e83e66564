//! `POST /api/v1/submissions` and reading interviews back.
//!
//! The order of checks is chosen so that an enumerator gets the most useful answer first:
//! a replay of stored content is answered 201 before anything else (a retry after a lost
//! response must succeed even if the assignment was closed since); then ownership (403),
//! closed assignment or disallowed version (409 with what to do), then protected preloaded
//! answers (422 naming each changed or missing one), then validation by the engine (422
//! with findings). The store re-checks state under its write lock, and the 201
//! is sent only after the group commit.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use crate::server::auth::Caller;
use crate::server::body::RawBody;
use crate::server::questionnaires::engine_error;
use crate::server::{ApiError, AppState, Finding};
use crate::store::canonical::content_hash;
use crate::store::{AssignmentStatus, Interview, Role, Submission, SubmitOutcome, rfc3339};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/submissions", post(submit))
        .route("/api/v1/submissions/{instance_id}", get(one))
}

/// The body of a submission.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SubmissionBody {
    instance_id: String,
    questionnaire: String,
    version: String,
    assignment_id: String,
    answers: Map<String, Value>,
    #[serde(default)]
    paradata: Paradata,
}

/// Facts about how the interview was taken.
#[derive(Deserialize, Default, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct Paradata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    started_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ended_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    device_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    app_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    language: Option<String>,
}

fn accepted(
    interview: &Interview,
    revision: u32,
    replayed: bool,
    warnings: Value,
    calculations: Value,
) -> (StatusCode, Json<Value>) {
    (
        StatusCode::CREATED,
        Json(json!({
            "instance_id": interview.instance_id,
            "revision": revision,
            "status": interview.status,
            "replayed": replayed,
            "warnings": warnings,
            "calculations": calculations,
        })),
    )
}

async fn submit(
    State(state): State<AppState>,
    caller: Caller,
    RawBody(bytes): RawBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(&[Role::Enumerator])?;
    // The questionnaire engine's reader: a key repeated in one object (which serde_json would
    // silently resolve to its last value) is refused with the place it occurs, so what is
    // stored is exactly what the enumerator's device meant.
    let value = crate::questionnaire::parse_answers_bytes(&bytes).map_err(|diagnostic| {
        ApiError::bad_request(format!(
            "the request body is not valid JSON: {} (at {:?})",
            diagnostic.message, diagnostic.path
        ))
        .with_details(json!({"code": diagnostic.code, "path": diagnostic.path}))
    })?;
    let body: SubmissionBody = serde_json::from_value(value).map_err(|err| {
        ApiError::bad_request(format!(
            "the request body is not valid JSON for this endpoint: {err}"
        ))
    })?;
    let instance_id = uuid::Uuid::parse_str(&body.instance_id)
        .map_err(|_| {
            ApiError::bad_request(format!("instance_id {:?} is not a UUID", body.instance_id))
        })?
        .to_string();
    let language = body
        .paradata
        .language
        .clone()
        .unwrap_or_else(|| "en".to_owned());
    // Built by moving the parsed answers in (`json!` would copy them once more).
    let mut content = Map::with_capacity(5);
    content.insert(
        "questionnaire".into(),
        Value::String(body.questionnaire.clone()),
    );
    content.insert("version".into(), Value::String(body.version.clone()));
    content.insert(
        "assignment_id".into(),
        Value::String(body.assignment_id.clone()),
    );
    content.insert(
        "paradata".into(),
        serde_json::to_value(&body.paradata).unwrap_or_default(),
    );
    content.insert("answers".into(), Value::Object(body.answers));
    let content = Value::Object(content);
    let answers = &content["answers"];
    let hash = content_hash(&content);

    if let Some((interview, revision)) = state.store.find_replay(&instance_id, &hash)? {
        if interview.enumerator != caller.name() {
            return Err(ApiError::conflict(format!(
                "instance id {instance_id} is already used by another interview; generate a new instance id"
            )));
        }
        // The original may still be waiting for its group commit: answer only once it is
        // durable.
        state.store.barrier().wait().await?;
        let stored = state
            .store
            .revisions(&instance_id)?
            .into_iter()
            .find(|r| r.revision == revision);
        let (warnings, calculations) = match stored {
            Some(r) => (
                serde_json::from_str(r.warnings.get()).unwrap_or(Value::Null),
                serde_json::from_str(r.calculations.get()).unwrap_or(Value::Null),
            ),
            None => (Value::Null, Value::Null),
        };
        return Ok(accepted(&interview, revision, true, warnings, calculations));
    }

    let assignment = state
        .store
        .assignment(&body.assignment_id)?
        .ok_or_else(|| {
            ApiError::not_found(format!("assignment {} not found", body.assignment_id))
        })?;
    if assignment.enumerator != caller.name() {
        return Err(ApiError::forbidden(format!(
            "assignment {} is not yours",
            assignment.id
        )));
    }
    if assignment.status == AssignmentStatus::Closed {
        return Err(ApiError::conflict(
            "this assignment is closed and takes no more interviews; ask your supervisor to reopen it or to give you a new assignment",
        ));
    }
    if assignment.questionnaire != body.questionnaire
        || !assignment.allowed_versions.contains(&body.version)
    {
        return Err(ApiError::conflict(format!(
            "questionnaire {} version {} is not allowed for this assignment (it takes {} version {}); \
             sync to get the right version, then re-enter the interview in it",
            body.questionnaire,
            body.version,
            assignment.questionnaire,
            assignment.allowed_versions.join(" or ")
        ))
        .with_details(json!({"allowed_versions": assignment.allowed_versions, "questionnaire": assignment.questionnaire})));
    }
    if assignment.preload_protected
        && let Some(preload) = &assignment.preload
    {
        let findings = protected_changes(preload, answers)?;
        if !findings.is_empty() {
            return Err(ApiError::unprocessable(
                "preload_protected",
                "the interview changes answers that were preloaded as protected; keep them as preloaded \
                 (ask your supervisor if a preloaded answer is wrong)",
                serde_json::to_value(findings).unwrap_or_default(),
            ));
        }
    }
    let published = state
        .store
        .published_shared(&body.questionnaire, &body.version)?
        .ok_or_else(|| {
            ApiError::conflict(format!(
                "version {} of {} is not published",
                body.version, body.questionnaire
            ))
        })?;
    let validated = state
        .engine
        .validate(
            &published.hash,
            published.definition.get(),
            answers,
            &language,
        )
        .map_err(|err| {
            engine_error(
                err,
                "validation_failed",
                "the interview has errors; correct every finding and submit again",
            )
        })?;
    let warnings = serde_json::to_value(&validated.warnings).unwrap_or_default();
    let submission = Submission {
        instance_id,
        assignment_id: body.assignment_id,
        questionnaire: body.questionnaire,
        version: body.version,
        definition_hash: published.hash.clone(),
        content,
        content_hash: hash,
        warnings: warnings.clone(),
        calculations: validated.calculations.clone(),
    };
    let outcome = state.store.submit(submission, &caller.0)?.wait().await?;
    Ok(match outcome {
        SubmitOutcome::Created {
            interview,
            revision,
        } => accepted(
            &interview,
            revision,
            false,
            warnings,
            validated.calculations,
        ),
        SubmitOutcome::Replayed {
            interview,
            revision,
        } => accepted(&interview, revision, true, warnings, validated.calculations),
    })
}

/// The protected preloaded answers that `answers` changes or leaves out, one error finding
/// each, naming the question.
fn protected_changes(preload: &RawValue, answers: &Value) -> Result<Vec<Finding>, ApiError> {
    let preload: Map<String, Value> = serde_json::from_str(preload.get()).map_err(|err| {
        ApiError::internal(&format!(
            "a stored assignment's preload is not a JSON object: {err}"
        ))
    })?;
    let mut findings = Vec::new();
    for (name, expected) in &preload {
        let message = match answers.get(name) {
            None => format!(
                "{name} was preloaded as {expected} and is protected; it must be sent unchanged, not left out"
            ),
            Some(given) if !same_answer(given, expected) => format!(
                "{name} was preloaded as {expected} and is protected; it cannot be changed to {given}"
            ),
            Some(_) => continue,
        };
        findings.push(Finding {
            severity: "error".into(),
            code: "preload_protected".into(),
            path: format!("/{}", name.replace('~', "~0").replace('/', "~1")),
            message,
            column: None,
        });
    }
    Ok(findings)
}

/// JSON equality where numbers compare by value (`5` and `5.0` are the same answer).
fn same_answer(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_answer(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_answer(v, w)))
        }
        _ => a == b,
    }
}

/// True when `caller` may read `interview`.
pub fn can_read(caller: &Caller, interview: &Interview) -> bool {
    match caller.role() {
        Role::Admin | Role::Manager | Role::Researcher => true,
        Role::Supervisor => interview.supervisor.as_deref() == Some(caller.name()),
        Role::Enumerator => interview.enumerator == caller.name(),
        Role::Designer => false,
    }
}

async fn one(
    State(state): State<AppState>,
    caller: Caller,
    Path(instance_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(&[
        Role::Admin,
        Role::Manager,
        Role::Supervisor,
        Role::Enumerator,
        Role::Researcher,
    ])?;
    let interview = match state.store.interview(&instance_id)? {
        Some(i) if can_read(&caller, &i) => i,
        _ => {
            return Err(ApiError::not_found(format!(
                "interview {instance_id} not found"
            )));
        }
    };
    let revisions: Vec<Value> = state
        .store
        .revisions(&instance_id)?
        .into_iter()
        .map(|r| {
            json!({
                "revision": r.revision,
                "version": r.version,
                "definition_hash": r.definition_hash,
                "content_hash": r.content_hash,
                "content": r.content,
                "warnings": r.warnings,
                "calculations": r.calculations,
                "received_at": rfc3339(r.received_at_ms),
            })
        })
        .collect();
    let decisions = state.store.decisions(&instance_id)?;
    Ok(Json(
        json!({"interview": interview, "revisions": revisions, "decisions": decisions}),
    ))
}
