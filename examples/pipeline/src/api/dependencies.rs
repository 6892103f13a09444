//! Everything handlers receive that is not a `#[service]`: the parts of the
//! state that services take with `#[inject(from_ref)]` (database, config,
//! hashing), and the current user from the bearer token.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use crate::config::AppConfig;
use crate::db::Db;
use crate::services::{AppError, AuthService, Hashing, User};

/// What the router holds.
#[derive(Debug, Clone)]
pub struct AppState {
    pub db: Db,
    pub config: AppConfig,
    pub hashing: Hashing,
}

impl FromRef<AppState> for Hashing {
    fn from_ref(state: &AppState) -> Hashing {
        state.hashing.clone()
    }
}

impl FromRef<AppState> for Db {
    fn from_ref(state: &AppState) -> Db {
        state.db.clone()
    }
}

impl FromRef<AppState> for AppConfig {
    fn from_ref(state: &AppState) -> AppConfig {
        state.config.clone()
    }
}

/// The user of the request's `Authorization: Bearer <session id>`; 401
/// without a valid, unexpired session.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub User);

impl<S> FromRequestParts<S> for CurrentUser
where
    AuthService: FromRequestParts<S>,
    S: Send + Sync,
{
    type Rejection = axum::response::Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<CurrentUser, Self::Rejection> {
        use axum::response::IntoResponse;
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned);
        let Some(token) = token else {
            return Err(AppError::Unauthorized.into_response());
        };
        let auth = AuthService::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        auth.validate_session(&token)
            .await
            .map(CurrentUser)
            .map_err(IntoResponse::into_response)
    }
}
