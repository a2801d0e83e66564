//! Who is calling: the bearer-token extractor and role checks.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use crate::server::AppState;
use crate::server::error::ApiError;
use crate::store::{Role, User};

/// The authenticated caller of a request. Extracting it answers 401 when the token is
/// missing, malformed or unknown.
#[derive(Debug, Clone)]
pub struct Caller(pub User);

impl Caller {
    /// The caller's name.
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// The caller's role.
    pub fn role(&self) -> Role {
        self.0.role
    }

    /// 403 unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.0.role) {
            Ok(())
        } else {
            let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            Err(ApiError::forbidden(format!(
                "this needs the role {}; you are a {}",
                names.join(" or "),
                self.0.role
            )))
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(ApiError::unauthorized)?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .ok_or_else(ApiError::unauthorized)?;
        // A token lookup is one small sled read: fine on the runtime (STYLE rule 11).
        match state.store.authenticate(token.trim())? {
            Some(user) => Ok(Caller(user)),
            None => Err(ApiError::unauthorized()),
        }
    }
}
