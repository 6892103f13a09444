//! A child process for logwire's integration tests: each mode does one thing
//! a real program does and then leaves `main` the way the test asks.
//!
//! Usage: `logwire-child MODE ROOT COUNT` (ROOT `env`: `file_logger`, which
//! reads `LOG_ROOT`)
//! - `return`: log COUNT lines to `{ROOT}/child.log`, return from main
//!   without flushing;
//! - `panic`: log COUNT lines, then panic out of main;
//! - `exit`: log COUNT lines, then `std::process::exit(3)`;
//! - `fallback`: log COUNT lines to a file logger whose root is ROOT (a path
//!   that cannot be a directory);
//! - `console`: log COUNT lines to `console_logger` (stdout; ROOT unused);
//! - `api-panic`: serve COUNT panicking requests through `ApiLayer` with a
//!   logger in ROOT, then panic once outside any request.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [mode, root, count] = args.as_slice() else {
        eprintln!("usage: logwire-child MODE ROOT COUNT");
        return ExitCode::from(2);
    };
    let Ok(count) = count.parse::<u64>() else {
        eprintln!("COUNT must be a number, got {count:?}");
        return ExitCode::from(2);
    };
    let log = match root.as_str() {
        _ if mode == "console" => logwire::console_logger("child"),
        "env" => logwire::file_logger("child"),
        root => logwire::Logger::builder("child").root(root).build(),
    };
    if mode == "api-panic" {
        api_panics(log, count);
        // Not inside a request: the default hook must still report it.
        let _ = std::thread::spawn(|| panic!("outside any request")).join();
        return ExitCode::SUCCESS;
    }
    for seq in 0..count {
        logwire::info!(
            log,
            "LINE",
            proc = 0,
            seq = seq,
            pad = "0123456789abcdef0123456789abcdef0123456789"
        );
    }
    match mode.as_str() {
        "return" | "fallback" | "console" => ExitCode::SUCCESS,
        "panic" => panic!("child panics after {count} lines"),
        "exit" => std::process::exit(3),
        other => {
            eprintln!("unknown mode {other:?}");
            ExitCode::from(2)
        }
    }
}

fn api_panics(log: logwire::Logger, count: u64) {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    async fn boom() -> &'static str {
        panic!("caught by the layer")
    }
    let app = axum::Router::new()
        .route("/boom", axum::routing::get(boom))
        .layer(logwire::axum::ApiLayer::new(log));
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    runtime.block_on(async {
        for _ in 0..count {
            let request = Request::get("/boom").body(Body::empty()).expect("request");
            let response = app.clone().oneshot(request).await.expect("infallible");
            assert_eq!(response.status(), 500);
        }
    });
}
