//! DEBUG lines kept for failures (`debug_on_failure`): written before a
//! failed request's or job's ERROR line with their own txid, dropped on
//! success; over a real server and client.

use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use logwire::axum::ApiLayer;
use logwire::{Captured, Format, Level, Logger};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn logger() -> (Logger, Captured) {
    Logger::builder("api")
        .level(Level::INFO)
        .debug_on_failure(3)
        .build_capture()
}

#[logwire::service]
struct Steps {
    logger: Logger,
}

#[logwire::service]
impl Steps {
    /// Five DEBUG lines 5 ms apart (requests side by side interleave), then
    /// its METHOD_END at DEBUG: six below INFO.
    async fn run(&self, tag: &str) -> u32 {
        for step in 0..5 {
            logwire::debug!(self.logger, "STEP", tag = tag, step = step);
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        5
    }
}

async fn fails(logger: Logger) -> StatusCode {
    Steps::new(logger).run("fails").await;
    StatusCode::INTERNAL_SERVER_ERROR
}

async fn succeeds(logger: Logger) -> StatusCode {
    Steps::new(logger).run("ok").await;
    StatusCode::OK
}

async fn panics(logger: Logger) -> StatusCode {
    Steps::new(logger).run("panics").await;
    panic!("boom");
}

async fn library(logger: Logger) -> StatusCode {
    for step in 0..2 {
        tracing::debug!(step, "library detail");
    }
    logwire::debug!(logger, "OWN");
    StatusCode::BAD_GATEWAY
}

async fn serve(logger: Logger) -> std::net::SocketAddr {
    let app = Router::new()
        .route("/fails", get(|axum::Extension(l): axum::Extension<Logger>| fails(l)))
        .route("/ok", get(|axum::Extension(l): axum::Extension<Logger>| succeeds(l)))
        .route("/panics", get(|axum::Extension(l): axum::Extension<Logger>| panics(l)))
        .route(
            "/library",
            get(|axum::Extension(l): axum::Extension<Logger>| library(l)),
        )
        .layer(ApiLayer::new(logger).accept_request_id(true));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// One request over its own connection; the status.
async fn get_status(addr: std::net::SocketAddr, path: &str, id: &str) -> u16 {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: t\r\nx-request-id: {id}\r\nConnection: close\r\n\r\n");
    s.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).await.unwrap();
    response[9..12].parse().unwrap()
}

/// `[txid] LEVEL MESSAGE k=v …` of each record.
fn lines(cap: &Captured) -> Vec<String> {
    cap.records()
        .iter()
        .map(|r| {
            let fields: Vec<String> = r
                .fields
                .iter()
                .filter(|(k, _)| {
                    !matches!(
                        k.as_str(),
                        "duration_ms" | "elapsed_ms" | "location" | "method" | "path"
                    )
                })
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            format!(
                "[{}] {} {} {}",
                r.txid.as_deref().unwrap_or(""),
                r.level,
                r.message,
                fields.join(" ")
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_request_writes_its_last_debug_lines_before_its_error() {
    let (log, cap) = logger();
    let addr = serve(log).await;
    assert_eq!(get_status(addr, "/fails", "r-1").await, 500);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let want = [
        "[r-1] INFO REQUEST_START ",
        "[r-1] DEBUG STEP tag=fails step=3",
        "[r-1] DEBUG STEP tag=fails step=4",
        "[r-1] DEBUG METHOD_END tag=fails",
        "[r-1] INFO DEBUG_KEPT written=3 dropped=3",
        "[r-1] ERROR REQUEST_ERROR status_code=500 error=no ErrorDetail on the response: attach logwire::axum::ErrorDetail to say what failed",
        "[r-1] INFO REQUEST_END status_code=500",
    ];
    assert_eq!(lines(&cap), want);
    // The kept lines are written as they were logged: their own times, in order.
    let text = cap.lines();
    assert!(text[1] < text[2] && text[2] < text[3], "{text:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_successful_request_writes_none() {
    let (log, cap) = logger();
    let addr = serve(log).await;
    assert_eq!(get_status(addr, "/ok", "r-2").await, 200);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        lines(&cap),
        ["[r-2] INFO REQUEST_START ", "[r-2] INFO REQUEST_END status_code=200"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_request_writes_them_before_its_panic_line() {
    let (log, cap) = logger();
    let addr = serve(log).await;
    assert_eq!(get_status(addr, "/panics", "r-3").await, 500);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let got = lines(&cap);
    assert_eq!(
        got[1..5],
        [
            "[r-3] DEBUG STEP tag=panics step=3",
            "[r-3] DEBUG STEP tag=panics step=4",
            "[r-3] DEBUG METHOD_END tag=panics",
            "[r-3] INFO DEBUG_KEPT written=3 dropped=3",
        ]
    );
    assert_eq!(got[5], "[r-3] ERROR REQUEST_PANIC panic=boom");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_side_by_side_keep_their_own_lines() {
    let (log, cap) = logger();
    let addr = serve(log).await;
    let (a, b, c) = tokio::join!(
        get_status(addr, "/fails", "a"),
        get_status(addr, "/fails", "b"),
        get_status(addr, "/ok", "c")
    );
    assert_eq!((a, b, c), (500, 500, 200));
    tokio::time::sleep(Duration::from_millis(50)).await;
    let got = lines(&cap);
    for id in ["a", "b"] {
        let kept: Vec<&String> = got
            .iter()
            .filter(|l| l.contains(" DEBUG "))
            .filter(|l| l.starts_with(&format!("[{id}]")))
            .collect();
        assert_eq!(kept.len(), 3, "{got:?}");
        assert!(kept.iter().all(|l| l.contains("tag=fails")), "{got:?}");
        assert!(
            got.contains(&format!("[{id}] INFO DEBUG_KEPT written=3 dropped=3")),
            "{got:?}"
        );
    }
    assert_eq!(got.iter().filter(|l| l.contains(" DEBUG ")).count(), 6, "{got:?}");
    assert!(
        !got.iter().any(|l| l.starts_with("[c]") && l.contains("DEBUG")),
        "{got:?}"
    );
}

/// On one thread, where the test's default subscriber is in force.
#[tokio::test]
async fn library_events_in_the_request_count() {
    use tracing_subscriber::layer::SubscriberExt;
    let (log, cap) = logger();
    let stack = tracing_subscriber::registry().with(logwire::layer(&log));
    let _default = tracing::subscriber::set_default(stack);
    let addr = serve(log).await;
    assert_eq!(get_status(addr, "/library", "lib").await, 502);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let got = lines(&cap);
    assert_eq!(
        got[1..5],
        [
            "[lib] DEBUG library detail target=keep step=0",
            "[lib] DEBUG library detail target=keep step=1",
            "[lib] DEBUG OWN ",
            "[lib] INFO DEBUG_KEPT written=3 dropped=0",
        ],
        "{got:?}"
    );
}

/// `build-1` runs the steps and fails, then `build-2` runs them and succeeds.
async fn a_failed_job_then_a_good_one(log: &Logger, steps: &Steps) {
    let failed = logwire::worker::run_job(log, "build-1", async {
        steps.run("job").await;
        Err::<(), _>("exit code 2")
    })
    .await;
    assert!(failed.is_err());
    let good = logwire::worker::run_job(log, "build-2", async {
        steps.run("job").await;
        Ok::<_, String>(())
    })
    .await;
    assert!(good.is_ok());
}

#[tokio::test]
async fn a_failed_or_panicking_job_writes_them_a_good_one_does_not() {
    let (log, cap) = logger();
    let steps = Steps::new(log.clone());
    a_failed_job_then_a_good_one(&log, &steps).await;
    let panicked = logwire::worker::run_job(&log, "build-3", async {
        steps.run("job").await;
        if std::hint::black_box(true) {
            panic!("disk on fire");
        }
        Ok::<_, String>(())
    })
    .await;
    assert!(panicked.is_err());
    let want = [
        "[build-1] INFO JOB_START ",
        "[build-1] DEBUG STEP tag=job step=3",
        "[build-1] DEBUG STEP tag=job step=4",
        "[build-1] DEBUG METHOD_END tag=job",
        "[build-1] INFO DEBUG_KEPT written=3 dropped=3",
        "[build-1] ERROR JOB_ERROR error=exit code 2",
        "[build-1] INFO JOB_END status=error",
        "[build-2] INFO JOB_START ",
        "[build-2] INFO JOB_END status=ok",
        "[build-3] INFO JOB_START ",
        "[build-3] DEBUG STEP tag=job step=3",
        "[build-3] DEBUG STEP tag=job step=4",
        "[build-3] DEBUG METHOD_END tag=job",
        "[build-3] INFO DEBUG_KEPT written=3 dropped=3",
        "[build-3] ERROR JOB_PANIC panic=disk on fire",
        "[build-3] INFO JOB_END status=panic",
    ];
    assert_eq!(lines(&cap), want);
}

/// In a file, in the JSON format: the kept lines are whole JSON lines with
/// the job's txid; outside a request or job a DEBUG line is neither
/// written nor kept.
#[tokio::test]
async fn kept_lines_reach_the_file_in_json() {
    let dir = tempfile::tempdir().unwrap();
    let log = Logger::builder("worker")
        .root(dir.path())
        .level(Level::INFO)
        .format(Format::Json)
        .debug_on_failure(10)
        .build();
    logwire::debug!(log, "OUTSIDE");
    let _ = logwire::worker::run_job(&log, "deploy-9", async {
        logwire::debug!(log, "PLAN", hosts = 3);
        Err::<(), _>("unreachable host")
    })
    .await;
    log.flush();
    let text = std::fs::read_to_string(dir.path().join("worker.log")).unwrap();
    let messages: Vec<String> = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            format!(
                "{} {} {}",
                v["txid"].as_str().unwrap_or(""),
                v["level"].as_str().unwrap(),
                v["message"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        messages,
        [
            "deploy-9 INFO JOB_START",
            "deploy-9 DEBUG PLAN",
            "deploy-9 INFO DEBUG_KEPT",
            "deploy-9 ERROR JOB_ERROR",
            "deploy-9 INFO JOB_END"
        ]
    );
}

/// What another layer of the stack saw of logwire's lines: `txid message
/// step`, in order.
#[derive(Clone, Default)]
struct Seen(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

struct Fields(std::collections::BTreeMap<String, String>);

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Seen {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        let mut f = Fields(Default::default());
        event.record(&mut f);
        let get = |k: &str| f.0.get(k).cloned().unwrap_or_default();
        self.0.lock().unwrap().push(
            format!(
                "{} {} {} {}",
                get("txid"),
                event.metadata().level(),
                get("message"),
                get("step")
            )
            .trim_end()
            .to_owned(),
        );
    }
}

/// Kept lines that a failure writes reach the other layers of the stack
/// then, as every written line does; those of a good job never do.
#[tokio::test]
async fn kept_lines_written_for_a_failure_reach_the_other_layers() {
    use tracing_subscriber::prelude::*;

    let seen = Seen::default();
    let _stack = tracing::subscriber::set_default(tracing_subscriber::registry().with(seen.clone()));
    let (log, _) = logger();
    a_failed_job_then_a_good_one(&log, &Steps::new(log.clone())).await;
    assert_eq!(
        *seen.0.lock().unwrap(),
        [
            "build-1 INFO JOB_START",
            "build-1 DEBUG STEP 3",
            "build-1 DEBUG STEP 4",
            "build-1 DEBUG METHOD_END",
            "build-1 INFO DEBUG_KEPT",
            "build-1 ERROR JOB_ERROR",
            "build-1 INFO JOB_END",
            "build-2 INFO JOB_START",
            "build-2 INFO JOB_END",
        ]
    );
}

/// A value whose `Debug` logs to the same logger.
struct Chatty(Logger);

impl std::fmt::Debug for Chatty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        logwire::debug!(self.0, "INNER", n = 1);
        f.write_str("chatty")
    }
}

/// Keeping a line whose value logs (and so keeps a line of its own) on the
/// same thread neither deadlocks nor loses either line.
#[test]
fn a_kept_value_that_logs_while_it_is_kept_does_not_deadlock() {
    let (log, cap) = logger();
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let outcome = rt.block_on(logwire::worker::run_job(&log, "build-9", async {
            logwire::debug!(log, "OUTER", v = ?Chatty(log.clone()));
            Err::<(), _>("exit code 1")
        }));
        done.send(outcome.is_err()).unwrap();
    });
    let failed = finished
        .recv_timeout(Duration::from_secs(20))
        .expect("the job ended: keeping a line whose value logs must not deadlock");
    assert!(failed);
    assert_eq!(
        lines(&cap),
        [
            "[build-9] INFO JOB_START ",
            "[build-9] DEBUG INNER n=1",
            "[build-9] DEBUG OUTER v=chatty",
            "[build-9] INFO DEBUG_KEPT written=2 dropped=0",
            "[build-9] ERROR JOB_ERROR error=exit code 1",
            "[build-9] INFO JOB_END status=error",
        ]
    );
}

/// Under a WARN logger that keeps lines, a failed job's `JOB_START` (its
/// fields known only at run time) is kept, written by the failure, and
/// handed to the other layers then.
#[tokio::test]
async fn a_kept_job_start_reaches_the_other_layers_when_written() {
    use tracing_subscriber::prelude::*;

    let seen = Seen::default();
    let _stack = tracing::subscriber::set_default(tracing_subscriber::registry().with(seen.clone()));
    let (log, cap) = Logger::builder("worker")
        .level(Level::WARN)
        .debug_on_failure(10)
        .build_capture();
    let failed = logwire::worker::Job::new(&log, "build-5")
        .field("step", 7u32)
        .run(async { Err::<(), _>("exit code 3") })
        .await;
    assert!(failed.is_err());
    assert_eq!(
        lines(&cap),
        [
            "[build-5] INFO JOB_START step=7",
            "[build-5] INFO DEBUG_KEPT written=1 dropped=0",
            "[build-5] ERROR JOB_ERROR error=exit code 3",
        ]
    );
    assert_eq!(
        *seen.0.lock().unwrap(),
        [
            "build-5 INFO JOB_START 7",
            "build-5 INFO DEBUG_KEPT",
            "build-5 ERROR JOB_ERROR"
        ]
    );
}

/// A kept value whose `Debug` runs code carried with `propagate_fn` (it
/// enters the job's txid, logger and kept lines again): keeping the line
/// must hold none of them while the value is read.
#[test]
fn a_kept_value_that_enters_the_jobs_scopes_again_is_kept_without_a_panic() {
    struct Propagating(Logger);
    impl std::fmt::Debug for Propagating {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            let log = self.0.clone();
            logwire::txid::propagate_fn(move || logwire::debug!(log, "INNER", n = 2))();
            f.write_str("propagating")
        }
    }
    let (log, cap) = logger();
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let outcome = rt.block_on(logwire::worker::run_job(&log, "build-10", async {
        logwire::debug!(log, "OUTER", v = ?Propagating(log.clone()));
        Err::<(), _>("exit code 1")
    }));
    assert!(outcome.is_err());
    assert_eq!(
        lines(&cap),
        [
            "[build-10] INFO JOB_START ",
            "[build-10] DEBUG INNER n=2",
            "[build-10] DEBUG OUTER v=propagating",
            "[build-10] INFO DEBUG_KEPT written=2 dropped=0",
            "[build-10] ERROR JOB_ERROR error=exit code 1",
            "[build-10] INFO JOB_END status=error",
        ]
    );
}
