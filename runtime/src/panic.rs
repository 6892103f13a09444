//! Panics in handlers and jobs: caught where they run, described once in
//! the log, never printed a second time by the default panic hook.
//!
//! The hook cannot know who will catch a panic. While a [`CatchPanic`]
//! polls, it records the panic instead of printing it; when the panic
//! reaches the `CatchPanic`, the record becomes its log line. When the poll
//! ends without it (the user's `catch_unwind`, tower-http's
//! `CatchPanicLayer`), the record is printed to stderr as the standard hook
//! prints a panic, with the transaction id: logwire hides only the panics it
//! catches and logs itself.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

thread_local! {
    /// Set while a request's future is polled inside the layer.
    static CATCHING: Cell<bool> = const { Cell::new(false) };
    /// The last panic the hook kept quiet, not yet claimed by a `CatchPanic`.
    static PENDING: RefCell<Option<Pending>> = const { RefCell::new(None) };
}

/// A panic as the hook saw it.
struct Pending {
    message: String,
    location: Option<String>,
    thread: String,
    backtrace: std::backtrace::Backtrace,
}

impl Pending {
    /// Prints it as the standard hook does (thread, location, message,
    /// backtrace when `RUST_BACKTRACE` asks), with the transaction id.
    fn print(self) {
        use std::backtrace::BacktraceStatus;
        let mut text = format!(
            "thread '{}' panicked at {}:\n{}\n",
            self.thread,
            self.location.as_deref().unwrap_or("<unknown>"),
            self.message
        );
        crate::ambient::with_txid(|txid| {
            if let Some(txid) = txid {
                text.push_str(&format!("note: caught inside request or job {txid}, not by logwire\n"));
            }
        });
        if self.backtrace.status() == BacktraceStatus::Captured {
            text.push_str(&format!("stack backtrace:\n{}\n", self.backtrace));
        }
        crate::sink::warn_stderr!("{}", text.trim_end());
    }
}

/// Prints the panic the hook kept quiet, if nothing claimed it.
fn report_unclaimed() {
    if let Some(pending) = PENDING.with(|p| p.borrow_mut().take()) {
        pending.print();
    }
}

/// For the panic hook: whether a [`CatchPanic`] on this thread will catch
/// this panic. If so its location is recorded for the log line, and the
/// hook prints nothing: the panic is written to the log instead.
pub(crate) fn will_be_caught(info: &panic::PanicHookInfo<'_>) -> bool {
    if !CATCHING.with(Cell::get) {
        return false;
    }
    // An earlier panic of this poll that someone inside already caught.
    report_unclaimed();
    let pending = Pending {
        message: message(info.payload()),
        location: info
            .location()
            .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column())),
        thread: std::thread::current().name().unwrap_or("<unnamed>").to_owned(),
        backtrace: std::backtrace::Backtrace::capture(),
    };
    PENDING.with(|slot| *slot.borrow_mut() = Some(pending));
    true
}

/// A caught panic: its message and where it happened.
pub(crate) struct Caught {
    pub(crate) message: String,
    pub(crate) location: Option<String>,
}

fn message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic payload is not a string".to_owned()
    }
}

pin_project_lite::pin_project! {
    /// Polls the inner future with panics caught.
    pub(crate) struct CatchPanic<F> {
        #[pin]
        inner: F,
    }
}

impl<F> CatchPanic<F> {
    pub(crate) fn new(inner: F) -> Self {
        CatchPanic { inner }
    }
}

impl<F: Future> Future for CatchPanic<F> {
    type Output = Result<F::Output, Caught>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.project().inner;
        match catch(|| inner.poll(cx)) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Err(caught) => Poll::Ready(Err(caught)),
        }
    }
}

/// Calls `f` with its panics caught and described for the log (see the
/// module docs: a panic `f` catches itself is printed, not hidden).
pub(crate) fn catch<R>(f: impl FnOnce() -> R) -> Result<R, Caught> {
    let outer = CATCHING.with(|c| c.replace(true));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    CATCHING.with(|c| c.set(outer));
    match result {
        Ok(value) => {
            report_unclaimed();
            Ok(value)
        }
        Err(payload) => {
            let location = PENDING.with(|slot| slot.borrow_mut().take()).and_then(|p| p.location);
            let caught = Caught {
                message: message(&*payload),
                location,
            };
            // A payload whose Drop panics would abort; drop it here where
            // a second panic is still caught.
            let _ = panic::catch_unwind(AssertUnwindSafe(|| drop(payload)));
            Err(caught)
        }
    }
}
