//! Assignments: creation (one, a JSON array, or CSV), listing scoped to the caller, start
//! and close.

use axum::extract::{Path, Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::server::auth::Caller;
use crate::server::body::{RawBody, parse_json};
use crate::server::{ApiError, AppState, Page, next_cursor, page_size};
use crate::store::{Assignment, NewAssignment, Role, Target};

/// Who may create and close assignments.
const MANAGERS: &[Role] = &[Role::Admin, Role::Manager];

/// Who may list and read assignments (each only those [`can_see`] allows).
const VIEWERS: &[Role] = &[
    Role::Admin,
    Role::Manager,
    Role::Supervisor,
    Role::Enumerator,
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/assignments", post(create).get(list))
        .route("/api/v1/assignments/{id}", get(one))
        .route("/api/v1/assignments/{id}/start", post(start))
        .route("/api/v1/assignments/{id}/close", post(close))
}

/// True when `caller` may see `assignment`: its enumerator, their supervisor, managers and
/// admins.
pub fn can_see(caller: &Caller, assignment: &Assignment) -> bool {
    match caller.role() {
        Role::Admin | Role::Manager => true,
        Role::Supervisor => assignment.supervisor.as_deref() == Some(caller.name()),
        Role::Enumerator => assignment.enumerator == caller.name(),
        Role::Designer | Role::Researcher => false,
    }
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    RawBody(bytes): RawBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(MANAGERS)?;
    let is_csv = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/csv"));
    let items = if is_csv {
        parse_csv(&bytes)?
    } else {
        let value: Value = parse_json(&bytes)?;
        let list = match value {
            Value::Array(items) => items,
            object @ Value::Object(_) => vec![object],
            _ => {
                return Err(ApiError::bad_request(
                    "send an assignment object, an array of them, or text/csv",
                ));
            }
        };
        let mut items = Vec::with_capacity(list.len());
        for (index, item) in list.into_iter().enumerate() {
            let parsed: NewAssignment = serde_json::from_value(item)
                .map_err(|err| ApiError::bad_request(format!("assignment {index}: {err}")))?;
            items.push(parsed);
        }
        items
    };
    if items.is_empty() {
        return Err(ApiError::bad_request("no assignments in the request"));
    }
    let created = state
        .store
        .create_assignments(items, caller.name())?
        .wait()
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"created": created.len(), "assignments": created})),
    ))
}

/// Reads the documented CSV columns (see docs/api.md); errors name the line.
fn parse_csv(bytes: &[u8]) -> Result<Vec<NewAssignment>, ApiError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|err| ApiError::bad_request(format!("CSV header: {err}")))?
        .clone();
    const KNOWN: [&str; 9] = [
        "questionnaire",
        "allowed_versions",
        "enumerator",
        "unit_id",
        "tier",
        "province",
        "quantity",
        "preload",
        "preload_protected",
    ];
    for header in headers.iter() {
        if !KNOWN.contains(&header) {
            return Err(ApiError::bad_request(format!(
                "CSV column {header:?} is unknown; the columns are {}",
                KNOWN.join(", ")
            )));
        }
    }
    for required in ["questionnaire", "enumerator", "unit_id"] {
        if !headers.iter().any(|h| h == required) {
            return Err(ApiError::bad_request(format!(
                "CSV column {required:?} is missing"
            )));
        }
    }
    let column = |name: &str| headers.iter().position(|h| h == name);
    let mut out = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let line = index + 2;
        let record =
            record.map_err(|err| ApiError::bad_request(format!("CSV line {line}: {err}")))?;
        let field = |name: &str| {
            column(name)
                .and_then(|i| record.get(i))
                .filter(|v| !v.is_empty())
        };
        let bad = |name: &str, why: String| {
            ApiError::bad_request(format!("CSV line {line}, column {name}: {why}"))
        };
        let tier = field("tier")
            .map(|v| {
                v.parse::<u32>()
                    .map_err(|_| bad("tier", format!("{v:?} is not a tier number")))
            })
            .transpose()?;
        let quantity = field("quantity")
            .map(|v| {
                v.parse::<u32>()
                    .map_err(|_| bad("quantity", format!("{v:?} is not a count")))
            })
            .transpose()?;
        let preload = field("preload")
            .map(|v| {
                RawValue::from_string(v.to_owned())
                    .map_err(|err| bad("preload", format!("not JSON: {err}")))
            })
            .transpose()?;
        let preload_protected = match field("preload_protected") {
            None | Some("false") | Some("0") => false,
            Some("true") | Some("1") => true,
            Some(v) => return Err(bad("preload_protected", format!("{v:?} is not true/false"))),
        };
        out.push(NewAssignment {
            questionnaire: field("questionnaire").unwrap_or_default().to_owned(),
            allowed_versions: field("allowed_versions")
                .map(|v| v.split(';').map(|s| s.trim().to_owned()).collect()),
            enumerator: field("enumerator").unwrap_or_default().to_owned(),
            target: Target {
                unit_id: field("unit_id").unwrap_or_default().to_owned(),
                tier,
                province: field("province").map(str::to_owned),
            },
            preload,
            preload_protected,
            quantity,
        });
    }
    Ok(out)
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(page): Query<Page>,
) -> Result<Json<Value>, ApiError> {
    caller.require(VIEWERS)?;
    let limit = page_size(page.limit, &state.config);
    let own = (caller.role() == Role::Enumerator).then(|| caller.name().to_owned());
    let keep = |a: &Assignment| can_see(&caller, a);
    let (items, more) =
        state
            .store
            .list_assignments(own.as_deref(), page.after.as_deref(), limit, &keep)?;
    let next = next_cursor(&items, more, |a| a.id.clone());
    Ok(Json(json!({"assignments": items, "next": next})))
}

async fn one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Assignment>, ApiError> {
    caller.require(VIEWERS)?;
    let assignment = visible(&state, &caller, &id)?;
    Ok(Json(assignment))
}

/// The assignment if the caller may see it; 404 otherwise, so nobody learns which ids exist.
fn visible(state: &AppState, caller: &Caller, id: &str) -> Result<Assignment, ApiError> {
    match state.store.assignment(id)? {
        Some(a) if can_see(caller, &a) => Ok(a),
        _ => Err(ApiError::not_found(format!("assignment {id} not found"))),
    }
}

async fn start(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Assignment>, ApiError> {
    caller.require(&[Role::Enumerator])?;
    visible(&state, &caller, &id)?;
    let assignment = state
        .store
        .start_assignment(&id, caller.name())?
        .wait()
        .await?;
    Ok(Json(assignment))
}

async fn close(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Assignment>, ApiError> {
    caller.require(MANAGERS)?;
    let assignment = state
        .store
        .close_assignment(&id, caller.name())?
        .wait()
        .await?;
    Ok(Json(assignment))
}
