//! The request or job the current code runs for: its transaction id and its
//! logger.
//!
//! Both live in thread-locals that a [`Scoped`] future sets around each poll
//! and restores afterwards, so they follow a task across the threads of a
//! multi-thread runtime, and two concurrent tasks never see each other's.
//! Nothing here touches `tracing`'s default dispatcher: the user's stack
//! stays in force inside every request and job, and `logwire::layer` reads
//! the current logger from here.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use crate::ambient::{current, Enter, Slot, KEPT, TXID};
use crate::keep::Kept;
use crate::Logger;

thread_local! {
    static LOGGER: RefCell<Option<Logger>> = const { RefCell::new(None) };
}

/// Calls `f` with the current logger, or `fallback` outside any scope.
pub(crate) fn with_logger<R>(fallback: &Logger, f: impl FnOnce(&Logger) -> R) -> R {
    LOGGER.with(|c| match c.try_borrow() {
        Ok(current) => f(current.as_ref().unwrap_or(fallback)),
        Err(_) => f(fallback),
    })
}

/// The logger of the scope the caller is in, if any.
#[cfg(feature = "worker")]
pub(crate) fn current_logger() -> Option<Logger> {
    current(&LOGGER)
}

pin_project! {
    /// A future that runs under a transaction id, a logger, or both; see
    /// [`txid::scope`](crate::txid::scope), [`txid::propagate`](crate::txid::propagate)
    /// and [`Logger::scope`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless polled"]
    pub struct Scoped<F> {
        txid: Slot<Arc<str>>,
        logger: Slot<Logger>,
        kept: Slot<Arc<Kept>>,
        #[pin]
        fut: F,
    }
}

impl<F: Future> Future for Scoped<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _txid = Enter::new(&TXID, this.txid);
        let _logger = Enter::new(&LOGGER, this.logger);
        let _kept = Enter::new(&KEPT, this.kept);
        this.fut.poll(cx)
    }
}

/// `fut` with `txid` in force (the logger left as it is).
pub(crate) fn with_txid_scope<F: Future>(txid: Arc<str>, fut: F) -> Scoped<F> {
    Scoped {
        txid: Slot::Set(Some(txid)),
        logger: Slot::Keep,
        kept: Slot::Keep,
        fut,
    }
}

/// `fut` with `logger` current (the txid left as it is).
pub(crate) fn with_logger_scope<F: Future>(logger: Logger, fut: F) -> Scoped<F> {
    Scoped {
        txid: Slot::Keep,
        logger: Slot::Set(Some(logger)),
        kept: Slot::Keep,
        fut,
    }
}

/// `fut` as a request or a job: its own txid, logger and kept lines.
pub(crate) fn request_scope<F: Future>(txid: Arc<str>, logger: Logger, kept: Option<Arc<Kept>>, fut: F) -> Scoped<F> {
    Scoped {
        txid: Slot::Set(Some(txid)),
        logger: Slot::Set(Some(logger)),
        kept: Slot::Set(kept),
        fut,
    }
}

/// `fut` with the current txid and logger (or their absence), to run
/// elsewhere.
pub(crate) fn propagate<F: Future>(fut: F) -> Scoped<F> {
    Scoped {
        txid: Slot::Set(current(&TXID)),
        logger: Slot::Set(current(&LOGGER)),
        kept: Slot::Set(current(&KEPT)),
        fut,
    }
}

/// `f` with the current txid and logger (or their absence), to call on
/// another thread.
pub(crate) fn propagate_fn<R>(f: impl FnOnce() -> R) -> impl FnOnce() -> R {
    let mut txid = Slot::Set(current(&TXID));
    let mut logger = Slot::Set(current(&LOGGER));
    let mut kept = Slot::Set(current(&KEPT));
    move || {
        let _txid = Enter::new(&TXID, &mut txid);
        let _logger = Enter::new(&LOGGER, &mut logger);
        let _kept = Enter::new(&KEPT, &mut kept);
        f()
    }
}

/// Runs `f` as part of a request or job: its txid and logger in force.
#[cfg(feature = "axum")]
pub(crate) fn request_sync<R>(txid: Arc<str>, logger: Logger, kept: Option<Arc<Kept>>, f: impl FnOnce() -> R) -> R {
    let mut txid = Slot::Set(Some(txid));
    let mut logger = Slot::Set(Some(logger));
    let mut kept = Slot::Set(kept);
    let _txid = Enter::new(&TXID, &mut txid);
    let _logger = Enter::new(&LOGGER, &mut logger);
    let _kept = Enter::new(&KEPT, &mut kept);
    f()
}

/// Runs `f` with `txid` in force.
pub(crate) fn txid_sync<R>(txid: Arc<str>, f: impl FnOnce() -> R) -> R {
    let mut slot = Slot::Set(Some(txid));
    let _enter = Enter::new(&TXID, &mut slot);
    f()
}

/// Runs `f` with `logger` current.
pub(crate) fn logger_sync<R>(logger: Logger, f: impl FnOnce() -> R) -> R {
    let mut slot = Slot::Set(Some(logger));
    let _enter = Enter::new(&LOGGER, &mut slot);
    f()
}

/// The current logger's scopes, beside the logger's other methods in the
/// docs: `logger.in_scope(..)` and `logger.scope(..)`.
impl Logger {
    /// Runs `f` with this logger as the *current logger*: the one that
    /// [`logwire::layer`](crate::layer()) writes the `tracing` events of
    /// libraries to. The default dispatcher is left as it is.
    ///
    /// ```
    /// use tracing_subscriber::prelude::*;
    ///
    /// let (api, _) = logwire::Logger::capture("api");
    /// let (job, captured) = logwire::Logger::capture("job");
    /// let stack = tracing_subscriber::registry().with(logwire::layer(&api));
    /// tracing::subscriber::with_default(stack, || {
    ///     job.in_scope(|| tracing::info!(rows = 3, "query done"));
    /// });
    /// assert!(captured.lines()[0].ends_with(" - job - INFO - query done | target=rust_out rows=3"));
    /// ```
    pub fn in_scope<R>(&self, f: impl FnOnce() -> R) -> R {
        logger_sync(self.clone(), f)
    }

    /// Runs `fut` with this logger as the current logger across every
    /// `.await`; see [`in_scope`](Self::in_scope).
    pub fn scope<F: Future>(&self, fut: F) -> Scoped<F> {
        with_logger_scope(self.clone(), fut)
    }
}
