//! A child process for logwire's integration tests: each mode does one thing
//! a real program does and then leaves `main` the way the test asks.
//!
//! Usage: `logwire-child MODE ROOT COUNT` (ROOT `env`: `file_logger`, which
//! reads `LOG_ROOT`)
//! - `return`: log COUNT lines to `{ROOT}/child.log`, return from main
//!   without flushing;
//! - `panic`: log COUNT lines, then panic out of main;
//! - `exit`: log COUNT lines, then `std::process::exit(3)`;
//! - `fallback`: log COUNT lines to a file logger whose root is ROOT (a path
//!   that cannot be a directory);
//! - `console`: log COUNT lines to `console_logger` (stdout; ROOT unused);
//! - `api-panic`: serve COUNT panicking requests and one whose handler
//!   catches its own panic through `ApiLayer` with a logger in ROOT, on a
//!   real `axum::serve` with a real client (printing each status line),
//!   then panic once outside any request;
//! - `worker`: a poll loop over three queued jobs, each logging COUNT
//!   steps 50 ms apart, touching `{ROOT}/job-started` when one begins; stop
//!   it with SIGTERM;
//! - `sighup`: reopen on SIGHUP, log COUNT lines, touch `{ROOT}/ready`, wait
//!   for `{ROOT}/go`, log COUNT more;
//! - `init`: `logwire::init` with a logger in ROOT at its default level
//!   (`LOG_LEVEL`), then `try_init` again (its error goes to stderr), then
//!   library events of `hyper` and `sqlx` at DEBUG, INFO and WARN and the
//!   logger's own `APP_DEBUG` and `APP_INFO`;
//! - `diskfull`: log COUNT lines (rotating at `CHILD_MAX_BYTES`, 10 backups)
//!   in batches of 10, each batch flushed,
//!   touch `{CHILD_SYNC}/ready`, wait for `{CHILD_SYNC}/go`, log COUNT more
//!   (for a disk that fills up and then has room again);
//! - `script`: run a script through `JobLog::run_script` that starts a
//!   background `sleep` (pid in `{ROOT}/background.pid`), writes its own pid
//!   to `{ROOT}/script.pid` and sleeps for a minute (kill this process
//!   meanwhile);
//! - `sighup-tokio`: a tokio SIGHUP stream first, then `reopen_on_sighup`;
//!   log COUNT lines, touch `{ROOT}/ready`, wait (10 s at most) for the
//!   stream to see a SIGHUP, print `tokio saw SIGHUP`, log `AFTER`;
//! - `firehose`: log as fast as it can, each line stamped `t=` with
//!   CLOCK_MONOTONIC in nanoseconds, rotating at `CHILD_MAX_BYTES` with 10
//!   backups, until killed;
//! - `diagnose`: print `logwire::diagnose()` (ROOT and COUNT unused);
//! - `stress`: wait for `{ROOT}/go`, then log COUNT lines as process
//!   `CHILD_PROC` to logger `stress`, rotating at `CHILD_MAX_BYTES` with
//!   `CHILD_BACKUPS` backups (a number or `unlimited`);
//! - `shared`: with umask 0002 (the systemd units' `UMask=`), log COUNT
//!   lines rotating at `CHILD_MAX_BYTES`, keeping 200 backups.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

extern "C" {
    fn umask(mask: u32) -> u32;
}

/// What every mode is given.
struct Args {
    root: String,
    count: u64,
}

/// A mode's function.
type Mode = fn(&Args) -> ExitCode;

/// Each mode, one function.
const MODES: &[(&str, Mode)] = &[
    ("return", return_from_main),
    ("fallback", return_from_main),
    ("panic", panic_out_of_main),
    ("exit", exit_3),
    ("console", console),
    ("shared", shared),
    ("diskfull", diskfull),
    ("firehose", firehose),
    ("script", script),
    ("worker", worker_mode),
    ("api-panic", api_panic),
    ("sighup", sighup),
    ("sighup-tokio", sighup_tokio_mode),
    ("init", init_mode),
    ("init-probe", init_probe),
    ("init-later", init_later),
    ("diagnose", diagnose),
    ("stress", stress),
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [mode, root, count] = args.as_slice() else {
        eprintln!("usage: logwire-child MODE ROOT COUNT");
        return ExitCode::from(2);
    };
    let Ok(count) = count.parse::<u64>() else {
        eprintln!("COUNT must be a number, got {count:?}");
        return ExitCode::from(2);
    };
    let Some((_, run)) = MODES.iter().find(|(name, _)| name == mode) else {
        eprintln!("unknown mode {mode:?}");
        return ExitCode::from(2);
    };
    run(&Args {
        root: root.clone(),
        count,
    })
}

/// The logger `child` in ROOT (`env`: `file_logger`, which reads `LOG_ROOT`).
fn logger(root: &str) -> logwire::Logger {
    match root {
        "env" => logwire::file_logger("child"),
        root => logwire::Logger::builder("child").root(root).build(),
    }
}

fn max_bytes(default: u64) -> u64 {
    std::env::var("CHILD_MAX_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// This process's number among several: `CHILD_PROC`, else 0.
fn child_proc() -> u64 {
    std::env::var("CHILD_PROC")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// COUNT lines `LINE | proc=… seq=…` (`proc` from `CHILD_PROC`).
fn lines(log: &logwire::Logger, count: u64) {
    let proc = child_proc();
    for seq in 0..count {
        logwire::info!(
            log,
            "LINE",
            proc = proc,
            seq = seq,
            pad = "0123456789abcdef0123456789abcdef0123456789"
        );
    }
}

fn return_from_main(a: &Args) -> ExitCode {
    lines(&logger(&a.root), a.count);
    ExitCode::SUCCESS
}

fn panic_out_of_main(a: &Args) -> ExitCode {
    lines(&logger(&a.root), a.count);
    panic!("child panics after {} lines", a.count);
}

fn exit_3(a: &Args) -> ExitCode {
    lines(&logger(&a.root), a.count);
    std::process::exit(3);
}

fn console(a: &Args) -> ExitCode {
    lines(&logwire::console_logger("child"), a.count);
    ExitCode::SUCCESS
}

fn shared(a: &Args) -> ExitCode {
    // SAFETY: umask only swaps the process's file creation mask.
    unsafe { umask(0o002) };
    let log = logwire::Logger::builder("child")
        .root(&a.root)
        .max_bytes(max_bytes(1_048_576))
        .backups(200)
        .build();
    lines(&log, a.count);
    ExitCode::SUCCESS
}

fn diskfull(a: &Args) -> ExitCode {
    let log = logwire::Logger::builder("child")
        .root(&a.root)
        .max_bytes(max_bytes(1_048_576))
        .build();
    let sync = std::path::PathBuf::from(std::env::var_os("CHILD_SYNC").expect("CHILD_SYNC is set"));
    let batch = |from: u64| {
        for seq in from..from + a.count {
            logwire::info!(
                log,
                "LINE",
                proc = 0,
                seq = seq,
                pad = "0123456789abcdef0123456789abcdef"
            );
            if seq % 10 == 9 {
                log.flush();
            }
        }
        log.flush();
    };
    batch(0);
    let _ = std::fs::write(sync.join("ready"), b"");
    while !sync.join("go").exists() {
        std::thread::sleep(Duration::from_millis(5));
    }
    batch(a.count);
    ExitCode::SUCCESS
}

fn firehose(a: &Args) -> ExitCode {
    let log = logwire::Logger::builder("child")
        .root(&a.root)
        .max_bytes(max_bytes(65_536))
        .backups(10)
        .build();
    for seq in 0.. {
        logwire::info!(
            log,
            "LINE",
            t = logwire_tests::monotonic_ns(),
            seq = seq,
            pad = "0123456789abcdef0123456789abcdef"
        );
    }
    ExitCode::SUCCESS
}

fn script(a: &Args) -> ExitCode {
    let root = Path::new(&a.root);
    let job = logwire::joblog::JobLog::open(root.join("job.log")).expect("job log");
    let mut cmd = std::process::Command::new("sh");
    cmd.arg("-c").arg(format!(
        "sleep 60 & echo $! > {}; echo $$ > {}; sleep 60; true",
        root.join("background.pid").display(),
        root.join("script.pid").display()
    ));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let _ = runtime.block_on(job.run_script(cmd, "Running build"));
    ExitCode::SUCCESS
}

fn worker_mode(a: &Args) -> ExitCode {
    worker(logger(&a.root), &a.root, a.count);
    ExitCode::SUCCESS
}

fn api_panic(a: &Args) -> ExitCode {
    api_panics(logger(&a.root), a.count);
    // Not inside a request: the default hook must still report it.
    let _ = std::thread::spawn(|| panic!("outside any request")).join();
    ExitCode::SUCCESS
}

fn sighup(a: &Args) -> ExitCode {
    if let Err(e) = logwire::reopen_on_sighup() {
        eprintln!("cannot install the SIGHUP handler: {e}");
        return ExitCode::from(1);
    }
    let log = logger(&a.root);
    lines(&log, a.count);
    log.flush();
    let dir = Path::new(&a.root);
    let _ = std::fs::write(dir.join("ready"), b"");
    while !dir.join("go").exists() {
        std::thread::sleep(Duration::from_millis(5));
    }
    for seq in a.count..2 * a.count {
        logwire::info!(log, "LINE", proc = 0, seq = seq);
    }
    ExitCode::SUCCESS
}

fn sighup_tokio_mode(a: &Args) -> ExitCode {
    sighup_tokio(&logger(&a.root), &a.root, a.count)
}

/// `init` with the child's logger (see [`init`]), then library events in
/// the scope of an INFO logger `quiet` (`quiet.log`).
fn init_mode(a: &Args) -> ExitCode {
    init(&logger(&a.root));
    let quiet = logwire::Logger::builder("quiet")
        .root(&a.root)
        .level(logwire::Level::INFO)
        .build();
    quiet.in_scope(|| {
        tracing::debug!(target: "hyper::proto", "quiet hyper debug");
        tracing::info!(target: "hyper::proto", "quiet hyper info");
    });
    quiet.flush();
    ExitCode::SUCCESS
}

/// `init`, then library events each after a probe that asks whether
/// something would be logged and logs nothing (as sqlx's query log asks
/// before it builds its event): `first` … `fourth` in `child.log`, `quiet
/// fifth` in `quiet.log`, the scope of an INFO logger.
fn init_probe(a: &Args) -> ExitCode {
    use tracing::metadata::Kind;
    use tracing::Level;

    let log = logger(&a.root);
    logwire::init(&log);
    let quiet = logwire::Logger::builder("quiet")
        .root(&a.root)
        .level(logwire::Level::INFO)
        .build();
    tracing::info!(target: "lib", "first");
    let _ = tracing::enabled!(target: "lib", Level::INFO);
    tracing::info!(target: "lib", "second");
    let _ = tracing::enabled!(target: "logwire", Level::INFO);
    tracing::info!(target: "lib", "third");
    let _ = tracing::span_enabled!(target: "lib", Level::INFO);
    tracing::info!(target: "lib", "fourth");
    quiet.in_scope(|| {
        let _ = tracing::enabled!(kind: Kind::EVENT, target: "lib", Level::DEBUG);
        tracing::info!(target: "lib", "quiet fifth");
    });
    log.flush();
    quiet.flush();
    ExitCode::SUCCESS
}

/// `init` with the child's logger, then a DEBUG logger `verbose` built
/// after it: a library DEBUG event in its scope (`verbose.log`).
fn init_later(a: &Args) -> ExitCode {
    let log = logger(&a.root);
    logwire::init(&log);
    tracing::debug!(target: "lib", "before");
    let verbose = logwire::Logger::builder("verbose")
        .root(&a.root)
        .level(logwire::Level::DEBUG)
        .build();
    verbose.in_scope(|| tracing::debug!(target: "lib", "verbose debug"));
    verbose.flush();
    log.flush();
    ExitCode::SUCCESS
}

/// Logger `stress` rotating at `CHILD_MAX_BYTES` keeping `CHILD_BACKUPS`
/// (a number or `unlimited`); waits for `{ROOT}/go` (so that several
/// processes start together), then COUNT lines of about 120 bytes.
fn stress(a: &Args) -> ExitCode {
    let builder = logwire::Logger::builder("stress")
        .root(&a.root)
        .max_bytes(max_bytes(1_048_576));
    let log = match std::env::var("CHILD_BACKUPS").as_deref() {
        Ok("unlimited") => builder.unlimited_backups(),
        Ok(n) => builder.backups(n.parse().expect("CHILD_BACKUPS is a number or unlimited")),
        Err(_) => builder,
    }
    .build();
    let proc = child_proc();
    let go = Path::new(&a.root).join("go");
    while !go.exists() {
        std::thread::sleep(Duration::from_micros(200));
    }
    for seq in 0..a.count {
        logwire::info!(
            log,
            "LINE",
            proc = proc,
            seq = seq,
            pad = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMN"
        );
    }
    ExitCode::SUCCESS
}

fn diagnose(_: &Args) -> ExitCode {
    print!("{}", logwire::diagnose());
    ExitCode::SUCCESS
}

fn sighup_tokio(log: &logwire::Logger, root: &str, count: u64) -> ExitCode {
    use tokio::signal::unix::{signal, SignalKind};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let mut hup = signal(SignalKind::hangup()).expect("tokio's SIGHUP stream");
        logwire::reopen_on_sighup().expect("logwire's SIGHUP handler");
        for seq in 0..count {
            logwire::info!(log, "BEFORE", seq = seq);
        }
        log.flush();
        let _ = std::fs::write(std::path::Path::new(root).join("ready"), b"");
        match tokio::time::timeout(std::time::Duration::from_secs(10), hup.recv()).await {
            Ok(Some(())) => println!("tokio saw SIGHUP"),
            _ => {
                println!("tokio never saw SIGHUP");
                return ExitCode::FAILURE;
            }
        }
        // logwire's reopen runs on its own thread: give it a moment.
        std::thread::sleep(std::time::Duration::from_millis(200));
        logwire::info!(log, "AFTER");
        log.flush();
        ExitCode::SUCCESS
    })
}

fn init(log: &logwire::Logger) {
    logwire::init(log);
    if let Err(e) = logwire::try_init(log) {
        eprintln!("{e}");
    }
    tracing::debug!(target: "hyper::proto", "hyper debug");
    tracing::info!(target: "hyper::proto", "hyper info");
    tracing::warn!(target: "hyper::proto", "hyper warn");
    tracing::debug!(target: "sqlx::query", "sqlx debug");
    tracing::info!(target: "sqlx::query", "sqlx info");
    tracing::warn!(target: "sqlx::query", "sqlx warn");
    logwire::debug!(log, "APP_DEBUG");
    logwire::info!(log, "APP_INFO");
    log.flush();
}

fn api_panics(log: logwire::Logger, count: u64) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn boom() -> &'static str {
        panic!("caught by the layer")
    }
    async fn caught_inside() -> &'static str {
        let caught = std::panic::catch_unwind(|| panic!("boom inside"));
        assert!(caught.is_err());
        "survived"
    }
    let app = axum::Router::new()
        .route("/boom", axum::routing::get(boom))
        .route("/caught-inside", axum::routing::get(caught_inside))
        .layer(logwire::axum::ApiLayer::new(log));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        let paths = (0..count).map(|_| "/boom").chain(["/caught-inside"]);
        for path in paths {
            let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
            let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
            stream.write_all(request.as_bytes()).await.expect("send");
            let mut response = String::new();
            stream.read_to_string(&mut response).await.expect("receive");
            // The client's view, for the test.
            println!("{path} {}", response.lines().next().unwrap_or(""));
        }
    });
}

fn worker(log: logwire::Logger, root: &str, steps: u64) {
    use std::time::Duration;

    let started = std::path::Path::new(root).join("job-started");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        // Three jobs queued; each poll takes one.
        let mut job = 0u32;
        let stopped = logwire::worker::poll_loop(&log, Duration::from_secs(10), || {
            job += 1;
            let (log, started, id) = (log.clone(), started.clone(), job);
            async move {
                if id > 3 {
                    return false;
                }
                let _ = logwire::worker::run_job(&log, format!("job-{id}"), async {
                    std::fs::write(&started, b"").map_err(|e| e.to_string())?;
                    for step in 0..steps {
                        logwire::info!(log, "STEP", step = step);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    Ok::<_, String>(())
                })
                .await;
                true
            }
        })
        .await;
        if let Err(e) = stopped {
            eprintln!("the poll loop could not start: {e}");
        }
    });
}
