//! One build: its project's `build.sh`, output in `build-logs/{id}.log`.

use logwire::worker::Job;
use logwire::FromContext;

use super::context::WorkerCtx;
use super::script::{JobError, Missing, Script};
use crate::services::{Build, BuildService};

pub async fn process(ctx: &WorkerCtx, build: Build) {
    let builds = BuildService::from_context(ctx);
    let job = Job::new(&ctx.logger, format!("build-{}", build.id))
        .field("origin", build.request_id.as_deref().unwrap_or("unknown"))
        .field("project", build.project.as_str())
        .trace_parent(build.traceparent.as_deref());
    // The outcome is in the log (JOB_END, JOB_ERROR) and in the database.
    let _ = job
        .run(async {
            let outcome = run(&builds, &build).await;
            builds.finish(build.id, outcome.is_ok()).await?;
            outcome
        })
        .await;
}

async fn run(builds: &BuildService, build: &Build) -> Result<(), JobError> {
    let dir = builds.project_dir(&build.project)?;
    Script {
        log: builds.log_path(build.id),
        subject: format!("Build {}", build.id),
        of: build.project.clone(),
        dir: &dir,
        name: "build.sh",
        label: "Running build",
        timeout: builds.job_timeout(),
    }
    .run(Missing::Fails)
    .await
}
