//! Login, the calling user, and user administration.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::server::auth::Caller;
use crate::server::body::JsonBody;
use crate::server::credentials::{hash_password, verify_password};
use crate::server::{ApiError, AppState};
use crate::store::{Role, User, rfc3339};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/health", get(health))
        .route("/api/v1/login", post(login))
        .route("/api/v1/me", get(me))
        .route("/api/v1/users", get(list).post(create))
        .route("/api/v1/users/{name}/supervisor", put(set_supervisor))
}

/// A user as the API shows it (never the password hash).
pub fn user_view(user: &User) -> Value {
    json!({
        "name": user.name,
        "role": user.role,
        "supervisor": user.supervisor,
        "created_at": rfc3339(user.created_at_ms),
    })
}

async fn health(State(state): State<AppState>) -> Json<Value> {
    let failed = state.store.is_failed();
    Json(json!({
        "status": if failed { "refusing_writes" } else { "ok" },
        "durable_seq": state.store.durable_seq(),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    name: String,
    password: String,
}

async fn login(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<LoginBody>,
) -> Result<Json<Value>, ApiError> {
    let wrong = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "wrong name or password",
        )
    };
    let user = state.store.user(&body.name)?;
    let hash = user.as_ref().and_then(|u| u.password_hash.clone());
    // argon2 takes tens of milliseconds: off the runtime. An unknown user is verified
    // against nothing, which fails quickly; that timing difference reveals only whether a
    // name exists, which names in a survey team are not secret.
    let ok = match hash {
        Some(hash) => {
            let password = body.password;
            tokio::task::spawn_blocking(move || verify_password(&password, &hash))
                .await
                .map_err(|err| ApiError::internal(&err))?
        }
        None => false,
    };
    let Some(user) = user.filter(|_| ok) else {
        return Err(wrong());
    };
    let token = state.store.issue_token(&user.name)?.wait().await?;
    Ok(Json(json!({"token": token, "user": user_view(&user)})))
}

async fn me(caller: Caller) -> Json<Value> {
    Json(user_view(&caller.0))
}

async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    caller.require(&[Role::Admin, Role::Manager])?;
    let users: Vec<Value> = state.store.users()?.iter().map(user_view).collect();
    Ok(Json(json!({"users": users})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateUser {
    name: String,
    role: String,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    supervisor: Option<String>,
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<CreateUser>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(&[Role::Admin])?;
    let role: Role = body.role.parse().map_err(ApiError::bad_request)?;
    let password_hash = match body.password {
        Some(password) => Some(
            tokio::task::spawn_blocking(move || hash_password(&password))
                .await
                .map_err(|err| ApiError::internal(&err))?
                .map_err(ApiError::bad_request)?,
        ),
        None => None,
    };
    let token = state
        .store
        .add_user(
            &body.name,
            role,
            password_hash,
            body.supervisor.as_deref(),
            caller.name(),
        )?
        .wait()
        .await?;
    let user = state
        .store
        .user(&body.name)?
        .ok_or_else(|| ApiError::internal(&"user vanished after creation"))?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"user": user_view(&user), "token": token})),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetSupervisor {
    supervisor: Option<String>,
}

async fn set_supervisor(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    JsonBody(body): JsonBody<SetSupervisor>,
) -> Result<Json<Value>, ApiError> {
    caller.require(&[Role::Admin, Role::Manager])?;
    let user = state
        .store
        .set_supervisor(&name, body.supervisor.as_deref(), caller.name())?
        .wait()
        .await?;
    Ok(Json(user_view(&user)))
}
