//! logwire as one layer of a real `tracing` stack: another layer beside
//! `logwire::layer` receives everything it would without logwire, inside
//! requests and jobs too; the log file holds each line once; `init`,
//! `RUST_LOG` and `LOG_LEVEL` in real processes.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::Request;
use axum::routing::get;
use axum::Router;
use logwire::axum::ApiLayer;
use logwire::{Level, Logger};
use tower::ServiceExt;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::prelude::*;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// What a recording layer saw: spans with their fields and parent, events
/// with their fields and the span they were in.
#[derive(Debug, Clone)]
enum Seen {
    Span {
        name: String,
        target: String,
        fields: BTreeMap<String, String>,
        parent: Option<String>,
    },
    Event {
        target: String,
        fields: BTreeMap<String, String>,
        span: Option<String>,
    },
    Close {
        name: String,
    },
}

#[derive(Clone, Default)]
struct Recording(Arc<Mutex<Vec<Seen>>>);

struct Fields(BTreeMap<String, String>);

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Recording {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, cx: Context<'_, S>) {
        let mut fields = Fields(BTreeMap::new());
        attrs.record(&mut fields);
        let parent = cx.span(id).and_then(|s| s.parent()).map(|p| p.name().to_owned());
        self.0.lock().unwrap().push(Seen::Span {
            name: attrs.metadata().name().to_owned(),
            target: attrs.metadata().target().to_owned(),
            fields: fields.0,
            parent,
        });
    }

    fn on_event(&self, event: &Event<'_>, cx: Context<'_, S>) {
        let mut fields = Fields(BTreeMap::new());
        event.record(&mut fields);
        self.0.lock().unwrap().push(Seen::Event {
            target: event.metadata().target().to_owned(),
            fields: fields.0,
            span: cx.event_span(event).map(|s| s.name().to_owned()),
        });
    }

    fn on_close(&self, id: Id, cx: Context<'_, S>) {
        if let Some(span) = cx.span(&id) {
            self.0.lock().unwrap().push(Seen::Close {
                name: span.name().to_owned(),
            });
        }
    }
}

impl Recording {
    fn seen(&self) -> Vec<Seen> {
        self.0.lock().unwrap().clone()
    }

    fn span(&self, name: &str) -> (String, BTreeMap<String, String>, Option<String>) {
        self.seen()
            .into_iter()
            .find_map(|s| match s {
                Seen::Span {
                    name: n,
                    target,
                    fields,
                    parent,
                } if n == name => Some((target, fields, parent)),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no span {name:?} in {:#?}", self.seen()))
    }

    /// The event whose message is `message`: its target, fields and span.
    fn event(&self, message: &str) -> (String, BTreeMap<String, String>, Option<String>) {
        self.seen()
            .into_iter()
            .find_map(|s| match s {
                Seen::Event { target, fields, span } if fields.get("message").map(String::as_str) == Some(message) => {
                    Some((target, fields, span))
                }
                _ => None,
            })
            .unwrap_or_else(|| panic!("no event {message:?} in {:#?}", self.seen()))
    }
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

#[logwire::service]
struct BuildService {
    logger: Logger,
}

#[logwire::service]
impl BuildService {
    async fn queue(&self, project: &str, api_token: &str) -> Result<u64, String> {
        let _ = api_token;
        tracing::info!(target: "sqlx::query", rows = 1, "insert build");
        logwire::info!(self.logger, "BUILD_QUEUED", project = project, id = 7);
        Ok(7)
    }

    fn run(&self, id: u64) -> Result<(), String> {
        tracing::info!(target: "sqlx::query", "update build");
        logwire::info!(self.logger, "BUILD_RAN", id = id);
        Ok(())
    }
}

async fn queue(builds: BuildService) -> String {
    tracing::info!("handler saw the request");
    let id = builds.queue("demo", "hunter2").await.unwrap();
    // A spawned task keeps the request's id and logger.
    tokio::spawn(logwire::txid::propagate(async {
        tracing::info!(target: "background", "spawned step");
    }))
    .await
    .unwrap();
    id.to_string()
}

fn file_logger(dir: &std::path::Path, name: &str) -> Logger {
    Logger::builder(name).root(dir).level(Level::DEBUG).build()
}

fn read_lines(path: std::path::PathBuf) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "current_thread")]
async fn another_layer_sees_everything_inside_requests_and_jobs_and_the_file_holds_each_line_once() {
    let dir = tempfile::tempdir().unwrap();
    let api = file_logger(dir.path(), "api");
    let worker = file_logger(dir.path(), "worker");
    let recording = Recording::default();
    let _stack = tracing::subscriber::set_default(
        tracing_subscriber::registry()
            .with(logwire::layer(&api))
            .with(recording.clone()),
    );

    let app = Router::new()
        .route("/api/builds", get(queue))
        .layer(ApiLayer::new(api.clone()));
    let response = app
        .oneshot(Request::get("/api/builds?token=x").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let txid = response.headers()["x-request-id"].to_str().unwrap().to_owned();
    // REQUEST_END is written when the body has been sent.
    axum::body::to_bytes(response.into_body(), 1024).await.unwrap();

    let builds = BuildService::new(worker.clone());
    logwire::worker::Job::new(&worker, "build-7")
        .field("origin", txid.as_str())
        .run(async { builds.run(7) })
        .await
        .unwrap();

    // Spans, with their fields and nesting.
    let (target, fields, parent) = recording.span("request");
    assert_eq!(target, "logwire");
    assert_eq!(
        fields,
        map(&[("method", "GET"), ("path", "/api/builds"), ("txid", &txid)])
    );
    assert_eq!(parent, None);
    let (_, fields, parent) = recording.span("BuildService::queue");
    assert_eq!(fields, map(&[("project", "demo"), ("api_token", "***")]));
    assert_eq!(parent.as_deref(), Some("request"));
    let (_, fields, _) = recording.span("job");
    assert_eq!(fields, map(&[("txid", "build-7"), ("origin", &txid)]));
    let (_, fields, parent) = recording.span("BuildService::run");
    assert_eq!(fields, map(&[("id", "7")]));
    assert_eq!(parent.as_deref(), Some("job"));

    // Library events, in the span they were logged in.
    let (target, _, span) = recording.event("handler saw the request");
    assert_eq!((target.as_str(), span.as_deref()), ("stack", Some("request")));
    let (target, fields, span) = recording.event("insert build");
    assert_eq!(target, "sqlx::query");
    assert_eq!(fields["rows"], "1");
    assert_eq!(span.as_deref(), Some("BuildService::queue"));
    let (_, _, span) = recording.event("update build");
    assert_eq!(span.as_deref(), Some("BuildService::run"));

    // logwire's own lines, as events of target `logwire`.
    let (target, fields, span) = recording.event("REQUEST_START");
    assert_eq!(target, "logwire");
    assert_eq!(
        fields,
        map(&[
            ("message", "REQUEST_START"),
            ("logger", "api"),
            ("txid", &txid),
            ("method", "GET"),
            ("path", "/api/builds")
        ])
    );
    assert_eq!(span.as_deref(), Some("request"));
    let (_, fields, _) = recording.event("REQUEST_END");
    assert_eq!(fields["status_code"], "200");
    assert_eq!(fields["txid"], txid);
    let (_, fields, span) = recording.event("BUILD_QUEUED");
    assert_eq!(
        fields,
        map(&[
            ("message", "BUILD_QUEUED"),
            ("logger", "api"),
            ("txid", &txid),
            ("project", "demo"),
            ("id", "7")
        ])
    );
    assert_eq!(span.as_deref(), Some("BuildService::queue"));
    let (_, fields, span) = recording.event("METHOD_END");
    assert_eq!(fields["method"], "BuildService::queue");
    assert_eq!(fields["api_token"], "***");
    assert_eq!(fields["logger"], "api");
    assert_eq!(span.as_deref(), Some("BuildService::queue"));
    let (_, fields, span) = recording.event("JOB_START");
    assert_eq!(fields["txid"], "build-7");
    assert_eq!(fields["logger"], "worker");
    assert_eq!(fields["origin"], txid);
    assert_eq!(span.as_deref(), Some("job"));
    let (_, fields, _) = recording.event("JOB_END");
    assert_eq!(fields["status"], "ok");
    assert!(!format!("{:?}", recording.seen()).contains("hunter2"));

    // Each line is in its file exactly once, library events with the
    // request's or job's id.
    api.flush();
    worker.flush();
    let api_lines = read_lines(dir.path().join("api.log"));
    for message in [
        " - REQUEST_START |",
        " - handler saw the request |",
        " - insert build |",
        " - BUILD_QUEUED |",
        " - METHOD_END |",
        " - spawned step |",
        " - REQUEST_END |",
    ] {
        let found: Vec<&String> = api_lines.iter().filter(|l| l.contains(message)).collect();
        assert_eq!(found.len(), 1, "{message} in {api_lines:#?}");
        assert!(found[0].starts_with(&format!("[{txid}] ")), "{}", found[0]);
    }
    assert_eq!(api_lines.len(), 7, "{api_lines:#?}");
    let worker_lines = read_lines(dir.path().join("worker.log"));
    let messages: Vec<&str> = worker_lines
        .iter()
        .map(|l| l.split(" - ").nth(3).unwrap().split(" |").next().unwrap())
        .collect();
    assert_eq!(
        messages,
        ["JOB_START", "update build", "BUILD_RAN", "METHOD_END", "JOB_END"]
    );
    assert!(worker_lines.iter().all(|l| l.starts_with("[build-7] ")));
    assert!(worker_lines[1].ends_with("update build | target=sqlx::query"));
}

#[tokio::test(flavor = "current_thread")]
async fn a_trace_layer_inside_the_api_layer_is_seen_whole() {
    let (api, captured) = Logger::builder("api").level(Level::DEBUG).build_capture();
    let recording = Recording::default();
    let _stack = tracing::subscriber::set_default(
        tracing_subscriber::registry()
            .with(logwire::layer(&api))
            .with(recording.clone()),
    );
    let app = Router::new()
        .route("/api/health", get(|| async { "ok" }))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .layer(ApiLayer::new(api.clone()));
    let response = app
        .oneshot(Request::get("/api/health").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let txid = response.headers()["x-request-id"].to_str().unwrap().to_owned();
    // tower-http's span lives in the response body until it is consumed.
    axum::body::to_bytes(response.into_body(), 1024).await.unwrap();

    let tower_span = recording
        .seen()
        .into_iter()
        .filter(|s| matches!(s, Seen::Span { target, .. } if target == "tower_http::trace::make_span"))
        .count();
    assert_eq!(tower_span, 1, "{:#?}", recording.seen());
    for message in ["started processing request", "finished processing request"] {
        let (target, _, span) = recording.event(message);
        assert!(target.starts_with("tower_http::trace"), "{target}");
        // tower-http's own `request` span, inside logwire's.
        assert_eq!(span.as_deref(), Some("request"));
        let record = captured.records().into_iter().find(|r| r.message == message).unwrap();
        assert_eq!(record.txid.as_deref(), Some(txid.as_str()));
    }
    let closed: Vec<String> = recording
        .seen()
        .into_iter()
        .filter_map(|s| match s {
            Seen::Close { name } => Some(name),
            _ => None,
        })
        .collect();
    assert_eq!(closed, ["request", "request"], "tower-http's span, then logwire's");
}

/// The messages in `child.log`, and the child's stderr.
fn run_init_child(envs: &[(&str, &str)]) -> (Vec<String>, String) {
    let (child, _, stderr) = run_init_child_both(envs);
    (child, stderr)
}

/// The messages in `child.log` and in `quiet.log` (an INFO logger's scope
/// after `init`), and the child's stderr.
fn run_init_child_both(envs: &[(&str, &str)]) -> (Vec<String>, Vec<String>, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = logwire_tests::child("init", dir.path(), 0);
    cmd.env_remove("LOG_LEVEL").env_remove("RUST_LOG");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{out:?}");
    (
        messages(&dir.path().join("child.log")),
        messages(&dir.path().join("quiet.log")),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// The message of each line of a readable log file.
fn messages(path: &std::path::Path) -> Vec<String> {
    read_lines(path.to_owned())
        .iter()
        .map(|l| l.split(" - ").nth(3).unwrap().split(" |").next().unwrap().to_owned())
        .collect()
}

/// A logger built after `init` at a more verbose level gets the library
/// events of that level in its scope: the stack's filter follows it.
#[test]
fn a_more_verbose_logger_built_after_init_gets_library_events_of_its_level() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = logwire_tests::child("init-later", dir.path(), 0);
    cmd.env_remove("LOG_LEVEL").env_remove("RUST_LOG");
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let verbose = read_lines(dir.path().join("verbose.log"));
    assert_eq!(verbose.len(), 1, "{verbose:?}");
    assert!(
        verbose[0].ends_with(" - verbose - DEBUG - verbose debug | target=lib"),
        "{verbose:?}"
    );
    assert!(!dir.path().join("child.log").exists() || read_lines(dir.path().join("child.log")).is_empty());
}

/// A probe that asks whether something would be logged (`enabled!`,
/// `span_enabled!`) and logs nothing must not cost the next library event
/// its line, with RUST_LOG or without, in any logger's scope.
#[test]
fn a_library_event_after_a_probe_that_logged_nothing_is_written() {
    for envs in [
        &[("LOG_LEVEL", "debug")][..],
        &[("LOG_LEVEL", "debug"), ("RUST_LOG", "debug")],
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = logwire_tests::child("init-probe", dir.path(), 0);
        cmd.env_remove("LOG_LEVEL")
            .env_remove("RUST_LOG")
            .envs(envs.iter().copied());
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{out:?}");
        let log = |file: &str| messages(&dir.path().join(file));
        assert_eq!(log("child.log"), ["first", "second", "third", "fourth"], "{envs:?}");
        assert_eq!(log("quiet.log"), ["quiet fifth"], "{envs:?}");
    }
}

/// Under `init` without RUST_LOG, a library event goes by the level of the
/// logger current where it is logged, not by `init`'s logger: the stack
/// passes DEBUG (the child's logger writes it), the INFO scope drops it.
#[test]
fn without_rust_log_library_events_follow_the_current_loggers_level() {
    let (child, quiet, _) = run_init_child_both(&[("LOG_LEVEL", "debug")]);
    assert!(child.contains(&"hyper debug".to_owned()), "{child:?}");
    assert_eq!(quiet, ["quiet hyper info"]);
    // RUST_LOG decides on its own, in every scope.
    let (_, quiet, _) = run_init_child_both(&[("RUST_LOG", "debug")]);
    assert_eq!(quiet, ["quiet hyper debug", "quiet hyper info"]);
}

#[test]
fn rust_log_chooses_library_events_per_target_and_log_level_the_loggers_level() {
    let (messages, stderr) = run_init_child(&[("LOG_LEVEL", "debug"), ("RUST_LOG", "warn,hyper=info")]);
    assert_eq!(
        messages,
        ["hyper info", "hyper warn", "sqlx warn", "APP_DEBUG", "APP_INFO"],
        "hyper's DEBUG stays out of a DEBUG log"
    );
    assert_eq!(
        stderr.trim(),
        "logwire::init: a global default trace dispatcher has already been set; \
         add `logwire::layer(&logger)` to the stack that is already set instead"
    );

    // Without RUST_LOG, library events follow the logger's level.
    let (messages, stderr) = run_init_child(&[("LOG_LEVEL", "debug")]);
    assert_eq!(
        messages,
        [
            "hyper debug",
            "hyper info",
            "hyper warn",
            "sqlx debug",
            "sqlx info",
            "sqlx warn",
            "APP_DEBUG",
            "APP_INFO"
        ]
    );
    assert!(!stderr.contains("LOG_LEVEL"));
}

/// A RUST_LOG that is set decides library events on its own, even below
/// the logger's level; logwire's own lines still follow the logger's.
#[test]
fn rust_log_debug_writes_library_debug_events_into_an_info_logger() {
    let (messages, _) = run_init_child(&[("RUST_LOG", "debug")]);
    assert_eq!(
        messages,
        [
            "hyper debug",
            "hyper info",
            "hyper warn",
            "sqlx debug",
            "sqlx info",
            "sqlx warn",
            "APP_INFO"
        ]
    );
    let (messages, _) = run_init_child(&[("RUST_LOG", "sqlx=debug,hyper=warn")]);
    assert_eq!(
        messages,
        ["hyper warn", "sqlx debug", "sqlx info", "sqlx warn", "APP_INFO"]
    );
}

#[test]
fn an_unknown_log_level_warns_once_and_means_info() {
    let (messages, stderr) = run_init_child(&[("LOG_LEVEL", "loud")]);
    assert_eq!(
        messages,
        ["hyper info", "hyper warn", "sqlx info", "sqlx warn", "APP_INFO"]
    );
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("LOG_LEVEL")).collect();
    assert_eq!(
        warnings,
        [r#"logwire: LOG_LEVEL="loud" is not one of trace, debug, info, warn, error, off; logging at INFO"#]
    );
}

/// Forty field names, for the widest events.
const FORTY: [&str; 40] = [
    "f01", "f02", "f03", "f04", "f05", "f06", "f07", "f08", "f09", "f10", "f11", "f12", "f13", "f14", "f15", "f16",
    "f17", "f18", "f19", "f20", "f21", "f22", "f23", "f24", "f25", "f26", "f27", "f28", "f29", "f30", "f31", "f32",
    "f33", "f34", "f35", "f36", "f37", "f38", "f39", "f40",
];

/// Every field of a wide line reaches another layer: `info!` and a job's
/// run-time `JOB_START` fields alike (tracing's own macros stop at 32).
#[tokio::test(flavor = "current_thread")]
async fn an_event_with_forty_fields_reaches_another_layer_with_all_forty() {
    let recording = Recording::default();
    let _stack = tracing::subscriber::set_default(tracing_subscriber::registry().with(recording.clone()));
    let (log, captured) = Logger::capture("api");

    logwire::info!(
        log,
        "WIDE",
        f01 = 1,
        f02 = 2,
        f03 = 3,
        f04 = 4,
        f05 = 5,
        f06 = 6,
        f07 = 7,
        f08 = 8,
        f09 = 9,
        f10 = 10,
        f11 = 11,
        f12 = 12,
        f13 = 13,
        f14 = 14,
        f15 = 15,
        f16 = 16,
        f17 = 17,
        f18 = 18,
        f19 = 19,
        f20 = 20,
        f21 = 21,
        f22 = 22,
        f23 = 23,
        f24 = 24,
        f25 = 25,
        f26 = 26,
        f27 = 27,
        f28 = 28,
        f29 = 29,
        f30 = 30,
        f31 = 31,
        f32 = 32,
        f33 = 33,
        f34 = 34,
        f35 = 35,
        f36 = 36,
        f37 = 37,
        f38 = 38,
        f39 = 39,
        f40 = 40
    );
    let mut job = logwire::worker::Job::new(&log, "job-wide");
    for (i, name) in FORTY.iter().enumerate() {
        job = job.field(name, i as u64 + 1);
    }
    job.run(async { Ok::<_, std::io::Error>(()) }).await.unwrap();

    let numbered: BTreeMap<String, String> = FORTY
        .iter()
        .enumerate()
        .map(|(i, n)| ((*n).to_owned(), (i + 1).to_string()))
        .collect();
    let mut expected = numbered.clone();
    expected.extend(map(&[("message", "WIDE"), ("logger", "api")]));
    assert_eq!(recording.event("WIDE").1, expected);
    let mut expected = numbered.clone();
    expected.extend(map(&[
        ("message", "JOB_START"),
        ("logger", "api"),
        ("txid", "job-wide"),
    ]));
    assert_eq!(recording.event("JOB_START").1, expected);
    let mut expected = numbered;
    expected.insert("txid".to_owned(), "job-wide".to_owned());
    assert_eq!(recording.span("job").1, expected);

    let lines = captured.lines();
    assert!(lines[0].ends_with(" - api - INFO - WIDE | f01=1 f02=2 f03=3 f04=4 f05=5 f06=6 f07=7 f08=8 f09=9 f10=10 f11=11 f12=12 f13=13 f14=14 f15=15 f16=16 f17=17 f18=18 f19=19 f20=20 f21=21 f22=22 f23=23 f24=24 f25=25 f26=26 f27=27 f28=28 f29=29 f30=30 f31=31 f32=32 f33=33 f34=34 f35=35 f36=36 f37=37 f38=38 f39=39 f40=40"), "{}", lines[0]);
}

/// One job call site writing jobs of different fields in turn (builds and
/// deployments): each event and span carries its own job's fields.
#[tokio::test(flavor = "current_thread")]
async fn jobs_of_different_fields_in_turn_each_reach_another_layer_with_their_own() {
    let recording = Recording::default();
    let _stack = tracing::subscriber::set_default(tracing_subscriber::registry().with(recording.clone()));
    let (log, _) = Logger::capture("worker");
    for round in 0..3u64 {
        let build = logwire::worker::Job::new(&log, format!("build-{round}"))
            .field("origin", "req-1")
            .field("project", "demo");
        build.run(async { Ok::<_, std::io::Error>(()) }).await.unwrap();
        let deploy = logwire::worker::Job::new(&log, format!("deploy-{round}"))
            .field("origin", "req-2")
            .field("build_id", round);
        deploy.run(async { Ok::<_, std::io::Error>(()) }).await.unwrap();
    }
    let starts: Vec<BTreeMap<String, String>> = recording
        .seen()
        .into_iter()
        .filter_map(|s| match s {
            Seen::Event { fields, .. } if fields.get("message").map(String::as_str) == Some("JOB_START") => {
                Some(fields)
            }
            _ => None,
        })
        .collect();
    let expected: Vec<BTreeMap<String, String>> = (0..3)
        .flat_map(|round| {
            let (b, d) = (format!("build-{round}"), format!("deploy-{round}"));
            let r = round.to_string();
            [
                map(&[
                    ("message", "JOB_START"),
                    ("logger", "worker"),
                    ("txid", &b),
                    ("origin", "req-1"),
                    ("project", "demo"),
                ]),
                map(&[
                    ("message", "JOB_START"),
                    ("logger", "worker"),
                    ("txid", &d),
                    ("origin", "req-2"),
                    ("build_id", &r),
                ]),
            ]
        })
        .collect();
    assert_eq!(starts, expected);
}

#[logwire::service]
struct Reserved {
    logger: Logger,
}

#[logwire::service]
impl Reserved {
    #[log(level = "info")]
    fn call(&self, txid: &str, message: &str) -> usize {
        txid.len() + message.len()
    }
}

/// A line's own field named `message`, `logger` or `txid` does not stand in
/// for the event's: other layers (which may keep the last value of a name,
/// as JSON and OpenTelemetry attributes do) get it as `fields.<name>`.
#[tokio::test(flavor = "current_thread")]
async fn own_fields_named_like_the_events_fixed_ones_do_not_replace_them() {
    let recording = Recording::default();
    let _stack = tracing::subscriber::set_default(tracing_subscriber::registry().with(recording.clone()));
    let (log, captured) = Logger::capture("api");
    logwire::txid::scope_sync("tx-real", || {
        logwire::info!(log, "RESERVED", message = "m", logger = "l", "txid" = "x", n = 1);
        Reserved::new(log.clone()).call("tx-fake", "hello");
    });
    logwire::worker::Job::new(&log, "job-real")
        .field("txid", "job-fake")
        .run(async { Ok::<_, std::io::Error>(()) })
        .await
        .unwrap();

    assert_eq!(
        recording.event("RESERVED").1,
        map(&[
            ("message", "RESERVED"),
            ("logger", "api"),
            ("txid", "tx-real"),
            ("fields.message", "m"),
            ("fields.logger", "l"),
            ("fields.txid", "x"),
            ("n", "1"),
        ])
    );
    let (_, end, _) = recording.event("METHOD_END");
    assert_eq!(
        (
            end["txid"].as_str(),
            end["fields.txid"].as_str(),
            end["fields.message"].as_str()
        ),
        ("tx-real", "tx-fake", "hello")
    );
    let (_, start, _) = recording.event("JOB_START");
    assert_eq!(
        (start["txid"].as_str(), start["fields.txid"].as_str()),
        ("job-real", "job-fake")
    );
    let (_, job, _) = recording.span("job");
    assert_eq!(job, map(&[("txid", "job-real"), ("fields.txid", "job-fake")]));
    // The lines keep the keys as they were written.
    let lines = captured.lines();
    assert!(
        lines[0].ends_with("INFO - RESERVED | message=m logger=l txid=x n=1"),
        "{}",
        lines[0]
    );
}

/// Each job call site hands the stack up to 256 distinct lists of field
/// names; the `job` span and `JOB_START` do not share that bound.
#[tokio::test(flavor = "current_thread")]
async fn two_hundred_distinct_job_field_lists_all_reach_another_layer() {
    let recording = Recording::default();
    let _stack = tracing::subscriber::set_default(tracing_subscriber::registry().with(recording.clone()));
    let (log, _) = Logger::capture("worker");
    let names: Vec<&'static str> = (0..200)
        .map(|i| &*Box::leak(format!("f{i}").into_boxed_str()))
        .collect();
    for name in &names {
        logwire::worker::Job::new(&log, *name)
            .field(name, 1u32)
            .run(async { Ok::<_, std::io::Error>(()) })
            .await
            .unwrap();
    }
    let starts = recording
        .seen()
        .into_iter()
        .filter(|s| matches!(s, Seen::Event { fields, .. } if fields.get("message").map(String::as_str) == Some("JOB_START") && fields.contains_key(fields["txid"].as_str())))
        .count();
    let spans = recording
        .seen()
        .into_iter()
        .filter(|s| matches!(s, Seen::Span { name, fields, .. } if name == "job" && fields.contains_key(fields["txid"].as_str())))
        .count();
    assert_eq!((starts, spans), (200, 200));
}

/// A library event's field whose `Debug` runs code carried with
/// `propagate_fn` (so it enters the txid, logger and kept-lines scopes
/// itself): the layer must hold none of them while it reads the event.
#[test]
fn a_library_field_whose_debug_enters_scopes_is_written_without_a_panic() {
    struct Propagating(Logger);
    impl fmt::Debug for Propagating {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            let log = self.0.clone();
            logwire::txid::propagate_fn(move || logwire::info!(log, "INSIDE"))();
            f.write_str("propagating")
        }
    }
    let (fallback, _) = Logger::capture("fallback");
    let (scoped, cap) = Logger::capture("scoped");
    let stack = tracing_subscriber::registry().with(logwire::layer(&fallback));
    tracing::subscriber::with_default(stack, || {
        let value = Propagating(scoped.clone());
        scoped.in_scope(|| {
            logwire::txid::scope_sync("req-2", || tracing::info!(target: "lib", v = ?value, "library event"))
        });
    });
    let lines = cap.lines();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].starts_with("[req-2] ") && lines[0].ends_with(" - scoped - INFO - INSIDE"),
        "{lines:?}"
    );
    assert!(
        lines[1].starts_with("[req-2] ")
            && lines[1].ends_with(" - scoped - INFO - library event | target=lib v=propagating"),
        "{lines:?}"
    );
}
