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
use std::thread::LocalKey;

use pin_project_lite::pin_project;

use crate::keep::Kept;
use crate::Logger;

thread_local! {
    static TXID: RefCell<Option<Arc<str>>> = const { RefCell::new(None) };
    static LOGGER: RefCell<Option<Logger>> = const { RefCell::new(None) };
    /// The DEBUG lines kept for the current request or job, when its logger
    /// keeps them for failures.
    static KEPT: RefCell<Option<Arc<Kept>>> = const { RefCell::new(None) };
}

/// Whether the current request or job keeps lines below its level.
#[inline]
pub(crate) fn keeping() -> bool {
    KEPT.with(|c| c.try_borrow().is_ok_and(|k| k.is_some()))
}

/// Calls `f` with the current request's or job's kept lines, if it keeps any.
pub(crate) fn with_kept(f: impl FnOnce(&Kept)) {
    KEPT.with(|c| {
        if let Ok(k) = c.try_borrow() {
            if let Some(k) = k.as_deref() {
                f(k);
            }
        }
    });
}

/// Calls `f` with the current transaction id without copying it.
pub(crate) fn with_txid<R>(f: impl FnOnce(Option<&str>) -> R) -> R {
    TXID.with(|c| match c.try_borrow() {
        Ok(id) => f(id.as_deref()),
        Err(_) => f(None),
    })
}

/// The current transaction id, shared.
pub(crate) fn current_txid() -> Option<Arc<str>> {
    current(&TXID)
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

fn current<T: Clone + 'static>(key: &'static LocalKey<RefCell<Option<T>>>) -> Option<T> {
    key.with(|c| c.try_borrow().ok().and_then(|v| v.clone()))
}

/// A value to put in force for a scope, or `Keep` to leave the outer one.
#[derive(Debug)]
enum Slot<T> {
    Keep,
    Set(Option<T>),
}

/// Swaps a slot's value with the thread's for as long as it lives.
struct Enter<'a, T: 'static> {
    key: &'static LocalKey<RefCell<Option<T>>>,
    value: Option<&'a mut Option<T>>,
}

impl<'a, T> Enter<'a, T> {
    fn new(key: &'static LocalKey<RefCell<Option<T>>>, slot: &'a mut Slot<T>) -> Self {
        let value = match slot {
            Slot::Keep => None,
            Slot::Set(value) => {
                key.with(|c| std::mem::swap(&mut *c.borrow_mut(), value));
                Some(value)
            }
        };
        Enter { key, value }
    }
}

impl<T> Drop for Enter<'_, T> {
    fn drop(&mut self) {
        // Runs on unwind too, so a panic inside a scope never leaks its id.
        if let Some(value) = self.value.as_deref_mut() {
            self.key.with(|c| std::mem::swap(&mut *c.borrow_mut(), value));
        }
    }
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
