//! Where the app listens and keeps its data, from the environment.

use std::fmt;
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

/// An environment variable with a value the app cannot use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub var: &'static str,
    pub value: String,
    /// What it must be instead.
    pub expected: &'static str,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} must be {}, got {:?}", self.var, self.expected, self.value)
    }
}

impl std::error::Error for ConfigError {}

/// The variable `var` parsed by `parse`, or `default` when it is unset.
fn from_var<T>(
    var: &'static str,
    expected: &'static str,
    default: T,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<T, ConfigError> {
    match std::env::var(var) {
        Ok(value) => parse(&value).ok_or(ConfigError { var, value, expected }),
        Err(_) => Ok(default),
    }
}

impl AppConfig {
    pub fn from_env() -> Result<AppConfig, ConfigError> {
        let port = from_var("PORT", "a port number", 8080, |v| v.parse().ok())?;
        let job_timeout = from_var(
            "PIPELINE_JOB_TIMEOUT_SECS",
            "a positive number of seconds",
            Duration::from_secs(3600),
            |v| v.parse().ok().filter(|&secs| secs > 0).map(Duration::from_secs),
        )?;
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
