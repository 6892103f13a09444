//! One build: its project's `build.sh`, output in `build-logs/{id}.log`.

use logwire::joblog::JobLog;
use logwire::worker::Job;
use logwire::FromContext;

use super::WorkerCtx;
use crate::services::{Build, BuildService};

pub async fn process(ctx: &WorkerCtx, build: Build) {
    let builds = BuildService::from_context(ctx);
    let origin = build.request_id.clone().unwrap_or_else(|| "unknown".to_owned());
    let job = Job::new(&ctx.logger, format!("build-{}", build.id))
        .field("origin", origin.as_str())
        .field("project", build.project.as_str())
        .trace_parent(build.traceparent.as_deref());
    // The outcome is in the log (JOB_END, JOB_ERROR) and in the database.
    let _ = job.run(run(&builds, &build)).await;
}

async fn run(builds: &BuildService, build: &Build) -> Result<(), String> {
    let outcome = script(builds, build).await;
    let success = outcome.is_ok();
    builds.finish(build.id, success).await.map_err(|e| e.to_string())?;
    outcome
}

async fn script(builds: &BuildService, build: &Build) -> Result<(), String> {
    let dir = builds.project_dir(&build.project).map_err(|e| e.to_string())?;
    let log = JobLog::open(builds.log_path(build.id)).map_err(|e| format!("cannot open the build log: {e}"))?;
    log.append(&format!("Build {} of {} started", build.id, build.project))
        .map_err(|e| e.to_string())?;
    let mut cmd = std::process::Command::new("sh");
    cmd.arg("build.sh").current_dir(&dir);
    let status = log
        .run_script_with_timeout(cmd, "Running build", builds.job_timeout())
        .await
        .map_err(|e| e.to_string())?;
    let result = if status.success() { "succeeded" } else { "failed" };
    log.append(&format!("Build {} {result}", build.id))
        .map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("build.sh of {} exited with {status}", build.project))
    }
}
