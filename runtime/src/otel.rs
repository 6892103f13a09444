//! OpenTelemetry glue (feature `otel`), for a stack that has
//! [tracing-opentelemetry](https://docs.rs/tracing-opentelemetry)'s layer:
//!
//! - every line written while a trace is active ends with
//!   `trace_id=<32 hex digits>` (JSON: a `"trace_id"` key), so a line found in
//!   a file leads to its trace;
//! - [`ApiLayer::accept_trace_context`](crate::axum::ApiLayer::accept_trace_context)
//!   continues a caller's W3C `traceparent`;
//! - [`traceparent`] and [`Job::trace_parent`](crate::worker::Job::trace_parent)
//!   carry a trace from where a job is queued to the process that runs it.
//!
//! The trace id on lines is read from OpenTelemetry's current context, which
//! tracing-opentelemetry sets while a span is entered (its default "context
//! activation"). Encoding, batching and export are the OpenTelemetry crates'
//! business: logwire adds no exporter and starts no thread.
//!
//! ```
//! use tracing_subscriber::prelude::*;
//! use opentelemetry::trace::TracerProvider as _;
//!
//! let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
//! let (log, captured) = logwire::Logger::capture("api");
//! let stack = tracing_subscriber::registry()
//!     .with(logwire::layer(&log))
//!     .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("api")));
//! tracing::subscriber::with_default(stack, || {
//!     tracing::info_span!("request").in_scope(|| {
//!         logwire::info!(log, "BUILD_QUEUED", build_id = 7);
//!         let traceparent = logwire::otel::traceparent().unwrap();
//!         let trace_id = traceparent.split('-').nth(1).unwrap();
//!         let line = &captured.lines()[0];
//!         assert!(line.ends_with(&format!("BUILD_QUEUED | build_id=7 trace_id={trace_id}")));
//!     });
//! });
//! ```

use std::collections::HashMap;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{TraceContextExt, TraceId};
use opentelemetry::Context;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing_opentelemetry::OpenTelemetrySpanExt;

const TRACEPARENT: &str = "traceparent";

/// The W3C `traceparent` of the current `tracing` span
/// (`00-<trace id>-<span id>-<flags>`), or `None` outside a trace (no
/// current span, or no tracing-opentelemetry layer in the stack).
///
/// Store it with work queued for another process and hand it to
/// [`Job::trace_parent`](crate::worker::Job::trace_parent) there: the job
/// then joins this trace.
pub fn traceparent() -> Option<String> {
    let cx = tracing::Span::current().context();
    if !cx.span().span_context().is_valid() {
        return None;
    }
    let mut carrier = HashMap::with_capacity(1);
    TraceContextPropagator::new().inject_context(&cx, &mut carrier);
    carrier.remove(TRACEPARENT)
}

/// The context a `traceparent` value names, when it is a valid one.
pub(crate) fn remote_context(traceparent: &str) -> Option<Context> {
    let carrier = HashMap::from([(TRACEPARENT.to_owned(), traceparent.to_owned())]);
    remote(&TraceContextPropagator::new().extract(&carrier))
}

/// The context that the W3C trace headers of a request name, when valid.
#[cfg(feature = "axum")]
pub(crate) fn context_from_headers(headers: &::axum::http::HeaderMap) -> Option<Context> {
    let extractor = opentelemetry_http::HeaderExtractor(headers);
    remote(&TraceContextPropagator::new().extract(&extractor))
}

fn remote(cx: &Context) -> Option<Context> {
    cx.span().span_context().is_valid().then(|| cx.clone())
}

/// Makes `span` a child of the span that `parent` names. A span that an
/// OpenTelemetry layer did not see (none in the stack) is left as it is.
pub(crate) fn set_parent(span: &tracing::Span, parent: Context) {
    // Fails only for a span already started, which a new span is not.
    let _ = span.set_parent(parent);
}

/// Calls `f` with the active trace's id as 32 lowercase hex digits, or with
/// `None` when no trace is active on this thread.
pub(crate) fn with_trace_id<R>(f: impl FnOnce(Option<&str>) -> R) -> R {
    let id = Context::map_current(|cx| {
        // The cheap test first: most lines are written outside a trace.
        if !cx.has_active_span() {
            return None;
        }
        let span = cx.span();
        let sc = span.span_context();
        sc.is_valid().then(|| sc.trace_id())
    });
    match id {
        Some(id) => f(Some(hex(id, &mut [0; 32]))),
        None => f(None),
    }
}

fn hex(id: TraceId, out: &mut [u8; 32]) -> &str {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (i, b) in id.to_bytes().into_iter().enumerate() {
        out[2 * i] = DIGITS[usize::from(b >> 4)];
        out[2 * i + 1] = DIGITS[usize::from(b & 0xf)];
    }
    // Only ASCII hex digits were written.
    std::str::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trace_id_is_written_as_w3c_hex() {
        let id = TraceId::from_hex("0af7651916cd43dd8448eb211c80319c").unwrap();
        assert_eq!(hex(id, &mut [0; 32]), "0af7651916cd43dd8448eb211c80319c");
        assert_eq!(hex(id, &mut [0; 32]), format!("{id}"));
    }

    #[test]
    fn only_a_valid_traceparent_names_a_context() {
        let cx = remote_context("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01").unwrap();
        assert_eq!(
            cx.span().span_context().trace_id().to_string(),
            "0af7651916cd43dd8448eb211c80319c"
        );
        assert!(cx.span().span_context().is_remote());
        for bad in [
            "",
            "garbage",
            "00-00000000000000000000000000000000-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331",
        ] {
            assert!(remote_context(bad).is_none(), "{bad:?}");
        }
    }
}
