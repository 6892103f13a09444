//! Lines per second to a file, logwire beside its peers, in one run.
//!
//! Run: `cargo bench -p logwire --bench throughput`
//!
//! - `file/…`: `info!` with two fields, single thread, readable format:
//!   logwire to a rotating file (1 MiB × 10, process-safe, lossless);
//!   tracing-subscriber's fmt to a `Mutex<BufWriter<File>>`;
//!   tracing-appender's non-blocking writer, lossless, to a file.
//!   Then, with the stack `logwire::init` installs (registry, `EnvFilter`,
//!   `logwire::layer`): logwire's `info!` (`logwire_under_init`) and
//!   `tracing::info!` written through `logwire::layer`
//!   (`tracing_through_logwire_layer`).
//! - `disabled/…`: a `debug!` under an INFO logger vs tracing's `debug!`
//!   under an INFO filter.
//! - `processes/logwire_4`: four processes on one rotating file.
//! - After criterion: the peak RSS of a process writing 1M lines.

use std::fs::File;
use std::hint::black_box;
use std::io::BufWriter;
use std::path::Path;
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion, Throughput};
use logwire::{Level, Logger};
use tracing_subscriber::filter::LevelFilter;

const MESSAGE_FIELDS: (&str, u64) = ("/api/builds", 200);

fn rotating(dir: &Path) -> Logger {
    Logger::builder("bench")
        .root(dir)
        .max_bytes(1_048_576)
        .backups(10)
        .level(Level::INFO)
        .build()
}

fn file_lines(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let (path, status) = MESSAGE_FIELDS;
    let mut g = c.benchmark_group("file");
    g.throughput(Throughput::Elements(1));

    let log = rotating(dir.path());
    g.bench_function("logwire_rotating", |b| {
        b.iter(|| logwire::info!(log, "REQUEST_END", path = path, status_code = status))
    });
    log.flush();

    let file = File::create(dir.path().join("fmt.log")).expect("file");
    let fmt = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(Mutex::new(BufWriter::new(file)))
        .with_max_level(LevelFilter::INFO)
        .finish();
    tracing::subscriber::with_default(fmt, || {
        g.bench_function("tracing_fmt_bufwriter", |b| {
            b.iter(|| tracing::info!(path = path, status_code = status, "REQUEST_END"))
        });
    });

    let file = File::create(dir.path().join("appender.log")).expect("file");
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .finish(file);
    let appender = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(writer)
        .with_max_level(LevelFilter::INFO)
        .finish();
    tracing::subscriber::with_default(appender, || {
        g.bench_function("tracing_appender_lossless", |b| {
            b.iter(|| tracing::info!(path = path, status_code = status, "REQUEST_END"))
        });
    });
    drop(guard);
    g.finish();
}

/// Under `logwire::init`, the process's global stack: last, since it stays.
fn under_init(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let (path, status) = MESSAGE_FIELDS;
    let mut g = c.benchmark_group("file");
    g.throughput(Throughput::Elements(1));
    let log = rotating(dir.path());
    logwire::init(&log);
    g.bench_function("logwire_under_init", |b| {
        b.iter(|| logwire::info!(log, "REQUEST_END", path = path, status_code = status))
    });
    g.bench_function("tracing_through_logwire_layer", |b| {
        b.iter(|| tracing::info!(path = path, status_code = status, "REQUEST_END"))
    });
    log.flush();
    g.finish();
}

fn disabled(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut g = c.benchmark_group("disabled");
    let log = rotating(dir.path());
    g.bench_function("logwire_debug_under_info", |b| {
        b.iter(|| logwire::debug!(log, "CACHE_MISS", key = black_box(7)))
    });
    let fmt = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(std::io::sink)
        .with_max_level(LevelFilter::INFO)
        .finish();
    tracing::subscriber::with_default(fmt, || {
        g.bench_function("tracing_debug_under_info", |b| {
            b.iter(|| tracing::debug!(key = black_box(7), "CACHE_MISS"))
        });
    });
    g.finish();
}

/// Environment variable that turns this binary into a writer child.
const CHILD: &str = "LOGWIRE_BENCH_CHILD";

fn child_main(spec: &str) {
    // "lines DIR N" or "rss DIR N"
    let parts: Vec<&str> = spec.split(' ').collect();
    let (mode, dir, n) = (parts[0], parts[1], parts[2].parse::<u64>().expect("count"));
    let log = rotating(Path::new(dir));
    for i in 0..n {
        logwire::info!(log, "REQUEST_END", path = "/api/builds", status_code = 200, i = i);
    }
    log.flush();
    if mode == "rss" {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let hwm = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap_or("VmHWM: ?");
        println!("{hwm}");
    }
}

fn spawn_child(mode: &str, dir: &Path, n: u64) -> Command {
    let mut cmd = Command::new(std::env::current_exe().expect("own path"));
    cmd.env(CHILD, format!("{mode} {} {n}", dir.display()));
    cmd
}

fn processes(c: &mut Criterion) {
    const PROCS: u64 = 4;
    const PER_PROC: u64 = 500_000;
    let mut g = c.benchmark_group("processes");
    g.sample_size(10);
    g.throughput(Throughput::Elements(PROCS * PER_PROC));
    g.bench_function("logwire_4_on_one_file", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let dir = tempfile::tempdir().expect("temp dir");
                let start = Instant::now();
                let mut children: Vec<_> = (0..PROCS)
                    .map(|_| spawn_child("lines", dir.path(), PER_PROC).spawn().expect("spawn"))
                    .collect();
                for c in &mut children {
                    assert!(c.wait().expect("wait").success());
                }
                total += start.elapsed();
            }
            total
        })
    });
    g.finish();
}

fn peak_rss() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = spawn_child("rss", dir.path(), 1_000_000).output().expect("run");
    println!(
        "rss/logwire_1M_lines: peak {}",
        String::from_utf8_lossy(&out.stdout).trim()
    );
}

criterion_group!(benches, file_lines, disabled, processes, under_init);

fn main() {
    if let Ok(spec) = std::env::var(CHILD) {
        child_main(&spec);
        return;
    }
    benches();
    peak_rss();
    Criterion::default().configure_from_args().final_summary();
}
