//! The OpenAPI 3.1 document, generated from the route table so it lists every endpoint.

use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use crate::server::AppState;
use crate::server::routes::ROUTES;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/openapi.json", get(|| async { Json(document()) }))
}

/// The OpenAPI document.
pub fn document() -> Value {
    let mut paths: Map<String, Value> = Map::new();
    for route in ROUTES {
        let params: Vec<Value> = route
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        let roles: Vec<&str> = route.roles.iter().map(|r| r.as_str()).collect();
        let description = if roles.is_empty() {
            "No token needed.".to_owned()
        } else {
            format!("Roles: {}.", roles.join(", "))
        };
        let mut responses = Map::new();
        responses.insert(
            route.ok_status.to_string(),
            json!({"description": "Success", "content": {"application/json": {}}}),
        );
        for (status, text) in [
            ("400", "Malformed request"),
            ("401", "Missing or invalid token"),
            ("403", "Role not allowed"),
            ("404", "Not found"),
            ("409", "Conflict with the current state"),
            ("413", "Body too large"),
            ("422", "Findings (lint or validation)"),
            (
                "503",
                "Writes refused after a failed fsync, or engine unavailable",
            ),
        ] {
            responses.insert(status.into(), json!({"description": text, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}));
        }
        let mut operation = json!({
            "summary": route.summary,
            "description": description,
            "parameters": params,
            "responses": responses,
        });
        if !roles.is_empty() {
            operation["security"] = json!([{"bearer": []}]);
        }
        let entry = paths
            .entry(route.path.to_owned())
            .or_insert_with(|| json!({}));
        entry[route.method.to_lowercase()] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "chainsurvey collection API", "version": env!("CARGO_PKG_VERSION")},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
                        "code": {"type": "string"}, "message": {"type": "string"}, "details": {}
                    }}}
                }
            }
        }
    })
}
