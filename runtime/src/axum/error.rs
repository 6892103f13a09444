//! Errors reach the log through the response, never through the handler.

use std::fmt;
use std::sync::Arc;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::format::escape::push_json_str;

/// The text of an error, attached to a response for the API layer to log.
///
/// Handlers and services never log their own errors: an error type puts
/// its text on its response, and for a 5xx response the layer writes
/// exactly one ERROR line with it, then removes it before the response
/// leaves.
///
/// ```
/// use axum::http::StatusCode;
/// use axum::response::{IntoResponse, Response};
/// use logwire::axum::ErrorDetail;
///
/// struct DbError(String);
///
/// impl IntoResponse for DbError {
///     fn into_response(self) -> Response {
///         let mut response = (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
///         response.extensions_mut().insert(ErrorDetail::new(self.0));
///         response
///     }
/// }
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ErrorDetail(Arc<str>);

impl ErrorDetail {
    /// The error's text, as the log should show it.
    pub fn new(text: impl Into<String>) -> Self {
        ErrorDetail(Arc::from(text.into()))
    }

    /// The text.
    pub fn text(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ErrorDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ErrorDetail").field(&&*self.0).finish()
    }
}

impl fmt::Display for ErrorDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A ready error type for handlers: `?` any `std::error::Error` into it.
///
/// The client gets the status and a JSON body `{"error": "<message>"}`;
/// the log gets the detail (for a 5xx, through [`ErrorDetail`]). Internal
/// errors show the client only `"internal server error"`.
///
/// ```
/// use axum::http::StatusCode;
/// use logwire::axum::ApiError;
///
/// fn parse(id: &str) -> Result<u64, ApiError> {
///     if id.is_empty() {
///         return Err(ApiError::new(StatusCode::BAD_REQUEST, "id is required"));
///     }
///     Ok(id.parse::<u64>()?) // a ParseIntError becomes a logged 500
/// }
/// assert_eq!(parse("").unwrap_err().status(), StatusCode::BAD_REQUEST);
/// assert_eq!(parse("x").unwrap_err().status(), StatusCode::INTERNAL_SERVER_ERROR);
/// ```
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    detail: Option<String>,
}

impl ApiError {
    /// An error the client may read: `status` with `message` as the body.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            detail: None,
        }
    }

    /// A 500 whose `detail` goes to the log only.
    pub fn internal(detail: impl fmt::Display) -> Self {
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: "internal server error".into(),
            detail: Some(detail.to_string()),
        }
    }

    /// Adds text for the log beside the client's message.
    pub fn with_detail(mut self, detail: impl fmt::Display) -> Self {
        self.detail = Some(detail.to_string());
        self
    }

    /// The response status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// What the client reads.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// `500 Internal Server Error: internal server error (database is locked)`:
/// the status, the client's message and the detail for the log.
///
/// `ApiError` is not itself a `std::error::Error`: it takes any error with
/// `?` (the `From` below), and implementing `Error` too would make that
/// `From` overlap the standard `From<T> for T` (anyhow's error makes the
/// same choice).
impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.status, self.message)?;
        match &self.detail {
            Some(detail) => write!(f, " ({detail})"),
            None => Ok(()),
        }
    }
}

impl<E: std::error::Error> From<E> for ApiError {
    /// A 500 whose log line holds the error and its sources.
    fn from(e: E) -> Self {
        let mut text = e.to_string();
        let mut source = e.source();
        while let Some(s) = source {
            text.push_str(": ");
            text.push_str(&s.to_string());
            source = s.source();
        }
        ApiError::internal(text)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = String::from("{\"error\":\"");
        push_json_str(&mut body, &self.message);
        body.push_str("\"}");
        let mut response = (self.status, body).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(detail) = self
            .detail
            .or_else(|| self.status.is_server_error().then_some(self.message))
        {
            response.extensions_mut().insert(ErrorDetail::new(detail));
        }
        response
    }
}
