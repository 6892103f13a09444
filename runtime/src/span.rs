//! The service method a line is logged in, for the JSON `method` key.
//!
//! Kept in a thread-local that `#[service]` methods set around their body
//! (and around each poll of an async body), like the transaction id.

use std::cell::Cell;

thread_local! {
    static METHOD: Cell<Option<&'static str>> = const { Cell::new(None) };
}

/// The innermost service method on this thread, if any.
pub(crate) fn current() -> Option<&'static str> {
    METHOD.with(Cell::get)
}

/// Sets the current method until dropped; restores the outer one.
#[doc(hidden)]
#[derive(Debug)]
pub struct MethodGuard(Option<&'static str>);

impl MethodGuard {
    #[doc(hidden)]
    #[inline]
    pub fn enter(method: &'static str) -> Self {
        MethodGuard(METHOD.with(|m| m.replace(Some(method))))
    }
}

impl Drop for MethodGuard {
    #[inline]
    fn drop(&mut self) {
        METHOD.with(|m| m.set(self.0));
    }
}
