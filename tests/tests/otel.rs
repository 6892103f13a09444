//! A request, its service calls and the job it queued as one OpenTelemetry
//! trace, seen through opentelemetry_sdk's in-memory exporters: spans from
//! tracing-opentelemetry, log records from opentelemetry-appender-tracing.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::Request;
use axum::routing::post;
use axum::Router;
use logwire::axum::ApiLayer;
use logwire::{Level, Logger};
use opentelemetry::logs::AnyValue;
use opentelemetry::trace::{SpanId, TraceId, TracerProvider as _};
use opentelemetry::Value;
use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use opentelemetry_sdk::logs::{InMemoryLogExporter, SdkLoggerProvider};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use tower::ServiceExt;
use tracing_subscriber::prelude::*;

const SECRET: &str = "tok-hunter2";

#[logwire::service]
struct BuildService {
    logger: Logger,
}

#[logwire::service]
impl BuildService {
    /// Queues a build; what is stored with it is the W3C traceparent.
    async fn queue(&self, project: &str, api_token: &str) -> Result<String, String> {
        let _ = api_token;
        logwire::info!(self.logger, "BUILD_QUEUED", project = project, build_id = 7);
        logwire::otel::traceparent().ok_or_else(|| "no trace".to_owned())
    }

    fn run(&self, build_id: u64) -> Result<(), String> {
        logwire::info!(self.logger, "BUILD_RAN", build_id = build_id);
        Ok(())
    }
}

async fn queue(builds: BuildService) -> String {
    builds.queue("demo", SECRET).await.unwrap()
}

struct Exported {
    spans: Vec<SpanData>,
    /// Each log record's body and trace id.
    logs: Vec<(String, Option<TraceId>, BTreeMap<String, String>)>,
}

impl Exported {
    fn span(&self, name: &str) -> &SpanData {
        self.spans
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no span {name:?} among {:?}", self.names()))
    }

    fn names(&self) -> Vec<&str> {
        self.spans.iter().map(|s| &*s.name).collect()
    }

    fn log(&self, body: &str) -> &(String, Option<TraceId>, BTreeMap<String, String>) {
        self.logs
            .iter()
            .find(|(b, _, _)| b == body)
            .unwrap_or_else(|| panic!("no log record {body:?} among {:?}", self.logs))
    }
}

/// A span's own fields, without what tracing-opentelemetry adds to every span.
fn attributes(span: &SpanData) -> BTreeMap<String, String> {
    const ADDED: [&str; 4] = ["busy_ns", "idle_ns", "target", "level"];
    span.attributes
        .iter()
        .filter(|kv| {
            let key = kv.key.as_str();
            !ADDED.contains(&key) && !key.starts_with("code.") && !key.starts_with("thread.")
        })
        .map(|kv| (kv.key.to_string(), text(&kv.value)))
        .collect()
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        other => other.to_string(),
    }
}

fn any_text(v: &AnyValue) -> String {
    match v {
        AnyValue::String(s) => s.to_string(),
        AnyValue::Int(i) => i.to_string(),
        AnyValue::Double(d) => d.to_string(),
        AnyValue::Boolean(b) => b.to_string(),
        other => format!("{other:?}"),
    }
}

/// A stack of tracing-opentelemetry alone, set for this thread, exporting
/// finished spans to the returned in-memory exporter.
fn spans_only() -> (InMemorySpanExporter, tracing::subscriber::DefaultGuard) {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let guard = tracing::subscriber::set_default(
        tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test"))),
    );
    (exporter, guard)
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

#[tokio::test(flavor = "current_thread")]
async fn a_request_its_service_calls_and_its_job_are_one_trace() {
    let dir = tempfile::tempdir().unwrap();
    let api = Logger::builder("api").root(dir.path()).level(Level::INFO).build();
    let worker = Logger::builder("worker").root(dir.path()).level(Level::INFO).build();
    let span_exporter = InMemorySpanExporter::default();
    let log_exporter = InMemoryLogExporter::default();
    let tracer_provider = SdkTracerProvider::builder()
        .with_simple_exporter(span_exporter.clone())
        .build();
    let logger_provider = SdkLoggerProvider::builder()
        .with_simple_exporter(log_exporter.clone())
        .build();
    let stack = tracing::subscriber::set_default(
        tracing_subscriber::registry()
            .with(logwire::layer(&api))
            .with(tracing_opentelemetry::layer().with_tracer(tracer_provider.tracer("test")))
            .with(OpenTelemetryTracingBridge::new(&logger_provider)),
    );

    // The API process: a request queues a build, which stores the traceparent.
    let app = Router::new()
        .route("/api/builds", post(queue))
        .layer(ApiLayer::new(api.clone()));
    let response = app
        .oneshot(Request::post("/api/builds").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let txid = response.headers()["x-request-id"].to_str().unwrap().to_owned();
    let stored = String::from_utf8(axum::body::to_bytes(response.into_body(), 1024).await.unwrap().to_vec()).unwrap();

    // The worker process: the job continues the stored trace.
    let builds = BuildService::new(worker.clone());
    logwire::worker::Job::new(&worker, "build-7")
        .field("origin", txid.as_str())
        .trace_parent(Some(&stored))
        .run(async { builds.run(7) })
        .await
        .unwrap();
    drop(stack);
    tracer_provider.force_flush().unwrap();
    logger_provider.force_flush().unwrap();

    let exported = Exported {
        spans: span_exporter.get_finished_spans().unwrap(),
        logs: log_exporter
            .get_emitted_logs()
            .unwrap()
            .into_iter()
            .map(|l| {
                let body = l.record.body().map(any_text).unwrap_or_default();
                let trace = l.record.trace_context().map(|t| t.trace_id);
                let attrs = l
                    .record
                    .attributes_iter()
                    .map(|(k, v)| (k.to_string(), any_text(v)))
                    .collect();
                (body, trace, attrs)
            })
            .collect(),
    };

    // The tree: request → BuildService::queue → job → BuildService::run.
    let request = exported.span("request");
    let trace_id = request.span_context.trace_id();
    assert_eq!(request.parent_span_id, SpanId::INVALID, "the request starts the trace");
    assert_eq!(
        attributes(request),
        map(&[
            ("method", "POST"),
            ("path", "/api/builds"),
            ("txid", &txid),
            ("status_code", "200")
        ])
    );
    assert_eq!(request.status, opentelemetry::trace::Status::Unset);
    let queued = exported.span("BuildService::queue");
    assert_eq!(queued.span_context.trace_id(), trace_id);
    assert_eq!(queued.parent_span_id, request.span_context.span_id());
    assert_eq!(attributes(queued), map(&[("project", "demo"), ("api_token", "***")]));
    assert_eq!(
        stored,
        format!("00-{trace_id}-{}-01", queued.span_context.span_id()),
        "the stored traceparent names the queueing span"
    );
    let job = exported.span("job");
    assert_eq!(
        job.span_context.trace_id(),
        trace_id,
        "the job is in the request's trace"
    );
    assert_eq!(job.parent_span_id, queued.span_context.span_id());
    assert_eq!(attributes(job), map(&[("txid", "build-7"), ("origin", &txid)]));
    let ran = exported.span("BuildService::run");
    assert_eq!(ran.span_context.trace_id(), trace_id);
    assert_eq!(ran.parent_span_id, job.span_context.span_id());
    assert_eq!(attributes(ran), map(&[("build_id", "7")]));

    // Log records carry the trace of the span they were logged in.
    for body in [
        "REQUEST_START",
        "BUILD_QUEUED",
        "REQUEST_END",
        "JOB_START",
        "BUILD_RAN",
        "JOB_END",
    ] {
        assert_eq!(exported.log(body).1, Some(trace_id), "{body}");
    }
    let (_, _, attrs) = exported.log("REQUEST_START");
    assert_eq!(attrs["logger"], "api");
    assert_eq!(attrs["txid"], txid);
    assert_eq!(attrs["path"], "/api/builds");
    let (_, _, attrs) = exported.log("BUILD_QUEUED");
    assert_eq!((attrs["project"].as_str(), attrs["build_id"].as_str()), ("demo", "7"));

    // And the lines in the files lead to the trace.
    api.flush();
    worker.flush();
    let api_log = std::fs::read_to_string(dir.path().join("api.log")).unwrap();
    let worker_log = std::fs::read_to_string(dir.path().join("worker.log")).unwrap();
    let suffix = format!(" trace_id={trace_id}");
    let start = api_log.lines().find(|l| l.contains("REQUEST_START")).unwrap();
    assert!(
        start.ends_with(&format!("REQUEST_START | method=POST path=/api/builds{suffix}")),
        "{start}"
    );
    assert!(api_log.lines().all(|l| l.ends_with(&suffix)), "{api_log}");
    assert!(worker_log.lines().all(|l| l.ends_with(&suffix)), "{worker_log}");
    assert_eq!(
        worker_log.lines().count(),
        3,
        "JOB_START, BUILD_RAN, JOB_END: {worker_log}"
    );

    // Nothing secret in anything exported.
    let everything = format!("{:?}{:?}", exported.spans, exported.logs);
    assert!(!everything.contains(SECRET), "{everything}");
}

#[tokio::test(flavor = "current_thread")]
async fn a_traceparent_is_continued_only_when_accepted_and_valid() {
    let (span_exporter, _stack) = spans_only();
    let (api, captured) = Logger::capture("api");
    let caller = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    for (accept, header) in [
        (true, Some(caller)),
        (false, Some(caller)),
        (true, Some("00-not-a-trace-01")),
        (true, None),
    ] {
        let app = Router::new()
            .route("/", post(|| async { "ok" }))
            .layer(ApiLayer::new(api.clone()).accept_trace_context(accept));
        let mut request = Request::post("/");
        if let Some(h) = header {
            request = request.header("traceparent", h);
        }
        app.oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
    }
    let spans = span_exporter.get_finished_spans().unwrap();
    let traces: Vec<String> = spans.iter().map(|s| s.span_context.trace_id().to_string()).collect();
    assert_eq!(spans.len(), 4);
    assert_eq!(traces[0], "0af7651916cd43dd8448eb211c80319c");
    assert_eq!(spans[0].parent_span_id.to_string(), "b7ad6b7169203331");
    for (i, span) in spans.iter().enumerate().skip(1) {
        assert_ne!(traces[i], traces[0], "request {i} continued the caller's trace");
        assert_eq!(span.parent_span_id, SpanId::INVALID, "request {i}");
    }
    // Each request's lines carry its own trace id.
    let lines = captured.lines();
    assert_eq!(lines.len(), 8);
    for (i, pair) in lines.chunks(2).enumerate() {
        for line in pair {
            assert!(line.ends_with(&format!(" trace_id={}", traces[i])), "{line}");
        }
    }
}

#[test]
fn json_lines_carry_the_trace_id_as_a_key_and_lines_outside_a_trace_none() {
    let dir = tempfile::tempdir().unwrap();
    let json = Logger::builder("api")
        .root(dir.path())
        .format(logwire::Format::Json)
        .build();
    let provider = SdkTracerProvider::builder().build();
    let stack =
        tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    let trace_id = tracing::subscriber::with_default(stack, || {
        logwire::info!(json, "BEFORE");
        let span = tracing::info_span!("request");
        let _entered = span.enter();
        logwire::info!(json, "INSIDE", n = 1);
        let traceparent = logwire::otel::traceparent().unwrap();
        traceparent.split('-').nth(1).unwrap().to_owned()
    });
    json.flush();
    let text = std::fs::read_to_string(dir.path().join("api.log")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].ends_with(r#""message":"BEFORE","fields":{}}"#), "{}", lines[0]);
    assert!(
        lines[1].ends_with(&format!(
            r#""message":"INSIDE","fields":{{"n":1}},"trace_id":"{trace_id}"}}"#
        )),
        "{}",
        lines[1]
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_job_with_no_or_a_bad_stored_traceparent_starts_its_own_trace() {
    let (span_exporter, _stack) = spans_only();
    let (worker, captured) = Logger::capture("worker");
    for (txid, stored) in [
        ("build-1", None),
        ("build-2", Some("00-garbage-01")),
        ("build-3", Some("")),
    ] {
        logwire::worker::Job::new(&worker, txid)
            .trace_parent(stored)
            .run(async { Ok::<_, String>(()) })
            .await
            .unwrap();
    }
    let spans = span_exporter.get_finished_spans().unwrap();
    assert_eq!(spans.len(), 3);
    let mut traces: Vec<TraceId> = spans.iter().map(|s| s.span_context.trace_id()).collect();
    for span in &spans {
        assert_eq!(span.name, "job");
        assert_eq!(span.parent_span_id, SpanId::INVALID);
    }
    traces.dedup();
    assert_eq!(traces.len(), 3, "three traces of their own");
    // Each job's lines carry its own trace.
    let lines = captured.lines();
    assert_eq!(lines.len(), 6);
    for (i, pair) in lines.chunks(2).enumerate() {
        for line in pair {
            assert!(line.ends_with(&format!(" trace_id={}", traces[i])), "{line}");
        }
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_request_answered_with_a_5xx_is_an_error_span_with_its_status_code() {
    let (span_exporter, _stack) = spans_only();
    let (api, _captured) = Logger::capture("api");
    let app = Router::new()
        .route("/fails", post(|| async { axum::http::StatusCode::BAD_GATEWAY }))
        .route("/panics", post(|| async { panic!("boom") as &str }))
        .route("/missing", post(|| async { axum::http::StatusCode::NOT_FOUND }))
        .layer(ApiLayer::new(api));
    for path in ["/fails", "/panics", "/missing"] {
        app.clone()
            .oneshot(Request::post(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
    }
    let spans = span_exporter.get_finished_spans().unwrap();
    let seen: Vec<(String, String, bool)> = spans
        .iter()
        .map(|s| {
            let a = attributes(s);
            let error = matches!(s.status, opentelemetry::trace::Status::Error { .. });
            (a["path"].clone(), a["status_code"].clone(), error)
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("/fails".to_owned(), "502".to_owned(), true),
            ("/panics".to_owned(), "500".to_owned(), true),
            ("/missing".to_owned(), "404".to_owned(), false),
        ]
    );
}
