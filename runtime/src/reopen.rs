//! Reopening every log file on SIGHUP, for deployments where the system's
//! logrotate moves the files.

use std::io;
use std::os::unix::io::RawFd;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::OnceLock;

use crate::process::open_sinks;

/// The write end of the self-pipe the signal handler writes to.
static PIPE_WRITE: AtomicI32 = AtomicI32::new(-1);

fn on_sighup() {
    let fd = PIPE_WRITE.load(Ordering::Relaxed);
    if fd >= 0 {
        // write(2) is async-signal-safe; a full pipe means a reopen is
        // already pending, so a failed write loses nothing.
        // SAFETY: writing one byte from a static buffer to an open pipe.
        unsafe { libc::write(fd, b"h".as_ptr().cast(), 1) };
    }
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
/// registered through `signal-hook-registry`, as tokio's are: a
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
    let mut fds: [RawFd; 2] = [-1; 2];
    // SAFETY: pipe2 writes two descriptors into the array we own.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let [read_fd, write_fd] = fds;
    std::thread::Builder::new()
        .name("logwire-sighup".into())
        .spawn(move || {
            let mut byte = [0u8; 64];
            loop {
                // SAFETY: reading into a buffer we own from our own pipe.
                let n = unsafe { libc::read(read_fd, byte.as_mut_ptr().cast(), byte.len()) };
                if n < 0 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                if n <= 0 {
                    return;
                }
                for sink in open_sinks(true).unwrap_or_default() {
                    if let Err(e) = sink.reopen() {
                        eprintln!("logwire: cannot reopen {} on SIGHUP: {e}", sink.path().display());
                    }
                }
            }
        })?;
    PIPE_WRITE.store(write_fd, Ordering::Relaxed);
    // SAFETY: the action only loads an atomic and calls write(2), both
    // async-signal-safe; the registry chains it with every other handler.
    unsafe { signal_hook_registry::register(libc::SIGHUP, on_sighup) }?;
    Ok(())
}
