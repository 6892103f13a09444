//! Where lines go and when: files and the console. Bytes only: what a
//! capturing logger records for tests is `capture`'s.

pub(crate) mod file;
pub(crate) mod flusher;
pub(crate) mod registry;
mod stderr;

use std::io::{self, Write};

pub(crate) use file::FileSink;
pub(crate) use stderr::warn_stderr;

/// One destination of a logger's lines.
#[derive(Clone)]
pub(crate) enum Sink {
    File(&'static FileSink),
    Stdout,
}

/// Where the lines go, in a word: a service's `Debug` shows its logger
/// in one line, never the lines a capture holds.
impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Sink::File(file) => write!(f, "File({:?})", file.path()),
            Sink::Stdout => f.write_str("Stdout"),
        }
    }
}

/// Hands a formatted line to every sink of a logger.
#[inline]
pub(crate) fn fan_out(sinks: &[Sink], line: &str) {
    for sink in sinks {
        sink.write(line);
    }
}

impl Sink {
    /// Hands a formatted line to the sink.
    #[inline]
    pub(crate) fn write(&self, line: &str) {
        match self {
            Sink::File(f) => write_file(f, line.as_bytes()),
            Sink::Stdout => write_stdout(line.as_bytes()),
        }
    }

    pub(crate) fn flush(&self) {
        match self {
            Sink::File(f) => f.flush(),
            Sink::Stdout => {
                let _ = io::stdout().flush();
            }
        }
    }
}

/// Queues whole lines for a file and tells the flusher what it needs to
/// know.
#[inline]
pub(crate) fn write_file(f: &FileSink, lines: &[u8]) {
    match f.write(lines) {
        // No flusher thread here (a forked child): the line is written
        // before the call returns.
        _ if !flusher::active() => f.flush(),
        file::Wake::No => {}
        file::Wake::Soon => flusher::notify(),
        file::Wake::Now => flusher::wake_now(),
    }
}

/// Writes everything that any file logger of this process still holds in
/// memory. Loggers also do this on their own (see the crate docs,
/// "Durability"): call it before leaving a process in a way that skips
/// `atexit`, such as `exec` or `_exit`.
pub fn flush_all() {
    flusher::flush_all();
}

/// Starts batching writes again in a forked child, which writes each line
/// as it is logged until then (see `process`).
pub(crate) fn resume_batching() {
    flusher::start();
}

/// Writes a line to stdout; the console never fails the caller.
pub(crate) fn write_stdout(line: &[u8]) {
    let _ = io::stdout().lock().write_all(line);
}
