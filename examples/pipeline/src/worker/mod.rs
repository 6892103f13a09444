//! The worker process: `worker.log`, a poll loop, one `run_job` per build
//! or deployment, services built from the worker's context.

mod build_processor;
mod deploy_processor;

use std::time::Duration;

use logwire::{FromContext, Logger};

use crate::config::AppConfig;
use crate::db::Db;
use crate::services::{BuildService, DeploymentService};

/// What the worker's services are built from.
pub struct WorkerCtx {
    pub logger: Logger,
    pub db: Db,
    pub config: AppConfig,
}

impl AsRef<Logger> for WorkerCtx {
    fn as_ref(&self) -> &Logger {
        &self.logger
    }
}

impl FromContext<WorkerCtx> for Db {
    fn from_context(ctx: &WorkerCtx) -> Db {
        ctx.db.clone()
    }
}

impl FromContext<WorkerCtx> for AppConfig {
    fn from_context(ctx: &WorkerCtx) -> AppConfig {
        ctx.config.clone()
    }
}

/// Runs until SIGTERM or Ctrl-C; the job in hand always finishes.
pub async fn run(config: AppConfig, db: Db) {
    let logger = logwire::file_logger("worker");
    logwire::init(&logger);
    let ctx = WorkerCtx { logger, db, config };
    logwire::worker::poll_loop(&ctx.logger, Duration::from_millis(250), || poll_once(&ctx)).await;
}

/// Runs one queued build, or else one queued deployment: `true` when it
/// ran one. One job per poll, so that a stop signal is seen between jobs.
async fn poll_once(ctx: &WorkerCtx) -> bool {
    // A failed claim is already a METHOD_ERROR line; try again next poll.
    if let Ok(Some(build)) = BuildService::from_context(ctx).claim_next().await {
        build_processor::process(ctx, build).await;
        return true;
    }
    if let Ok(Some(deployment)) = DeploymentService::from_context(ctx).claim_next().await {
        deploy_processor::process(ctx, deployment).await;
        return true;
    }
    false
}
