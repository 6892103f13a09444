//! A worker process with no HTTP at all: services, a worker context,
//! `run_job` per job, a poll loop. Builds with and without logwire's `axum`
//! feature (CI checks `--no-default-features`).
//!
//! Run with: cargo run -p logwire --example worker_only   (Ctrl-C stops it)

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use logwire::{FromContext, Logger};

/// A stand-in for a queue table: hands out job ids 1, 2, 3.
#[derive(Debug, Clone, Default)]
struct Queue(Arc<AtomicU64>);

#[derive(logwire::Context)]
struct WorkerCtx {
    logger: Logger,
    queue: Queue,
}

#[logwire::service]
struct ReportService {
    logger: Logger,
    queue: Queue,
}

#[logwire::service]
impl ReportService {
    fn next(&self) -> Option<u64> {
        let n = self.queue.0.fetch_add(1, Ordering::Relaxed) + 1;
        (n <= 3).then_some(n)
    }

    async fn render(&self, id: u64) -> Result<usize, String> {
        logwire::info!(self.logger, "REPORT_RENDERED", id = id);
        if id == 2 {
            return Err(format!("report {id} has no data"));
        }
        Ok(id as usize * 10)
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let ctx = WorkerCtx {
        logger: Logger::builder("worker").file(false).console(true).build(),
        queue: Queue::default(),
    };
    logwire::worker::poll_loop(&ctx.logger, Duration::from_millis(500), || async {
        let reports = ReportService::from_context(&ctx);
        while let Some(id) = reports.next() {
            let _ = logwire::worker::run_job(&ctx.logger, format!("report-{id}"), reports.render(id)).await;
        }
    })
    .await?;
    Ok(())
}
