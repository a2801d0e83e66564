//! Review: the supervisor's queue and decisions.

use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::server::auth::Caller;
use crate::server::body::JsonBody;
use crate::server::{ApiError, AppState, Page, next_cursor, page_size};
use crate::store::{QuestionComment, Role, Verdict};

const REVIEWERS: &[Role] = &[Role::Admin, Role::Manager, Role::Supervisor];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/review/queue", get(queue))
        .route("/api/v1/submissions/{instance_id}/review", post(decide))
}

async fn queue(
    State(state): State<AppState>,
    caller: Caller,
    Query(page): Query<Page>,
) -> Result<Json<Value>, ApiError> {
    caller.require(REVIEWERS)?;
    let supervisor = (caller.role() == Role::Supervisor).then(|| caller.name());
    let limit = page_size(page.limit, &state.config);
    let (items, more) = state
        .store
        .review_queue(supervisor, page.after.as_deref(), limit)?;
    let next = next_cursor(&items, more, |i| i.instance_id.clone());
    Ok(Json(json!({"interviews": items, "next": next})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecisionBody {
    verdict: Verdict,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    question_comments: Vec<QuestionComment>,
}

async fn decide(
    State(state): State<AppState>,
    caller: Caller,
    Path(instance_id): Path<String>,
    JsonBody(body): JsonBody<DecisionBody>,
) -> Result<Json<Value>, ApiError> {
    caller.require(REVIEWERS)?;
    let interview = state
        .store
        .interview(&instance_id)?
        .ok_or_else(|| ApiError::not_found(format!("interview {instance_id} not found")))?;
    if caller.role() == Role::Supervisor && interview.supervisor.as_deref() != Some(caller.name()) {
        return Err(ApiError::not_found(format!(
            "interview {instance_id} not found"
        )));
    }
    if body.verdict == Verdict::Reject
        && body.comment.trim().is_empty()
        && body.question_comments.is_empty()
    {
        return Err(ApiError::bad_request(
            "a rejection needs a comment or question comments so the enumerator knows what to fix",
        ));
    }
    let (interview, decision) = state
        .store
        .review(
            &instance_id,
            body.verdict,
            body.comment,
            body.question_comments,
            caller.name(),
        )?
        .wait()
        .await?;
    Ok(Json(json!({"interview": interview, "decision": decision})))
}
