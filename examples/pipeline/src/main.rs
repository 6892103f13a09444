//! Run with: cargo run -p pipeline
//!
//! A small build/deploy pipeline on logwire: an HTTP API, a worker and a
//! SQLite database, logging the way `backend-logger` describes.
//!
//! - `pipeline` — starts the API and the worker (local development);
//! - `pipeline api` / `pipeline worker` — one part (as systemd runs them);
//! - `pipeline diagnose` — the logging report; exits 1 on problems;
//! - `pipeline render-deploy --user U --group G --base DIR --out DIR` —
//!   the systemd units, nginx site and log-directory script.

// A binary: `pub` marks what a module offers the rest of the app.
#![allow(unreachable_pub)]

mod api;
mod config;
mod db;
mod deploy;
mod orchestrator;
mod services;
mod setup;
mod telemetry;
mod worker;

use std::process::ExitCode;

use config::AppConfig;
use db::Db;

const USAGE: &str = "usage: pipeline [api | worker | diagnose | render-deploy --user U --group G --base DIR --out DIR]";

/// Resolves on SIGTERM or Ctrl-C.
pub(crate) async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        // Without handlers the default action (exit) still stops us.
        _ => std::future::pending::<()>().await,
    }
}

/// The file logger `name` in the process's `tracing` stack, exported as
/// OpenTelemetry `service` when OTEL_EXPORTER_OTLP_ENDPOINT is set.
#[allow(clippy::disallowed_methods)] // main's helper: loggers are built here only
fn init(name: &str, service: &'static str) -> (logwire::Logger, telemetry::Telemetry) {
    let logger = logwire::file_logger(name);
    let telemetry = telemetry::init(&logger, service);
    (logger, telemetry)
}

/// Sends the last spans off the async runtime's threads: it blocks.
async fn finish(telemetry: telemetry::Telemetry) {
    let _ = tokio::task::spawn_blocking(move || telemetry.shutdown()).await;
}

fn fail(message: &str) -> ExitCode {
    eprintln!("pipeline: {message}");
    ExitCode::FAILURE
}

#[tokio::main]
#[allow(clippy::disallowed_methods)] // the one place that builds loggers
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match AppConfig::from_env() {
        Ok(c) => c,
        Err(e) => return fail(&e),
    };
    let open_db = || Db::open(&config.database());
    // The process's loggers are built here, once, and handed down. Library
    // events (hyper, tower, `tracing::info!`) reach api.log and worker.log
    // too, filtered by RUST_LOG; the level is LOG_LEVEL's (default INFO).
    match args.first().map(String::as_str) {
        None => {
            let logger = logwire::Logger::builder("start_services").console(true).build();
            orchestrator::run(logger, config.port).await
        }
        Some("api") => match open_db() {
            Ok(db) => {
                let (logger, telemetry) = init("api", "pipeline-api");
                let served = api::run(logger, config.clone(), db).await;
                finish(telemetry).await;
                match served {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(e) => fail(&e),
                }
            }
            Err(e) => fail(&e),
        },
        Some("worker") => match open_db() {
            Ok(db) => {
                let (logger, telemetry) = init("worker", "pipeline-worker");
                let ran = worker::run(logger, config.clone(), db).await;
                finish(telemetry).await;
                match ran {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(e) => fail(&e),
                }
            }
            Err(e) => fail(&e),
        },
        Some("diagnose") => {
            let report = logwire::diagnose();
            println!("{report}");
            if report.has_problems() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Some("render-deploy") => match deploy::values(&args[1..]).and_then(|(v, out)| deploy::write_all(&v, &out)) {
            Ok(paths) => {
                for p in paths {
                    println!("{}", p.display());
                }
                ExitCode::SUCCESS
            }
            Err(e) => fail(&format!("{e}\n{USAGE}")),
        },
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(other) => fail(&format!("unknown command {other:?}\n{USAGE}")),
    }
}
