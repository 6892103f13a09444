//! When buffered lines reach the file.
//!
//! File sinks gather whole lines and write them in batches. This module
//! makes sure nothing stays in a buffer:
//! - a background thread writes pending lines within [`FLUSH_DELAY`] of the
//!   first one, however quiet the logger is, at once when a full batch is
//!   waiting, and sleeps while nothing is pending; logging threads write
//!   only when it falls behind;
//! - an `atexit` hook writes everything when `main` returns or
//!   `std::process::exit` is called;
//! - a panic hook writes everything before the panic message is printed
//!   (this matters with `panic = "abort"`, where no `atexit` hook runs);
//! - after a `fork`, the child has no flusher thread (starting one between
//!   `fork` and `exec` is unsafe): its sinks write each line as it is
//!   logged, so a child that `exec`s or leaves with `_exit` loses nothing,
//!   until [`start`] runs again in it (`Logger::reopen`, a new file logger).
//!
//! What a `SIGKILL` (or any death that skips `exit`) can lose: the lines
//! not yet written: those of the last [`FLUSH_DELAY`] (25 ms) for a process
//! that has its file to itself; more while other processes hold the file's
//! lock (see the crate docs for the measured figures).

use std::sync::atomic::{fence, AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use super::registry::{open_sinks, try_open_sinks};

/// How long a line may wait in a buffer before the flusher writes it.
pub(crate) const FLUSH_DELAY: Duration = Duration::from_millis(25);

/// The flusher thread of this process. Never held while another lock is
/// taken, so the fork hooks can take it last.
static FLUSHER: Mutex<Option<Thread>> = Mutex::new(None);
/// True when this process has a flusher thread; false in a forked child
/// until it starts its own, and when no thread could be started: sinks then
/// write every line as it is logged.
static ACTIVE: AtomicBool = AtomicBool::new(false);
/// True while the flusher sleeps with nothing pending and must be woken.
static IDLE: AtomicBool = AtomicBool::new(false);
/// A full batch is waiting: write it now, without the usual delay.
static URGENT: AtomicBool = AtomicBool::new(false);

fn flusher() -> MutexGuard<'static, Option<Thread>> {
    FLUSHER.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Starts this process's flusher thread, unless it has one.
pub(crate) fn start() {
    if ACTIVE.load(Ordering::Acquire) {
        return;
    }
    let mut slot = flusher();
    if slot.is_some() {
        return;
    }
    // Without a thread, sinks write every line as it is logged.
    if let Ok(handle) = thread::Builder::new().name("logwire-flush".into()).spawn(run) {
        *slot = Some(handle.thread().clone());
        ACTIVE.store(true, Ordering::Release);
    }
}

/// Whether this process has a flusher thread; without one a sink writes
/// each line itself.
#[inline]
pub(crate) fn active() -> bool {
    ACTIVE.load(Ordering::Relaxed)
}

/// The flusher's lock, held across a `fork` by the fork hooks.
pub(crate) struct Hold(MutexGuard<'static, Option<Thread>>);

pub(crate) fn hold() -> Hold {
    Hold(flusher())
}

impl Hold {
    /// In a forked child: the parent's thread does not exist here.
    pub(crate) fn forget_in_child(mut self) {
        ACTIVE.store(false, Ordering::Relaxed);
        IDLE.store(false, Ordering::Relaxed);
        URGENT.store(false, Ordering::Relaxed);
        // The handle's memory stays allocated: freeing is not for a fork hook.
        std::mem::forget(self.0.take());
    }
}

/// Called after a sink's buffer went from empty to non-empty.
#[inline]
pub(crate) fn notify() {
    // Pairs with the fence in `run`: either the flusher sees our line or we
    // see that it is idle and wake it.
    fence(Ordering::SeqCst);
    if IDLE.load(Ordering::Relaxed) {
        if let Some(t) = flusher().as_ref() {
            t.unpark();
        }
    }
}

/// Called when a sink's buffer reached a full batch: the flusher writes it
/// at once, so the logging thread does not have to.
pub(crate) fn wake_now() {
    URGENT.store(true, Ordering::SeqCst);
    if let Some(t) = flusher().as_ref() {
        t.unpark();
    }
}

fn run() {
    loop {
        IDLE.store(true, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        if !open_sinks().iter().any(|s| s.has_pending()) {
            thread::park();
        }
        IDLE.store(false, Ordering::SeqCst);
        if !URGENT.swap(false, Ordering::SeqCst) {
            // Let more lines gather so that a burst is written in few
            // batches; a full batch cuts the wait short.
            thread::park_timeout(FLUSH_DELAY);
            URGENT.store(false, Ordering::SeqCst);
        }
        flush_all();
    }
}

/// Writes every pending line of every file sink of this process.
pub(crate) fn flush_all() {
    for sink in open_sinks() {
        sink.flush();
    }
}

/// Like [`flush_all`], for hooks that may run while another thread holds a
/// sink: waits a bounded time instead of risking a deadlock.
pub(crate) fn flush_all_bounded() {
    let deadline = Instant::now() + Duration::from_secs(2);
    let sinks = loop {
        match try_open_sinks() {
            Some(sinks) => break sinks,
            None if Instant::now() < deadline => thread::sleep(Duration::from_millis(1)),
            None => return,
        }
    };
    for sink in sinks {
        while !sink.try_flush() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(1));
        }
    }
}
