//! Backend logging the compiler holds you to.
//!
//! logwire gives each process one readable log file per role (`api.log`,
//! `worker.log`), rotated by size and safe to share between processes, with
//! every line of a request or job carrying its transaction id. Services
//! receive their [`Logger`] as their first constructor argument; tests hand
//! them a capturing one.
//!
//! ```
//! use logwire::{Logger, Level};
//!
//! struct BuildService {
//!     logger: Logger,
//! }
//!
//! impl BuildService {
//!     fn queue(&self, project: &str) -> u64 {
//!         logwire::info!(self.logger, "BUILD_QUEUED", project = project, id = 42);
//!         42
//!     }
//! }
//!
//! // In main: `let logger = logwire::file_logger("api");`. In a test:
//! let (logger, captured) = Logger::capture("api");
//! let service = BuildService { logger };
//! logwire::txid::scope_sync("req-1", || service.queue("demo"));
//!
//! let record = &captured.records()[0];
//! assert_eq!(record.level, Level::INFO);
//! assert_eq!(record.message, "BUILD_QUEUED");
//! assert_eq!(record.txid.as_deref(), Some("req-1"));
//! assert!(captured.lines()[0].starts_with("[req-1] "));
//! assert!(captured.lines()[0].ends_with(" - api - INFO - BUILD_QUEUED | project=demo id=42"));
//! ```
//!
//! # One `tracing` stack
//!
//! logwire is a layer of the `tracing` stack, never a replacement for it.
//! In a process with no stack of its own, one line in `main` installs one
//! (a registry, an `EnvFilter` reading `RUST_LOG`, and [`layer()`]):
//!
//! ```no_run
//! let api = logwire::file_logger("api");
//! logwire::init(&api);
//! ```
//!
//! In a process that already has a stack, add logwire's layer to it:
//!
//! ```no_run
//! use tracing_subscriber::prelude::*;
//!
//! let api = logwire::file_logger("api");
//! tracing_subscriber::registry()
//!     .with(tracing_subscriber::EnvFilter::from_default_env())
//!     .with(logwire::layer(&api))
//!     .with(tracing_subscriber::fmt::layer()) // or tracing-opentelemetry, …
//!     .init();
//! ```
//!
//! Either way, `tracing` events of libraries go to the current request's or
//! job's logger, with its transaction id; logwire's own lines also reach
//! the other layers as events of target `logwire`; requests, jobs and
//! service methods are spans (`request`, `job`, `BuildService::queue`)
//! whenever a subscriber wants them. Nothing logwire does replaces the
//! default dispatcher.
//!
//! # What logwire installs process-wide
//!
//! All of it lives in one module of the crate (`process`), except the list
//! of open file sinks, which `sink/` keeps so that it depends on nothing:
//! - the first file logger starts one background thread, `logwire-flush`,
//!   that writes batched lines, and installs an `atexit` hook and a
//!   `pthread_atfork` prepare hook that write whatever is still in memory;
//! - one panic hook, chained to the one before it, installed by the first
//!   file logger, `ApiLayer::new` or `run_job`: a panic that a request or a
//!   job catches is kept off stderr (it is logged instead); any other first
//!   has every file written, then goes to the previous hook;
//! - file sinks of one path are shared by every logger of the process and
//!   live until it exits, so that the exit hook always finds them;
//! - with the first file logger, a thread `logwire-levels` that looks at
//!   `{root}/.logwire-levels` once a second and applies its level overrides
//!   ([`levels`]);
//! - [`reopen_on_sighup`], only when called: a SIGHUP action (chained
//!   through `signal-hook-registry`, so tokio's signal streams keep
//!   working) and a thread that reopens every file;
//! - [`init`], only when called: the global default `tracing` subscriber.
//!
//! Like every `tracing` macro, logwire's macros and `#[service]` methods
//! register their callsites (in `static`s, one per level they log at) with
//! tracing-core's global registry the first time a subscriber may want
//! them; a job's `JOB_START` fields, known only at run time, get callsites
//! made once per distinct list of names, at most 256 per call site.
//!
//! # Where things are
//!
//! - [`Logger`], [`file_logger`], [`console_logger`], [`Logger::capture`]
//!   and the event macros [`info!`] & co.: writing lines;
//! - [`service`] and [`Injectable`]: services that receive their logger,
//!   checked by the compiler, with per-method `METHOD_END` lines;
//! - [`txid`]: transaction ids across `.await`s and threads;
//! - `logwire::axum` (default feature `axum`): the API layer, `ErrorDetail`,
//!   `ApiError`, and the logger as an extractor;
//! - [`worker`]: `run_job` and (default feature `worker`, which brings
//!   tokio's process and signal support) `poll_loop` for worker processes;
//!   [`joblog`] (feature `worker`): a job's own log file with its scripts'
//!   output;
//! - [`diagnose()`] and [`reopen_on_sighup`]: operations; the [`diagnose`](mod@diagnose)
//!   module holds the report's types;
//! - [`layer()`], [`init`] and [`try_init`]: logwire in a `tracing` stack;
//! - `logwire::otel` (feature `otel`, off by default): `trace_id=` on lines,
//!   W3C trace context into requests and jobs, for a stack with
//!   tracing-opentelemetry;
//! - `logwire::read` (feature `read`, off by default): lines of both formats
//!   and job logs parsed back, what the `logwire` tool reads with.
//!
//! # The line format
//!
//! ```text
//! [9b2f0c1e-…] 2025-01-01 12:00:00.123Z - api - INFO - REQUEST_START | method=GET path=/api/health
//! ```
//!
//! The `[txid] ` prefix appears inside a [`txid::scope`], the id written
//! with `A-Z a-z 0-9 . _ : @ / + = -` as they are and every other byte
//! percent-encoded (`%5D`, `%20`), so a reader that splits at the first
//! `] ` and at ` - ` always finds the real time, logger and level; the time
//! is UTC; ` | k=v …` appears when there are fields, in the order written.
//! A line never holds one key twice: a field whose key came earlier in the
//! line is written `key.2` (`key.3`, …), and a `#[service]` argument named
//! like a key of `METHOD_END` (`method`, `elapsed_ms`, `error`) is written
//! `arg.method` and so on; a library event's `target` comes first and its
//! own `target` field is `target.2`; its explicit `message` field, beside a
//! format message, is kept as a field called `message`. A value
//! is bare when it is non-empty and holds no space, `"`, `=`, `\`, control,
//! other whitespace or Unicode format character; otherwise it is quoted,
//! with `\"`, `\\`, `\n`, `\r`, `\t` and `\u{1b}`-style escapes for every
//! other control character, every format character (bidi controls such as
//! U+202E, zero-width spaces, U+FEFF, U+00AD, …) and U+2028/2029. The
//! message is never quoted; it escapes `\`, `|` and the same characters.
//! So no input can forge a line, send a terminal escape, or make a viewer
//! show a line other than the one in the file, and every line parses back
//! to the same message and fields. A message or value longer than 8 KiB
//! ([`LoggerBuilder::max_value_bytes`]) is cut on a character boundary and
//! ends `…[+N bytes]`. With the `otel` feature, a line written inside an
//! OpenTelemetry trace ends with one more field, `trace_id=<32 hex digits>`.
//! [`Format::Json`] writes one JSON object per line instead.
//!
//! # Durability
//!
//! File loggers gather whole lines and write them in batches, under a lock
//! that other processes writing the same file respect. Every line is in the
//! file within 25 ms of being logged, when [`Logger::flush`] returns, when `main` returns
//! or calls `std::process::exit`, and when a panic unwinds or aborts. A
//! process killed with `SIGKILL` loses the lines it had not yet written:
//! those of its last 25 ms at most when it writes the file alone (measured:
//! under 1 ms for a writer at full speed), but up to about 90 ms when
//! several processes write one file as fast as they can, since each waits
//! for the others' turns at the lock (measured with four such writers
//! rotating at 64 KiB: p50 0.0 ms, p99 58 ms, max 88 ms; see
//! `tests/tests/reliability.rs`). If the kill lands inside a `write`, part
//! of a line can remain in the file, alone on its line: the next writer
//! ends it before appending, so no other line is ever touched. When the
//! disk is full, lines that could not be written go to stderr whole (after
//! one warning), and writing to the file resumes when there is room.
//!
//! # Rotation
//!
//! `api.log` is renamed to `api.log.1` (the newest backup) before it would
//! grow past `max_bytes`; `api.log.1` becomes `.2`, and so on up to
//! `backups`, after which the oldest is deleted. Several processes may write
//! and rotate one file: they coordinate through `flock` on a sidecar
//! `.api.log.lock`, and none loses, duplicates or splits a line. Do not let
//! the system's logrotate rotate a file that logwire rotates too; if you
//! prefer logrotate, set `max_bytes(0)` and call [`Logger::reopen`] after it
//! runs.

#![warn(missing_docs)]

mod macros;

mod ambient;
#[cfg(feature = "axum")]
pub mod axum;
mod capture;
mod context;
pub mod diagnose;
mod field;
mod format;
#[cfg(feature = "worker")]
pub mod joblog;
mod keep;
pub mod levels;
mod line;
mod logger;
mod mirror;
#[cfg(feature = "otel")]
pub mod otel;
mod panic;
mod paths;
mod process;
#[cfg(feature = "read")]
pub mod read;
mod redact;
mod service;
mod sink;
mod span;
mod stack;
pub mod txid;
pub mod worker;
mod writer;

pub use capture::{Captured, Record};
pub use diagnose::diagnose;
pub use field::{FieldValue, Recorder, Value};
pub use format::Format;
pub use logger::{console_logger, file_logger, Logger, LoggerBuilder};
pub use paths::{data_dir, log_root};
pub use process::reopen_on_sighup;
pub use service::FromContext;
pub use sink::flush_all;
#[cfg(feature = "init")]
pub use stack::{init, try_init};
pub use stack::{layer, InitError};
pub use tracing::Level;
pub use writer::{file_writer, EventWriter, FileWriter};

/// Makes a struct a service, or logs every method of its impl block.
///
/// # On a struct
///
/// The first field must be `logger: Logger` (checked by the compiler, so an
/// alias or another `Logger` is refused). Generates:
/// - `new(logger, <the other fields in order>)`, with the struct's visibility;
/// - [`FromContext<C>`](FromContext) for worker code: the logger from any
///   context that is `AsRef<Logger>`, each other field from its own
///   `FromContext<C>` (so services nest), `#[inject(default)]` fields from
///   `Default`;
/// - with the `axum` feature, axum's `FromRequestParts<S>`: the logger from
///   the request (put there by the API layer), each other field by its own
///   extractor, by `FromRef<S>` with `#[inject(from_ref)]`, or by `Default`
///   with `#[inject(default)]`.
///
/// `#[derive(Debug, Clone)]` work beside it: a [`Logger`] is a cheap handle
/// whose `Debug` is one line (`Logger { name: "api", level: LevelFilter::INFO,
/// format: Readable, sinks: [File("logs/api.log")] }`).
///
/// `#[service(new = false)]` leaves `new` to you (a `new` in the
/// `#[service]` impl block is then checked to take `logger: Logger` first);
/// the rest is generated as usual. Without it, a hand-written `new` beside
/// the generated one is rustc's "duplicate definitions with name `new`".
///
/// ```
/// use logwire::Logger;
///
/// #[derive(Clone, Default)]
/// pub struct AppConfig { pub page_size: u32 }
///
/// #[logwire::service]
/// pub struct BuildService {
///     logger: Logger,
///     #[inject(default)]
///     config: AppConfig,
/// }
///
/// let (logger, _captured) = Logger::capture("api");
/// let builds = BuildService::new(logger, AppConfig { page_size: 20 });
/// ```
///
/// # On an impl block
///
/// Every method that takes `self` (sync or `async`) writes exactly one
/// line when it returns, on `self.logger`:
///
/// ```text
/// DEBUG - METHOD_END | method=BuildService::list_builds limit=20 elapsed_ms=0.042
/// WARN - METHOD_ERROR | method=BuildService::list_builds limit=20 elapsed_ms=0.042 error="database is locked"
/// ```
///
/// `METHOD_ERROR` replaces `METHOD_END` when the method returns `Err(e)`
/// (`e` written with `Display`, or `Debug` when it has no `Display`).
/// Arguments are recorded safely: numbers, bools, chars and strings as
/// themselves; anything else only when named in `#[log(record(..))]` (with
/// `Debug`); and any argument whose name contains `password`, `secret`,
/// `token`, `credential`, `api_key` or `authorization` as `***`, always.
/// When the line's level is disabled, the method reads no clock and copies
/// no argument. Lines logged inside a method carry its name as `span`.
///
/// Per method: `#[log(skip(a, b))]`, `#[log(skip_all)]`,
/// `#[log(record(req))]`, `#[log(level = "info")]`, `#[log(off)]`. For the
/// block: `#[service(level = "info")]` (default `debug`).
///
/// The block may not build a logger: a call that returns a new `Logger`,
/// `LoggerBuilder` or capturing logger is a compile error at that call,
/// whatever the function is called (`file_logger`, an alias of it, a
/// helper); `.clone()` is fine. A `new` in the block must take `logger:
/// Logger` first, by value: services receive their logger.
///
/// ```
/// use logwire::Logger;
///
/// #[logwire::service]
/// pub struct AuthService {
///     logger: Logger,
/// }
///
/// #[derive(Debug)]
/// pub struct LoginRequest { pub user: String, pub password: String }
///
/// #[logwire::service]
/// impl AuthService {
///     pub fn login(&self, req: &LoginRequest, attempt: u32) -> Result<u64, String> {
///         if req.user == "admin" { Ok(7) } else { Err(format!("no user {}", req.user)) }
///     }
/// }
///
/// let (logger, captured) = Logger::capture("api");
/// let auth = AuthService::new(logger);
/// let req = LoginRequest { user: "eve".into(), password: "hunter2".into() };
/// assert!(auth.login(&req, 1).is_err());
/// let line = &captured.lines()[0];
/// assert!(line.contains(r#"WARN - METHOD_ERROR | method=AuthService::login attempt=1 elapsed_ms="#));
/// assert!(line.ends_with(r#" error="no user eve""#));
/// assert!(!captured.text().contains("hunter2"));
/// ```
pub use logwire_macros::service;

/// The struct half of [`service`], as a derive: the same checks,
/// constructor, [`FromContext`] and axum glue, for structs that keep their
/// own attributes (`#[inject(from_ref)]`, `#[inject(default)]`).
///
/// ```
/// use logwire::{FromContext, Logger};
///
/// #[derive(logwire::Injectable)]
/// pub struct ConfigSyncService {
///     logger: Logger,
///     #[inject(default)]
///     db: Option<String>,
/// }
///
/// let (logger, _) = Logger::capture("worker");
/// // A Logger is itself a context that provides a Logger.
/// let sync = ConfigSyncService::from_context(&logger);
/// assert!(sync.db.is_none());
/// ```
pub use logwire_macros::Injectable;

/// A worker context, as axum's `#[derive(FromRef)]` makes application
/// state: the `logger` field provides the logger (`AsRef<Logger>`), and
/// every other field provides its type to services built with
/// `from_context` (`FromContext<Ctx>`, by `Clone`). `#[context(skip)]`
/// keeps a field to the context; each type may be provided once.
///
/// ```
/// use logwire::{FromContext, Logger};
///
/// #[derive(Clone)]
/// pub struct Db(&'static str);
///
/// #[derive(logwire::Context)]
/// pub struct WorkerCtx {
///     logger: Logger,
///     db: Db,
///     #[context(skip)]
///     polls: u64,
/// }
///
/// #[logwire::service]
/// pub struct BuildService {
///     logger: Logger,
///     db: Db,
/// }
///
/// let (logger, _) = Logger::capture("worker");
/// let ctx = WorkerCtx { logger, db: Db("sqlite"), polls: 0 };
/// let builds = BuildService::from_context(&ctx);
/// # let _ = (builds, ctx.polls);
/// ```
pub use logwire_macros::Context;
pub use tracing_core::LevelFilter;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
