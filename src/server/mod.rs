//! The axum HTTP API (`/api/v1`), authentication and roles, and the embedded web client.
