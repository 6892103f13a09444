//! Run with: cargo run -p pipeline
//!
//! A small build/deploy pipeline on logwire: an HTTP API, a worker and a
//! SQLite database, each process logging to its own file, every line of a
//! request or a job under one transaction id.
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
mod shutdown;
mod telemetry;
mod worker;

use std::fmt;
use std::future::Future;
use std::process::ExitCode;

use config::{AppConfig, ConfigError};
use db::{Db, DbError};
use services::AppError;

const USAGE: &str = "usage: pipeline [api | worker | diagnose | render-deploy --user U --group G --base DIR --out DIR]";

/// Why the API or the worker could not start, or stopped on an error.
#[derive(Debug)]
pub enum Failure {
    Config(ConfigError),
    Database(DbError),
    /// Creating the admin user on first start.
    AdminUser(AppError),
    DemoProject(std::io::Error),
    Listen {
        address: String,
        source: std::io::Error,
    },
    Serve(std::io::Error),
    /// The stop signals could not be watched.
    Signals(std::io::Error),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Config(e) => e.fmt(f),
            Failure::Database(e) => e.fmt(f),
            Failure::AdminUser(e) => write!(f, "cannot create the admin user: {e}"),
            Failure::DemoProject(e) => write!(f, "cannot create the demo project: {e}"),
            Failure::Listen { address, source } => write!(f, "cannot listen on {address}: {source}"),
            Failure::Serve(e) => write!(f, "server failed: {e}"),
            Failure::Signals(e) => write!(f, "cannot watch for stop signals: {e}"),
        }
    }
}

impl std::error::Error for Failure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Failure::Config(e) => Some(e),
            Failure::Database(e) => Some(e),
            Failure::AdminUser(_) => None,
            Failure::DemoProject(e) | Failure::Listen { source: e, .. } | Failure::Serve(e) | Failure::Signals(e) => {
                Some(e)
            }
        }
    }
}

/// The file logger `name` in the process's `tracing` stack, exported as
/// OpenTelemetry `service` when OTEL_EXPORTER_OTLP_ENDPOINT is set. A
/// request or job that fails has its last 200 DEBUG lines written before
/// its ERROR line, whatever the level.
fn init(name: &str, service: &'static str) -> (logwire::Logger, telemetry::Telemetry) {
    let logger = logwire::Logger::builder(name).debug_on_failure(200).build();
    let telemetry = telemetry::init(&logger, service);
    (logger, telemetry)
}

/// Runs one part (`api`, `worker`) on the database, with its logger and
/// stack; sends the last spans off before returning.
async fn run_part<F, Fut>(config: AppConfig, name: &str, service: &'static str, part: F) -> Result<(), Failure>
where
    F: FnOnce(logwire::Logger, AppConfig, Db) -> Fut,
    Fut: Future<Output = Result<(), Failure>>,
{
    let db = Db::open(&config.database()).await.map_err(Failure::Database)?;
    let (logger, telemetry) = init(name, service);
    let outcome = part(logger, config, db).await;
    // Shutting the exporters down blocks: off the async threads.
    let _ = tokio::task::spawn_blocking(move || telemetry.shutdown()).await;
    outcome
}

/// Writes one line to stderr in one `write`: the API and the worker share
/// a terminal (or a file), and `eprintln!` writes in pieces that the other
/// process's line can land between.
pub fn say(line: &str) {
    use std::io::Write as _;
    let mut text = String::with_capacity(line.len() + 1);
    text.push_str(line);
    text.push('\n');
    let _ = std::io::stderr().write_all(text.as_bytes());
}

fn fail(error: &dyn fmt::Display) -> ExitCode {
    say(&format!("pipeline: {error}"));
    ExitCode::FAILURE
}

fn exit(outcome: Result<(), Failure>) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match AppConfig::from_env() {
        Ok(c) => c,
        Err(e) => return exit(Err(Failure::Config(e))),
    };
    // The process's loggers are built here, once, and handed down. Library
    // events (hyper, tower, `tracing::info!`) reach api.log and worker.log
    // too, filtered by RUST_LOG; the level is LOG_LEVEL's (default INFO).
    match args.first().map(String::as_str) {
        None => {
            let logger = logwire::Logger::builder("start_services").console(true).build();
            orchestrator::run(logger, config.port).await
        }
        Some("api") => exit(run_part(config, "api", "pipeline-api", api::run).await),
        Some("worker") => exit(run_part(config, "worker", "pipeline-worker", worker::run).await),
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
