//! Builds: queued by the API, run by the worker.

use std::path::PathBuf;

use logwire::Logger;
use rusqlite::OptionalExtension;
use serde::Serialize;

use super::auth_service::User;
use super::error::AppError;
use crate::config::AppConfig;
use crate::db::{now, Db, Status, WorkTable};

/// A build as the API shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Build {
    pub id: i64,
    pub project: String,
    pub status: Status,
    /// The transaction id of the request that queued it.
    pub request_id: Option<String>,
    /// The W3C traceparent of the request that queued it, when traced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
}

const COLUMNS: &str = "id, project, status, request_id, traceparent";

fn build_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Build> {
    Ok(Build {
        id: r.get(0)?,
        project: r.get(1)?,
        status: r.get(2)?,
        request_id: r.get(3)?,
        traceparent: r.get(4)?,
    })
}

#[logwire::service]
pub struct BuildService {
    logger: Logger,
    #[inject(from_ref)]
    db: Db,
    #[inject(from_ref)]
    config: AppConfig,
}

#[logwire::service]
impl BuildService {
    /// The folder of a project that has a `build.sh`; names are plain
    /// words, so no request can point outside `{DATA_DIR}/projects`.
    pub fn project_dir(&self, project: &str) -> Result<PathBuf, AppError> {
        let plain = !project.is_empty()
            && project.len() <= 64
            && project
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        let dir = self.config.projects().join(project);
        if plain && dir.join("build.sh").is_file() {
            Ok(dir)
        } else {
            Err(AppError::NotFound(format!("project {project:?}")))
        }
    }

    /// Queues a build of `project` for `user`, remembering the request
    /// that asked.
    pub async fn queue(&self, project: &str, user: &User) -> Result<Build, AppError> {
        self.project_dir(project)?;
        let request_id = logwire::txid::current();
        let traceparent = logwire::otel::traceparent();
        let (name, origin, trace) = (project.to_owned(), request_id.clone(), traceparent.clone());
        let id = self
            .db
            .call(move |c| {
                c.execute(
                    "INSERT INTO builds (project, status, request_id, traceparent, created_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    rusqlite::params![name, Status::Queued, origin, trace, now()],
                )?;
                Ok(c.last_insert_rowid())
            })
            .await?;
        logwire::info!(
            self.logger,
            "BUILD_QUEUED",
            build_id = id,
            project = project,
            user = user.username.as_str(),
            user_id = user.id
        );
        Ok(Build {
            id,
            project: project.to_owned(),
            status: Status::Queued,
            request_id,
            traceparent,
        })
    }

    /// Every build, newest first.
    pub async fn list(&self) -> Result<Vec<Build>, AppError> {
        Ok(self
            .db
            .call(|c| {
                let mut stmt = c.prepare(&format!("SELECT {COLUMNS} FROM builds ORDER BY id DESC"))?;
                let rows = stmt.query_map([], build_row)?;
                rows.collect()
            })
            .await?)
    }

    /// One build.
    pub async fn get(&self, id: i64) -> Result<Build, AppError> {
        self.db
            .call(move |c| {
                c.query_row(&format!("SELECT {COLUMNS} FROM builds WHERE id = ?1"), [id], build_row)
                    .optional()
            })
            .await?
            .ok_or_else(|| AppError::NotFound(format!("build {id}")))
    }

    /// The build's own log file, as text.
    pub async fn log_file(&self, id: i64) -> Result<Option<tokio::fs::File>, AppError> {
        self.get(id).await?;
        match tokio::fs::File::open(self.config.build_log(id)).await {
            Ok(file) => Ok(Some(file)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(AppError::Internal(format!("opening the log of build {id}: {e}"))),
        }
    }

    /// Takes the oldest queued build for `worker`, marking it running.
    pub async fn claim_next(&self, worker: &str) -> Result<Option<Build>, AppError> {
        Ok(self
            .db
            .claim_next(WorkTable::Builds, COLUMNS, build_row, worker.to_owned())
            .await?)
    }

    /// Fails the builds left running by workers that are gone; returns
    /// their ids and the worker each had.
    pub async fn reclaim(&self, alive: fn(&str) -> bool) -> Result<Vec<(i64, Option<String>)>, AppError> {
        Ok(self.db.reclaim(WorkTable::Builds, alive).await?)
    }

    /// Records how a build ended.
    pub async fn finish(&self, id: i64, success: bool) -> Result<(), AppError> {
        let status = self.db.finish(WorkTable::Builds, id, success).await?;
        logwire::info!(self.logger, "BUILD_FINISHED", build_id = id, status = status.as_str());
        Ok(())
    }

    /// Where the build's output goes.
    pub fn log_path(&self, id: i64) -> PathBuf {
        self.config.build_log(id)
    }

    /// The longest a build script may run.
    #[log(off)]
    pub fn job_timeout(&self) -> std::time::Duration {
        self.config.job_timeout
    }
}
