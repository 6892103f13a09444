//! One deployment: the project's `deploy.sh`, output in
//! `deploy-logs/{id}.log`.

use logwire::joblog::JobLog;
use logwire::worker::Job;
use logwire::FromContext;

use super::WorkerCtx;
use crate::services::{Deployment, DeploymentService};

pub async fn process(ctx: &WorkerCtx, deployment: Deployment) {
    let deployments = DeploymentService::from_context(ctx);
    let origin = deployment.request_id.clone().unwrap_or_else(|| "unknown".to_owned());
    let job = Job::new(&ctx.logger, format!("deploy-{}", deployment.id))
        .field("origin", origin.as_str())
        .field("build_id", deployment.build_id)
        .trace_parent(deployment.traceparent.as_deref());
    let _ = job.run(run(ctx, &deployments, &deployment)).await;
}

async fn run(ctx: &WorkerCtx, deployments: &DeploymentService, deployment: &Deployment) -> Result<(), String> {
    let outcome = script(ctx, deployments, deployment).await;
    deployments
        .finish(deployment.id, outcome.is_ok())
        .await
        .map_err(|e| e.to_string())?;
    outcome
}

async fn script(ctx: &WorkerCtx, deployments: &DeploymentService, deployment: &Deployment) -> Result<(), String> {
    let dir = deployments
        .project_of(deployment.build_id)
        .await
        .map_err(|e| e.to_string())?;
    let log =
        JobLog::open(ctx.config.deploy_log(deployment.id)).map_err(|e| format!("cannot open the deploy log: {e}"))?;
    log.append(&format!(
        "Deployment {} of build {} started",
        deployment.id, deployment.build_id
    ))
    .map_err(|e| e.to_string())?;
    if !dir.join("deploy.sh").is_file() {
        log.append("No deploy.sh: nothing to run").map_err(|e| e.to_string())?;
        return Ok(());
    }
    let mut cmd = std::process::Command::new("sh");
    cmd.arg("deploy.sh").current_dir(&dir);
    let status = log
        .run_script_with_timeout(cmd, "Running deployment", ctx.config.job_timeout)
        .await
        .map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("deploy.sh exited with {status}"))
    }
}
