//! The cost of `#[service]` on a method, beside the plain method and
//! `#[tracing::instrument]`, in one run.
//!
//! Run: `cargo bench -p logwire --bench service`
//!
//! - `disabled/…`: METHOD_END's level is off (an INFO logger), vs the plain
//!   method and vs `#[instrument(level = "debug")]` under a subscriber that
//!   filters the span out; sync and async.
//! - `enabled/…`: one line per call to a real rotating file, vs
//!   `#[instrument]` + tracing-subscriber fmt with `FmtSpan::CLOSE` to a
//!   file (tracing's one line per call).

use std::fs::File;
use std::future::Future;
use std::hint::black_box;
use std::io::BufWriter;
use std::pin::pin;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

use criterion::{criterion_group, criterion_main, Criterion};
use logwire::{Level, Logger};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::format::FmtSpan;

#[logwire::service]
#[derive(Debug)]
pub struct Counter {
    logger: Logger,
}

#[logwire::service]
impl Counter {
    #[inline(never)]
    pub fn add(&self, a: u64) -> u64 {
        a.wrapping_mul(3).wrapping_add(1)
    }

    pub async fn add_async(&self, a: u64) -> u64 {
        a.wrapping_mul(3).wrapping_add(1)
    }
}

#[derive(Debug)]
pub struct Plain;

impl Plain {
    #[inline(never)]
    pub fn add(&self, a: u64) -> u64 {
        a.wrapping_mul(3).wrapping_add(1)
    }

    pub async fn add_async(&self, a: u64) -> u64 {
        a.wrapping_mul(3).wrapping_add(1)
    }
}

#[derive(Debug)]
pub struct Traced;

impl Traced {
    #[inline(never)]
    #[tracing::instrument(level = "debug", skip(self))]
    pub fn add(&self, a: u64) -> u64 {
        a.wrapping_mul(3).wrapping_add(1)
    }

    #[tracing::instrument(level = "debug", skip(self))]
    pub async fn add_async(&self, a: u64) -> u64 {
        a.wrapping_mul(3).wrapping_add(1)
    }

    #[inline(never)]
    #[tracing::instrument(skip(self))]
    pub fn add_info(&self, a: u64) -> u64 {
        a.wrapping_mul(3).wrapping_add(1)
    }
}

/// Polls a future that never waits to completion, built in place as an
/// `.await` would: passing it by value to a function copies it, and that
/// copy's loads stall on the stores that just built it (measured: 13 ns of
/// a 15 ns result were that stall, for every variant alike).
macro_rules! ready {
    ($fut:expr) => {{
        let mut fut = pin!($fut);
        let mut cx = Context::from_waker(Waker::noop());
        loop {
            if let Poll::Ready(v) = Future::poll(fut.as_mut(), &mut cx) {
                break v;
            }
        }
    }};
}

fn disabled(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let counter = Counter::new(Logger::builder("bench").root(dir.path()).level(Level::INFO).build());
    let mut g = c.benchmark_group("disabled");
    g.bench_function("plain_sync", |b| b.iter(|| Plain.add(black_box(1))));
    g.bench_function("service_sync", |b| b.iter(|| counter.add(black_box(1))));
    g.bench_function("plain_async", |b| b.iter(|| ready!(Plain.add_async(black_box(1)))));
    g.bench_function("service_async", |b| b.iter(|| ready!(counter.add_async(black_box(1)))));
    let filtered = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(std::io::sink)
        .with_max_level(LevelFilter::INFO)
        .finish();
    tracing::subscriber::with_default(filtered, || {
        g.bench_function("instrument_sync", |b| b.iter(|| Traced.add(black_box(1))));
        g.bench_function("instrument_async", |b| {
            b.iter(|| ready!(Traced.add_async(black_box(1))))
        });
    });
    g.finish();
}

fn enabled(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let counter = Counter::new(Logger::builder("bench").root(dir.path()).level(Level::DEBUG).build());
    let mut g = c.benchmark_group("enabled");
    g.bench_function("service_sync_to_file", |b| b.iter(|| counter.add(black_box(1))));
    counter.logger.flush();
    let file = File::create(dir.path().join("fmt.log")).expect("file");
    let fmt = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(Mutex::new(BufWriter::new(file)))
        .with_span_events(FmtSpan::CLOSE)
        .with_max_level(LevelFilter::INFO)
        .finish();
    tracing::subscriber::with_default(fmt, || {
        g.bench_function("instrument_close_to_file", |b| b.iter(|| Traced.add_info(black_box(1))));
    });
    g.finish();
}

criterion_group!(benches, disabled, enabled);
criterion_main!(benches);
