//! Everything logwire keeps or installs for the whole process, in one place:
//!
//! - the registry of file sinks: one per path, shared by every logger of the
//!   process that writes it, living until the process exits (so that the
//!   exit hook always finds it: a sink dropped on another thread while
//!   `main` returns could otherwise lose its last batch);
//! - with the first file sink: the `logwire-flush` thread, an `atexit` hook
//!   that writes what is still in memory, and `pthread_atfork` hooks: before
//!   a `fork` they take every lock logwire has (the registry's, the
//!   flusher's, both of each sink's), so the child never inherits one held
//!   by a thread that does not exist there; the parent then goes on as
//!   before, and the child drops its parent's queued lines (the parent
//!   writes them) and writes its own lines as they are logged (it has no
//!   flusher thread: starting threads between `fork` and `exec` is unsafe)
//!   until it calls [`Logger::reopen`](crate::Logger::reopen);
//! - one panic hook, chained to the one before it, installed by the first
//!   file sink, `ApiLayer` or `run_job`: a panic that a request or job will
//!   catch is recorded for its log line and not printed; any other first has
//!   every sink written, then goes to the previous hook;
//! - only when asked: the SIGHUP action of [`reopen_on_sighup`] and its
//!   thread.

use std::cell::RefCell;
use std::io::{self, Read};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::{Mutex, MutexGuard, Once, OnceLock, PoisonError};

use crate::sink::file::{FileSink, ForkHold};
use crate::sink::flusher;

/// Sinks live as long as the process: leaked once per path, never freed.
static OPEN: Mutex<Vec<&'static FileSink>> = Mutex::new(Vec::new());

fn registry() -> MutexGuard<'static, Vec<&'static FileSink>> {
    // A panic elsewhere must not stop logging: the list is never half-updated.
    OPEN.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The sink for `path`: the process's one, or a new one made by `make`.
pub(crate) fn file_sink(path: &Path, make: impl FnOnce() -> FileSink) -> &'static FileSink {
    let mut open = registry();
    if let Some(existing) = open.iter().find(|s| s.path() == path) {
        return existing;
    }
    let sink: &'static FileSink = Box::leak(Box::new(make()));
    open.push(sink);
    drop(open);
    start_file_sinks();
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

/// The flusher thread and the exit and fork hooks, once.
fn start_file_sinks() {
    static HOOKS: Once = Once::new();
    HOOKS.call_once(|| {
        // SAFETY: registering plain `extern "C"` functions that never unwind
        // (they only take locks and write files).
        unsafe {
            libc::atexit(at_exit);
            libc::pthread_atfork(Some(before_fork), Some(after_fork_in_parent), Some(after_fork_in_child));
        }
        install_panic_hook();
    });
    flusher::start();
}

extern "C" fn at_exit() {
    flusher::flush_all_bounded();
}

/// Every lock logwire has, held by the forking thread from just before a
/// `fork` until just after it, in the parent and in the child alike.
struct Held {
    flusher: flusher::Hold,
    sinks: Vec<ForkHold<'static>>,
    _registry: MutexGuard<'static, Vec<&'static FileSink>>,
}

thread_local! {
    /// Set by the prepare hook, taken by the parent or child hook: all
    /// three run on the thread that calls `fork`.
    static HELD: RefCell<Option<Held>> = const { RefCell::new(None) };
}

extern "C" fn before_fork() {
    // The order every other path takes them in: registry, then a sink's
    // writing side, then its buffer; the flusher's handle is never held
    // with another.
    let registry = registry();
    let sinks = registry.iter().map(|s| s.hold_for_fork()).collect();
    let held = Held {
        flusher: flusher::hold(),
        sinks,
        _registry: registry,
    };
    HELD.with(|h| *h.borrow_mut() = Some(held));
}

extern "C" fn after_fork_in_parent() {
    if let Some(held) = HELD.with(|h| h.borrow_mut().take()) {
        held.sinks.into_iter().for_each(ForkHold::release);
    }
}

extern "C" fn after_fork_in_child() {
    if let Some(held) = HELD.with(|h| h.borrow_mut().take()) {
        held.flusher.forget_in_child();
        held.sinks.into_iter().for_each(ForkHold::release_in_child);
    }
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

/// Reopens every file logger of this process whenever it receives SIGHUP:
/// the next lines go to a fresh file at the logger's path, and nothing
/// buffered is lost (it is written to the old file first).
///
/// For the system's logrotate (`postrotate kill -HUP <pid>`). Built-in
/// rotation already follows renames made by other processes; do not let
/// logrotate *and* logwire rotate the same file: set `max_bytes(0)` on
/// loggers whose files logrotate manages.
///
/// Call it once, early in `main`; later calls do nothing. Fails only when
/// the pipe, the thread or the handler cannot be set up. The handler is
/// signal-hook's self-pipe, registered through `signal-hook-registry` as
/// tokio's handlers are: a
/// `tokio::signal::unix::signal(SignalKind::hangup())` stream of the same
/// program keeps firing, before or after this call.
///
/// ```no_run
/// logwire::reopen_on_sighup().expect("SIGHUP handler");
/// let logger = logwire::Logger::builder("api").max_bytes(0).build();
/// ```
pub fn reopen_on_sighup() -> io::Result<()> {
    static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
    INSTALLED
        .get_or_init(|| install().map_err(|e| e.to_string()))
        .clone()
        .map_err(io::Error::other)
}

fn install() -> io::Result<()> {
    // signal-hook's self-pipe: the handler writes a byte to `write`, which
    // is async-signal-safe; the thread below does the reopening.
    let (mut read, write) = UnixStream::pair()?;
    std::thread::Builder::new()
        .name("logwire-sighup".into())
        .spawn(move || {
            let mut bytes = [0u8; 64];
            loop {
                match read.read(&mut bytes) {
                    Ok(0) => return,
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(_) => return,
                }
                for sink in open_sinks() {
                    if let Err(e) = sink.reopen() {
                        crate::sink::warn_stderr!("logwire: cannot reopen {} on SIGHUP: {e}", sink.path().display());
                    }
                }
            }
        })?;
    signal_hook::low_level::pipe::register(signal_hook::consts::SIGHUP, write)?;
    Ok(())
}
