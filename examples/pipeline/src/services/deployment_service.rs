//! Deployments of successful builds.

use logwire::Logger;
use rusqlite::OptionalExtension;
use serde::Serialize;

use super::auth_service::User;
use super::build_service::BuildService;
use super::error::AppError;
use crate::db::{now, Db, Status, WorkTable};

/// A deployment as the API shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Deployment {
    pub id: i64,
    pub build_id: i64,
    pub status: Status,
    pub request_id: Option<String>,
    /// The W3C traceparent of the request that queued it, when traced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
}

const COLUMNS: &str = "id, build_id, status, request_id, traceparent";

fn deployment_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Deployment> {
    Ok(Deployment {
        id: r.get(0)?,
        build_id: r.get(1)?,
        status: r.get(2)?,
        request_id: r.get(3)?,
        traceparent: r.get(4)?,
    })
}

#[logwire::service]
pub struct DeploymentService {
    logger: Logger,
    #[inject(from_ref)]
    db: Db,
    builds: BuildService,
}

#[logwire::service]
impl DeploymentService {
    /// Queues a deployment of a successful build for `user`.
    pub async fn create(&self, build_id: i64, user: &User) -> Result<Deployment, AppError> {
        let build = self.builds.get(build_id).await?;
        if build.status != Status::Success {
            return Err(AppError::Conflict(format!(
                "build {build_id} is {}; only a successful build can be deployed",
                build.status
            )));
        }
        let request_id = logwire::txid::current();
        let traceparent = logwire::otel::traceparent();
        let (origin, trace) = (request_id.clone(), traceparent.clone());
        let id = self
            .db
            .call(move |c| {
                c.execute(
                    "INSERT INTO deployments (build_id, status, request_id, traceparent, created_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    rusqlite::params![build_id, Status::Queued, origin, trace, now()],
                )?;
                Ok(c.last_insert_rowid())
            })
            .await?;
        logwire::info!(
            self.logger,
            "DEPLOYMENT_QUEUED",
            deployment_id = id,
            build_id = build_id,
            user = user.username.as_str(),
            user_id = user.id
        );
        Ok(Deployment {
            id,
            build_id,
            status: Status::Queued,
            request_id,
            traceparent,
        })
    }

    /// One deployment.
    pub async fn get(&self, id: i64) -> Result<Deployment, AppError> {
        self.db
            .call(move |c| {
                c.query_row(
                    &format!("SELECT {COLUMNS} FROM deployments WHERE id = ?1"),
                    [id],
                    deployment_row,
                )
                .optional()
            })
            .await?
            .ok_or_else(|| AppError::NotFound(format!("deployment {id}")))
    }

    /// Fails the deployments left running by workers that are gone.
    pub async fn reclaim(&self, alive: fn(&str) -> bool) -> Result<Vec<(i64, Option<String>)>, AppError> {
        Ok(self.db.reclaim(WorkTable::Deployments, alive).await?)
    }

    /// Takes the oldest queued deployment, marking it running.
    pub async fn claim_next(&self, worker: &str) -> Result<Option<Deployment>, AppError> {
        Ok(self
            .db
            .claim_next(WorkTable::Deployments, COLUMNS, deployment_row, worker.to_owned())
            .await?)
    }

    /// Records how a deployment ended.
    pub async fn finish(&self, id: i64, success: bool) -> Result<(), AppError> {
        let status = self.db.finish(WorkTable::Deployments, id, success).await?;
        logwire::info!(
            self.logger,
            "DEPLOYMENT_FINISHED",
            deployment_id = id,
            status = status.as_str()
        );
        Ok(())
    }

    /// The project folder of the deployed build.
    pub async fn project_of(&self, build_id: i64) -> Result<std::path::PathBuf, AppError> {
        let build = self.builds.get(build_id).await?;
        self.builds.project_dir(&build.project)
    }
}
