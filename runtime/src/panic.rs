//! Panics in handlers and jobs: caught where they run, described once in
//! the log, never printed a second time by the default panic hook.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

thread_local! {
    /// Set while a request's future is polled inside the layer.
    static CATCHING: Cell<bool> = const { Cell::new(false) };
    /// Where the last caught panic happened, recorded by the hook.
    static LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs the process's panic hook (see `process`), which asks
/// [`will_be_caught`] first.
pub(crate) fn install_hook() {
    crate::process::install_panic_hook();
}

/// For the panic hook: whether a [`CatchPanic`] on this thread will catch
/// this panic. If so its location is recorded for the log line, and the
/// hook prints nothing: the panic is written to the log instead.
pub(crate) fn will_be_caught(info: &panic::PanicHookInfo<'_>) -> bool {
    if !CATCHING.with(Cell::get) {
        return false;
    }
    let location = info
        .location()
        .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
    LOCATION.with(|slot| *slot.borrow_mut() = location);
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
        let outer = CATCHING.with(|c| c.replace(true));
        let result = panic::catch_unwind(AssertUnwindSafe(|| inner.poll(cx)));
        CATCHING.with(|c| c.set(outer));
        match result {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Err(payload) => {
                let location = LOCATION.with(|slot| slot.borrow_mut().take());
                let caught = Caught {
                    message: message(&*payload),
                    location,
                };
                // A payload whose Drop panics would abort; drop it here where
                // a second panic is still caught.
                let _ = panic::catch_unwind(AssertUnwindSafe(|| drop(payload)));
                Poll::Ready(Err(caught))
            }
        }
    }
}
