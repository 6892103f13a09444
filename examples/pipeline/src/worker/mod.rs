//! The worker process: `worker.log`, a poll loop, one `run_job` per build
//! or deployment, services built from the worker's context.

mod build_processor;
mod context;
mod deploy_processor;
mod owner;
mod script;

pub use context::WorkerCtx;

use std::time::Duration;

use logwire::{FromContext, Logger};

use crate::config::AppConfig;
use crate::db::Db;
use crate::services::{BuildService, DeploymentService};
use crate::Failure;

/// Runs until SIGTERM or Ctrl-C; the job in hand always finishes.
pub async fn run(logger: Logger, config: AppConfig, db: Db) -> Result<(), Failure> {
    let ctx = WorkerCtx {
        logger,
        db,
        config,
        me: owner::me(),
    };
    reclaim(&ctx).await;
    logwire::worker::poll_loop(&ctx.logger, Duration::from_millis(250), || poll_once(&ctx))
        .await
        .map(|_| ())
        .map_err(Failure::Signals)
}

/// Runs one queued build, or else one queued deployment: `true` when it
/// ran one. One job per poll, so that a stop signal is seen between jobs.
async fn poll_once(ctx: &WorkerCtx) -> bool {
    // A failed claim is already a METHOD_ERROR line; try again next poll.
    if let Ok(Some(build)) = BuildService::from_context(ctx).claim_next(&ctx.me).await {
        build_processor::process(ctx, build).await;
        return true;
    }
    if let Ok(Some(deployment)) = DeploymentService::from_context(ctx).claim_next(&ctx.me).await {
        deploy_processor::process(ctx, deployment).await;
        return true;
    }
    false
}

/// Jobs left `running` by a worker that is gone (crashed, killed, or the
/// machine restarted) would stay so forever: they are marked `failed`, with
/// a line in their job log and a WARN line saying why. They are not run
/// again: a half-run deployment is not safe to repeat blindly.
async fn reclaim(ctx: &WorkerCtx) {
    let builds = BuildService::from_context(ctx).reclaim(owner::is_alive).await;
    let deployments = DeploymentService::from_context(ctx).reclaim(owner::is_alive).await;
    let found = [
        (
            "build",
            builds,
            AppConfig::build_log as fn(&AppConfig, i64) -> std::path::PathBuf,
        ),
        (
            "deployment",
            deployments,
            AppConfig::deploy_log as fn(&AppConfig, i64) -> std::path::PathBuf,
        ),
    ];
    for (kind, reclaimed, log_path) in found {
        // A failed query is already a METHOD_ERROR line.
        for (id, worker) in reclaimed.unwrap_or_default() {
            let worker = worker.unwrap_or_else(|| "unknown".to_owned());
            logwire::warn!(
                ctx.logger,
                "JOB_RECLAIMED",
                kind = kind,
                id = id,
                worker = worker.as_str(),
                status = "failed"
            );
            let why = format!("Marked failed: the worker that ran this {kind} ({worker}) is gone");
            if let Ok(log) = logwire::joblog::JobLog::open(log_path(&ctx.config, id)) {
                let _ = log.append(&why);
            }
        }
    }
}
