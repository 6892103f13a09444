//! Where lines go and when: files, the console, and memory for tests.

pub(crate) mod file;
pub(crate) mod flusher;

use std::io::{self, Write};
use std::sync::{Arc, Mutex, PoisonError};

use crate::field::Value;
use crate::Level;

pub(crate) use file::FileSink;

/// One destination of a logger's lines.
#[derive(Clone)]
pub(crate) enum Sink {
    File(&'static FileSink),
    Stdout,
    Capture(Captured),
}

/// Where the lines go, in a word: a service's `Debug` shows its logger
/// in one line, never the lines a capture holds.
impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Sink::File(file) => write!(f, "File({:?})", file.path()),
            Sink::Stdout => f.write_str("Stdout"),
            Sink::Capture(_) => f.write_str("Capture"),
        }
    }
}

/// Hands a formatted line to every sink of a logger; `record` builds what
/// a capturing sink keeps.
#[inline]
pub(crate) fn fan_out(sinks: &[Sink], line: &str, record: impl Fn() -> Record) {
    for sink in sinks {
        sink.write(line, &record);
    }
}

impl Sink {
    /// Hands a formatted line to the sink; `record` builds what a capturing
    /// logger keeps (only a capturing sink calls it).
    #[inline]
    pub(crate) fn write(&self, line: &str, record: impl FnOnce() -> Record) {
        match self {
            Sink::File(f) => write_file(f, line.as_bytes()),
            Sink::Stdout => write_stdout(line.as_bytes()),
            Sink::Capture(c) => c.push(line, record()),
        }
    }

    pub(crate) fn flush(&self) {
        match self {
            Sink::File(f) => f.flush(),
            Sink::Stdout => {
                let _ = io::stdout().flush();
            }
            Sink::Capture(_) => {}
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

/// Writes a warning to stderr as one line in one `write`, so that another
/// process sharing the terminal or file cannot land inside it.
macro_rules! warn_stderr {
    ($($arg:tt)*) => {{
        let mut line = ::std::format!($($arg)*);
        line.push('\n');
        let _ = ::std::io::Write::write_all(&mut ::std::io::stderr(), line.as_bytes());
    }};
}
pub(crate) use warn_stderr;

/// Writes a line to stdout; the console never fails the caller.
pub(crate) fn write_stdout(line: &[u8]) {
    let _ = io::stdout().lock().write_all(line);
}

/// One event as a capturing logger recorded it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Record {
    /// The event's level.
    pub level: Level,
    /// The name of the logger that recorded it.
    pub logger: String,
    /// The message, as given (not escaped).
    pub message: String,
    /// The fields in the order written, values as given (not escaped).
    pub fields: Vec<(String, Value)>,
    /// The transaction id in force, if any.
    pub txid: Option<String>,
    /// The innermost service method the event was logged in, if any.
    pub span: Option<String>,
    /// The active OpenTelemetry trace id (feature `otel`), if any.
    pub trace_id: Option<String>,
}

impl Record {
    /// The first field called `name`.
    ///
    /// ```
    /// let (log, captured) = logwire::Logger::capture("test");
    /// logwire::info!(log, "REQUEST_END", status_code = 200, path = "/x");
    /// let record = &captured.records()[0];
    /// assert_eq!(record.field("status_code"), Some(&logwire::Value::I64(200)));
    /// assert_eq!(record.field("path").unwrap(), "/x");
    /// assert_eq!(record.field("missing"), None);
    /// ```
    pub fn field(&self, name: &str) -> Option<&Value> {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
}

/// What a capturing logger recorded; see [`Logger::capture`](crate::Logger::capture).
///
/// Clones share one record, so a test can keep this handle while the logger
/// moves into the code under test.
#[derive(Debug, Clone, Default)]
pub struct Captured {
    inner: Arc<Mutex<Vec<(String, Record)>>>,
}

impl Captured {
    pub(crate) fn push(&self, line: &str, record: Record) {
        let line = line.strip_suffix('\n').unwrap_or(line).to_owned();
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((line, record));
    }

    /// Every line recorded so far, formatted as the logger's format writes
    /// it, without the line terminator.
    pub fn lines(&self) -> Vec<String> {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(l, _)| l.clone())
            .collect()
    }

    /// Every event recorded so far, with its level, message, fields and
    /// transaction id.
    pub fn records(&self) -> Vec<Record> {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(_, r)| r.clone())
            .collect()
    }

    /// All lines joined with `\n`, convenient for `contains` checks.
    pub fn text(&self) -> String {
        let mut text = self.lines().join("\n");
        if !text.is_empty() {
            text.push('\n');
        }
        text
    }

    /// Forgets everything recorded so far.
    pub fn clear(&self) {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }
}
