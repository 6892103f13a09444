//! The app as a newcomer runs it: real processes, a random free port,
//! temporary LOG_ROOT and DATA_DIR, a real HTTP client.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use logwire_tests::{line_regex, parse_line};

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
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut request = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
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
