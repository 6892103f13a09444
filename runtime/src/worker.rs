//! Worker processes: one transaction id and a start and end line per job,
//! errors and panics logged once and never escaping, and a poll loop that
//! stops cleanly on SIGTERM or Ctrl-C.
//!
//! A worker main, in full:
//!
//! ```no_run
//! use std::time::Duration;
//! use logwire::{FromContext, Logger};
//!
//! #[derive(Clone)]
//! pub struct Db; // a database handle
//!
//! /// What the worker's services are built from.
//! pub struct WorkerCtx {
//!     logger: Logger,
//!     db: Db,
//! }
//!
//! impl AsRef<Logger> for WorkerCtx {
//!     fn as_ref(&self) -> &Logger {
//!         &self.logger
//!     }
//! }
//!
//! impl FromContext<WorkerCtx> for Db {
//!     fn from_context(ctx: &WorkerCtx) -> Self {
//!         ctx.db.clone()
//!     }
//! }
//!
//! #[logwire::service]
//! pub struct BuildService {
//!     logger: Logger,
//!     db: Db,
//! }
//!
//! #[logwire::service]
//! impl BuildService {
//!     pub async fn next_queued(&self) -> Option<u64> {
//!         None
//!     }
//!
//!     pub async fn build(&self, id: u64) -> Result<(), String> {
//!         logwire::info!(self.logger, "BUILD_STEP", id = id);
//!         Ok(())
//!     }
//! }
//!
//! /// Runs one queued build, if there is one; `true` when it did.
//! async fn poll_once(ctx: &WorkerCtx) -> bool {
//!     let builds = BuildService::from_context(ctx);
//!     let Some(id) = builds.next_queued().await else { return false };
//!     // JOB_START, JOB_END and any error under the txid `build-{id}`.
//!     let _ = logwire::worker::run_job(&ctx.logger, format!("build-{id}"), builds.build(id)).await;
//!     true
//! }
//!
//! #[tokio::main]
//! async fn main() -> std::io::Result<()> {
//!     let ctx = WorkerCtx { logger: logwire::file_logger("worker"), db: Db };
//!     // Ok(Stop::Terminate) on SIGTERM; Err when no signal handler can be installed.
//!     logwire::worker::poll_loop(&ctx.logger, Duration::from_secs(1), || poll_once(&ctx)).await?;
//!     Ok(())
//! }
//! ```

use std::fmt;
use std::future::Future;
#[cfg(feature = "worker")]
use std::pin::pin;
#[cfg(feature = "worker")]
use std::time::Duration;
use std::time::Instant;

#[cfg(feature = "worker")]
use tokio::signal::unix::{signal, SignalKind};

use std::sync::Arc;

use crate::context;
use crate::field::{FieldValue, Value};
use crate::mirror::{self, Mirror, Shapes};
use crate::panic::CatchPanic;
use crate::{Level, Logger};
use tracing_core::metadata::Kind;

/// Why a job did not return `Ok`: the outcome [`run_job`] reports instead
/// of letting an error or a panic escape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobFailure {
    /// The job returned `Err`; its `Display` text.
    Error(String),
    /// The job panicked; the panic message and where it happened.
    Panic {
        /// The panic message (`"panic payload is not a string"` when it
        /// was neither `&str` nor `String`).
        message: String,
        /// `file:line:column`, when known.
        location: Option<String>,
    },
}

impl fmt::Display for JobFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JobFailure::Error(e) => write!(f, "job failed: {e}"),
            JobFailure::Panic {
                message,
                location: Some(at),
            } => write!(f, "job panicked at {at}: {message}"),
            JobFailure::Panic {
                message,
                location: None,
            } => write!(f, "job panicked: {message}"),
        }
    }
}

impl std::error::Error for JobFailure {}

/// A job about to run: its logger, transaction id and extra `JOB_START`
/// fields. [`run_job`] is the short form for a job without extra fields.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let (logger, captured) = logwire::Logger::capture("worker");
/// let outcome = logwire::worker::Job::new(&logger, "build-7")
///     .field("origin", "9b2f0c1e-request")
///     .run(async { Ok::<_, std::io::Error>(7) })
///     .await;
/// assert_eq!(outcome, Ok(7));
/// assert!(captured.lines()[0].ends_with("INFO - JOB_START | origin=9b2f0c1e-request"));
/// # }
/// ```
#[derive(Debug)]
#[must_use = "a job does nothing until .run(fut).await"]
pub struct Job<'a> {
    logger: &'a Logger,
    txid: String,
    fields: Vec<(&'static str, Value)>,
    #[cfg(feature = "otel")]
    trace_parent: Option<opentelemetry::Context>,
}

impl<'a> Job<'a> {
    /// A job logged to `logger` under `txid`.
    pub fn new(logger: &'a Logger, txid: impl Into<String>) -> Self {
        Job {
            logger,
            txid: txid.into(),
            fields: Vec::new(),
            #[cfg(feature = "otel")]
            trace_parent: None,
        }
    }

    /// Makes the job's `job` span a child of the span that a W3C
    /// `traceparent` names (feature `otel`): the one that
    /// [`otel::traceparent`](crate::otel::traceparent) gave where the job
    /// was queued, stored with the job. A backend then shows the request
    /// that queued the job and the job as one trace. `None` or an invalid
    /// value: the job starts its own trace.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use opentelemetry::trace::TracerProvider as _;
    /// use tracing_subscriber::prelude::*;
    ///
    /// let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    /// let stack = tracing_subscriber::registry()
    ///     .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("worker")));
    /// let _stack = tracing::subscriber::set_default(stack);
    ///
    /// let (worker, captured) = logwire::Logger::capture("worker");
    /// let stored = Some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    /// let job = logwire::worker::Job::new(&worker, "build-7").trace_parent(stored);
    /// job.run(async { Ok::<_, std::io::Error>(()) }).await.unwrap();
    /// assert!(captured.lines()[0].ends_with("JOB_START | trace_id=0af7651916cd43dd8448eb211c80319c"));
    /// # }
    /// ```
    #[cfg(feature = "otel")]
    pub fn trace_parent(mut self, traceparent: Option<&str>) -> Self {
        self.trace_parent = traceparent.and_then(crate::otel::remote_context);
        self
    }

    /// Adds a field to `JOB_START`, such as `origin=<txid that queued it>`.
    pub fn field(mut self, name: &'static str, value: impl FieldValue) -> Self {
        self.fields.push((name, Value::of(&value)));
        self
    }

    /// Runs `fut` under the job's transaction id (and with the logger
    /// receiving library `tracing` events), between `JOB_START` and
    /// `JOB_END | status=ok|error|panic duration_ms=…`. An error or a panic
    /// writes exactly one ERROR line and comes back as [`JobFailure`].
    pub async fn run<T, E, F>(self, fut: F) -> Result<T, JobFailure>
    where
        F: Future<Output = Result<T, E>>,
        E: fmt::Display,
    {
        static JOB_SPAN: Shapes = Shapes::new(
            Kind::SPAN,
            &["txid"],
            "job",
            Level::INFO,
            file!(),
            line!(),
            module_path!(),
        );
        static JOB_START: Shapes = Shapes::new(
            Kind::EVENT,
            &mirror::LINE_PREFIX,
            mirror::LINE,
            Level::INFO,
            file!(),
            line!(),
            module_path!(),
        );
        // The hook asks `panic::will_be_caught` before printing.
        crate::process::install_panic_hook();
        let logger = self.logger.clone();
        let txid: Arc<str> = Arc::from(self.txid);
        let start_fields: Vec<(&'static str, &dyn FieldValue)> =
            self.fields.iter().map(|(k, v)| (*k, v as &dyn FieldValue)).collect();
        let span = if mirror::may_want(Level::INFO) {
            JOB_SPAN.span(&[Some(&&*txid as &dyn tracing::Value)], &start_fields)
        } else {
            None
        };
        #[cfg(feature = "otel")]
        if let (Some(span), Some(parent)) = (&span, self.trace_parent) {
            crate::otel::set_parent(span, parent);
        }
        let kept = logger.keeper();
        let body = async {
            logger.emit(Mirror::Shapes(&JOB_START), Level::INFO, "JOB_START", &start_fields);
            let started = Instant::now();
            let outcome = match CatchPanic::new(fut).await {
                Ok(Ok(value)) => Ok(value),
                Ok(Err(e)) => {
                    let text = e.to_string();
                    logger.write_kept(kept.as_deref());
                    crate::error!(logger, "JOB_ERROR", error = text.as_str());
                    Err(JobFailure::Error(text))
                }
                Err(caught) => {
                    logger.write_kept(kept.as_deref());
                    crate::error!(
                        logger,
                        "JOB_PANIC",
                        panic = caught.message.as_str(),
                        location = caught.location.as_deref().unwrap_or("unknown"),
                    );
                    Err(JobFailure::Panic {
                        message: caught.message,
                        location: caught.location,
                    })
                }
            };
            let status = match &outcome {
                Ok(_) => "ok",
                Err(JobFailure::Error(_)) => "error",
                Err(JobFailure::Panic { .. }) => "panic",
            };
            let duration_ms = crate::format::elapsed_ms(started);
            crate::info!(logger, "JOB_END", status = status, duration_ms = duration_ms);
            outcome
        };
        let body = tracing::Instrument::instrument(body, span.unwrap_or_else(tracing::Span::none));
        context::request_scope(txid, self.logger.clone(), kept.clone(), body).await
    }
}

/// Runs one job under `txid`: see [`Job::run`]. The outcome is the return
/// value; neither an error nor a panic escapes.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use logwire::worker::{run_job, JobFailure};
///
/// let (logger, captured) = logwire::Logger::capture("worker");
/// let outcome: Result<(), _> = run_job(&logger, "build-8", async { Err("disk full") }).await;
/// assert_eq!(outcome, Err(JobFailure::Error("disk full".into())));
/// let messages: Vec<String> = captured.records().into_iter().map(|r| r.message).collect();
/// assert_eq!(messages, ["JOB_START", "JOB_ERROR", "JOB_END"]);
/// # }
/// ```
pub async fn run_job<T, E, F>(logger: &Logger, txid: impl Into<String>, fut: F) -> Result<T, JobFailure>
where
    F: Future<Output = Result<T, E>>,
    E: fmt::Display,
{
    Job::new(logger, txid).run(fut).await
}

/// What one call of a [`poll_loop`]'s `poll_once` did.
///
/// Return `true` from `poll_once` when it ran a job: the loop then looks
/// for the next one at once, after checking for a stop signal. Run *one*
/// job per call, so that a worker asked to stop finishes the job in hand
/// and claims nothing new. `()` means "nothing to do": the loop waits its
/// interval.
pub trait Polled {
    /// Whether the poll ran a job.
    fn worked(&self) -> bool;
}

impl Polled for () {
    fn worked(&self) -> bool {
        false
    }
}

impl Polled for bool {
    fn worked(&self) -> bool {
        *self
    }
}

/// What stopped a [`poll_loop`].
#[cfg(feature = "worker")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stop {
    /// SIGTERM (systemd's stop, `kill`).
    Terminate,
    /// SIGINT (Ctrl-C).
    Interrupt,
}

#[cfg(feature = "worker")]
impl Stop {
    fn name(self) -> &'static str {
        match self {
            Stop::Terminate => "SIGTERM",
            Stop::Interrupt => "SIGINT",
        }
    }
}

/// The main loop of a worker process: calls `poll_once` until SIGTERM or
/// Ctrl-C, then returns after the poll in hand finishes. After a poll that
/// ran a job (returned `true`, see [`Polled`]) it polls again at once,
/// otherwise after `interval`; a stop signal is looked at between polls,
/// so a worker asked to stop claims nothing new.
///
/// Logs `WORKER_START | interval_ms=…` and `WORKER_STOP | signal=SIGTERM
/// polls=…`, and flushes every logger of the process before returning, so
/// that `main` can return and the process exit 0 with nothing lost. A
/// signal that arrives during a poll never interrupts it: jobs finish.
///
/// Needs a tokio runtime with time and I/O enabled (`#[tokio::main]`), and
/// the `worker` feature (on by default).
/// If the signal handlers cannot be installed, it logs the error and
/// returns it at once rather than run unstoppable.
#[cfg(feature = "worker")]
pub async fn poll_loop<F, Fut>(logger: &Logger, interval: Duration, mut poll_once: F) -> std::io::Result<Stop>
where
    F: FnMut() -> Fut,
    Fut: Future,
    Fut::Output: Polled,
{
    let (mut term, mut int) = match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
        (Ok(term), Ok(int)) => (term, int),
        (Err(e), _) | (_, Err(e)) => {
            crate::error!(logger, "WORKER_SIGNALS_UNAVAILABLE", error = %e);
            crate::sink::flush_all();
            return Err(e);
        }
    };
    let interval_ms = u64::try_from(interval.as_millis()).unwrap_or(u64::MAX);
    crate::info!(
        logger,
        "WORKER_START",
        interval_ms = interval_ms,
        pid = std::process::id()
    );
    let mut polls: u64 = 0;
    let stop = loop {
        // Signals are queued by their handlers, so one that arrived during
        // the poll is seen by the select below.
        let worked = poll_once().await.worked();
        polls += 1;
        // After a job, look again at once (but only after the signals).
        let pause = if worked { Duration::ZERO } else { interval };
        let mut sleep = pin!(tokio::time::sleep(pause));
        tokio::select! {
            biased;
            _ = term.recv() => break Stop::Terminate,
            _ = int.recv() => break Stop::Interrupt,
            _ = &mut sleep => {}
        }
    };
    crate::info!(logger, "WORKER_STOP", signal = stop.name(), polls = polls);
    crate::sink::flush_all();
    logger.flush();
    Ok(stop)
}
