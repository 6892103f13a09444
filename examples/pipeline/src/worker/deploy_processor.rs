//! One deployment: the project's `deploy.sh`, output in
//! `deploy-logs/{id}.log`.

use logwire::worker::Job;
use logwire::FromContext;

use super::context::WorkerCtx;
use super::script::{JobError, Missing, Script};
use crate::services::{Deployment, DeploymentService};

pub async fn process(ctx: &WorkerCtx, deployment: Deployment) {
    let deployments = DeploymentService::from_context(ctx);
    let job = Job::new(&ctx.logger, format!("deploy-{}", deployment.id))
        .field("origin", deployment.request_id.as_deref().unwrap_or("unknown"))
        .field("build_id", deployment.build_id)
        .trace_parent(deployment.traceparent.as_deref());
    // The outcome is in the log (JOB_END, JOB_ERROR) and in the database.
    let _ = job
        .run(async {
            let outcome = run(ctx, &deployments, &deployment).await;
            deployments.finish(deployment.id, outcome.is_ok()).await?;
            outcome
        })
        .await;
}

async fn run(ctx: &WorkerCtx, deployments: &DeploymentService, deployment: &Deployment) -> Result<(), JobError> {
    let dir = deployments.project_of(deployment.build_id).await?;
    Script {
        log: ctx.config.deploy_log(deployment.id),
        subject: format!("Deployment {}", deployment.id),
        of: format!("build {}", deployment.build_id),
        dir: &dir,
        name: "deploy.sh",
        label: "Running deployment",
        timeout: ctx.config.job_timeout,
    }
    .run(Missing::IsFine)
    .await
}
