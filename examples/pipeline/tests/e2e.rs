//! The app as a newcomer runs it: real processes, a random free port,
//! temporary LOG_ROOT and DATA_DIR, a real HTTP client.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use logwire_tests::{line_regex, parse_line};

mod otlp;
use otlp::Receiver;

const ADMIN_PASSWORD: &str = "s3cret-Admin-pw-7731";

struct App {
    child: Child,
    port: u16,
    /// Kept so that the directory lives as long as the app.
    _dir: std::sync::Arc<tempfile::TempDir>,
    logs: PathBuf,
    data: PathBuf,
}

impl App {
    fn start() -> App {
        App::start_in(std::sync::Arc::new(tempfile::tempdir().unwrap()), &[])
    }

    /// The orchestrator with LOG_ROOT and DATA_DIR in `dir` (kept from an
    /// earlier run, for a restart) and extra environment variables.
    fn start_in(dir: std::sync::Arc<tempfile::TempDir>, envs: &[(&str, &str)]) -> App {
        App::start_with(dir, envs, std::process::Stdio::inherit())
    }

    /// [`App::start_in`] with the processes' stderr sent to `stderr`.
    fn start_with(dir: std::sync::Arc<tempfile::TempDir>, envs: &[(&str, &str)], stderr: std::process::Stdio) -> App {
        let (logs, data) = (dir.path().join("logs"), dir.path().join("data"));
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_pipeline"))
            .env("LOG_ROOT", &logs)
            .env("DATA_DIR", &data)
            .env("PORT", port.to_string())
            .env("PIPELINE_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .envs(envs.iter().copied())
            .stdout(std::process::Stdio::null())
            .stderr(stderr)
            .spawn()
            .unwrap();
        let app = App {
            child,
            port,
            _dir: dir,
            logs,
            data,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = std::panic::catch_unwind(|| app.call("GET", "/api/health", None, None)) {
                if r.status == 200 {
                    break;
                }
            }
            assert!(Instant::now() < deadline, "the API did not come up");
            std::thread::sleep(Duration::from_millis(100));
        }
        app
    }

    fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<&str>) -> Response {
        self.call_with(method, path, token, body, &[])
    }

    /// [`App::call`] with extra request headers.
    fn call_with(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Response {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut request = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        if let Some(t) = token {
            request.push_str(&format!("Authorization: Bearer {t}\r\n"));
        }
        let body = body.unwrap_or("");
        if !body.is_empty() {
            request.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        request.push_str("\r\n");
        request.push_str(body);
        stream.write_all(request.as_bytes()).expect("send");
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).expect("read");
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a response head");
        let head = String::from_utf8_lossy(&raw[..split]).into_owned();
        let mut body = raw[split + 4..].to_vec();
        let mut lines = head.lines();
        let status = lines.next().unwrap()[9..12].parse().unwrap();
        let headers: HashMap<String, String> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        if headers.get("transfer-encoding").is_some_and(|t| t == "chunked") {
            body = dechunk(&body);
        }
        Response {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }

    fn json(&self, method: &str, path: &str, token: Option<&str>, body: Option<&str>) -> (u16, serde_json::Value) {
        let r = self.call(method, path, token, body);
        (
            r.status,
            serde_json::from_str(&r.body).unwrap_or(serde_json::Value::Null),
        )
    }

    fn wait_for_status(&self, path: &str, token: &str, want: &str) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (status, v) = self.json("GET", path, Some(token), None);
            assert_eq!(status, 200);
            if v["status"] == want {
                return v;
            }
            assert_ne!(v["status"], "failed", "{path} failed");
            assert!(Instant::now() < deadline, "{path} never reached {want}: {v}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The pid of the orchestrator's latest `service` (`api`, `worker`), from
    /// its SERVICE_STARTED line.
    fn service_pid(&self, service: &str) -> i32 {
        let log = std::fs::read_to_string(self.logs.join("start_services.log")).unwrap();
        log.lines()
            .filter(|l| l.contains(" - SERVICE_STARTED |") && l.contains(&format!("service={service} ")))
            .filter_map(|l| parse_line(l).ok()?.field("pid")?.parse().ok())
            .next_back()
            .unwrap_or_else(|| panic!("no SERVICE_STARTED for {service} in {log}"))
    }

    /// SIGTERM, as systemd or Ctrl-C would; returns the exit code.
    fn stop(&mut self) -> Option<i32> {
        // SAFETY: signalling our own child.
        unsafe { kill(self.child.id() as i32, 15) };
        self.child.wait().unwrap().code()
    }
}

extern "C" {
    fn kill(pid: i32, sig: i32) -> i32;
}

/// The body of a `Transfer-Encoding: chunked` response.
fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(end) = raw.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size = usize::from_str_radix(std::str::from_utf8(&raw[..end]).unwrap().trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&raw[end + 2..end + 2 + size]);
        raw = &raw[end + 2 + size + 2..];
    }
}

struct Response {
    status: u16,
    headers: HashMap<String, String>,
    body: String,
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn a_build_is_followed_from_the_request_to_the_job() {
    let mut app = App::start();

    // Logging in.
    let (status, _) = app.json(
        "POST",
        "/api/login",
        None,
        Some(r#"{"username":"admin","password":"wrong"}"#),
    );
    assert_eq!(status, 401);
    let (status, v) = app.json(
        "POST",
        "/api/login",
        None,
        Some(&format!(r#"{{"username":"admin","password":"{ADMIN_PASSWORD}"}}"#)),
    );
    assert_eq!(status, 200);
    let token = v["session_id"].as_str().unwrap().to_owned();
    assert!(token.len() >= 32, "128+ random bits");

    // Bad input: a clear 4xx, never a 500.
    let build = Some(r#"{"project":"demo"}"#);
    assert_eq!(app.call("POST", "/api/builds", None, build).status, 401);
    assert_eq!(
        app.call("POST", "/api/builds", Some("not-a-session"), build).status,
        401
    );
    assert_eq!(app.call("GET", "/api/builds", None, None).status, 401);
    let malformed = app
        .call("POST", "/api/builds", Some(&token), Some(r#"{"project": "#))
        .status;
    assert!(malformed == 400 || malformed == 422, "malformed JSON: {malformed}");
    assert_eq!(
        app.call("POST", "/api/builds", Some(&token), Some(r#"{"projet":"demo"}"#))
            .status,
        422
    );
    assert_eq!(
        app.call("POST", "/api/builds", Some(&token), Some(r#"{"project":"nope"}"#))
            .status,
        404
    );
    assert_eq!(
        app.call("POST", "/api/builds", Some(&token), Some(r#"{"project":"../demo"}"#))
            .status,
        404
    );
    assert_eq!(app.call("GET", "/api/builds/9999", Some(&token), None).status, 404);
    assert_eq!(app.call("GET", "/api/builds/abc", Some(&token), None).status, 400);
    assert_eq!(
        app.call("POST", "/api/deployments", Some(&token), Some(r#"{"build_id":9999}"#))
            .status,
        404
    );
    assert_eq!(app.call("GET", "/api/deployments/9999", Some(&token), None).status, 404);

    // Queue a build and follow it.
    let queued = app.call("POST", "/api/builds", Some(&token), build);
    assert_eq!(queued.status, 201);
    let request_id = queued.headers["x-request-id"].clone();
    let v: serde_json::Value = serde_json::from_str(&queued.body).unwrap();
    assert_eq!(v["status"], "queued");
    let id = v["id"].as_i64().unwrap();
    let done = app.wait_for_status(&format!("/api/builds/{id}"), &token, "success");
    assert_eq!(done["project"], "demo");
    assert_eq!(done["request_id"], request_id.as_str());
    let (status, list) = app.json("GET", "/api/builds", Some(&token), None);
    assert_eq!(status, 200);
    assert_eq!(list[0]["id"], id);
    let log = app.call("GET", &format!("/api/builds/{id}/log"), Some(&token), None);
    assert_eq!(log.status, 200);
    assert!(log.body.contains("[stdout] compiling demo"), "{}", log.body);
    assert!(log.body.contains("[stderr] warning: demo has no tests"), "{}", log.body);
    assert!(
        log.body.contains("=== Running build: exit code 0 after "),
        "{}",
        log.body
    );

    // Deploy it.
    let (status, d) = app.json(
        "POST",
        "/api/deployments",
        Some(&token),
        Some(&format!(r#"{{"build_id":{id}}}"#)),
    );
    assert_eq!(status, 201);
    let deployment = d["id"].as_i64().unwrap();
    app.wait_for_status(&format!("/api/deployments/{deployment}"), &token, "success");
    // Without OTEL_EXPORTER_OTLP_ENDPOINT, no exporter runs.
    for service in ["api", "worker"] {
        assert_eq!(exporter_threads(app.service_pid(service)), 0, "{service}");
    }

    assert_eq!(app.stop(), Some(0));

    // The request and the job, linked by the request's id.
    let api = std::fs::read_to_string(app.logs.join("api.log")).unwrap();
    let worker = std::fs::read_to_string(app.logs.join("worker.log")).unwrap();
    let start = std::fs::read_to_string(app.logs.join("start_services.log")).unwrap();
    let tagged: Vec<_> = api
        .lines()
        .map(|l| parse_line(l).unwrap())
        .filter(|p| p.txid.as_deref() == Some(request_id.as_str()))
        .collect();
    let messages: Vec<&str> = tagged.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(messages, ["REQUEST_START", "BUILD_QUEUED", "REQUEST_END"]);
    assert_eq!(tagged[0].field("path"), Some("/api/builds"));
    assert_eq!(tagged[2].field("status_code"), Some("201"));
    let job: Vec<_> = worker
        .lines()
        .map(|l| parse_line(l).unwrap())
        .filter(|p| p.txid.as_deref() == Some(format!("build-{id}").as_str()))
        .collect();
    assert_eq!(job[0].message, "JOB_START");
    assert_eq!(job[0].field("origin"), Some(request_id.as_str()));
    assert_eq!(job.last().unwrap().message, "JOB_END");
    assert_eq!(job.last().unwrap().field("status"), Some("ok"));
    assert!(worker.contains(&format!("[deploy-{deployment}] ")));
    assert!(worker.lines().any(|l| l.contains("WORKER_STOP | signal=SIGTERM")));
    assert!(start.lines().any(|l| l.contains("SERVICE_STOPPED | service=api")));

    // Every line of every log follows the format.
    for (name, text) in [
        ("api.log", &api),
        ("worker.log", &worker),
        ("start_services.log", &start),
    ] {
        for line in text.lines() {
            assert!(line_regex().is_match(line), "{name}: {line}");
            parse_line(line).unwrap_or_else(|e| panic!("{name}: {e}: {line}"));
        }
    }

    // The password is nowhere on disk.
    for file in files_under(&app.logs).into_iter().chain(files_under(&app.data)) {
        let bytes = std::fs::read(&file).unwrap();
        let found = bytes
            .windows(ADMIN_PASSWORD.len())
            .any(|w| w == ADMIN_PASSWORD.as_bytes());
        assert!(!found, "the admin password is in {}", file.display());
    }
}

#[test]
fn diagnose_reports_and_exits_by_its_findings() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("logs");
    std::fs::create_dir(&good).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&good, std::fs::Permissions::from_mode(0o2770)).unwrap();
    let run = |root: &Path| {
        Command::new(env!("CARGO_BIN_EXE_pipeline"))
            .arg("diagnose")
            .env("LOG_ROOT", root)
            .output()
            .unwrap()
    };
    let ok = run(&good);
    let text = String::from_utf8_lossy(&ok.stdout);
    assert_eq!(ok.status.code(), Some(0), "{text}");
    assert!(text.contains(&format!("LOG_ROOT: {}", good.display())));
    assert!(text.ends_with("problems: none\n"), "{text}");
    let bad = run(Path::new("/dev/null/logs"));
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stdout).contains("cannot be created: /dev/null is not a directory"));
}

fn login(app: &App) -> String {
    let body = format!(r#"{{"username":"admin","password":"{ADMIN_PASSWORD}"}}"#);
    let (status, v) = app.json("POST", "/api/login", None, Some(&body));
    assert_eq!(status, 200, "{v}");
    v["session_id"].as_str().unwrap().to_owned()
}

fn queue(app: &App, token: &str, project: &str) -> i64 {
    let (status, v) = app.json(
        "POST",
        "/api/builds",
        Some(token),
        Some(&format!(r#"{{"project":"{project}"}}"#)),
    );
    assert_eq!(status, 201, "{v}");
    v["id"].as_i64().unwrap()
}

fn status_of(app: &App, token: &str, id: i64) -> String {
    let (_, v) = app.json("GET", &format!("/api/builds/{id}"), Some(token), None);
    v["status"].as_str().unwrap_or("").to_owned()
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "never: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The OpenTelemetry SDK's threads in process `pid` (their names start
/// with `OpenTelemetry.`).
fn exporter_threads(pid: i32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with("OpenTelemetry"))
        .count()
}

fn running(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|stat| !stat.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'))
}

#[test]
fn a_stopped_worker_claims_nothing_new_and_a_dead_workers_build_is_reclaimed() {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    // A build that takes a while and says which process runs it.
    let slow = dir.path().join("data/projects/slow");
    std::fs::create_dir_all(&slow).unwrap();
    std::fs::write(
        slow.join("build.sh"),
        "echo $$ > \"$PWD/build.pid\"; echo started; sleep 2; echo done\n",
    )
    .unwrap();
    let db = || rusqlite::Connection::open(dir.path().join("data/pipeline.db")).unwrap();
    let status_in_db = |id: i64| -> String {
        db().query_row("SELECT status FROM builds WHERE id = ?1", [id], |r| r.get(0))
            .unwrap()
    };

    // SIGTERM during a build, with a second one queued.
    let mut app = App::start_in(dir.clone(), &[]);
    let token = login(&app);
    let (first, second) = (queue(&app, &token, "slow"), queue(&app, &token, "slow"));
    wait_until("the first build runs", || status_of(&app, &token, first) == "running");
    let stopping = Instant::now();
    assert_eq!(app.stop(), Some(0));
    assert!(stopping.elapsed() < Duration::from_secs(10), "{:?}", stopping.elapsed());
    assert_eq!(status_in_db(first), "success", "the build in hand finished");
    assert_eq!(status_in_db(second), "queued", "a stopping worker claims nothing new");
    let worker_log = std::fs::read_to_string(dir.path().join("logs/worker.log")).unwrap();
    assert_eq!(worker_log.matches(" - JOB_START |").count(), 1, "{worker_log}");

    // The next start runs the second build; its worker dies mid-build.
    std::fs::remove_file(slow.join("build.pid")).unwrap();
    let mut app = App::start_in(dir.clone(), &[]);
    wait_until("the second build runs", || status_of(&app, &token, second) == "running");
    wait_until("the script writes its pid", || slow.join("build.pid").exists());
    let script: i32 = std::fs::read_to_string(slow.join("build.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let worker = app.service_pid("worker");
    // SAFETY: signalling a process of our own test.
    unsafe { kill(worker, 9) };
    app.child.wait().unwrap();
    wait_until("the script dies with its worker", || !running(script));
    assert_eq!(status_in_db(second), "running", "left behind by the dead worker");

    // The next worker reclaims it, says so, and bounds every script.
    let mut app = App::start_in(dir.clone(), &[("PIPELINE_JOB_TIMEOUT_SECS", "1")]);
    wait_until("the build is reclaimed", || status_of(&app, &token, second) == "failed");
    let log = app
        .call("GET", &format!("/api/builds/{second}/log"), Some(&token), None)
        .body;
    assert!(log.contains("[stdout] started\n"), "{log}");
    let last = log.lines().last().unwrap();
    assert!(
        last.contains(" Marked failed: the worker that ran this build ("),
        "{last}"
    );
    assert!(last.ends_with(") is gone"), "{last}");
    let worker_log = std::fs::read_to_string(dir.path().join("logs/worker.log")).unwrap();
    let reclaimed: Vec<&str> = worker_log
        .lines()
        .filter(|l| l.contains(" - JOB_RECLAIMED |"))
        .collect();
    assert_eq!(reclaimed.len(), 1, "{worker_log}");
    assert!(
        reclaimed[0].contains(&format!("kind=build id={second} worker=")),
        "{}",
        reclaimed[0]
    );

    let third = queue(&app, &token, "slow");
    wait_until("a build over its time is failed", || {
        status_of(&app, &token, third) == "failed"
    });
    let log = app
        .call("GET", &format!("/api/builds/{third}/log"), Some(&token), None)
        .body;
    assert!(
        log.contains("=== Running build: timed out after 1 s, killed ("),
        "{log}"
    );
    assert_eq!(app.stop(), Some(0));
}

#[test]
fn five_hundred_clients_logging_in_at_once_do_not_bring_the_api_down() {
    const CLIENTS: usize = 500;
    let app = App::start();
    let api = app.service_pid("api");
    let app = std::sync::Arc::new(app);
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let health = {
        let (app, done) = (app.clone(), done.clone());
        std::thread::spawn(move || {
            let mut slowest = Duration::ZERO;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let start = Instant::now();
                assert_eq!(app.call("GET", "/api/health", None, None).status, 200);
                slowest = slowest.max(start.elapsed());
                std::thread::sleep(Duration::from_millis(100));
            }
            slowest
        })
    };
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(CLIENTS));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (app, barrier) = (app.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let body = format!(r#"{{"username":"admin","password":"{ADMIN_PASSWORD}"}}"#);
                let login = app.call("POST", "/api/login", None, Some(&body));
                match login.status {
                    200 => {
                        let v: serde_json::Value = serde_json::from_str(&login.body).unwrap();
                        let token = v["session_id"].as_str().unwrap();
                        let build = app.call("POST", "/api/builds", Some(token), Some(r#"{"project":"demo"}"#));
                        (200, build.status)
                    }
                    503 => {
                        assert!(login.headers.contains_key("retry-after"), "503 without Retry-After");
                        (503, 0)
                    }
                    other => panic!("login answered {other}: {}", login.body),
                }
            })
        })
        .collect();
    let outcomes: Vec<(u16, u16)> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let slowest_health = health.join().unwrap();
    let status = std::fs::read_to_string(format!("/proc/{api}/status")).unwrap();
    let peak_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    let logged_in = outcomes.iter().filter(|(l, _)| *l == 200).count();
    println!(
        "{CLIENTS} logins: {logged_in} 200, {} 503; api peak RSS {} MiB; slowest health {slowest_health:?}",
        CLIENTS - logged_in,
        peak_kib / 1024
    );
    assert!(logged_in >= CLIENTS / 2, "only {logged_in} logins succeeded");
    assert!(
        outcomes.iter().all(|(l, b)| *l != 200 || *b == 201),
        "a logged-in client's build failed"
    );
    assert!(peak_kib < 1024 * 1024, "peak RSS {peak_kib} KiB");
    assert!(
        slowest_health < Duration::from_secs(2),
        "health took {slowest_health:?}"
    );
    let mut app = std::sync::Arc::into_inner(app).unwrap();
    assert_eq!(app.stop(), Some(0));
}

/// The OTLP environment of a traced app: export to `receiver`, in batches
/// sent every 100 ms (instead of seconds) so that the test is quick.
fn traced(receiver: &Receiver) -> Vec<(&'static str, String)> {
    vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint()),
        // Library events at DEBUG, the exporter's HTTP client's among them.
        ("RUST_LOG", "debug".to_owned()),
        ("LOG_LEVEL", "debug".to_owned()),
        ("OTEL_BSP_SCHEDULE_DELAY", "100".to_owned()),
        ("OTEL_BLRP_SCHEDULE_DELAY", "100".to_owned()),
    ]
}

fn envs<'a>(pairs: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    pairs.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

fn one_span<'a>(spans: &'a [otlp::Span], what: &str, pick: impl Fn(&otlp::Span) -> bool) -> &'a otlp::Span {
    let found: Vec<&otlp::Span> = spans.iter().filter(|s| pick(s)).collect();
    assert_eq!(
        found.len(),
        1,
        "{what}: {found:#?}\namong {:#?}",
        spans.iter().map(|s| (&s.service, &s.name)).collect::<Vec<_>>()
    );
    found[0]
}

#[test]
fn a_build_is_one_trace_from_the_request_to_the_job_in_an_otlp_receiver() {
    let receiver = Receiver::start();
    let otel = traced(&receiver);
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let mut app = App::start_in(dir, &envs(&otel));
    let token = login(&app);

    // A build queued by a request that starts its own trace.
    let queued = app.call("POST", "/api/builds", Some(&token), Some(r#"{"project":"demo"}"#));
    assert_eq!(queued.status, 201);
    let request_id = queued.headers["x-request-id"].clone();
    let build: serde_json::Value = serde_json::from_str(&queued.body).unwrap();
    let id = build["id"].as_i64().unwrap();
    app.wait_for_status(&format!("/api/builds/{id}"), &token, "success");

    // A deployment queued by a caller already in a trace continues it.
    let caller_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let caller_span = "00f067aa0ba902b7";
    let deploy = app.call_with(
        "POST",
        "/api/deployments",
        Some(&token),
        Some(&format!(r#"{{"build_id":{id}}}"#)),
        &[("traceparent", &format!("00-{caller_trace}-{caller_span}-01"))],
    );
    assert_eq!(deploy.status, 201, "{}", deploy.body);
    let deployment = serde_json::from_str::<serde_json::Value>(&deploy.body).unwrap()["id"]
        .as_i64()
        .unwrap();
    app.wait_for_status(&format!("/api/deployments/{deployment}"), &token, "success");
    for service in ["api", "worker"] {
        assert_eq!(
            exporter_threads(app.service_pid(service)),
            2,
            "{service}: one batch thread for spans, one for log records"
        );
    }
    // Both processes send what is left as they stop.
    assert_eq!(app.stop(), Some(0));

    // The REQUEST_START line of the build's request names its trace.
    let api = std::fs::read_to_string(app.logs.join("api.log")).unwrap();
    let start = api
        .lines()
        .map(|l| parse_line(l).unwrap())
        .find(|p| p.txid.as_deref() == Some(request_id.as_str()) && p.message == "REQUEST_START")
        .expect("REQUEST_START of the build's request");
    let trace_id = start.field("trace_id").expect("trace_id on REQUEST_START").to_owned();
    assert_eq!(trace_id.len(), 32);
    let worker = std::fs::read_to_string(app.logs.join("worker.log")).unwrap();
    for line in api.lines().chain(worker.lines()) {
        assert!(line_regex().is_match(line), "{line}");
        let parsed = parse_line(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        // Written inside a trace: the trace id is the last field.
        if let Some(id) = parsed.field("trace_id") {
            assert!(line.ends_with(&format!(" trace_id={id}")), "{line}");
        }
    }
    let job_start = worker
        .lines()
        .map(|l| parse_line(l).unwrap())
        .find(|p| p.txid.as_deref() == Some(format!("build-{id}").as_str()) && p.message == "JOB_START")
        .expect("the build's JOB_START");
    assert_eq!(
        job_start.field("trace_id"),
        Some(trace_id.as_str()),
        "the worker's lines lead to the same trace"
    );

    // request → BuildService::queue → job → the worker's service calls.
    let spans = receiver.spans();
    let request = one_span(&spans, "the build's request", |s| {
        s.name == "request" && s.attributes.get("txid") == Some(&request_id)
    });
    assert_eq!(request.service, "pipeline-api");
    assert_eq!(request.trace_id, trace_id);
    assert_eq!(request.parent_span_id, "", "the request starts the trace");
    assert_eq!(request.attributes["method"], "POST");
    assert_eq!(request.attributes["path"], "/api/builds");
    assert_eq!(request.attributes["status_code"], "201");
    let queue = one_span(&spans, "BuildService::queue", |s| {
        s.name == "BuildService::queue" && s.trace_id == trace_id
    });
    assert_eq!(queue.service, "pipeline-api");
    assert_eq!(queue.parent_span_id, request.span_id);
    assert_eq!(queue.attributes["project"], "demo");
    let job = one_span(&spans, "the build's job", |s| {
        s.name == "job" && s.attributes.get("txid").map(String::as_str) == Some(&format!("build-{id}"))
    });
    assert_eq!(job.service, "pipeline-worker");
    assert_eq!(job.trace_id, trace_id, "the job is in the request's trace");
    assert_eq!(job.parent_span_id, queue.span_id);
    assert_eq!(job.attributes["origin"], request_id);
    let finish = one_span(&spans, "BuildService::finish", |s| {
        s.name == "BuildService::finish" && s.trace_id == trace_id
    });
    assert_eq!(finish.service, "pipeline-worker");
    assert_eq!(finish.parent_span_id, job.span_id);

    // Traces start at requests and jobs only: the worker's idle polls (a
    // claim every 250 ms) would otherwise fill a backend with traces.
    let other_roots: Vec<_> = spans
        .iter()
        .filter(|s| s.parent_span_id.is_empty() && s.name != "request" && s.name != "job")
        .map(|s| (&s.service, &s.name))
        .collect();
    assert!(other_roots.is_empty(), "{other_roots:?}");

    // Log records from both processes, in the trace.
    let logs = receiver.logs();
    let in_trace = |service: &str, body: &str| {
        logs.iter()
            .any(|l| l.service == service && l.body == body && l.trace_id == trace_id)
    };
    assert!(in_trace("pipeline-api", "REQUEST_START"), "{logs:#?}");
    let start_record = logs
        .iter()
        .find(|l| l.body == "REQUEST_START" && l.trace_id == trace_id)
        .unwrap();
    assert_eq!(start_record.attributes["txid"], request_id);
    assert_eq!(start_record.attributes["logger"], "api");
    assert!(in_trace("pipeline-api", "BUILD_QUEUED"), "{logs:#?}");
    assert!(in_trace("pipeline-worker", "JOB_START"), "{logs:#?}");
    assert!(in_trace("pipeline-worker", "BUILD_FINISHED"), "{logs:#?}");

    // The exporter's HTTP client logs (api.log has its lines), but its
    // events are not exported, or every export would log and export again.
    assert!(
        api.lines().any(|l| l.contains(" | target=hyper_util::client")),
        "no line of the exporter's client in api.log: {}",
        api.lines()
            .filter(|l| l.contains("target="))
            .take(20)
            .collect::<Vec<_>>()
            .join("\n")
    );
    let exporter: Vec<_> = logs
        .iter()
        .filter(|l| {
            ["opentelemetry", "reqwest", "hyper_util::client"]
                .iter()
                .any(|t| l.target.starts_with(t))
        })
        .collect();
    assert!(exporter.is_empty(), "{exporter:#?}");

    // The deployment continued its caller's trace, into the worker.
    let deploy_request = one_span(&spans, "the deployment's request", |s| {
        s.name == "request" && s.attributes.get("path").map(String::as_str) == Some("/api/deployments")
    });
    assert_eq!(deploy_request.trace_id, caller_trace);
    assert_eq!(deploy_request.parent_span_id, caller_span);
    let deploy_job = one_span(&spans, "the deployment's job", |s| {
        s.name == "job" && s.attributes.get("txid").map(String::as_str) == Some(&format!("deploy-{deployment}"))
    });
    assert_eq!(deploy_job.service, "pipeline-worker");
    assert_eq!(deploy_job.trace_id, caller_trace);

    // Nothing secret in anything exported.
    let exported = format!("{spans:?}{logs:?}");
    for secret in [ADMIN_PASSWORD, token.as_str()] {
        assert!(!exported.contains(secret), "{secret:?} was exported");
    }
    assert!(
        spans
            .iter()
            .any(|s| s.name == "AuthService::login" && s.attributes.get("password").map(String::as_str) == Some("***")),
        "the login span records the password as ***"
    );
}

#[test]
fn with_the_otlp_receiver_stopped_mid_run_requests_and_builds_still_complete() {
    let mut receiver = Receiver::start();
    let otel = traced(&receiver);
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let stderr_path = dir.path().join("stderr.txt");
    let stderr = std::fs::File::create(&stderr_path).unwrap();
    let mut app = App::start_with(dir.clone(), &envs(&otel), stderr.into());
    let token = login(&app);
    let first = queue(&app, &token, "demo");
    app.wait_for_status(&format!("/api/builds/{first}"), &token, "success");
    let first_txid = format!("build-{first}");
    wait_until("the first build's job span is exported", || {
        receiver
            .spans()
            .iter()
            .any(|s| s.name == "job" && s.attributes.get("txid") == Some(&first_txid))
    });

    receiver.stop();
    let mut ids = Vec::new();
    for _ in 0..3 {
        let id = queue(&app, &token, "demo");
        app.wait_for_status(&format!("/api/builds/{id}"), &token, "success");
        ids.push(id);
    }
    // Long enough for several failed exports of each process.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(app.stop(), Some(0));

    // The api log is complete: every request has its REQUEST_END.
    let api = std::fs::read_to_string(app.logs.join("api.log")).unwrap();
    let parsed: Vec<_> = api.lines().map(|l| parse_line(l).unwrap()).collect();
    let ended = |txid: &Option<String>| parsed.iter().any(|p| &p.txid == txid && p.message == "REQUEST_END");
    for p in parsed.iter().filter(|p| p.message == "REQUEST_START") {
        assert!(ended(&p.txid), "no REQUEST_END for {:?}", p.txid);
    }
    let created = parsed
        .iter()
        .filter(|p| {
            p.message == "REQUEST_END"
                && p.field("path") == Some("/api/builds")
                && p.field("status_code") == Some("201")
        })
        .count();
    assert_eq!(created, 4);
    let worker = std::fs::read_to_string(app.logs.join("worker.log")).unwrap();
    for id in ids {
        assert!(
            worker.contains(&format!("[build-{id}] ")) && worker.contains("JOB_END | status=ok"),
            "build {id}: {worker}"
        );
    }

    // Each process said once that export failed, not once per batch.
    let stderr = std::fs::read_to_string(&stderr_path).unwrap();
    for service in ["pipeline-api", "pipeline-worker"] {
        let warnings = stderr
            .lines()
            .filter(|l| l.starts_with(&format!("{service}: could not export ")))
            .count();
        assert_eq!(warnings, 1, "{service}: {stderr}");
    }
}

#[test]
fn a_collector_that_never_answers_holds_up_no_request_no_job_and_not_the_exit() {
    // Accepts connections and never answers: the worst a collector can do.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", silent.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in silent.incoming() {
            held.push(stream);
        }
    });
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let otel = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ("OTEL_BSP_SCHEDULE_DELAY", "100".to_owned()),
        ("OTEL_BLRP_SCHEDULE_DELAY", "100".to_owned()),
    ];
    let stderr_path = dir.path().join("stderr.txt");
    let stderr = std::fs::File::create(&stderr_path).unwrap();
    let mut app = App::start_with(dir.clone(), &envs(&otel), stderr.into());
    let token = login(&app);
    for _ in 0..3 {
        let asked = Instant::now();
        let id = queue(&app, &token, "demo");
        assert!(
            asked.elapsed() < Duration::from_secs(2),
            "queueing took {:?}",
            asked.elapsed()
        );
        app.wait_for_status(&format!("/api/builds/{id}"), &token, "success");
    }
    let asked = Instant::now();
    assert_eq!(app.stop(), Some(0));
    // The exporters get a few seconds to send what is left, then give up.
    assert!(
        asked.elapsed() < Duration::from_secs(12),
        "stopping took {:?}",
        asked.elapsed()
    );
    let start = std::fs::read_to_string(app.logs.join("start_services.log")).unwrap();
    assert!(!start.contains("SERVICE_KILLED"), "{start}");
    // And each process says what it gave up.
    let stderr = std::fs::read_to_string(&stderr_path).unwrap();
    for service in ["pipeline-api", "pipeline-worker"] {
        let said = format!("{service}: at exit, what was still queued was not sent to http://");
        assert_eq!(stderr.matches(&said).count(), 1, "{stderr}");
    }
}

/// A second user, written straight into the database (the app has no
/// sign-up): `name` with `password`, hashed as the app hashes.
fn add_user(app: &App, name: &str, password: &str) {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let salt = SaltString::encode_b64(b"sixteen byte sal").unwrap();
    let hash = argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .unwrap()
        .to_string();
    let conn = rusqlite::Connection::open(app.data.join("pipeline.db")).unwrap();
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    conn.execute(
        "INSERT INTO users (username, password_hash) VALUES (?1, ?2)",
        (name, hash),
    )
    .unwrap();
}

/// `PUT /api/admin/log-level` writes what `logwire level set` writes, for
/// the admin only; the worker applies it within 2 s.
#[test]
fn the_admin_changes_a_level_from_a_browser_session() {
    let mut app = App::start();
    let admin = login(&app);
    add_user(&app, "ann", "ann-password-1");
    let (status, v) = app.json(
        "POST",
        "/api/login",
        None,
        Some(r#"{"username":"ann","password":"ann-password-1"}"#),
    );
    assert_eq!(status, 200, "{v}");
    let ann = v["session_id"].as_str().unwrap().to_owned();

    let body = r#"{"logger":"worker","level":"debug","minutes":10}"#;
    let path = "/api/admin/log-level";
    assert_eq!(app.call("PUT", path, None, Some(body)).status, 401);
    let (status, v) = app.json("PUT", path, Some(&ann), Some(body));
    assert_eq!(
        (status, v["error"].as_str()),
        (403, Some("only the admin changes log levels"))
    );
    let (status, v) = app.json(
        "PUT",
        path,
        Some(&admin),
        Some(r#"{"logger":"worker","level":"loud","minutes":10}"#),
    );
    assert_eq!(status, 400, "{v}");
    assert_eq!(
        v["error"],
        "level must be one of trace, debug, info, warn, error, off; got \"loud\""
    );
    let (status, _) = app.json(
        "PUT",
        path,
        Some(&admin),
        Some(r#"{"logger":"worker","level":"debug","minutes":0}"#),
    );
    assert_eq!(status, 400);
    assert!(
        !app.logs.join(".logwire-levels").exists(),
        "a refused request wrote the file"
    );

    let (status, v) = app.json("PUT", path, Some(&admin), Some(body));
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        (v["logger"].as_str(), v["level"].as_str()),
        (Some("worker"), Some("debug"))
    );
    let file = std::fs::read_to_string(app.logs.join(".logwire-levels")).unwrap();
    assert!(file.lines().any(|l| l.starts_with("worker debug ")), "{file}");
    let worker_log = app.logs.join("worker.log");
    wait_until("the worker's LEVEL_CHANGED", || {
        std::fs::read_to_string(&worker_log)
            .is_ok_and(|t| t.contains(" - worker - INFO - LEVEL_CHANGED | from=info to=debug until="))
    });
    let api_log = std::fs::read_to_string(app.logs.join("api.log")).unwrap();
    assert!(
        api_log.contains("LOG_LEVEL_SET | logger=worker level=debug until="),
        "{api_log}"
    );
    assert!(!api_log.contains("LEVEL_CHANGED"), "the API's level changed too");
    app.stop();
}

/// The worker keeps each job's DEBUG lines: a failed build has them in
/// `worker.log` before its ERROR line; a good build has none.
#[test]
fn a_failed_build_has_its_debug_lines_written() {
    let mut app = App::start();
    let token = login(&app);
    let broken = app.data.join("projects/broken");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(broken.join("build.sh"), "echo compiling\nexit 3\n").unwrap();
    let bad = queue(&app, &token, "broken");
    let good = queue(&app, &token, "demo");
    wait_until("both builds end", || {
        status_of(&app, &token, bad) == "failed" && status_of(&app, &token, good) == "success"
    });
    app.stop();
    let text = std::fs::read_to_string(app.logs.join("worker.log")).unwrap();
    let of = |id: i64| -> Vec<(String, String)> {
        text.lines()
            .map(|l| parse_line(l).unwrap())
            .filter(|e| e.txid.as_deref() == Some(&format!("build-{id}")))
            .map(|e| (e.level.to_string(), e.message))
            .collect()
    };
    let bad_lines = of(bad);
    let kept = bad_lines
        .iter()
        .position(|(_, m)| m == "DEBUG_KEPT")
        .expect("a DEBUG_KEPT line");
    // The kept lines (the services' METHOD_END) come right before DEBUG_KEPT.
    let first_kept = bad_lines
        .iter()
        .position(|(l, _)| l == "DEBUG")
        .expect("kept DEBUG lines");
    assert!(
        first_kept < kept && bad_lines[first_kept..kept].iter().all(|(l, _)| l == "DEBUG"),
        "{bad_lines:?}"
    );
    assert_eq!(
        bad_lines[kept + 1],
        ("ERROR".to_owned(), "JOB_ERROR".to_owned()),
        "{bad_lines:?}"
    );
    assert!(of(good).iter().all(|(l, _)| l != "DEBUG"), "{:?}", of(good));
}
