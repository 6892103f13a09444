//! The file sinks of the process: one per path, shared by every logger of
//! the process that writes it, living until the process exits (so that the
//! exit hook always finds it: a sink dropped on another thread while `main`
//! returns could otherwise lose its last batch).

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::file::FileSink;

/// Sinks live as long as the process: leaked once per path, never freed.
static OPEN: Mutex<Vec<&'static FileSink>> = Mutex::new(Vec::new());

pub(crate) fn registry() -> MutexGuard<'static, Vec<&'static FileSink>> {
    // A panic elsewhere must not stop logging: the list is never half-updated.
    OPEN.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The sink for `path`, shared with any other logger of this process that
/// writes the same file: the process's one, or a new one with these file
/// options. Never fails (see [`FileSink::open`]).
pub(crate) fn shared(path: PathBuf, max_bytes: u64, backups: usize) -> &'static FileSink {
    let mut open = registry();
    if let Some(existing) = open.iter().find(|s| s.path() == path) {
        return existing;
    }
    let sink: &'static FileSink = Box::leak(Box::new(FileSink::open(path, max_bytes, backups)));
    open.push(sink);
    sink
}

/// Every file sink of the process.
pub(crate) fn open_sinks() -> Vec<&'static FileSink> {
    registry().clone()
}

/// Every file sink of the process, or `None` when another thread holds the
/// registry (for hooks, which must not deadlock).
pub(crate) fn try_open_sinks() -> Option<Vec<&'static FileSink>> {
    match OPEN.try_lock() {
        Ok(open) => Some(open.clone()),
        Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner().clone()),
        Err(std::sync::TryLockError::WouldBlock) => None,
    }
}
