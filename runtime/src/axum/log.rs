//! The lines of one request, written by the layer and by the body wrapper.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::http::{header, HeaderName, HeaderValue, Response, StatusCode};

use super::error::ErrorDetail;
use crate::keep::Kept;
use crate::panic::Caught;
use crate::{Level, Logger};

pub(super) static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The lines of one request.
pub(super) struct RequestLog {
    pub(super) logger: Logger,
    pub(super) method: axum::http::Method,
    pub(super) uri: axum::http::Uri,
    pub(super) txid: Arc<str>,
    pub(super) start: Instant,
    pub(super) span: tracing::Span,
    /// Of REQUEST_START and REQUEST_END: DEBUG for quiet paths.
    pub(super) level: Level,
    /// The status sent, once answered.
    pub(super) status: StatusCode,
    /// The request's DEBUG lines kept for a failure, when its logger keeps them.
    pub(super) kept: Option<Arc<Kept>>,
}

impl RequestLog {
    pub(super) fn started(&self) {
        crate::event!(
            self.logger,
            self.level,
            "REQUEST_START",
            method = self.method.as_str(),
            path = self.uri.path()
        );
    }

    /// One ERROR line for a 5xx, with its [`ErrorDetail`]; the detail never
    /// leaves with the response.
    pub(super) fn server_error(&self, response: &mut Response<Body>) {
        let status = response.status();
        let detail = response.extensions_mut().remove::<ErrorDetail>();
        if status.is_server_error() {
            self.logger.write_kept(self.kept.as_deref());
            let text = detail.as_ref().map_or(
                "no ErrorDetail on the response: attach logwire::axum::ErrorDetail to say what failed",
                ErrorDetail::text,
            );
            crate::error!(
                self.logger,
                "REQUEST_ERROR",
                method = self.method.as_str(),
                path = self.uri.path(),
                status_code = status.as_u16(),
                error = text,
            );
        }
    }

    /// One ERROR line for a handler's panic, and the 500 that answers it.
    pub(super) fn panicked(&self, caught: &Caught) -> Response<Body> {
        self.logger.write_kept(self.kept.as_deref());
        crate::error!(
            self.logger,
            "REQUEST_PANIC",
            method = self.method.as_str(),
            path = self.uri.path(),
            panic = caught.message.as_str(),
            location = caught.location.as_deref().unwrap_or("unknown"),
        );
        panic_response(&self.txid)
    }

    /// Sets `x-request-id` and records the status on the span.
    pub(super) fn answered(&mut self, response: &mut Response<Body>) {
        if let Ok(value) = HeaderValue::from_str(&self.txid) {
            response.headers_mut().insert(X_REQUEST_ID.clone(), value);
        }
        self.status = response.status();
        self.span.record("status_code", self.status.as_u16());
        #[cfg(feature = "otel")]
        if self.status.is_server_error() {
            self.span.record("otel.status_code", "ERROR");
        }
    }

    /// REQUEST_END, when the body has ended.
    pub(super) fn ended(&self) {
        crate::event!(
            self.logger,
            self.level,
            "REQUEST_END",
            method = self.method.as_str(),
            path = self.uri.path(),
            status_code = self.status.as_u16(),
            duration_ms = crate::format::elapsed_ms(self.start),
        );
    }

    /// One ERROR line for a body that failed while it was sent.
    pub(super) fn body_failed(&self, error: &dyn std::fmt::Display) {
        self.logger.write_kept(self.kept.as_deref());
        crate::error!(
            self.logger,
            "REQUEST_BODY_ERROR",
            method = self.method.as_str(),
            path = self.uri.path(),
            status_code = self.status.as_u16(),
            error = %error,
        );
    }

    /// One ERROR line for a panic while the body was sent.
    pub(super) fn body_panicked(&self, caught: &Caught) {
        self.logger.write_kept(self.kept.as_deref());
        crate::error!(
            self.logger,
            "REQUEST_PANIC",
            method = self.method.as_str(),
            path = self.uri.path(),
            status_code = self.status.as_u16(),
            panic = caught.message.as_str(),
            location = caught.location.as_deref().unwrap_or("unknown"),
        );
    }
}

pub(super) fn panic_response(request_id: &str) -> Response<Body> {
    // The id is a UUID or passed `acceptable`: no JSON escaping needed.
    let body = format!("{{\"error\":\"internal server error\",\"request_id\":\"{request_id}\"}}");
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}
