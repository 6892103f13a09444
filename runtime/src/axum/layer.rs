//! The API layer: one transaction id per request, REQUEST_START and
//! REQUEST_END, the logger for extractors, errors and panics logged once.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::http::{Request, Response, StatusCode};
use pin_project_lite::pin_project;
use tower::{Layer, Service};

use super::body::LoggedBody;
use super::log::{RequestLog, X_REQUEST_ID};
use super::request_id;
use crate::context::Scoped;
use crate::panic::CatchPanic;
use crate::{Level, Logger};

/// Logs every request of an axum app and gives its handlers their logger.
///
/// Per request:
/// - a new UUID v4 transaction id, in force for the whole request
///   (handler, services, and libraries logging through `tracing`), and
///   returned as the `x-request-id` response header;
/// - INFO `REQUEST_START | method=GET path=/api/builds` and, when the
///   response body has ended (sent whole, failed, or dropped), INFO
///   `REQUEST_END | method=GET path=/api/builds status_code=200
///   duration_ms=0.412`; the path never includes the query string, where
///   tokens travel;
/// - a panic or an error while the body streams: one ERROR line
///   (`REQUEST_PANIC` or `REQUEST_BODY_ERROR`) with the txid, and the
///   connection is closed (the status line has already gone out);
/// - the logger in the request's extensions, so that `Logger` and every
///   `#[logwire::service]` are extractors;
/// - for a 5xx response, exactly one ERROR line with the text of its
///   [`ErrorDetail`](super::ErrorDetail) (or saying there was none);
/// - a panic in a handler becomes a 500 with a JSON body
///   `{"error":"internal server error","request_id":"…"}` and one ERROR
///   line with the panic message and location; the server keeps serving;
/// - when a subscriber wants it, a span `request` with `method`, `path`,
///   `txid` and, once answered, `status_code` (with the `otel` feature, a
///   5xx also sets `otel.status_code = "ERROR"`, which tracing-opentelemetry
///   turns into the span's error status).
///
/// ```
/// use axum::{routing::get, Router};
/// use logwire::axum::ApiLayer;
///
/// async fn health(logger: logwire::Logger) -> &'static str {
///     logwire::debug!(logger, "HEALTH_CHECKED");
///     "ok"
/// }
///
/// let (api_logger, _) = logwire::Logger::capture("api"); // logwire::file_logger("api") in main
/// let app: Router = Router::new()
///     .route("/api/health", get(health))
///     .layer(ApiLayer::new(api_logger));
/// ```
#[derive(Debug, Clone)]
pub struct ApiLayer {
    logger: Logger,
    accept_request_id: bool,
    /// Paths whose REQUEST_START/END are DEBUG lines.
    quiet_paths: Arc<[String]>,
    #[cfg(feature = "otel")]
    accept_trace_context: bool,
}

impl ApiLayer {
    /// A layer that logs to `logger` and hands it to extractors.
    pub fn new(logger: Logger) -> Self {
        // The hook asks `panic::will_be_caught` before printing.
        crate::process::install_panic_hook();
        ApiLayer {
            logger,
            accept_request_id: false,
            quiet_paths: Arc::from([]),
            #[cfg(feature = "otel")]
            accept_trace_context: false,
        }
    }

    /// Use the client's `x-request-id` as the transaction id when it is 1
    /// to 64 characters of `[A-Za-z0-9._-]` (default: off, every request
    /// gets a fresh id). Turn it on behind a proxy that sets the header.
    pub fn accept_request_id(mut self, on: bool) -> Self {
        self.accept_request_id = on;
        self
    }

    /// Requests to exactly these paths (no query string, no prefix match)
    /// write `REQUEST_START` and `REQUEST_END` at DEBUG instead of INFO:
    /// health checks and metrics scrapes, polled every few seconds, stay
    /// out of an INFO log. Their errors and panics are still ERROR lines.
    ///
    /// ```
    /// let (api, captured) = logwire::Logger::capture("api");
    /// let layer = logwire::axum::ApiLayer::new(api).quiet_paths(["/api/health", "/metrics"]);
    /// # let _ = (layer, captured);
    /// ```
    pub fn quiet_paths<I, P>(mut self, paths: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: Into<String>,
    {
        self.quiet_paths = paths.into_iter().map(Into::into).collect();
        self
    }

    /// Continue the caller's trace (feature `otel`): the `request` span
    /// becomes a child of the span named by a valid W3C `traceparent`
    /// header, instead of starting a trace (default: off). Turn it on when
    /// the callers are your own services or a proxy that you trust with
    /// your traces; an invalid header starts a new trace.
    ///
    /// ```
    /// use opentelemetry::trace::TracerProvider as _;
    /// use tower::{Service, ServiceExt};
    /// use tracing_subscriber::prelude::*;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    /// let (api, captured) = logwire::Logger::capture("api");
    /// let stack = tracing_subscriber::registry()
    ///     .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("api")));
    /// let _stack = tracing::subscriber::set_default(stack);
    ///
    /// let app = axum::Router::new()
    ///     .route("/", axum::routing::get(|| async { "ok" }))
    ///     .layer(logwire::axum::ApiLayer::new(api).accept_trace_context(true));
    /// let request = axum::http::Request::get("/")
    ///     .header("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
    ///     .body(axum::body::Body::empty())
    ///     .unwrap();
    /// app.oneshot(request).await.unwrap();
    /// assert!(captured.lines()[0].ends_with("trace_id=0af7651916cd43dd8448eb211c80319c"));
    /// # }
    /// ```
    #[cfg(feature = "otel")]
    pub fn accept_trace_context(mut self, on: bool) -> Self {
        self.accept_trace_context = on;
        self
    }

    /// The request's span; a child of the caller's span when its trace
    /// context is accepted.
    fn request_span(&self, method: &str, headers: &axum::http::HeaderMap, path: &str, txid: &str) -> tracing::Span {
        // `status_code` is recorded when the response is known; with
        // OpenTelemetry, a 5xx also marks the span's status as an error (an
        // empty field that is never recorded shows nowhere).
        let span = tracing::info_span!(
            target: "logwire",
            "request",
            method = method,
            path = path,
            txid = txid,
            status_code = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
        );
        #[cfg(feature = "otel")]
        if self.accept_trace_context && !span.is_disabled() {
            if let Some(parent) = crate::otel::context_from_headers(headers) {
                crate::otel::set_parent(&span, parent);
            }
        }
        #[cfg(not(feature = "otel"))]
        let _ = headers;
        span
    }
}

impl<S> Layer<S> for ApiLayer {
    type Service = ApiService<S>;

    fn layer(&self, inner: S) -> ApiService<S> {
        ApiService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`ApiLayer`] wraps around an app.
#[derive(Debug, Clone)]
pub struct ApiService<S> {
    inner: S,
    layer: ApiLayer,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for ApiService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>, Error = Infallible> + Clone,
    ResBody: http_body::Body<Data = Bytes> + Send + 'static,
    ResBody::Error: Into<axum::BoxError>,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        // The clone that was polled ready serves this request (tower's rule).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let txid = self.layer.txid_for(req.headers());
        let logger = self.layer.logger.clone();
        req.extensions_mut().insert(logger.clone());
        let span = self
            .layer
            .request_span(req.method().as_str(), req.headers(), req.uri().path(), &txid);
        let log = RequestLog {
            logger: logger.clone(),
            method: req.method().clone(),
            // A Uri clone shares its bytes; the path is read from it, never the query.
            uri: req.uri().clone(),
            txid: txid.clone(),
            start: Instant::now(),
            span: span.clone(),
            level: if self.layer.quiet_paths.iter().any(|p| p == req.uri().path()) {
                Level::DEBUG
            } else {
                Level::INFO
            },
            status: StatusCode::OK,
            kept: logger.keeper(),
        };
        let kept = log.kept.clone();
        let logged = Logged {
            inner: CatchPanic::new(inner.call(req)),
            log: Some(log),
            started: false,
        };
        ResponseFuture {
            inner: crate::context::request_scope(txid, logger, kept, tracing::Instrument::instrument(logged, span)),
        }
    }
}

pin_project! {
    /// The future of an [`ApiService`]: the app's response with the
    /// request's lines written, its txid in force while it runs. Named (no
    /// box per request), as tower-http's `trace::ResponseFuture` is.
    pub struct ResponseFuture<F> {
        #[pin]
        inner: Scoped<tracing::instrument::Instrumented<Logged<F>>>,
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F, B> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, Infallible>>,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Output = Result<Response<Body>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project().inner.poll(cx).map(Ok)
    }
}

pin_project! {
    /// The app's future with REQUEST_START before it and the response's
    /// lines after it, polled inside the request's scope and span.
    pub(crate) struct Logged<F> {
        #[pin]
        inner: CatchPanic<F>,
        // `None` once the response is out.
        log: Option<RequestLog>,
        started: bool,
    }
}

impl<F, B> Future for Logged<F>
where
    F: Future<Output = Result<Response<B>, Infallible>>,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Output = Response<Body>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response<Body>> {
        let this = self.project();
        let Some(log) = this.log.as_mut() else {
            panic!("ResponseFuture polled after it completed");
        };
        if !*this.started {
            *this.started = true;
            log.started();
        }
        let mut response = match ready!(this.inner.poll(cx)) {
            Ok(Ok(response)) => {
                // `Body::new` of a `Body` is that body: no second box.
                let mut response = response.map(Body::new);
                log.server_error(&mut response);
                response
            }
            Ok(Err(never)) => match never {},
            Err(caught) => log.panicked(&caught),
        };
        log.answered(&mut response);
        let log = this.log.take().expect("checked above");
        // REQUEST_END is written when the body has ended.
        Poll::Ready(response.map(|body| Body::new(LoggedBody::new(body, log))))
    }
}

impl ApiLayer {
    /// The client's `x-request-id` when accepted and acceptable, else a new
    /// UUID v4.
    fn txid_for(&self, headers: &axum::http::HeaderMap) -> Arc<str> {
        match headers.get(&X_REQUEST_ID).and_then(|v| v.to_str().ok()) {
            Some(id) if self.accept_request_id && request_id::acceptable(id) => Arc::from(id),
            _ => request_id::new_uuid_v4(),
        }
    }
}
