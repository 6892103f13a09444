//! A disabled level allocates nothing and formats nothing; an enabled one
//! allocates nothing per line once its buffers are warm.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::fmt;

use logwire::{Level, Logger};

struct Counting;

thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations(f: impl FnOnce()) -> usize {
    let before = ALLOCS.with(Cell::get);
    f();
    ALLOCS.with(Cell::get) - before
}

struct Loud;

impl fmt::Display for Loud {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        panic!("a disabled event must not format its fields")
    }
}

#[test]
fn a_disabled_level_allocates_and_formats_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let log = Logger::builder("api").root(dir.path()).level(Level::INFO).build();
    let n = allocations(|| {
        for i in 0..1000 {
            logwire::debug!(log, "NOT_WRITTEN", i = i, loud = %Loud, text = "abc");
        }
    });
    log.flush();
    assert_eq!(n, 0);
}

#[test]
fn an_enabled_file_line_allocates_nothing_once_warm() {
    let dir = tempfile::tempdir().unwrap();
    let log = Logger::builder("api").root(dir.path()).build();
    logwire::info!(log, "WARM_UP", a = 1, b = "x y");
    log.flush();
    let n = allocations(|| {
        for i in 0..100 {
            logwire::info!(log, "REQUEST_END", status_code = 200, path = "/api/builds", i = i);
        }
    });
    log.flush();
    assert_eq!(n, 0);
}

/// A layer that reads every field of every event and keeps nothing.
#[derive(Clone, Default)]
struct Reading(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl tracing::field::Visit for Reading {
    fn record_i64(&mut self, _: &tracing::field::Field, v: i64) {
        self.0.fetch_add(v as usize, std::sync::atomic::Ordering::Relaxed);
    }
    fn record_str(&mut self, _: &tracing::field::Field, v: &str) {
        self.0.fetch_add(v.len(), std::sync::atomic::Ordering::Relaxed);
    }
    fn record_debug(&mut self, _: &tracing::field::Field, v: &dyn fmt::Debug) {
        use fmt::Write as _;
        // Formats into a sink that keeps nothing, as a formatter would.
        struct Count<'a>(&'a std::sync::atomic::AtomicUsize);
        impl fmt::Write for Count<'_> {
            fn write_str(&mut self, s: &str) -> fmt::Result {
                self.0.fetch_add(s.len(), std::sync::atomic::Ordering::Relaxed);
                Ok(())
            }
        }
        let _ = write!(Count(&self.0), "{v:?}");
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Reading {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        event.record(&mut self.clone());
    }
}

/// logwire's lines handed to an interested layer of the stack: the line is
/// written and the event dispatched with every field, and once warm that
/// allocates nothing (the callsite is a `static`; values are borrowed).
#[test]
fn a_line_mirrored_to_an_interested_layer_allocates_nothing_once_warm() {
    use tracing_subscriber::prelude::*;

    let reading = Reading::default();
    let stack = tracing_subscriber::registry().with(reading.clone());
    let _stack = tracing::subscriber::set_default(stack);
    let dir = tempfile::tempdir().unwrap();
    let log = Logger::builder("api").root(dir.path()).build();
    let path = std::path::Path::new("/srv/app");
    let line = |i: i64| {
        logwire::info!(log, "REQUEST_END", status_code = 200, path = "/api/builds", i = i, at = ?path, who = %"admin");
    };
    line(0);
    log.flush();
    let seen = reading.0.load(std::sync::atomic::Ordering::Relaxed);
    assert!(seen > 0, "the layer saw nothing");
    let n = allocations(|| {
        for i in 0..100 {
            line(i);
        }
    });
    log.flush();
    assert_eq!(n, 0);
    assert!(reading.0.load(std::sync::atomic::Ordering::Relaxed) >= seen * 100);
}
