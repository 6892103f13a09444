//! The ids of the request or job the current code runs for, as the line
//! writer reads them: its transaction id and the ring of lines it keeps for
//! a failure. Thread-locals that [`context`](crate::context)'s scopes set
//! around each poll and restore afterwards; nothing here knows loggers.

use std::cell::RefCell;
use std::sync::Arc;
use std::thread::LocalKey;

use crate::keep::Kept;

thread_local! {
    pub(crate) static TXID: RefCell<Option<Arc<str>>> = const { RefCell::new(None) };
    /// The DEBUG lines kept for the current request or job, when its logger
    /// keeps them for failures.
    pub(crate) static KEPT: RefCell<Option<Arc<Kept>>> = const { RefCell::new(None) };
}

/// Whether the current request or job keeps lines below its level.
#[inline]
pub(crate) fn keeping() -> bool {
    KEPT.with(|c| c.try_borrow().is_ok_and(|k| k.is_some()))
}

/// Calls `f` with the current request's or job's kept lines, if it keeps any.
///
/// Like [`with_txid`], `f` gets its own handle: no borrow of the thread's
/// slot is held while it runs (it reads values, whose `Debug` may enter
/// the scopes again through `txid::propagate_fn`).
pub(crate) fn with_kept(f: impl FnOnce(&Kept)) {
    if let Some(kept) = current(&KEPT) {
        f(&kept);
    }
}

/// Calls `f` with the current transaction id.
///
/// `f` formats a line, and so runs the `Display` of its values, which may
/// enter a txid scope of its own (`txid::scope_sync`): the id is shared
/// (one reference count) rather than borrowed from the thread's slot for
/// as long as `f` runs, which would make that scope panic.
pub(crate) fn with_txid<R>(f: impl FnOnce(Option<&str>) -> R) -> R {
    let id = current_txid();
    f(id.as_deref())
}

/// The current transaction id, shared.
pub(crate) fn current_txid() -> Option<Arc<str>> {
    current(&TXID)
}

/// A clone of the value in force in `key`.
pub(crate) fn current<T: Clone + 'static>(key: &'static LocalKey<RefCell<Option<T>>>) -> Option<T> {
    key.with(|c| c.try_borrow().ok().and_then(|v| v.clone()))
}

/// A value to put in force for a scope, or `Keep` to leave the outer one.
#[derive(Debug)]
pub(crate) enum Slot<T> {
    Keep,
    Set(Option<T>),
}

/// Swaps a slot's value with the thread's for as long as it lives.
pub(crate) struct Enter<'a, T: 'static> {
    key: &'static LocalKey<RefCell<Option<T>>>,
    value: Option<&'a mut Option<T>>,
}

impl<'a, T> Enter<'a, T> {
    pub(crate) fn new(key: &'static LocalKey<RefCell<Option<T>>>, slot: &'a mut Slot<T>) -> Self {
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
