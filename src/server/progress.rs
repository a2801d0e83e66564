//! `GET /api/v1/progress`: counts read from counters maintained on write.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::server::auth::Caller;
use crate::server::{ApiError, AppState};
use crate::store::Role;

/// dimension → value → status → count.
type ByDimension = BTreeMap<String, BTreeMap<String, BTreeMap<String, i64>>>;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/progress", get(progress))
}

/// Shape: `{"assignment": {"enumerator": {"anh": {"assigned": 3}}, …}, "interview": {…}}`.
/// A supervisor sees their team and its enumerators only.
async fn progress(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    caller.require(&[
        Role::Admin,
        Role::Manager,
        Role::Supervisor,
        Role::Researcher,
    ])?;
    let progress = state.store.progress()?;
    let team: Option<Vec<String>> = if caller.role() == Role::Supervisor {
        Some(
            state
                .store
                .users()?
                .into_iter()
                .filter(|u| u.supervisor.as_deref() == Some(caller.name()))
                .map(|u| u.name)
                .collect(),
        )
    } else {
        None
    };
    let mut out: BTreeMap<String, ByDimension> = BTreeMap::new();
    for row in progress.rows {
        if let Some(team) = &team {
            let visible = match row.dimension.as_str() {
                "team" => row.value == caller.name(),
                "enumerator" => team.contains(&row.value),
                _ => false,
            };
            if !visible {
                continue;
            }
        }
        out.entry(row.kind)
            .or_default()
            .entry(row.dimension)
            .or_default()
            .entry(row.value)
            .or_default()
            .insert(row.status, row.count);
    }
    Ok(Json(json!(out)))
}
