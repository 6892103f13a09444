//! Where logs and data live: `LOG_ROOT`, `DATA_DIR` and the repository root.

use std::path::PathBuf;

/// The directory for log files: `LOG_ROOT` when set and non-empty, else
/// `{repo root}/logs`.
///
/// The repo root is the nearest ancestor of the current directory holding
/// `.git`, else the current directory itself.
///
/// ```
/// let root = logwire::log_root();
/// if std::env::var_os("LOG_ROOT").is_none() {
///     assert!(root.ends_with("logs"));
/// }
/// ```
pub fn log_root() -> PathBuf {
    env_dir("LOG_ROOT").unwrap_or_else(|| repo_root().join("logs"))
}

/// The directory for application data: `DATA_DIR` when set and non-empty,
/// else `{repo root}/data`.
pub fn data_dir() -> PathBuf {
    env_dir("DATA_DIR").unwrap_or_else(|| repo_root().join("data"))
}

fn env_dir(var: &str) -> Option<PathBuf> {
    std::env::var_os(var).filter(|v| !v.is_empty()).map(PathBuf::from)
}

/// The nearest ancestor of the current directory that holds `.git`, else
/// the current directory (`.` if even that cannot be read).
pub(crate) fn repo_root() -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    cwd.ancestors()
        .find(|dir| dir.join(".git").exists())
        .map(PathBuf::from)
        .unwrap_or(cwd)
}
