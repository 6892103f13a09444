//! The `Logger`: a name, a level, a format and its sinks.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::SystemTime;

use tracing_core::callsite::DefaultCallsite;
use tracing_core::LevelFilter;

use crate::ambient;
use crate::capture::Captured;
use crate::field::FieldValue;
use crate::format::{Event, Format};
use crate::keep::{At, Kept, Replay};
use crate::levels::{self, Override};
use crate::line::{Clock, LineWriter};
use crate::mirror::Mirror;
use crate::sink::{FileSink, Sink};
use crate::Level;

/// A logger: where a service's lines go. Cheap to clone; clones share
/// everything.
///
/// Services receive their logger as the first constructor argument and
/// never build one (see [`service`](crate::service)). The process builds
/// its loggers once, in `main`:
///
/// ```no_run
/// use logwire::{Format, Level, Logger};
///
/// let api = logwire::file_logger("api"); // {log_root}/api.log
/// let worker = Logger::builder("worker")
///     .console(true)
///     .level(Level::DEBUG)
///     .format(Format::Json)
///     .build();
/// logwire::info!(api, "READY", port = 8080);
/// ```
#[derive(Clone)]
pub struct Logger {
    inner: Arc<Inner>,
}

struct Inner {
    /// As [`level_bits`] numbers: the most verbose level written or kept
    /// (low byte: a disabled event is rejected by one load and one compare,
    /// as before anything was kept) and the level written (high byte).
    /// A run-time override is one store.
    levels: AtomicU16,
    /// The level it was built with, in force when no override is.
    base: LevelFilter,
    /// Most DEBUG lines kept per request or job for failures; 0: off.
    keep: usize,
    /// The override in force, for the `LEVEL_CHANGED` lines.
    current: Mutex<Option<Override>>,
    writer: LineWriter,
}

/// `OFF` 0, `ERROR` 1 … `TRACE` 5: a level is written when its number is
/// at most the logger's.
#[inline]
const fn level_bits(level: Level) -> u8 {
    match level {
        Level::ERROR => 1,
        Level::WARN => 2,
        Level::INFO => 3,
        Level::DEBUG => 4,
        _ => 5,
    }
}

/// What a logger keeping `keep` lines for failures keeps: DEBUG, or nothing.
const fn keep_bits(keep: usize) -> u8 {
    if keep > 0 {
        level_bits(Level::DEBUG)
    } else {
        0
    }
}

/// The `levels` word of a logger writing `write` and keeping `keep`.
const fn pack(write: u8, keep: u8) -> u16 {
    let verbose = if write > keep { write } else { keep };
    (write as u16) << 8 | verbose as u16
}

const fn filter_bits(filter: LevelFilter) -> u8 {
    match filter.into_level() {
        Some(level) => level_bits(level),
        None => 0,
    }
}

fn filter_of(bits: u8) -> LevelFilter {
    match bits {
        0 => LevelFilter::OFF,
        1 => LevelFilter::ERROR,
        2 => LevelFilter::WARN,
        3 => LevelFilter::INFO,
        4 => LevelFilter::DEBUG,
        _ => LevelFilter::TRACE,
    }
}

impl fmt::Debug for Logger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Logger")
            .field("name", &self.inner.writer.name)
            .field("level", &self.level())
            .field("format", &self.inner.writer.format)
            .field("sinks", &Destinations(&self.inner.writer))
            .finish()
    }
}

/// Where a logger's lines go, in a word each: `[File("logs/api.log"),
/// Stdout]`, `[Capture]` (never the lines a capture holds).
struct Destinations<'a>(&'a LineWriter);

impl fmt::Debug for Destinations<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        list.entries(self.0.sinks.iter());
        if self.0.capture.is_some() {
            list.entry(&format_args!("Capture"));
        }
        list.finish()
    }
}

/// A logger that writes `{log_root}/{name}.log` and nothing else, rotating
/// at 1 MiB with 10 backups.
///
/// Calling it twice with one name returns loggers that share one file. It
/// never panics and never fails: when the file cannot be opened, it prints
/// one warning to stderr naming the path and the OS error, and logs to
/// stderr instead.
pub fn file_logger(name: &str) -> Logger {
    Logger::builder(name).build()
}

/// A logger that writes to stdout only, for local tools such as a dev
/// orchestrator.
pub fn console_logger(name: &str) -> Logger {
    Logger::builder(name).file(false).console(true).build()
}

impl Logger {
    /// Starts a logger called `name`; see [`LoggerBuilder`] for the options.
    pub fn builder(name: &str) -> LoggerBuilder {
        LoggerBuilder {
            name: name.to_owned(),
            file: true,
            console: false,
            max_bytes: 1_048_576,
            backups: 10,
            level: None,
            format: Format::Readable,
            max_value_bytes: 8 * 1024,
            root: None,
            clock: None,
            keep: 0,
        }
    }

    /// An in-memory logger for tests: every level, readable format. The
    /// [`Captured`] handle reads what it recorded. Capturing loggers share
    /// nothing with each other or with any other logger.
    ///
    /// ```
    /// let (log, captured) = logwire::Logger::capture("test");
    /// logwire::debug!(log, "CACHE_MISS", key = "user:7");
    /// assert!(captured.lines()[0].ends_with(" - test - DEBUG - CACHE_MISS | key=user:7"));
    /// ```
    pub fn capture(name: &str) -> (Logger, Captured) {
        Logger::builder(name).level(LevelFilter::TRACE).build_capture()
    }

    fn from_parts(base: LevelFilter, keep: usize, writer: LineWriter) -> Logger {
        Logger {
            inner: Arc::new(Inner {
                levels: AtomicU16::new(pack(filter_bits(base), keep_bits(keep))),
                base,
                keep,
                current: Mutex::new(None),
                writer,
            }),
        }
    }

    /// The logger's name, as written in every line.
    pub fn name(&self) -> &str {
        &self.inner.writer.name
    }

    /// The most verbose level this logger writes now: its own, or a
    /// run-time override's (see [`levels`](crate::levels)).
    pub fn level(&self) -> LevelFilter {
        filter_of((self.inner.levels.load(Ordering::Relaxed) >> 8) as u8)
    }

    /// Whether an event at `level` would be written, or kept for a failure
    /// (see [`LoggerBuilder::debug_on_failure`]). The event macros check
    /// this before evaluating any field.
    #[inline]
    pub fn enabled(&self, level: Level) -> bool {
        let bits = self.inner.levels.load(Ordering::Relaxed);
        let n = level_bits(level);
        if n > bits as u8 {
            return false;
        }
        n <= (bits >> 8) as u8 || ambient::keeping()
    }

    /// The most verbose level this logger writes or keeps now.
    #[cfg(feature = "init")]
    pub(crate) fn most_verbose(&self) -> LevelFilter {
        levels::Target::level(&*self.inner)
    }

    /// Whether an event at `level` is written now (not only kept).
    #[inline]
    fn writes(&self, level: Level) -> bool {
        level_bits(level) <= (self.inner.levels.load(Ordering::Relaxed) >> 8) as u8
    }

    /// A new ring for the DEBUG lines of one request or job, when this
    /// logger keeps them for failures.
    pub(crate) fn keeper(&self) -> Option<Arc<Kept>> {
        (self.inner.keep > 0).then(|| Kept::new(self.inner.keep))
    }

    /// After a request or job failed: writes the lines `kept` held, oldest
    /// first, then `DEBUG_KEPT | written=N dropped=M` (nothing when nothing
    /// was kept).
    pub(crate) fn write_kept(&self, kept: Option<&Kept>) {
        let Some(kept) = kept else { return };
        let (written, dropped) = kept.write_out();
        if written + dropped > 0 {
            crate::__site!(
                DEBUG_KEPT,
                EVENT,
                "logwire line",
                &["message", "logger", "txid", "written", "dropped"],
                [Level::INFO]
            );
            self.inner.write_always(
                &DEBUG_KEPT.1,
                "DEBUG_KEPT",
                &[("written", &written), ("dropped", &dropped)],
            );
        }
    }

    /// Writes `ev` if its level is written, else keeps it for the current
    /// request's or job's failure if it keeps lines; says whether it was
    /// written. `site`: where a line of logwire's own was logged, so that a
    /// kept line reaches the `tracing` stack if it is written later.
    #[inline]
    pub(crate) fn write_event(&self, ev: &Event<'_>, site: Option<Mirror>) -> bool {
        if self.writes(ev.level) {
            self.inner.writer.write(ev);
            true
        } else {
            self.keep(ev, site);
            false
        }
    }

    /// Keeps `ev` for the current request's or job's failure, if it keeps lines.
    #[cold]
    #[inline(never)]
    fn keep(&self, ev: &Event<'_>, site: Option<Mirror>) {
        ambient::with_kept(|kept| {
            let owner: Arc<dyn Replay> = self.inner.clone();
            self.inner.writer.keep(ev, site, kept, &owner);
        });
    }

    /// Makes sure every line logged so far is written to its file (or
    /// stdout).
    pub fn flush(&self) {
        for s in self.inner.writer.sinks.iter() {
            s.flush();
        }
    }

    /// Flushes, then opens every file of this logger afresh: after a fork,
    /// after an external logrotate moved the file, or to retry a file that
    /// could not be opened before.
    ///
    /// Built-in rotation already follows renames made by other processes of
    /// this library; `reopen` is for everything else.
    ///
    /// In a child made by `fork`, lines are written as they are logged (it
    /// has no flusher thread); `reopen` also starts the child's own, so its
    /// lines are batched again.
    pub fn reopen(&self) -> io::Result<()> {
        for s in self.inner.writer.sinks.iter() {
            if let Sink::File(f) = s {
                f.reopen()?;
            }
        }
        crate::sink::resume_batching();
        Ok(())
    }

    /// The file sink of this logger, if it writes a file.
    pub(crate) fn file_sink(&self) -> Option<&'static FileSink> {
        self.inner.writer.sinks.iter().find_map(|s| match s {
            Sink::File(f) => Some(*f),
            _ => None,
        })
    }

    /// The path of the file this logger writes, if it writes one.
    pub fn file_path(&self) -> Option<&Path> {
        self.inner.writer.sinks.iter().find_map(|s| match s {
            Sink::File(f) => Some(f.path()),
            _ => None,
        })
    }

    /// Why this logger writes to stderr instead of its file (the OS error
    /// met when opening it), or `None` when it writes its file as asked.
    ///
    /// ```
    /// let log = logwire::Logger::builder("api").root("/dev/null/logs").build();
    /// assert_eq!(log.fallback().as_deref(), Some("Not a directory (os error 20)"));
    /// ```
    pub fn fallback(&self) -> Option<String> {
        self.inner.writer.sinks.iter().find_map(|s| match s {
            Sink::File(f) => f.fallback(),
            _ => None,
        })
    }

    pub(crate) fn writer(&self) -> &LineWriter {
        &self.inner.writer
    }

    /// Writes a line of logwire's own (a macro's, a service method's, a
    /// request's or a job's) and, once it is written, hands it to the
    /// `tracing` stack through `site`.
    #[inline]
    pub(crate) fn emit(&self, site: Mirror, level: Level, message: &str, fields: &[(&'static str, &dyn FieldValue)]) {
        // A kept line is not an event yet: it reaches the stack if a failure writes it.
        if !self.write_event(&Event { level, message, fields }, Some(site)) {
            return;
        }
        // Checked here too, so that a line no subscriber wants skips the txid lookup.
        if crate::mirror::may_want(level) {
            ambient::with_txid(|txid| site.line(&self.inner.writer.name, txid, level, message, fields));
        }
    }
}

/// Options for a [`Logger`]; start with [`Logger::builder`].
///
/// By default a logger writes `{log_root}/{name}.log` only, at `INFO`, in
/// the readable format, rotating at 1 MiB with 10 backups.
#[must_use = "a builder does nothing until .build()"]
pub struct LoggerBuilder {
    name: String,
    file: bool,
    console: bool,
    max_bytes: u64,
    backups: usize,
    level: Option<LevelFilter>,
    format: Format,
    max_value_bytes: usize,
    root: Option<PathBuf>,
    clock: Option<Clock>,
    keep: usize,
}

impl fmt::Debug for LoggerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoggerBuilder")
            .field("name", &self.name)
            .field("file", &self.file)
            .field("console", &self.console)
            .field("max_bytes", &self.max_bytes)
            .field("backups", &self.backups)
            .field("level", &self.level)
            .field("format", &self.format)
            .field("max_value_bytes", &self.max_value_bytes)
            .field("root", &self.root)
            .field("debug_on_failure", &self.keep)
            .finish_non_exhaustive()
    }
}

impl LoggerBuilder {
    /// Write `{root}/{name}.log` (default: on).
    pub fn file(mut self, on: bool) -> Self {
        self.file = on;
        self
    }

    /// Also write to stdout (default: off).
    pub fn console(mut self, on: bool) -> Self {
        self.console = on;
        self
    }

    /// Rotate the file before it would grow past this many bytes (default
    /// 1 MiB); `0` never rotates. A single line longer than this gets a file
    /// of its own.
    pub fn max_bytes(mut self, bytes: u64) -> Self {
        self.max_bytes = bytes;
        self
    }

    /// Keep this many rotated files, `.1` the newest (default 10); `0` keeps
    /// none. See [`unlimited_backups`](Self::unlimited_backups).
    pub fn backups(mut self, count: usize) -> Self {
        self.backups = count;
        self
    }

    /// Keep every rotated file (`.1` newest, numbers growing without end).
    pub fn unlimited_backups(mut self) -> Self {
        self.backups = crate::sink::file::UNLIMITED;
        self
    }

    /// The most verbose level written. Accepts a [`Level`] or a
    /// `LevelFilter` (such as `LevelFilter::OFF`).
    ///
    /// Without it, the level comes from the `LOG_LEVEL` environment
    /// variable (`trace`, `debug`, `info`, `warn`, `error` or `off`, in any
    /// case), else `INFO`. Any other value of `LOG_LEVEL` prints one warning
    /// to stderr, naming it, and means `INFO`.
    pub fn level(mut self, level: impl Into<LevelFilter>) -> Self {
        self.level = Some(level.into());
        self
    }

    /// Readable lines (default) or JSON.
    pub fn format(mut self, format: Format) -> Self {
        self.format = format;
        self
    }

    /// The most bytes of a message or field value written in a line
    /// (default 8 KiB), so that one request cannot flood the log. A longer
    /// one is cut on a character boundary and ends `…[+N bytes]`, N being
    /// how much was cut; the capture logger records the same.
    ///
    /// ```
    /// let (log, captured) = logwire::Logger::builder("api").max_value_bytes(8).build_capture();
    /// logwire::info!(log, "QUEUED", project = "démo-project");
    /// assert!(captured.lines()[0].ends_with(r#"QUEUED | project="démo-pr…[+5 bytes]""#));
    /// ```
    pub fn max_value_bytes(mut self, bytes: usize) -> Self {
        self.max_value_bytes = bytes;
        self
    }

    /// The directory of the file (default: [`log_root`](crate::log_root)).
    pub fn root(mut self, root: impl Into<PathBuf>) -> Self {
        self.root = Some(root.into());
        self
    }

    /// Where timestamps come from (default: the system clock). For tests
    /// that compare whole lines.
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// let log = logwire::Logger::builder("api")
    ///     .clock(|| UNIX_EPOCH + Duration::from_millis(1_735_732_800_123))
    ///     .file(false)
    ///     .build();
    /// # let _ = log;
    /// ```
    pub fn clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Builds the logger. Never fails; see [`file_logger`] for what happens
    /// when the file cannot be opened.
    ///
    /// Loggers of one process that write the same file share it: the file
    /// options (`max_bytes`, `backups`) of the first one built are the
    /// file's; level, format and console are each logger's own.
    pub fn build(mut self) -> Logger {
        let mut sinks = Vec::new();
        let mut root = None;
        if self.file {
            let dir = self.root.take().unwrap_or_else(crate::log_root);
            let path = dir.join(format!("{}.log", self.name));
            sinks.push(Sink::File(crate::sink::registry::shared(
                path,
                self.max_bytes,
                self.backups,
            )));
            // The flusher thread and the exit and fork hooks, with the first file.
            crate::process::start_file_sinks();
            root = Some(dir);
        }
        if self.console {
            sinks.push(Sink::Stdout);
        }
        let logger = self.finish(sinks, None);
        // A file logger follows its root's run-time level overrides.
        if let Some(root) = root {
            let target: std::sync::Weak<dyn levels::Target> = Arc::downgrade(&logger.inner) as _;
            crate::process::watch_levels(root, target);
        }
        logger
    }

    fn finish(self, sinks: Vec<Sink>, capture: Option<Captured>) -> Logger {
        let level = self.level.unwrap_or_else(env_level);
        let writer = LineWriter {
            name: self.name,
            format: self.format,
            max_value: self.max_value_bytes,
            sinks: sinks.into(),
            capture,
            clock: self.clock,
        };
        Logger::from_parts(level, self.keep, writer)
    }

    /// Keeps the lines of each request (`ApiLayer`) and job (`run_job`)
    /// that are below the logger's level, down to DEBUG (an INFO line too
    /// when the logger is at WARN), at most `max_lines` of them (the
    /// oldest dropped first), and writes them only if it fails: a 5xx
    /// response, a panic, a job's error or panic. They are written before
    /// its ERROR line, with their own times and txid, followed by
    /// `DEBUG_KEPT | written=N dropped=M`; on success they are dropped.
    ///
    /// logwire's lines, `METHOD_END` lines and (with
    /// [`layer`](crate::layer())) library events count alike. The other
    /// layers of the `tracing` stack get logwire's lines when they are
    /// written: a kept line when a failure writes it (inside the span
    /// current then), never while it is only kept. Memory is
    /// bounded by `max_lines` lines per request or job; without this option
    /// nothing is kept and nothing costs more. The idea is .NET's log
    /// buffering and AWS Powertools' debug sampling on error.
    ///
    /// ```
    /// let (api, captured) = logwire::Logger::builder("api").debug_on_failure(200).build_capture();
    /// assert_eq!(api.level(), logwire::LevelFilter::INFO);
    /// # let _ = captured;
    /// ```
    pub fn debug_on_failure(mut self, max_lines: usize) -> Self {
        self.keep = max_lines;
        self
    }

    /// Builds a logger that records in memory instead of writing, with this
    /// builder's name, level, format and clock; for tests.
    pub fn build_capture(self) -> (Logger, Captured) {
        let captured = Captured::default();
        // Not `Logger::capture`'s TRACE: a capture built here keeps its level.
        let logger = self.finish(Vec::new(), Some(captured.clone()));
        (logger, captured)
    }
}

/// The level of loggers built without `.level(..)`: `LOG_LEVEL`, read once.
fn env_level() -> LevelFilter {
    static LEVEL: OnceLock<LevelFilter> = OnceLock::new();
    *LEVEL.get_or_init(|| match std::env::var_os("LOG_LEVEL") {
        None => LevelFilter::INFO,
        Some(value) => levels::parse_level(&value.to_string_lossy()).unwrap_or_else(|| {
            crate::sink::warn_stderr!(
                "logwire: LOG_LEVEL={value:?} is not one of trace, debug, info, warn, error, off; logging at INFO"
            );
            LevelFilter::INFO
        }),
    })
}

impl Inner {
    /// Writes an INFO line of logwire's own whatever the level (it says
    /// what happened to the logger itself), and hands it to the stack.
    fn write_always(
        &self,
        site: &'static [DefaultCallsite],
        message: &str,
        fields: &[(&'static str, &dyn FieldValue)],
    ) {
        self.writer.write(&Event {
            level: Level::INFO,
            message,
            fields,
        });
        if crate::mirror::may_want(Level::INFO) {
            ambient::with_txid(|txid| Mirror::Static(site).line(&self.writer.name, txid, Level::INFO, message, fields));
        }
    }
}

impl Replay for Inner {
    fn replay(&self, at: &At<'_>, level: Level, message: &str, fields: &[(&'static str, &dyn FieldValue)]) {
        self.writer.replay(at, &Event { level, message, fields });
        // Written now: the stack gets it now, as it gets every line written.
        if let Some(site) = at.site.filter(|_| crate::mirror::may_want(level)) {
            site.line(&self.writer.name, at.txid, level, message, fields);
        }
    }
}

impl levels::Target for Inner {
    fn name(&self) -> &str {
        &self.writer.name
    }

    #[cfg(feature = "init")]
    fn level(&self) -> LevelFilter {
        filter_of(self.levels.load(Ordering::Relaxed) as u8)
    }

    fn apply(&self, to: Option<&Override>) -> bool {
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        let from_level = current.as_ref().map_or(self.base, |o| o.level);
        let to_level = to.map_or(self.base, |o| o.level);
        if current.as_ref() == to {
            return false;
        }
        self.levels
            .store(pack(filter_bits(to_level), keep_bits(self.keep)), Ordering::Relaxed);
        // Going back, `until` says when the override ended: now, or its time if that has passed.
        let until = match (to, current.as_ref()) {
            (Some(o), _) => o.until,
            (None, Some(was)) => was.until.min(SystemTime::now()),
            (None, None) => SystemTime::now(),
        };
        let until = crate::format::time::iso(until);
        *current = to.cloned();
        drop(current);
        if from_level != to_level {
            let (from, to) = (from_level.to_string(), to_level.to_string());
            crate::__site!(
                LEVEL_CHANGED,
                EVENT,
                "logwire line",
                &["message", "logger", "txid", "from", "to", "until"],
                [Level::INFO]
            );
            self.write_always(
                &LEVEL_CHANGED.1,
                "LEVEL_CHANGED",
                &[
                    ("from", &from.as_str()),
                    ("to", &to.as_str()),
                    ("until", &until.as_str()),
                ],
            );
        }
        true
    }
}
