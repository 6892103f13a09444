//! `cargo run -p pipeline` with no subcommand: both parts at once, for
//! local development. Starts the API and the worker as two child
//! processes, logs to the console and `start_services.log`, and stops both
//! on Ctrl-C or SIGTERM.

use std::process::ExitCode;
use std::time::Duration;

use logwire::Logger;
use tokio::process::{Child, Command};

use crate::shutdown::Shutdown;

fn spawn(logger: &Logger, part: &str) -> std::io::Result<Child> {
    let child = Command::new(std::env::current_exe()?)
        .arg(part)
        // The children resolve the same directories whatever their cwd.
        .env("LOG_ROOT", logwire::log_root())
        .env("DATA_DIR", logwire::data_dir())
        .kill_on_drop(true)
        .spawn()?;
    logwire::info!(logger, "SERVICE_STARTED", service = part, pid = child.id().unwrap_or(0));
    Ok(child)
}

fn terminate(child: &Child) {
    if let Some(pid) = child.id() {
        // SAFETY: signalling our own child by its pid.
        unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
    }
}

async fn stop(logger: &Logger, name: &str, child: &mut Child) {
    terminate(child);
    match tokio::time::timeout(Duration::from_secs(15), child.wait()).await {
        Ok(Ok(status)) => logwire::info!(logger, "SERVICE_STOPPED", service = name, status = %status),
        _ => {
            logwire::warn!(
                logger,
                "SERVICE_KILLED",
                service = name,
                reason = "no exit 15 s after SIGTERM"
            );
            let _ = child.kill().await;
        }
    }
}

/// Runs the API and the worker until SIGTERM or Ctrl-C, logging to
/// `logger` (the console and `start_services.log`).
pub async fn run(logger: Logger, port: u16) -> ExitCode {
    let log_root = logwire::log_root();
    let data_dir = logwire::data_dir();
    logwire::info!(
        logger,
        "STARTING",
        url = %format!("http://127.0.0.1:{port}"),
        log_root = %log_root.display(),
        data_dir = %data_dir.display(),
    );
    let mut shutdown = match Shutdown::watch() {
        Ok(shutdown) => shutdown,
        Err(e) => {
            logwire::error!(logger, "SIGNALS_UNAVAILABLE", error = %e);
            return ExitCode::FAILURE;
        }
    };
    let mut api = match spawn(&logger, "api") {
        Ok(c) => c,
        Err(e) => {
            logwire::error!(logger, "START_FAILED", service = "api", error = %e);
            return ExitCode::FAILURE;
        }
    };
    let mut worker = match spawn(&logger, "worker") {
        Ok(c) => c,
        Err(e) => {
            logwire::error!(logger, "START_FAILED", service = "worker", error = %e);
            stop(&logger, "api", &mut api).await;
            return ExitCode::FAILURE;
        }
    };
    let code = tokio::select! {
        signal = shutdown.recv() => { logwire::info!(logger, "STOPPING", signal = signal); ExitCode::SUCCESS }
        status = api.wait() => {
            logwire::error!(logger, "SERVICE_EXITED", service = "api", status = %status.map_or_else(|e| e.to_string(), |s| s.to_string()));
            ExitCode::FAILURE
        }
        status = worker.wait() => {
            logwire::error!(logger, "SERVICE_EXITED", service = "worker", status = %status.map_or_else(|e| e.to_string(), |s| s.to_string()));
            ExitCode::FAILURE
        }
    };
    tokio::join!(stop(&logger, "api", &mut api), stop(&logger, "worker", &mut worker));
    logwire::info!(logger, "STOPPED");
    code
}
