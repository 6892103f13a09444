//! The process's `tracing` stack. Always: logwire's layer (library events
//! into `api.log` / `worker.log`). With `OTEL_EXPORTER_OTLP_ENDPOINT` set:
//! spans (tracing-opentelemetry) and log records
//! (opentelemetry-appender-tracing) exported over OTLP/HTTP with protobuf,
//! as `service.name` `pipeline-api` or `pipeline-worker`.
//!
//! Export runs on the OpenTelemetry SDK's own batch threads: a collector
//! that is down or slow never holds up a request or a job (full queues drop
//! spans), and says so on stderr at most once a minute.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use logwire::Logger;

use crate::say;
use opentelemetry::trace::{Link, SpanKind, TraceId, TraceState, TracerProvider as _};
use opentelemetry::InstrumentationScope;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::logs::{LogBatch, LogExporter, SdkLoggerProvider};
use opentelemetry_sdk::trace::{
    Sampler, SamplingDecision, SamplingResult, SdkTracerProvider, ShouldSample, SpanData, SpanExporter,
};
use opentelemetry_sdk::Resource;
use tracing_subscriber::filter::{filter_fn, EnvFilter};
use tracing_subscriber::prelude::*;

const ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";

/// The longest the exit waits for the last spans and records to go out.
const FLUSH_AT_EXIT: Duration = Duration::from_secs(5);

/// What the exporters keep running; [`Telemetry::shutdown`] sends what is
/// left before the process exits.
#[must_use = "call .shutdown() before exit, or the last spans are lost"]
pub struct Telemetry {
    export: Option<Export>,
}

struct Export {
    traces: SdkTracerProvider,
    logs: SdkLoggerProvider,
    warn: Arc<Warner>,
}

impl Telemetry {
    /// Sends the spans and log records still queued, waiting at most a few
    /// seconds; blocking, so call it off the async runtime's threads.
    pub fn shutdown(self) {
        let Some(Export { traces, logs, warn }) = self.export else {
            return;
        };
        // Both at once, so that a collector that never answers costs the
        // exit one timeout, not two.
        let (traces, logs) = std::thread::scope(|s| {
            let traces = s.spawn(|| traces.shutdown_with_timeout(FLUSH_AT_EXIT));
            let logs = logs.shutdown_with_timeout(FLUSH_AT_EXIT);
            (traces.join(), logs)
        });
        // What is lost at exit is said at exit, whatever was said before.
        let failures: Vec<String> = [traces.unwrap_or(Ok(())), logs]
            .into_iter()
            .filter_map(Result::err)
            .map(|e| e.to_string())
            .collect();
        if !failures.is_empty() {
            say(&format!(
                "{}: at exit, what was still queued was not sent to {} (waited at most {} s): {}",
                warn.service,
                warn.endpoint,
                FLUSH_AT_EXIT.as_secs(),
                failures.join("; ")
            ));
        }
    }
}

/// Installs the process's stack around `logger`; `service` is the
/// OpenTelemetry `service.name`.
pub fn init(logger: &Logger, service: &'static str) -> Telemetry {
    let Some(endpoint) = std::env::var(ENDPOINT).ok().filter(|e| !e.is_empty()) else {
        logwire::init(logger);
        return Telemetry { export: None };
    };
    let warn = Warner::new(service, endpoint);
    let (traces, logs) = match providers(service, &warn) {
        Ok(providers) => providers,
        Err(e) => {
            say(&format!(
                "{service}: not exporting to {ENDPOINT}={}: {e}",
                warn.endpoint
            ));
            logwire::init(logger);
            return Telemetry { export: None };
        }
    };
    // The exporter's HTTP client logs through `tracing` too: exporting its
    // events would feed the export with itself.
    let not_the_exporter = || filter_fn(|meta| !EXPORTER_TARGETS.iter().any(|t| meta.target().starts_with(t)));
    tracing_subscriber::registry()
        .with(filter(logger))
        .with(logwire::layer(logger))
        .with(
            tracing_opentelemetry::layer()
                .with_tracer(traces.tracer_with_scope(InstrumentationScope::builder("pipeline").build()))
                .with_filter(not_the_exporter()),
        )
        .with(
            opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge::new(&logs)
                .with_filter(not_the_exporter()),
        )
        .init();
    Telemetry {
        export: Some(Export { traces, logs, warn }),
    }
}

/// RUST_LOG's directives for library events, defaulting to the logger's
/// level, and all of logwire's spans and lines: its lines are filtered by
/// their logger's level already, and a `#[service]` method's span has the
/// method's level (DEBUG unless it says otherwise), which a trace wants.
fn filter(logger: &Logger) -> EnvFilter {
    let filter = EnvFilter::builder()
        .with_default_directive(logger.level().into())
        .from_env_lossy();
    if std::env::var("RUST_LOG").is_ok_and(|v| v.contains("logwire")) {
        return filter;
    }
    match "logwire=trace".parse() {
        Ok(all) => filter.add_directive(all),
        Err(_) => filter,
    }
}

/// The SDK and the exporter's HTTP client (reqwest on hyper-util).
const EXPORTER_TARGETS: [&str; 3] = ["opentelemetry", "reqwest", "hyper_util::client"];

fn providers(
    service: &'static str,
    warn: &Arc<Warner>,
) -> Result<(SdkTracerProvider, SdkLoggerProvider), opentelemetry_otlp::ExporterBuildError> {
    // The endpoint, headers and timeout come from the OTEL_EXPORTER_OTLP_*
    // variables, read by the exporter itself.
    let spans = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .build()?;
    let logs = opentelemetry_otlp::LogExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .build()?;
    let resource = Resource::builder().with_service_name(service).build();
    let mut traces = SdkTracerProvider::builder();
    // OTEL_TRACES_SAMPLER, when set, is the SDK's to read.
    if std::env::var_os("OTEL_TRACES_SAMPLER").is_none() {
        traces = traces.with_sampler(Sampler::ParentBased(Box::new(RequestsAndJobs)));
    }
    let traces = traces
        .with_resource(resource.clone())
        .with_batch_exporter(Warned {
            inner: spans,
            warn: warn.clone(),
            what: "spans",
        })
        .build();
    let logs = SdkLoggerProvider::builder()
        .with_resource(resource)
        .with_batch_exporter(Warned {
            inner: logs,
            warn: warn.clone(),
            what: "log records",
        })
        .build();
    Ok((traces, logs))
}

/// Starts traces at requests and jobs only; a span inside one follows its
/// parent (`ParentBased`). Anything else on its own, such as the worker's
/// claim of the next job four times a second while idle, would fill a
/// backend with one-span traces.
#[derive(Debug, Clone)]
struct RequestsAndJobs;

impl ShouldSample for RequestsAndJobs {
    fn should_sample(
        &self,
        _parent: Option<&opentelemetry::Context>,
        _trace_id: TraceId,
        name: &str,
        _kind: &SpanKind,
        _attributes: &[opentelemetry::KeyValue],
        _links: &[Link],
    ) -> SamplingResult {
        let decision = if name == "request" || name == "job" {
            SamplingDecision::RecordAndSample
        } else {
            SamplingDecision::Drop
        };
        SamplingResult {
            decision,
            attributes: Vec::new(),
            trace_state: TraceState::default(),
        }
    }
}

/// Says on stderr that export failed, at most once a minute, with how many
/// failures the silence hid.
#[derive(Debug)]
struct Warner {
    service: &'static str,
    endpoint: String,
    state: Mutex<WarnState>,
}

#[derive(Debug, Default)]
struct WarnState {
    last: Option<Instant>,
    unsaid: u64,
}

const WARN_EVERY: Duration = Duration::from_secs(60);

impl Warner {
    fn new(service: &'static str, endpoint: String) -> Arc<Warner> {
        Arc::new(Warner {
            service,
            endpoint,
            state: Mutex::default(),
        })
    }

    fn failed(&self, what: &str, error: &OTelSdkError) {
        if let Some(warning) = self.note(what, error, Instant::now()) {
            say(&warning);
        }
    }

    /// The warning to print for a failure at `now`, if one is due.
    fn note(&self, what: &str, error: &OTelSdkError, now: Instant) -> Option<String> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if state
            .last
            .is_some_and(|last| now.saturating_duration_since(last) < WARN_EVERY)
        {
            state.unsaid += 1;
            return None;
        }
        let unsaid = std::mem::take(&mut state.unsaid);
        state.last = Some(now);
        let earlier = if unsaid > 0 {
            format!(" ({unsaid} more failed since the last warning)")
        } else {
            String::new()
        };
        Some(format!(
            "{}: could not export {what} to {}: {error}{earlier}; dropped, next warning in a minute at the earliest",
            self.service, self.endpoint
        ))
    }
}

/// An exporter that tells its [`Warner`] when an export fails.
struct Warned<E> {
    inner: E,
    warn: Arc<Warner>,
    what: &'static str,
}

impl<E: fmt::Debug> fmt::Debug for Warned<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Warned")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<E> Warned<E> {
    fn check(&self, result: OTelSdkResult) -> OTelSdkResult {
        if let Err(e) = &result {
            self.warn.failed(self.what, e);
        }
        result
    }
}

impl<E: SpanExporter> SpanExporter for Warned<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.check(self.inner.export(batch).await)
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

impl<E: LogExporter> LogExporter for Warned<E> {
    async fn export(&self, batch: LogBatch<'_>) -> OTelSdkResult {
        self.check(self.inner.export(batch).await)
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn event_enabled(&self, level: opentelemetry::logs::Severity, target: &str, name: Option<&str>) -> bool {
        self.inner.event_enabled(level, target, name)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_said_at_most_once_a_minute_with_the_count_of_the_rest() {
        let warn = Warner::new("pipeline-api", "http://127.0.0.1:1".into());
        let error = OTelSdkError::InternalFailure("connection refused".into());
        let t0 = Instant::now();
        assert_eq!(
            warn.note("spans", &error, t0).as_deref(),
            Some(
                "pipeline-api: could not export spans to http://127.0.0.1:1: Operation failed: connection refused; \
                 dropped, next warning in a minute at the earliest"
            )
        );
        for s in [1, 30, 59] {
            assert_eq!(warn.note("log records", &error, t0 + Duration::from_secs(s)), None);
        }
        assert_eq!(
            warn.note("log records", &error, t0 + Duration::from_secs(60))
                .as_deref(),
            Some(
                "pipeline-api: could not export log records to http://127.0.0.1:1: Operation failed: connection \
                 refused (3 more failed since the last warning); dropped, next warning in a minute at the earliest"
            )
        );
        assert_eq!(warn.note("spans", &error, t0 + Duration::from_secs(61)), None);
    }
}
