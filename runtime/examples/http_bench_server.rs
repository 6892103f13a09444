//! The server for `runtime/benches/http.sh`: a hello handler on axum,
//! bare or with a logging stack, on one thread.
//!
//! Run: `cargo run --release -p logwire --example http_bench_server -- MODE PORT`
//! with MODE one of `bare`, `logwire` (ApiLayer + file_logger, two lines per
//! request to a rotating file in LOG_ROOT), `logwire-init` (the same under
//! `logwire::init`, the stack the example app runs), `tower-http` (TraceLayer with
//! request ids, tracing-subscriber fmt to a file in LOG_ROOT, two lines per
//! request).

use std::fs::File;
use std::sync::Mutex;

use axum::routing::get;
use axum::Router;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultMakeSpan, DefaultOnRequest, DefaultOnResponse, TraceLayer};
use tracing::Level;

async fn hello() -> &'static str {
    "Hello, World!"
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mode, port) = match args.as_slice() {
        [mode, port] => (mode.as_str(), port.as_str()),
        _ => {
            eprintln!("usage: http_bench_server bare|logwire|logwire-init|tower-http PORT");
            std::process::exit(2);
        }
    };
    let app = Router::new().route("/", get(hello));
    let app = match mode {
        "bare" => app,
        "logwire" => app.layer(logwire::axum::ApiLayer::new(logwire::file_logger("api"))),
        "logwire-init" => {
            let api = logwire::file_logger("api");
            logwire::init(&api);
            app.layer(logwire::axum::ApiLayer::new(api))
        }
        "tower-http" => {
            let file = File::create(logwire::log_root().join("tower-http.log")).expect("log file");
            tracing_subscriber::fmt()
                .with_writer(Mutex::new(file))
                .with_ansi(false)
                .with_max_level(Level::INFO)
                .init();
            app.layer(
                tower::ServiceBuilder::new()
                    .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                    .layer(
                        TraceLayer::new_for_http()
                            .make_span_with(DefaultMakeSpan::new().level(Level::INFO).include_headers(false))
                            .on_request(DefaultOnRequest::new().level(Level::INFO))
                            .on_response(DefaultOnResponse::new().level(Level::INFO)),
                    )
                    .layer(PropagateRequestIdLayer::x_request_id()),
            )
        }
        other => {
            eprintln!("unknown mode {other:?}");
            std::process::exit(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}"))
            .await
            .expect("bind");
        println!("ready");
        axum::serve(listener, app).await.expect("serve");
    });
}
