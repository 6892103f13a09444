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

use std::future::Future;
use std::sync::Arc;

use crate::context;
pub use crate::context::Scoped;

/// The transaction id of the current scope, if any.
pub fn current() -> Option<String> {
    crate::ambient::with_txid(|id| id.map(str::to_owned))
}

/// Runs `f` with `id` as the transaction id; the previous id (if any) is
/// back when `f` returns or unwinds.
///
/// ```
/// let id = logwire::txid::scope_sync("job-7", || logwire::txid::current());
/// assert_eq!(id.as_deref(), Some("job-7"));
/// ```
pub fn scope_sync<R>(id: impl Into<String>, f: impl FnOnce() -> R) -> R {
    context::txid_sync(Arc::from(id.into()), f)
}

/// Runs `fut` with `id` as the transaction id, across every `.await`.
pub fn scope<F: Future>(id: impl Into<String>, fut: F) -> Scoped<F> {
    context::with_txid_scope(Arc::from(id.into()), fut)
}

/// Carries the current transaction id *and* the current logger (or their
/// absence) into `fut`, for futures that run elsewhere:
/// `tokio::spawn(logwire::txid::propagate(fut))`. Lines and library events
/// of the spawned task then go where the request's or job's go.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let (log, captured) = logwire::Logger::capture("api");
/// logwire::txid::scope("req-9", async {
///     let log = log.clone();
///     tokio::spawn(logwire::txid::propagate(async move {
///         logwire::info!(log, "BACKGROUND_STEP");
///     }))
///     .await
///     .unwrap();
/// })
/// .await;
/// assert_eq!(captured.records()[0].txid.as_deref(), Some("req-9"));
/// # }
/// ```
pub fn propagate<F: Future>(fut: F) -> Scoped<F> {
    context::propagate(fut)
}

/// Carries the current transaction id *and* the current logger (or their
/// absence) into a closure that runs on another thread: `spawn_blocking`,
/// `std::thread::spawn`, `std::thread::scope`, a rayon pool. The closure
/// may borrow (scoped threads); it is called once, and the thread's own
/// id and logger are back when it returns or unwinds.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let (log, captured) = logwire::Logger::capture("api");
/// logwire::txid::scope("req-9", async {
///     let log = log.clone();
///     tokio::task::spawn_blocking(logwire::txid::propagate_fn(move || {
///         logwire::info!(log, "HASHED");
///     }))
///     .await
///     .unwrap();
/// })
/// .await;
/// assert_eq!(captured.records()[0].txid.as_deref(), Some("req-9"));
/// # }
/// ```
pub fn propagate_fn<R>(f: impl FnOnce() -> R) -> impl FnOnce() -> R {
    context::propagate_fn(f)
}
