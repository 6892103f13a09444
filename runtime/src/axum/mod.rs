//! Axum integration: [`ApiLayer`] logs every request and error, and puts
//! the logger where extractors find it, so that `Logger` and every
//! `#[service]` struct are extractors.
//!
//! The logger reaches handlers through the request's extensions, where the
//! API layer puts it. Without that layer, extracting a `Logger` (or a
//! service) answers 500 with a body that names the missing layer, and
//! prints one warning to stderr; it never panics.

use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::Logger;

mod body;
mod error;
mod layer;
mod log;
mod request_id;

pub use error::{ApiError, ErrorDetail};
pub use layer::{ApiLayer, ApiService, ResponseFuture};

impl<S: Send + Sync> FromRequestParts<S> for Logger {
    type Rejection = MissingApiLayer;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Logger>().cloned().ok_or(MissingApiLayer)
    }
}

/// The rejection when a handler asks for a [`Logger`] (or a service) on a
/// router without logwire's API layer: a 500 that says what to add.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MissingApiLayer;

impl MissingApiLayer {
    /// The response body.
    pub const MESSAGE: &'static str =
        "logwire: no logger in this request; add `.layer(logwire::axum::ApiLayer::new(logger))` to the router";
}

impl IntoResponse for MissingApiLayer {
    fn into_response(self) -> Response {
        static WARNED: AtomicBool = AtomicBool::new(false);
        if !WARNED.swap(true, Ordering::Relaxed) {
            crate::sink::warn_stderr!("{}", Self::MESSAGE);
        }
        (StatusCode::INTERNAL_SERVER_ERROR, Self::MESSAGE).into_response()
    }
}

/// The glue that `#[service]` emits calls this, through `__private` only.
pub(crate) mod glue {
    use axum::http::request::Parts;

    use super::MissingApiLayer;
    use crate::Logger;

    /// How the glue of `#[service]` takes the logger out of a request: a plain
    /// function, so that the extractor's future never awaits on the logger
    /// field's type (when that type is misspelled, rustc then reports the
    /// misspelling alone).
    pub trait LoggerFromParts<S>: Sized {
        /// The request's logger, put there by the API layer.
        fn logger_from_parts(parts: &Parts) -> Result<Self, MissingApiLayer>;
    }

    impl<S> LoggerFromParts<S> for Logger {
        fn logger_from_parts(parts: &Parts) -> Result<Logger, MissingApiLayer> {
            parts.extensions.get::<Logger>().cloned().ok_or(MissingApiLayer)
        }
    }
}
