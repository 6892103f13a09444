//! What a build and a deployment have in common: a project's shell script
//! run under the job's own log file, with a header and a verdict.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::Duration;

use logwire::joblog::JobLog;

use crate::services::AppError;

/// Why a build or a deployment failed.
#[derive(Debug)]
pub enum JobError {
    /// A service call failed (the project is gone, the database failed).
    Service(AppError),
    /// The job's own log file could not be opened or written.
    Log(std::io::Error),
    /// The script could not be started, or was killed at the time limit.
    Run {
        script: &'static str,
        source: std::io::Error,
    },
    /// The script ran and exited unsuccessfully.
    Script { script: &'static str, status: ExitStatus },
}

impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JobError::Service(e) => e.fmt(f),
            JobError::Log(e) => write!(f, "job log: {e}"),
            JobError::Run { script, source } => write!(f, "{script}: {source}"),
            JobError::Script { script, status } => write!(f, "{script} exited with {status}"),
        }
    }
}

impl std::error::Error for JobError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            JobError::Log(e) | JobError::Run { source: e, .. } => Some(e),
            JobError::Service(_) | JobError::Script { .. } => None,
        }
    }
}

impl From<AppError> for JobError {
    fn from(e: AppError) -> Self {
        JobError::Service(e)
    }
}

/// A script to run for a job.
pub struct Script<'a> {
    /// The job's own log file.
    pub log: PathBuf,
    /// What runs, such as "Build 7"; the log begins "Build 7 of demo started"
    /// and ends "Build 7 succeeded" (or failed).
    pub subject: String,
    /// What it is of, such as the project "demo".
    pub of: String,
    /// The project folder the script runs in.
    pub dir: &'a Path,
    /// `build.sh`, `deploy.sh`.
    pub name: &'static str,
    /// What the log calls the run: "Running build".
    pub label: &'static str,
    /// A script that runs longer is killed.
    pub timeout: Duration,
}

/// Whether a missing script is a failure or nothing to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    Fails,
    IsFine,
}

impl Script<'_> {
    /// Runs the script, its output into the job log; `Ok` when it exits 0.
    pub async fn run(self, missing: Missing) -> Result<(), JobError> {
        let log = JobLog::open(&self.log).map_err(JobError::Log)?;
        log.append(&format!("{} of {} started", self.subject, self.of))
            .map_err(JobError::Log)?;
        if missing == Missing::IsFine && !self.dir.join(self.name).is_file() {
            return log
                .append(&format!("No {}: nothing to run", self.name))
                .map_err(JobError::Log);
        }
        let mut cmd = std::process::Command::new("sh");
        cmd.arg(self.name).current_dir(self.dir);
        let status = log
            .run_script_with_timeout(cmd, self.label, self.timeout)
            .await
            .map_err(|source| JobError::Run {
                script: self.name,
                source,
            })?;
        let verdict = if status.success() { "succeeded" } else { "failed" };
        log.append(&format!("{} {verdict}", self.subject))
            .map_err(JobError::Log)?;
        if status.success() {
            Ok(())
        } else {
            Err(JobError::Script {
                script: self.name,
                status,
            })
        }
    }
}
