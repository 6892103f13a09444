//! Service errors as HTTP answers. Nothing is logged here: a 5xx carries
//! its detail to logwire's ApiLayer, which writes the one ERROR line.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use logwire::axum::ErrorDetail;

use crate::services::AppError;

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, message) = match &self {
            AppError::Unauthorized => (StatusCode::UNAUTHORIZED, "missing or invalid session".to_owned()),
            AppError::NotFound(_) => (StatusCode::NOT_FOUND, self.to_string()),
            AppError::Forbidden(why) => (StatusCode::FORBIDDEN, why.clone()),
            AppError::BadRequest(why) => (StatusCode::BAD_REQUEST, why.clone()),
            AppError::Conflict(why) => (StatusCode::CONFLICT, why.clone()),
            AppError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal server error".to_owned()),
            AppError::Busy { .. } => (
                StatusCode::SERVICE_UNAVAILABLE,
                "too many logins at once; retry".to_owned(),
            ),
        };
        let mut response = (status, Json(serde_json::json!({ "error": message }))).into_response();
        match self {
            AppError::Internal(detail) => {
                response.extensions_mut().insert(ErrorDetail::new(detail));
            }
            AppError::Busy { retry_after_secs } => {
                response
                    .extensions_mut()
                    .insert(ErrorDetail::new("password hashing at capacity"));
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            }
            AppError::Unauthorized => {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        response
    }
}
