//! What a service call can fail with, in terms an HTTP API can answer.

use std::fmt;

use crate::db::DbError;

/// Errors of the services, answered by the API as 4xx/5xx.
#[derive(Debug)]
pub enum AppError {
    /// Missing, wrong or expired credentials.
    Unauthorized,
    /// Signed in, but not allowed to (the message says what).
    Forbidden(String),
    /// The request is malformed (the message says how).
    BadRequest(String),
    /// No such thing (the message says which).
    NotFound(String),
    /// The request cannot be done in the current state.
    Conflict(String),
    /// Something on our side failed; the text goes to the log only.
    Internal(String),
    /// Too busy now; try again after the given seconds.
    Busy { retry_after_secs: u32 },
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppError::Unauthorized => f.write_str("unauthorized"),
            AppError::Forbidden(why) | AppError::BadRequest(why) => f.write_str(why),
            AppError::NotFound(what) => write!(f, "{what} not found"),
            AppError::Conflict(why) => f.write_str(why),
            AppError::Internal(detail) => write!(f, "internal error: {detail}"),
            AppError::Busy { retry_after_secs } => write!(f, "busy, retry after {retry_after_secs} s"),
        }
    }
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        AppError::Internal(e.to_string())
    }
}
