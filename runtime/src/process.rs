//! Everything logwire keeps or installs for the whole process, in one place:
//!
//! - the registry of file sinks: one per path, shared by every logger of the
//!   process that writes it, living until the process exits (so that the
//!   exit hook always finds it: a sink dropped on another thread while
//!   `main` returns could otherwise lose its last batch);
//! - with the first file sink: the `logwire-flush` thread, an `atexit` hook
//!   and a `pthread_atfork` prepare hook that write what is still in memory;
//! - one panic hook, chained to the one before it, installed by the first
//!   file sink, `ApiLayer` or `run_job`: a panic that a request or job will
//!   catch is recorded for its log line and not printed; any other first has
//!   every sink written, then goes to the previous hook;
//! - only when asked: the SIGHUP handler of [`reopen_on_sighup`](crate::reopen_on_sighup).

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, Once, PoisonError};

use crate::sink::file::FileSink;
use crate::sink::flusher;

static OPEN: Mutex<Vec<Arc<FileSink>>> = Mutex::new(Vec::new());

fn registry() -> MutexGuard<'static, Vec<Arc<FileSink>>> {
    // A panic elsewhere must not stop logging: the list is never half-updated.
    OPEN.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The sink for `path`: the process's one, or a new one made by `make`.
pub(crate) fn file_sink(path: &Path, make: impl FnOnce() -> FileSink) -> Arc<FileSink> {
    let mut open = registry();
    if let Some(existing) = open.iter().find(|s| s.path() == path) {
        return existing.clone();
    }
    let sink = Arc::new(make());
    open.push(sink.clone());
    drop(open);
    start_file_sinks();
    sink
}

/// Every file sink of the process. `None` when the registry is locked and
/// `wait` is false (for hooks, which must not deadlock).
pub(crate) fn open_sinks(wait: bool) -> Option<Vec<Arc<FileSink>>> {
    let open = if wait {
        registry()
    } else {
        match OPEN.try_lock() {
            Ok(open) => open,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return None,
        }
    };
    Some(open.clone())
}

/// The flusher thread and the exit and fork hooks, once.
fn start_file_sinks() {
    static HOOKS: Once = Once::new();
    HOOKS.call_once(|| {
        // SAFETY: registering plain `extern "C"` functions that never unwind
        // (they only take locks and write files).
        unsafe {
            libc::atexit(at_exit);
            libc::pthread_atfork(Some(before_fork), None, None);
        }
        install_panic_hook();
    });
    flusher::start();
}

extern "C" fn at_exit() {
    flusher::flush_all_bounded();
}

extern "C" fn before_fork() {
    flusher::flush_all_bounded();
}

/// The one panic hook, once, whoever asks first.
pub(crate) fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if crate::panic::will_be_caught(info) {
                return;
            }
            flusher::flush_all_bounded();
            previous(info);
        }));
    });
}
