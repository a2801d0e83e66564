//! Request bodies: size-limited, parsed into typed values, with JSON errors (413 over the
//! limit, 400 naming the place of a parse error) instead of axum's plain-text rejections.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::server::AppState;
use crate::server::error::ApiError;

/// A JSON request body parsed into `T`.
pub struct JsonBody<T>(pub T);

/// The raw body bytes, size-limited like [`JsonBody`].
pub struct RawBody(pub Bytes);

impl FromRequest<AppState> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        match Bytes::from_request(req, state).await {
            Ok(bytes) => Ok(RawBody(bytes)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::too_large(state.config.max_body_bytes))
            }
            Err(rejection) => Err(ApiError::bad_request(format!(
                "cannot read the request body: {rejection}"
            ))),
        }
    }
}

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let RawBody(bytes) = RawBody::from_request(req, state).await?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// Parses JSON with a message that names the line, column and field at fault.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = T::deserialize(&mut de).map_err(|err| {
        ApiError::bad_request(format!(
            "the request body is not valid JSON for this endpoint: {err} (line {}, column {})",
            err.line(),
            err.column()
        ))
    })?;
    de.end().map_err(|err| {
        ApiError::bad_request(format!("trailing characters after the JSON body: {err}"))
    })?;
    Ok(value)
}
