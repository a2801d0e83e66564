//! `GET /api/v1/sync?since=SEQ&limit=N`: everything that changed for the caller.
//!
//! Enumerators and supervisors read their own feed (their assignments, their interviews'
//! acceptance and review decisions, team changes); other roles read the whole event log.
//! A page never exceeds `limit`; `more: true` says to call again with `since = next`. The
//! store never returns an event beyond the durable watermark, so a cursor never skips or
//! repeats a change.

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::server::auth::Caller;
use crate::server::{ApiError, AppState, page_size};
use crate::store::{Feed, Role, rfc3339};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/sync", get(sync))
}

#[derive(Deserialize)]
struct SyncQuery {
    since: Option<u64>,
    limit: Option<usize>,
}

async fn sync(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<SyncQuery>,
) -> Result<Json<Value>, ApiError> {
    let feed = match caller.role() {
        Role::Enumerator | Role::Supervisor => Feed::User(caller.name().to_owned()),
        Role::Admin | Role::Manager | Role::Designer | Role::Researcher => Feed::All,
    };
    let limit = page_size(query.limit, &state.config);
    let page = state
        .store
        .changes_since(&feed, query.since.unwrap_or(0), limit)?;
    let changes: Vec<Value> = page
        .changes
        .iter()
        .map(|e| {
            json!({
                "seq": e.seq,
                "at": rfc3339(e.at_ms),
                "actor": e.actor,
                "kind": e.kind,
                "subject": e.subject,
                "data": e.data,
            })
        })
        .collect();
    Ok(Json(
        json!({"changes": changes, "next": page.next, "more": page.more}),
    ))
}
