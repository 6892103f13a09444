//! Transaction ids: one id per request or job, on every line logged inside it.
//!
//! The id lives in a thread-local that a [`Scoped`] future sets around each
//! poll and restores afterwards, so it follows a task across threads of a
//! multi-thread runtime and two concurrent tasks never see each other's id.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let (log, captured) = logwire::Logger::capture("api");
//! logwire::txid::scope("build-42", async {
//!     assert_eq!(logwire::txid::current().as_deref(), Some("build-42"));
//!     logwire::info!(log, "BUILD_START");
//! })
//! .await;
//! assert_eq!(logwire::txid::current(), None);
//! assert_eq!(captured.records()[0].txid.as_deref(), Some("build-42"));
//! # }
//! ```

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

thread_local! {
    static CURRENT: RefCell<Option<Arc<str>>> = const { RefCell::new(None) };
}

/// The transaction id of the current scope, if any.
pub fn current() -> Option<String> {
    with_current(|id| id.map(str::to_owned))
}

/// Calls `f` with the current id without copying it.
pub(crate) fn with_current<R>(f: impl FnOnce(Option<&str>) -> R) -> R {
    CURRENT.with(|c| match c.try_borrow() {
        Ok(id) => f(id.as_deref()),
        Err(_) => f(None),
    })
}

/// Swaps `slot` with the current id for as long as it lives.
struct Enter<'a> {
    slot: &'a mut Option<Arc<str>>,
}

impl<'a> Enter<'a> {
    fn new(slot: &'a mut Option<Arc<str>>) -> Self {
        CURRENT.with(|c| std::mem::swap(&mut *c.borrow_mut(), slot));
        Enter { slot }
    }
}

impl Drop for Enter<'_> {
    fn drop(&mut self) {
        // Runs on unwind too, so a panic inside a scope never leaks its id.
        CURRENT.with(|c| std::mem::swap(&mut *c.borrow_mut(), self.slot));
    }
}

/// Runs `f` with `id` as the transaction id; the previous id (if any) is
/// back when `f` returns or unwinds.
///
/// ```
/// let id = logwire::txid::scope_sync("job-7", || logwire::txid::current());
/// assert_eq!(id.as_deref(), Some("job-7"));
/// ```
pub fn scope_sync<R>(id: impl Into<String>, f: impl FnOnce() -> R) -> R {
    let mut slot = Some(Arc::from(id.into()));
    let _enter = Enter::new(&mut slot);
    f()
}

/// Runs `fut` with `id` as the transaction id, across every `.await`.
pub fn scope<F: Future>(id: impl Into<String>, fut: F) -> Scoped<F> {
    scope_shared(Arc::from(id.into()), fut)
}

/// [`scope`] for an id that is already shared.
pub(crate) fn scope_shared<F: Future>(id: Arc<str>, fut: F) -> Scoped<F> {
    Scoped { id: Some(id), fut }
}

/// Carries the current transaction id (or its absence) into `fut`, for
/// futures that run elsewhere: `tokio::spawn(logwire::txid::propagate(fut))`.
pub fn propagate<F: Future>(fut: F) -> Scoped<F> {
    Scoped {
        id: CURRENT.with(|c| c.borrow().clone()),
        fut,
    }
}

/// A future that runs under a transaction id; see [`scope`] and [`propagate`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct Scoped<F> {
    id: Option<Arc<str>>,
    fut: F,
}

impl<F: Future> Future for Scoped<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `fut` is structurally pinned: it is never moved out of
        // `self`, `Scoped` implements neither `Drop` nor a custom `Unpin`,
        // and `id` is not pinned (it is only swapped).
        let this = unsafe { self.get_unchecked_mut() };
        let _enter = Enter::new(&mut this.id);
        // SAFETY: see above; `this.fut` stays where it is.
        unsafe { Pin::new_unchecked(&mut this.fut) }.poll(cx)
    }
}
