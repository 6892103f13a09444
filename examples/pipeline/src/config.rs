//! Where the app listens and keeps its data, from the environment.

use std::path::PathBuf;
use std::time::Duration;

/// Settings shared by the API and the worker.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// TCP port on 127.0.0.1 (`PORT`, default 8080).
    pub port: u16,
    /// `DATA_DIR`, default `{repo root}/data`.
    pub data_dir: PathBuf,
    /// How long a login session lasts.
    pub session_ttl_secs: i64,
    /// The longest a build or deployment script may run
    /// (`PIPELINE_JOB_TIMEOUT_SECS`, default an hour).
    pub job_timeout: Duration,
}

impl AppConfig {
    pub fn from_env() -> Result<AppConfig, String> {
        let port = match std::env::var("PORT") {
            Ok(p) => p
                .parse()
                .map_err(|_| format!("PORT must be a port number, got {p:?}"))?,
            Err(_) => 8080,
        };
        let job_timeout = match std::env::var("PIPELINE_JOB_TIMEOUT_SECS") {
            Ok(s) => match s.parse::<u64>() {
                Ok(secs) if secs > 0 => Duration::from_secs(secs),
                _ => {
                    return Err(format!(
                        "PIPELINE_JOB_TIMEOUT_SECS must be a positive number of seconds, got {s:?}"
                    ))
                }
            },
            Err(_) => Duration::from_secs(3600),
        };
        Ok(AppConfig {
            port,
            data_dir: logwire::data_dir(),
            session_ttl_secs: 12 * 3600,
            job_timeout,
        })
    }

    pub fn database(&self) -> PathBuf {
        self.data_dir.join("pipeline.db")
    }

    pub fn projects(&self) -> PathBuf {
        self.data_dir.join("projects")
    }

    pub fn build_log(&self, id: i64) -> PathBuf {
        self.data_dir.join("build-logs").join(format!("{id}.log"))
    }

    pub fn deploy_log(&self, id: i64) -> PathBuf {
        self.data_dir.join("deploy-logs").join(format!("{id}.log"))
    }
}
