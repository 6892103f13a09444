//! The API layer: exact lines, ids, errors and panics logged exactly once,
//! secrets kept out, and a real server that survives a panic.

use std::time::{Duration, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use logwire::axum::{ApiError, ApiLayer, ErrorDetail};
use logwire::{Captured, Level, Logger};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tower::ServiceExt;

fn logger() -> (Logger, Captured) {
    Logger::builder("api")
        .level(Level::DEBUG)
        .clock(|| UNIX_EPOCH + Duration::from_millis(1_735_732_800_123))
        .build_capture()
}

#[logwire::service]
struct WorkService {
    logger: Logger,
}

#[logwire::service]
impl WorkService {
    #[log(off)]
    async fn work(&self, n: u32) -> u32 {
        for _ in 0..3 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        logwire::info!(self.logger, "WORK", n = n);
        n
    }
}

async fn health() -> &'static str {
    "ok"
}

async fn fail_with_detail() -> Response {
    let mut response = (StatusCode::INTERNAL_SERVER_ERROR, "oops").into_response();
    response.extensions_mut().insert(ErrorDetail::new("database is locked"));
    response
}

async fn fail_without_detail() -> StatusCode {
    StatusCode::SERVICE_UNAVAILABLE
}

async fn bad_request_with_detail() -> Response {
    let mut response = (StatusCode::BAD_REQUEST, "bad").into_response();
    response.extensions_mut().insert(ErrorDetail::new("client sent junk"));
    response
}

async fn api_error() -> Result<String, ApiError> {
    let n: u32 = "nope".parse()?;
    Ok(n.to_string())
}

async fn not_found() -> Result<String, ApiError> {
    Err(ApiError::new(StatusCode::NOT_FOUND, "no such \"build\""))
}

async fn panic_str() -> &'static str {
    panic!("handler exploded")
}

async fn panic_string() -> &'static str {
    let n = 7;
    panic!("exploded with {n}")
}

async fn panic_other() -> &'static str {
    std::panic::panic_any(42u32)
}

async fn library_event() -> &'static str {
    tracing::info!(rows = 2, "sqlx query done");
    "ok"
}

async fn work(builds: WorkService, axum::extract::Path(n): axum::extract::Path<u32>) -> String {
    builds.work(n).await.to_string()
}

fn app(logger: Logger) -> Router {
    Router::new()
        .route("/api/health", get(health))
        .route("/fail", get(fail_with_detail))
        .route("/fail-bare", get(fail_without_detail))
        .route("/bad", get(bad_request_with_detail))
        .route("/api-error", get(api_error))
        .route("/not-found", get(not_found))
        .route("/panic", get(panic_str))
        .route("/panic-string", get(panic_string))
        .route("/panic-other", get(panic_other))
        .route("/library", get(library_event))
        .route("/work/{n}", get(work))
        .layer(ApiLayer::new(logger))
}

async fn get_path(app: Router, path: &str) -> Response {
    app.oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap()
}

async fn text(response: Response) -> String {
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn request_id(response: &Response) -> String {
    response.headers()["x-request-id"].to_str().unwrap().to_owned()
}

/// Lines with duration_ms masked.
fn masked(cap: &Captured) -> Vec<String> {
    let re = regex::Regex::new(r"duration_ms=[0-9.]+").unwrap();
    cap.lines()
        .iter()
        .map(|l| re.replace(l, "duration_ms=D").into_owned())
        .collect()
}

#[tokio::test]
async fn start_and_end_lines_under_a_fresh_uuid() {
    let (log, cap) = logger();
    let response = get_path(app(log), "/api/health").await;
    assert_eq!(response.status(), StatusCode::OK);
    let id = request_id(&response);
    let uuid = regex::Regex::new(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$").unwrap();
    assert!(uuid.is_match(&id), "{id}");
    assert_eq!(cap.records().len(), 1, "REQUEST_END waits for the end of the body");
    assert_eq!(text(response).await, "ok");
    assert_eq!(
        masked(&cap),
        [
            format!("[{id}] 2025-01-01 12:00:00.123Z - api - INFO - REQUEST_START | method=GET path=/api/health"),
            format!("[{id}] 2025-01-01 12:00:00.123Z - api - INFO - REQUEST_END | method=GET path=/api/health status_code=200 duration_ms=D"),
        ]
    );
    assert_eq!(logwire::txid::current(), None, "no id leaks out of the request");
}

#[tokio::test]
async fn every_request_gets_its_own_id() {
    let (log, _) = logger();
    let a = request_id(&get_path(app(log.clone()), "/api/health").await);
    let b = request_id(&get_path(app(log), "/api/health").await);
    assert_ne!(a, b);
}

#[tokio::test]
async fn the_query_string_and_authorization_never_reach_the_log() {
    let (log, cap) = logger();
    let req = Request::get("/api/health?token=QUERY-SECRET-1&x=1")
        .header("authorization", "Bearer HEADER-SECRET-2")
        .body(Body::empty())
        .unwrap();
    let response = app(log).oneshot(req).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(text(response).await, "ok");
    let all = cap.text();
    assert!(all.contains("path=/api/health "));
    assert!(!all.contains("QUERY-SECRET-1"), "{all}");
    assert!(!all.contains("HEADER-SECRET-2"), "{all}");
}

#[tokio::test]
async fn a_5xx_with_detail_writes_one_error_line_and_the_detail_stays_home() {
    let (log, cap) = logger();
    let response = get_path(app(log), "/fail").await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(response.extensions().get::<ErrorDetail>().is_none());
    let id = request_id(&response);
    let errors: Vec<String> = masked(&cap).into_iter().filter(|l| l.contains(" - ERROR - ")).collect();
    assert_eq!(
        errors,
        [format!(
            r#"[{id}] 2025-01-01 12:00:00.123Z - api - ERROR - REQUEST_ERROR | method=GET path=/fail status_code=500 error="database is locked""#
        )]
    );
    assert!(!text(response).await.contains("locked"));
}

#[tokio::test]
async fn a_5xx_without_detail_says_so() {
    let (log, cap) = logger();
    let response = get_path(app(log), "/fail-bare").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let errors: Vec<_> = cap.records().into_iter().filter(|r| r.level == Level::ERROR).collect();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].message, "REQUEST_ERROR");
    assert_eq!(errors[0].field("status_code").unwrap(), "503");
    assert!(errors[0]
        .field("error")
        .unwrap()
        .to_string()
        .starts_with("no ErrorDetail on the response"));
}

#[tokio::test]
async fn a_4xx_detail_is_removed_without_an_error_line() {
    let (log, cap) = logger();
    let response = get_path(app(log), "/bad").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.extensions().get::<ErrorDetail>().is_none());
    assert!(cap.records().iter().all(|r| r.level != Level::ERROR));
}

#[tokio::test]
async fn api_error_answers_json_and_logs_the_cause() {
    let (log, cap) = logger();
    let response = get_path(app(log.clone()), "/api-error").await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(text(response).await, r#"{"error":"internal server error"}"#);
    let error = cap.records().into_iter().find(|r| r.level == Level::ERROR).unwrap();
    assert_eq!(error.field("error").unwrap(), "invalid digit found in string");

    let response = get_path(app(log), "/not-found").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(text(response).await, r#"{"error":"no such \"build\""}"#);
}

async fn assert_panic_logged(path: &str, message: &str) {
    let (log, cap) = logger();
    let response = get_path(app(log), path).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let id = request_id(&response);
    assert_eq!(
        text(response).await,
        format!(r#"{{"error":"internal server error","request_id":"{id}"}}"#)
    );
    let records = cap.records();
    let errors: Vec<_> = records.iter().filter(|r| r.level == Level::ERROR).collect();
    assert_eq!(errors.len(), 1, "exactly one ERROR line: {:#?}", cap.lines());
    let e = errors[0];
    assert_eq!(e.message, "REQUEST_PANIC");
    assert_eq!(e.txid.as_deref(), Some(id.as_str()));
    assert_eq!(e.field("panic").unwrap(), message);
    let location = e.field("location").unwrap().to_string();
    assert!(location.starts_with("tests/tests/api_layer.rs:"), "{location}");
    let end = records.iter().find(|r| r.message == "REQUEST_END").unwrap();
    assert_eq!(end.field("status_code").unwrap(), "500");
}

#[tokio::test]
async fn panics_become_a_500_with_one_error_line() {
    assert_panic_logged("/panic", "handler exploded").await;
    assert_panic_logged("/panic-string", "exploded with 7").await;
    assert_panic_logged("/panic-other", "panic payload is not a string").await;
}

#[tokio::test]
async fn library_tracing_events_carry_the_request_id() {
    use tracing_subscriber::prelude::*;
    let (log, cap) = logger();
    let (outside, outside_cap) = Logger::capture("outside");
    let _stack = tracing::subscriber::set_default(tracing_subscriber::registry().with(logwire::layer(&outside)));
    let response = get_path(app(log), "/library").await;
    // The request's logger, not the layer's own, gets the request's events.
    assert!(outside_cap.records().is_empty());
    let id = request_id(&response);
    let event = cap
        .records()
        .into_iter()
        .find(|r| r.message == "sqlx query done")
        .unwrap();
    assert_eq!(event.txid.as_deref(), Some(id.as_str()));
    assert_eq!(event.field("rows").unwrap(), "2");
}

#[tokio::test]
async fn client_ids_are_used_only_when_asked_and_safe() {
    let (log, cap) = logger();
    let with = |id: &str| {
        Request::get("/api/health")
            .header("x-request-id", id)
            .body(Body::empty())
            .unwrap()
    };
    let default = app(log.clone()).oneshot(with("proxy-id-1")).await.unwrap();
    assert_ne!(request_id(&default), "proxy-id-1");

    let trusting = Router::new()
        .route("/api/health", get(health))
        .layer(ApiLayer::new(log).accept_request_id(true));
    let accepted = trusting.clone().oneshot(with("proxy-id.1_A")).await.unwrap();
    assert_eq!(request_id(&accepted), "proxy-id.1_A");
    let refused = trusting.oneshot(with("evil] id")).await.unwrap();
    assert_ne!(request_id(&refused), "evil] id");
    assert!(!cap.text().contains("evil"));
}

// A real server on 127.0.0.1:0, driven over real TCP connections.

async fn serve(logger: Logger) -> std::net::SocketAddr {
    serve_app(app(logger)).await
}

/// One HTTP/1.1 exchange on a kept-alive connection: (status, x-request-id, body).
async fn exchange(stream: &mut TcpStream, path: &str) -> (u16, String, String) {
    let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let header_end = loop {
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).into_owned();
    let header = |name: &str| {
        head.lines()
            .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case(name)))
            .map(|(_, v)| v.trim().to_owned())
    };
    let length: usize = header("content-length").unwrap().parse().unwrap();
    while buf.len() < header_end + length {
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed mid-body");
        buf.extend_from_slice(&chunk[..n]);
    }
    let status = head[9..12].parse().unwrap();
    let body = String::from_utf8_lossy(&buf[header_end..header_end + length]).into_owned();
    (status, header("x-request-id").unwrap_or_default(), body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_does_not_cost_the_connection_or_the_server() {
    let (log, cap) = logger();
    let addr = serve(log).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let (status, id, body) = exchange(&mut stream, "/panic").await;
    assert_eq!(status, 500);
    assert_eq!(
        body,
        format!(r#"{{"error":"internal server error","request_id":"{id}"}}"#)
    );
    // Same connection, next request.
    let (status, _, body) = exchange(&mut stream, "/api/health").await;
    assert_eq!((status, body.as_str()), (200, "ok"));
    let panics = cap
        .records()
        .into_iter()
        .filter(|r| r.message == "REQUEST_PANIC")
        .count();
    assert_eq!(panics, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_hundred_concurrent_requests_never_cross_ids() {
    let (log, cap) = logger();
    let addr = serve(log).await;
    let clients: Vec<_> = (0..300u32)
        .map(|n| {
            tokio::spawn(async move {
                let mut stream = TcpStream::connect(addr).await.unwrap();
                let (status, id, body) = exchange(&mut stream, &format!("/work/{n}")).await;
                assert_eq!((status, body), (200, n.to_string()));
                (n, id)
            })
        })
        .collect();
    let mut ids = std::collections::HashMap::new();
    for c in clients {
        let (n, id) = c.await.unwrap();
        ids.insert(n.to_string(), id);
    }
    let work: Vec<_> = cap.records().into_iter().filter(|r| r.message == "WORK").collect();
    assert_eq!(work.len(), 300);
    let crossed = work
        .iter()
        .filter(|r| r.txid.as_ref() != ids.get(&r.field("n").unwrap().to_string()))
        .count();
    assert_eq!(crossed, 0);
}

/// logwire keeps off stderr only the panics `ApiLayer` catches and logs; a
/// panic the handler catches itself is printed as the standard hook prints
/// it, with the request's id (real `axum::serve`, real client).
#[test]
fn only_the_panics_the_layer_catches_are_kept_off_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let out = logwire_tests::child("api-panic", dir.path(), 3).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        [
            "/boom HTTP/1.1 500 Internal Server Error",
            "/boom HTTP/1.1 500 Internal Server Error",
            "/boom HTTP/1.1 500 Internal Server Error",
            "/caught-inside HTTP/1.1 200 OK",
        ]
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("caught by the layer"), "{stderr}");
    assert!(
        stderr.contains("outside any request"),
        "other panics still reach the hook: {stderr}"
    );
    let log = std::fs::read_to_string(dir.path().join("child.log")).unwrap();
    assert_eq!(log.lines().filter(|l| l.contains("REQUEST_PANIC")).count(), 3);
    // The handler's own catch_unwind: printed once, where and what, with the txid.
    let inside = log.lines().find(|l| l.contains("path=/caught-inside")).unwrap();
    let txid = logwire_tests::parse_line(inside).unwrap().txid.unwrap();
    let printed: Vec<&str> = stderr
        .lines()
        .skip_while(|l| !l.contains("panicked at"))
        .take(3)
        .collect();
    assert_eq!(printed.len(), 3, "{stderr}");
    assert!(printed[0].starts_with("thread '"), "{stderr}");
    assert!(
        printed[0].contains("panicked at tests/src/bin/logwire-child.rs:"),
        "{stderr}"
    );
    assert_eq!(printed[1], "boom inside");
    assert_eq!(
        printed[2],
        format!("note: caught inside request or job {txid}, not by logwire")
    );
    assert_eq!(stderr.matches("boom inside").count(), 1, "{stderr}");
}

#[tokio::test]
async fn quiet_paths_write_start_and_end_at_debug_and_errors_at_error() {
    let quiet = |level: Level| {
        let (log, cap) = Logger::builder("api").level(level).build_capture();
        let app = Router::new()
            .route("/api/health", get(health))
            .route("/api/healthy", get(health))
            .route("/fail", get(fail_with_detail))
            .layer(ApiLayer::new(log).quiet_paths(["/api/health", "/fail"]));
        (app, cap)
    };
    let messages = |cap: &Captured| -> Vec<String> {
        cap.records()
            .iter()
            .map(|r| format!("{} {}", r.level, r.message))
            .collect()
    };

    let (app, cap) = quiet(Level::INFO);
    assert_eq!(
        get_path(app.clone(), "/api/health?probe=1").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        messages(&cap),
        Vec::<String>::new(),
        "a quiet path writes nothing at INFO"
    );
    get_path(app.clone(), "/api/healthy").await;
    assert_eq!(
        messages(&cap),
        ["INFO REQUEST_START", "INFO REQUEST_END"],
        "only exact paths are quiet"
    );
    cap.clear();
    assert_eq!(get_path(app, "/fail").await.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(messages(&cap), ["ERROR REQUEST_ERROR"]);

    let (app, cap) = quiet(Level::DEBUG);
    get_path(app, "/api/health").await;
    assert_eq!(messages(&cap), ["DEBUG REQUEST_START", "DEBUG REQUEST_END"]);
}

/// Serves `app` on a real listener; its address.
async fn serve_app(app: Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// One request on its own connection; what came back before it closed.
async fn fetch_raw(addr: std::net::SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut bytes = Vec::new();
    // A body cut short by the server ends the read with an error or EOF.
    let _ = stream.read_to_end(&mut bytes).await;
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A body of three chunks 30 ms apart; `fail` says what happens instead
/// of the third.
fn slow_body(fail: Option<&'static str>) -> Body {
    let chunks = futures_util::stream::unfold(0u32, move |i| async move {
        if i == 3 {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
        let item = match (i, fail) {
            (2, Some("panic")) => panic!("stream broke"),
            (2, Some(error)) => Err(std::io::Error::other(error)),
            _ => Ok(format!("chunk{i};")),
        };
        Some((item, i + 1))
    });
    Body::from_stream(chunks)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_end_waits_for_the_body_and_a_failing_body_is_one_error_line() {
    let (log, cap) = Logger::builder("api").level(Level::INFO).build_capture();
    let app = Router::new()
        .route("/stream", get(|| async { slow_body(None) }))
        .route("/stream-error", get(|| async { slow_body(Some("disk gone")) }))
        .route("/stream-panic", get(|| async { slow_body(Some("panic")) }))
        .layer(ApiLayer::new(log));
    let addr = serve_app(app).await;
    let lines = |path: &str| -> Vec<logwire::Record> {
        cap.records()
            .into_iter()
            .filter(|r| r.field("path").is_some_and(|p| p == path))
            .collect()
    };

    let response = fetch_raw(addr, "/stream").await;
    assert!(
        response.contains("chunk0;") && response.contains("chunk2;"),
        "{response}"
    );
    let records = lines("/stream");
    let messages: Vec<&str> = records.iter().map(|r| r.message.as_str()).collect();
    assert_eq!(messages, ["REQUEST_START", "REQUEST_END"]);
    let Some(logwire::Value::F64(ms)) = records[1].field("duration_ms") else {
        panic!()
    };
    assert!(*ms >= 90.0, "duration_ms counts to the end of the body: {ms}");

    for (path, message, text) in [
        ("/stream-error", "REQUEST_BODY_ERROR", "disk gone"),
        ("/stream-panic", "REQUEST_PANIC", "stream broke"),
    ] {
        let response = fetch_raw(addr, path).await;
        assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
        assert!(
            response.contains("chunk1;") && !response.contains("chunk2;"),
            "{response}"
        );
        // The server is done with the request once the connection closed.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while lines(path).len() < 3 && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let records = lines(path);
        let messages: Vec<&str> = records.iter().map(|r| r.message.as_str()).collect();
        assert_eq!(messages, ["REQUEST_START", message, "REQUEST_END"], "{path}");
        let txid = records[0].txid.clone().unwrap();
        assert!(
            records.iter().all(|r| r.txid.as_deref() == Some(txid.as_str())),
            "{path}"
        );
        assert_eq!(records[1].level, Level::ERROR);
        let error = records[1]
            .field(if message == "REQUEST_PANIC" { "panic" } else { "error" })
            .unwrap();
        assert!(error.to_string().contains(text), "{path}: {error}");
        assert_eq!(records[2].field("status_code"), Some(&logwire::Value::U64(200)));
    }
}

/// Any tower service with any response body takes the layer (tower-http's
/// bodies, `String`, …), not only axum's `Body`.
#[tokio::test]
async fn a_service_with_another_body_type_is_logged_too() {
    use tower::Layer;
    let (log, cap) = logger();
    let plain = tower::service_fn(|_req: Request<Body>| async {
        Ok::<_, std::convert::Infallible>(axum::http::Response::new(String::from("plain text")))
    });
    let svc = ApiLayer::new(log).layer(plain);
    let response = svc
        .oneshot(Request::get("/plain").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let id = response.headers()["x-request-id"].to_str().unwrap().to_owned();
    let body = axum::body::to_bytes(response.into_body(), 1024).await.unwrap();
    assert_eq!(&body[..], b"plain text");
    let messages: Vec<String> = cap
        .records()
        .iter()
        .map(|r| format!("{} {}", r.txid.as_deref().unwrap_or(""), r.message))
        .collect();
    assert_eq!(messages, [format!("{id} REQUEST_START"), format!("{id} REQUEST_END")]);
}
