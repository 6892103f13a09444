//! Per-request cost of `ApiLayer` in process (no network), beside the bare
//! router and tower-http's TraceLayer with request ids and fmt to a file.
//!
//! Run: `cargo bench -p logwire --bench layer` (the HTTP numbers with a real
//! client: `bash runtime/benches/http.sh`).

use std::fs::File;
use std::sync::Mutex;

use axum::body::Body;
use axum::http::Request;
use axum::routing::get;
use axum::Router;
use criterion::{criterion_group, criterion_main, Criterion};
use tower::{Service, ServiceExt};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultMakeSpan, DefaultOnRequest, DefaultOnResponse, TraceLayer};
use tracing::Level;

async fn hello() -> &'static str {
    "Hello, World!"
}

/// A handler that logs ten DEBUG lines (below an INFO logger's level) and succeeds.
async fn chatty(axum::Extension(log): axum::Extension<logwire::Logger>) -> &'static str {
    for step in 0..10u32 {
        logwire::debug!(log, "CACHE_LOOKUP", step = step, key = "builds:page:1");
    }
    "Hello, World!"
}

fn run(c: &mut Criterion, name: &str, app: Router, rt: &tokio::runtime::Runtime) {
    let mut svc = app.into_service::<Body>();
    c.bench_function(name, |b| {
        b.iter(|| {
            rt.block_on(async {
                let req = Request::get("/").body(Body::empty()).expect("request");
                let ready = svc.ready().await.expect("ready");
                ready.call(req).await.expect("response")
            })
        })
    });
}

fn layer(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    run(c, "request/bare", Router::new().route("/", get(hello)), &rt);
    let log = logwire::Logger::builder("api").root(dir.path()).build();
    run(
        c,
        "request/logwire_api_layer",
        Router::new()
            .route("/", get(hello))
            .layer(logwire::axum::ApiLayer::new(log.clone())),
        &rt,
    );
    log.flush();
    let file = File::create(dir.path().join("fmt.log")).expect("file");
    let subscriber = tracing_subscriber::fmt()
        .with_writer(Mutex::new(file))
        .with_ansi(false)
        .with_max_level(Level::INFO)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        let app = Router::new().route("/", get(hello)).layer(
            tower::ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                        .on_request(DefaultOnRequest::new().level(Level::INFO))
                        .on_response(DefaultOnResponse::new().level(Level::INFO)),
                )
                .layer(PropagateRequestIdLayer::x_request_id()),
        );
        run(c, "request/tower_http_trace_fmt_file", app, &rt);
    });
}

/// `debug_on_failure`: a successful request that logs ten DEBUG lines,
/// with the option (kept, then dropped) against an INFO logger without it
/// (each line one level check), same run.
fn keep(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let plain = logwire::Logger::builder("api").root(dir.path()).build();
    let keeping = logwire::Logger::builder("kept")
        .root(dir.path())
        .debug_on_failure(200)
        .build();
    for (name, log) in [
        ("request/ten_debug/info", plain),
        ("request/ten_debug/debug_on_failure", keeping),
    ] {
        let app = Router::new()
            .route("/", get(chatty))
            .layer(logwire::axum::ApiLayer::new(log.clone()));
        run(c, name, app, &rt);
        log.flush();
    }
}

criterion_group!(benches, layer, keep);
criterion_main!(benches);
