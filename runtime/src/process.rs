//! Everything logwire keeps or installs for the whole process, in one place:
//!
//! - with the first file sink (the sinks themselves, one per path, are in
//!   the registry of `sink/`, which moves bytes and knows nothing of this
//!   module): the `logwire-flush` thread, an `atexit` hook
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
//!   thread;
//! - with the first file logger: the `logwire-levels` thread, which looks
//!   at each log root's `.logwire-levels` once a second and puts its level
//!   overrides in force (see [`levels`](crate::levels)), and the list of
//!   file loggers it changes (weak: a dropped logger leaves it).

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, Once, OnceLock, PoisonError, Weak};
use std::time::{Duration, SystemTime};

use crate::levels::{self, Override, Target};

use crate::sink::file::{FileSink, ForkHold};
use crate::sink::flusher;
use crate::sink::registry::{open_sinks, registry};

/// The flusher thread and the exit and fork hooks, once; a logger calls
/// it after making its file sink.
pub(crate) fn start_file_sinks() {
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

// ---- level overrides ----

struct Watched {
    root: PathBuf,
    target: Weak<dyn Target>,
}

/// What the watcher last read from one root's file.
struct Seen {
    root: PathBuf,
    /// (device, inode, length, modification time) of the file read.
    version: Option<(u64, u64, u64, i64, i64)>,
    overrides: Vec<Override>,
    warned: bool,
}

static WATCHED: Mutex<Vec<Watched>> = Mutex::new(Vec::new());
static SEEN: Mutex<Vec<Seen>> = Mutex::new(Vec::new());
/// Called after a poll changed some logger's level.
static ON_CHANGE: Mutex<Option<fn()>> = Mutex::new(None);

/// How often the file is looked at: a `stat` a second costs nothing, and
/// a change is in force within 2 s.
pub(crate) const POLL: Duration = Duration::from_secs(1);

/// Follows `root`'s level overrides for `target` from now on: the first
/// poll runs at once, so a logger built while an override is in force
/// starts with it; then the `logwire-levels` thread polls every second.
pub(crate) fn watch_levels(root: PathBuf, target: Weak<dyn Target>) {
    lock(&WATCHED).push(Watched {
        root: root.clone(),
        target,
    });
    poll_root(&root);
    // A new logger may write a level no logger wrote before (a DEBUG job
    // logger built after `init`): the global filter must pass it too.
    levels_changed();
    static STARTED: Once = Once::new();
    STARTED.call_once(|| {
        let run = || loop {
            std::thread::sleep(POLL);
            poll_levels();
        };
        // Without the thread, overrides are read when a logger is built.
        let _ = std::thread::Builder::new().name("logwire-levels".into()).spawn(run);
    });
}

/// Asks to be told when a poll changed a level (the global filter of
/// `logwire::init` reloads then).
#[cfg(feature = "init")]
pub(crate) fn on_level_change(hook: fn()) {
    *lock(&ON_CHANGE) = Some(hook);
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The most verbose level any live logger of the process writes or keeps
/// (`INFO` when there is none).
#[cfg(feature = "init")]
pub(crate) fn most_verbose_level() -> tracing_core::LevelFilter {
    lock(&WATCHED)
        .iter()
        .filter_map(|w| w.target.upgrade())
        .map(|t| t.level())
        .max()
        .unwrap_or(tracing_core::LevelFilter::INFO)
}

/// One round of the watcher: every root with a live logger.
fn poll_levels() {
    let roots: Vec<PathBuf> = {
        let mut watched = lock(&WATCHED);
        watched.retain(|w| w.target.strong_count() > 0);
        let mut roots: Vec<PathBuf> = watched.iter().map(|w| w.root.clone()).collect();
        roots.sort();
        roots.dedup();
        roots
    };
    for root in roots {
        poll_root(&root);
    }
}

fn poll_root(root: &Path) {
    let overrides = current(root);
    let now = SystemTime::now();
    let targets: Vec<_> = lock(&WATCHED)
        .iter()
        .filter(|w| w.root == root)
        .filter_map(|w| w.target.upgrade())
        .collect();
    let mut changed = false;
    for target in targets {
        let in_force = |name: &str| overrides.iter().find(|o| o.logger == name && o.until > now);
        changed |= target.apply(in_force(target.name()).or_else(|| in_force("*")));
    }
    if changed {
        levels_changed();
    }
}

/// Tells the hook set by [`on_level_change`], if any, that the levels in
/// force may differ now.
fn levels_changed() {
    let hook = *lock(&ON_CHANGE);
    if let Some(hook) = hook {
        hook();
    }
}

/// The root's overrides: read again when the file changed, else as last
/// read; a file that cannot be read or parsed leaves them as they were and
/// warns once per version of the file.
fn current(root: &Path) -> Vec<Override> {
    let file = levels::path(root);
    let version = std::fs::metadata(&file)
        .ok()
        .map(|m| (m.dev(), m.ino(), m.len(), m.mtime(), m.mtime_nsec()));
    let mut seen = lock(&SEEN);
    let i = match seen.iter().position(|s| s.root == root) {
        Some(i) => i,
        None => {
            seen.push(Seen {
                root: root.to_owned(),
                version: None,
                overrides: Vec::new(),
                warned: false,
            });
            seen.len() - 1
        }
    };
    let entry = &mut seen[i];
    if entry.version != version || (version.is_none() && !entry.overrides.is_empty()) {
        let result = match version {
            None => Ok(Vec::new()),
            Some(_) => File::open(&file)
                .and_then(io::read_to_string)
                .and_then(|t| levels::parse(&t)),
        };
        match result {
            Ok(overrides) => {
                entry.overrides = overrides;
                entry.warned = false;
            }
            Err(e) if !entry.warned || entry.version != version => {
                entry.warned = true;
                crate::sink::warn_stderr!("logwire: ignoring {}: {e}; levels stay as they are", file.display());
            }
            Err(_) => {}
        }
        entry.version = version;
    }
    entry.overrides.clone()
}
