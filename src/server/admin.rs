//! Administration endpoints: online backup (the store copies without blocking writers and
//! answers with the journal point the backup holds).

use std::path::PathBuf;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::server::auth::Caller;
use crate::server::body::JsonBody;
use crate::server::{ApiError, AppState};
use crate::store::Role;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/admin/backup", post(backup))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BackupBody {
    /// A new or empty directory on the server's file system.
    to: PathBuf,
}

async fn backup(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<BackupBody>,
) -> Result<Json<Value>, ApiError> {
    caller.require(&[Role::Admin])?;
    if !body.to.is_absolute() {
        return Err(ApiError::bad_request(
            "`to` must be an absolute directory path on the server",
        ));
    }
    let store = state.store.clone();
    let to = body.to.clone();
    // The copy is blocking file I/O: off the runtime.
    let report = tokio::task::spawn_blocking(move || crate::store::backup(&store, &to))
        .await
        .map_err(|err| ApiError::internal(&err))?
        .map_err(|err| match err {
            crate::store::Error::Target(message) => ApiError::conflict(message),
            other => ApiError::from(other),
        })?;
    // The point is what a restore of this backup holds (also in its `backup.json`).
    Ok(Json(json!({
        "backup": body.to,
        "point": report.point,
        "copy_started_at": report.copy_started_at,
        "redone_lines": report.redone_lines,
    })))
}
