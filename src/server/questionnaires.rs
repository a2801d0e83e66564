//! Questionnaire drafts (linted on upload), publication, listing and download.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::server::auth::Caller;
use crate::server::body::JsonBody;
use crate::server::engine::EngineError;
use crate::server::{ApiError, AppState};
use crate::store::{Draft, Role, rfc3339};

const DESIGNERS: &[Role] = &[Role::Admin, Role::Designer];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/questionnaires/drafts", post(upload_draft))
        .route("/api/v1/questionnaires/drafts/{id}", get(get_draft))
        .route("/api/v1/questionnaires/drafts/{id}/diff", get(diff_draft))
        .route("/api/v1/questionnaires/drafts/{id}/publish", post(publish))
        .route("/api/v1/questionnaires", get(list))
        .route(
            "/api/v1/questionnaires/{id}/versions/{version}",
            get(get_version),
        )
}

/// Maps an engine refusal to 422 (findings) or 503 (engine missing).
pub fn engine_error(err: EngineError, code: &'static str, message: &str) -> ApiError {
    match err {
        EngineError::Findings(findings) => ApiError::unprocessable(
            code,
            message,
            serde_json::to_value(findings).unwrap_or_default(),
        ),
        EngineError::Unavailable(why) => ApiError::unavailable(why),
    }
}

async fn upload_draft(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(definition): JsonBody<Value>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(DESIGNERS)?;
    let linted = state.engine.lint(&definition).map_err(|err| {
        engine_error(
            err,
            "lint_failed",
            "the questionnaire has lint errors; fix every finding and upload again",
        )
    })?;
    let draft = state
        .store
        .put_draft(&linted.id, &linted.version, &definition, caller.name())?
        .wait()
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "id": draft.id,
            "version": draft.version,
            "warnings": linted.warnings,
            "uploaded_at": rfc3339(draft.uploaded_at_ms),
        })),
    ))
}

async fn get_draft(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let draft = designer_draft(&state, &caller, &id)?;
    Ok(Json(json!({
        "id": draft.id,
        "version": draft.version,
        "uploaded_by": draft.uploaded_by,
        "uploaded_at": rfc3339(draft.uploaded_at_ms),
        "definition": draft.definition,
    })))
}

/// The current draft of questionnaire `id` for a designer: 403 unless the caller is an
/// admin or designer, then 404 when there is no draft.
fn designer_draft(state: &AppState, caller: &Caller, id: &str) -> Result<Draft, ApiError> {
    caller.require(DESIGNERS)?;
    state
        .store
        .draft(id)?
        .ok_or_else(|| ApiError::not_found(format!("no draft of {id}")))
}

async fn diff_draft(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let draft = designer_draft(&state, &caller, &id)?;
    let Some(previous) = state.store.latest_published(&id)? else {
        return Ok(Json(
            json!({"previous_version": null, "draft_version": draft.version, "diff": null}),
        ));
    };
    let old: Value =
        serde_json::from_str(previous.definition.get()).map_err(|err| ApiError::internal(&err))?;
    let new: Value =
        serde_json::from_str(draft.definition.get()).map_err(|err| ApiError::internal(&err))?;
    let diff = state
        .engine
        .diff(&old, &new)
        .map_err(|err| engine_error(err, "diff_failed", "the versions cannot be compared"))?;
    Ok(Json(
        json!({"previous_version": previous.version, "draft_version": draft.version, "diff": diff}),
    ))
}

async fn publish(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(DESIGNERS)?;
    let summary = state.store.publish(&id, caller.name())?.wait().await?;
    Ok((StatusCode::CREATED, Json(summary_view(&summary))))
}

fn summary_view(s: &crate::store::PublishedSummary) -> Value {
    json!({
        "id": s.id,
        "version": s.version,
        "hash": s.hash,
        "published_by": s.published_by,
        "published_at": rfc3339(s.published_at_ms),
    })
}

async fn list(State(state): State<AppState>, _caller: Caller) -> Result<Json<Value>, ApiError> {
    let versions: Vec<Value> = state
        .store
        .list_published(None)?
        .iter()
        .map(summary_view)
        .collect();
    Ok(Json(json!({"questionnaires": versions})))
}

async fn get_version(
    State(state): State<AppState>,
    _caller: Caller,
    Path((id, version)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let published = state.store.published(&id, &version)?.ok_or_else(|| {
        ApiError::not_found(format!("version {version} of {id} is not published"))
    })?;
    Ok(Json(json!({
        "id": published.id,
        "version": published.version,
        "hash": published.hash,
        "published_by": published.published_by,
        "published_at": rfc3339(published.published_at_ms),
        "definition": published.definition,
    })))
}
