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
