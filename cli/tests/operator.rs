//! The `logwire` tool over logs written by real processes.
//!
//! This binary is its own helper: run with `LOGWIRE_CLI_CHILD=api|worker|writer`
//! it is an API process (axum with `ApiLayer`), a worker process (jobs in
//! `Job::run` with their own job logs) or a process that writes and rotates
//! a log, instead of running the tests (libtest-mimic's harness, so the
//! usual filters and `--list` work).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use libtest_mimic::{Arguments, Failed, Trial};
use logwire::read::{self, Entry};
use logwire::{Format, Level, Logger};

const CHILD: &str = "LOGWIRE_CLI_CHILD";
/// Small enough that a request's lines are in a backup by the time it is traced.
const MAX_BYTES: &str = "1500";
const STEPS: u64 = 25;

fn main() {
    if let Ok(role) = std::env::var(CHILD) {
        let root = PathBuf::from(std::env::var("ROOT").expect("ROOT"));
        match role.as_str() {
            "api" => api(&root),
            "worker" => worker(&root),
            "writer" => writer(&root),
            "ticker" => ticker(&root),
            other => panic!("unknown role {other}"),
        }
        return;
    }
    let args = Arguments::from_args();
    let tests = vec![
        Trial::test("trace_follows_a_request_into_its_job_across_rotations", || {
            trace_scenario(false)
        }),
        Trial::test("trace_follows_a_request_into_its_job_in_the_json_format", || {
            trace_scenario(true)
        }),
        Trial::test("trace_json_output_adds_the_file", trace_json_output),
        Trial::test(
            "trace_while_another_process_rotates_finds_each_line_once",
            trace_during_rotation,
        ),
        Trial::test(
            "tail_follow_sees_every_line_through_rotations",
            tail_follow_through_rotation,
        ),
        Trial::test("tail_merges_filters_and_keeps_the_last_lines", tail_filters),
        Trial::test("lnav_reads_every_line_with_its_level_and_time", lnav_reads_every_line),
        Trial::test(
            "levels_change_in_running_processes_and_end_by_themselves",
            levels_at_run_time,
        ),
        Trial::test("errors_are_one_line_with_their_exit_code", errors_are_one_line),
        Trial::test("odd_inputs_a_newcomer_tried", odd_inputs),
    ];
    libtest_mimic::run(&args, tests).exit();
}

fn format() -> Format {
    if std::env::var("FORMAT").as_deref() == Ok("json") {
        Format::Json
    } else {
        Format::Readable
    }
}

fn logger(root: &Path, name: &str) -> Logger {
    Logger::builder(name)
        .root(root)
        .level(Level::INFO)
        .format(format())
        .max_bytes(std::env::var("MAX_BYTES").unwrap_or(MAX_BYTES.into()).parse().unwrap())
        .build()
}

// ---- the child processes ----

/// `POST /builds` queues a job (a file holding the request's txid) in
/// `queue/` beside the root; `GET /noise` logs a line; `GET /fail` an ERROR line.
fn api(root: &Path) {
    use axum::extract::State;
    use axum::routing::{get, post};

    #[derive(Clone)]
    struct App {
        logger: Logger,
        queue: PathBuf,
        next: Arc<AtomicU64>,
    }
    async fn queue_build(State(app): State<App>) -> (axum::http::StatusCode, String) {
        let id = app.next.fetch_add(1, Ordering::SeqCst);
        let txid = logwire::txid::current().unwrap_or_default();
        logwire::info!(app.logger, "BUILD_QUEUED", build_id = id);
        let tmp = app.queue.join(format!("{id}.tmp"));
        std::fs::write(&tmp, &txid).unwrap();
        std::fs::rename(&tmp, app.queue.join(format!("{id}.job"))).unwrap();
        (axum::http::StatusCode::CREATED, id.to_string())
    }
    async fn noise(State(app): State<App>) -> &'static str {
        logwire::info!(app.logger, "NOISE", pad = "abcdefghijklmnopqrstuvwxyz0123456789");
        "ok"
    }
    async fn fail(State(app): State<App>) -> axum::http::StatusCode {
        logwire::warn!(app.logger, "SLOW_DISK", free_mb = 12);
        logwire::error!(app.logger, "SYNC_FAILED", error = "disk full");
        axum::http::StatusCode::SERVICE_UNAVAILABLE
    }
    let logger = logger(root, "api");
    let app = App {
        logger: logger.clone(),
        queue: root.parent().unwrap().join("queue"),
        next: Arc::new(AtomicU64::new(0)),
    };
    let router = axum::Router::new()
        .route("/builds", post(queue_build))
        .route("/noise", get(noise))
        .route("/fail", get(fail))
        .layer(logwire::axum::ApiLayer::new(logger).accept_request_id(true))
        .with_state(app);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("PORT {}", listener.local_addr().unwrap().port());
        axum::serve(listener, router).await.unwrap();
    });
}

/// Waits for `{queue}/go`, then runs every queued job in order, `JOBS` of
/// them, and exits.
fn worker(root: &Path) {
    let logger = logger(root, "worker");
    let queue = root.parent().unwrap().join("queue");
    let jobs_dir = root.parent().unwrap().join("jobs");
    let jobs: u64 = std::env::var("JOBS").unwrap().parse().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        while !queue.join("go").exists() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        for id in 0..jobs {
            let origin = std::fs::read_to_string(queue.join(format!("{id}.job"))).unwrap();
            let log_path = jobs_dir.join(format!("{id}.log"));
            let job = logwire::worker::Job::new(&logger, format!("build-{id}")).field("origin", origin);
            let result = job
                .run(async {
                    let log = logwire::joblog::JobLog::open(&log_path).map_err(|e| e.to_string())?;
                    log.append(&format!("Build {id} started")).map_err(|e| e.to_string())?;
                    // Lines of two files within one millisecond are merged in file
                    // order, not in the order written; the pauses keep them apart.
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    for step in 0..STEPS {
                        logwire::info!(logger, "STEP", n = step, pad = "abcdefghijklmnopqrstuvwxyz");
                        log.append(&format!("step {step}")).map_err(|e| e.to_string())?;
                        tokio::time::sleep(Duration::from_millis(4)).await;
                    }
                    if id == 0 {
                        return Err("the first build fails".to_owned());
                    }
                    log.append("Build finished").map_err(|e| e.to_string())?;
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    Ok(())
                })
                .await;
            assert_eq!(result.is_ok(), id != 0);
        }
    });
    logger.flush();
}

/// Writes `LINES` lines `LINE | seq=N`, one every `PACE_MS`, rotating
/// (keeping every backup when `KEEP_ALL` is set), the first `MARKED` of
/// them under txid `marked`.
fn writer(root: &Path) {
    let mut builder = Logger::builder("writer")
        .root(root)
        .level(Level::INFO)
        .format(format())
        .max_bytes(std::env::var("MAX_BYTES").unwrap_or(MAX_BYTES.into()).parse().unwrap());
    if std::env::var_os("KEEP_ALL").is_some() {
        builder = builder.unlimited_backups();
    }
    let logger = builder.build();
    let marked: u64 = std::env::var("MARKED").map(|m| m.parse().unwrap()).unwrap_or(0);
    for seq in 0..marked {
        logwire::txid::scope_sync("marked", || logwire::info!(logger, "MARKED", seq = seq));
    }
    let lines: u64 = std::env::var("LINES").unwrap().parse().unwrap();
    let pace = Duration::from_millis(std::env::var("PACE_MS").unwrap().parse().unwrap());
    for seq in 0..lines {
        logwire::info!(
            logger,
            "LINE",
            seq = seq,
            pad = "abcdefghijklmnopqrstuvwxyz0123456789abcdefghij"
        );
        logger.flush();
        std::thread::sleep(pace);
    }
}

/// Logger `NAME` at INFO under `logwire::init`, for `SECS` seconds: every
/// 50 ms `TICK` (INFO), `TICK_DEBUG` (DEBUG) and a library's `tracing`
/// DEBUG event in the logger's scope.
fn ticker(root: &Path) {
    let name = std::env::var("NAME").unwrap();
    let secs: u64 = std::env::var("SECS").unwrap().parse().unwrap();
    let log = Logger::builder(&name).root(root).level(Level::INFO).build();
    logwire::init(&log);
    let end = Instant::now() + Duration::from_secs(secs);
    let mut n = 0u64;
    while Instant::now() < end {
        logwire::info!(log, "TICK", n = n);
        logwire::debug!(log, "TICK_DEBUG", n = n);
        log.in_scope(|| tracing::debug!(target: "somelib", n, "library detail"));
        n += 1;
        std::thread::sleep(Duration::from_millis(50));
    }
    log.flush();
}

// ---- helpers ----

fn spawn(role: &str, root: &Path, envs: &[(&str, &str)]) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .env(CHILD, role)
        .env("ROOT", root)
        .envs(envs.iter().copied())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap()
}

fn logwire_cmd(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_logwire"));
    cmd.args(args).env_remove("LOG_ROOT").env("NO_COLOR", "1");
    cmd
}

fn run(args: &[&str]) -> Output {
    logwire_cmd(args).output().unwrap()
}

/// One HTTP/1.1 request; returns the status.
fn http(port: u16, method: &str, path: &str, request_id: &str) -> u16 {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nhost: x\r\nx-request-id: {request_id}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).unwrap();
    response[9..12].parse().unwrap()
}

fn ensure(ok: bool, what: impl FnOnce() -> String) -> Result<(), Failed> {
    if ok {
        Ok(())
    } else {
        Err(what().into())
    }
}

/// Logs of a real API process and a real worker process in one root.
struct Scenario {
    _dir: tempfile::TempDir,
    base: PathBuf,
    root: PathBuf,
}

/// The API queues two builds (from requests `req-other` and `req-trace`),
/// each job runs with its own job log while 40 other requests rotate the
/// API's file; the first build fails.
fn scenario(json: bool) -> Scenario {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().to_path_buf();
    let root = base.join("logs");
    for d in ["logs", "queue", "jobs"] {
        std::fs::create_dir(base.join(d)).unwrap();
    }
    let format = if json { "json" } else { "readable" };
    // JSON lines are longer: the same number of files (under the 10 backups kept).
    let max = if json { "3000" } else { MAX_BYTES };
    let mut api = spawn("api", &root, &[("FORMAT", format), ("MAX_BYTES", max)]);
    let mut first = String::new();
    BufReader::new(api.stdout.as_mut().unwrap())
        .read_line(&mut first)
        .unwrap();
    let port: u16 = first.trim().strip_prefix("PORT ").unwrap().parse().unwrap();
    let mut worker = spawn(
        "worker",
        &root,
        &[("FORMAT", format), ("JOBS", "2"), ("MAX_BYTES", max)],
    );
    for i in 0..5 {
        assert_eq!(http(port, "GET", "/noise", &format!("noise-{i}")), 200);
    }
    assert_eq!(http(port, "POST", "/builds", "req-other"), 201);
    assert_eq!(http(port, "POST", "/builds", "req-trace"), 201);
    assert_eq!(http(port, "GET", "/fail", "req-fail"), 503);
    std::fs::write(base.join("queue/go"), "").unwrap();
    for i in 5..45 {
        assert_eq!(http(port, "GET", "/noise", &format!("noise-{i}")), 200);
    }
    assert!(worker.wait().unwrap().success());
    api.kill().unwrap();
    api.wait().unwrap();
    Scenario { _dir: dir, base, root }
}

/// A line of `trace` output as `logger|txid|LEVEL|message|k=v …` (the job
/// log's lines as `job|text`), times and durations left out, so both
/// formats compare equal.
fn normal(line: &str, base: &Path) -> String {
    let (file, raw) = line.split_once(": ").unwrap();
    if file.ends_with(".log") && file.contains("/jobs/") {
        let (_, text) = read::parse_job_log_line(raw).unwrap();
        return format!("job {}|{text}", Path::new(file).file_name().unwrap().to_str().unwrap());
    }
    let e: Entry = read::parse_line(raw).unwrap_or_else(|e| panic!("{e}: {raw}"));
    let fields: Vec<String> = e
        .fields
        .iter()
        .map(|(k, v)| match k.as_str() {
            "duration_ms" | "elapsed_ms" => format!("{k}=D"),
            _ => format!("{k}={}", v.replace(base.to_str().unwrap(), "BASE")),
        })
        .collect();
    format!(
        "{}|{}|{}|{}|{}",
        e.logger,
        e.txid.unwrap_or_default(),
        e.level,
        e.message,
        fields.join(" ")
    )
}

fn expected_trace() -> Vec<String> {
    let mut want = vec![
        "api|req-trace|INFO|REQUEST_START|method=POST path=/builds".to_owned(),
        "api|req-trace|INFO|BUILD_QUEUED|build_id=1".to_owned(),
        "api|req-trace|INFO|REQUEST_END|method=POST path=/builds status_code=201 duration_ms=D".to_owned(),
        "worker|build-1|INFO|JOB_START|origin=req-trace".to_owned(),
        "worker|build-1|INFO|JOB_LOG|path=BASE/jobs/1.log".to_owned(),
        "job 1.log|Build 1 started".to_owned(),
    ];
    for step in 0..STEPS {
        want.push(format!(
            "worker|build-1|INFO|STEP|n={step} pad=abcdefghijklmnopqrstuvwxyz"
        ));
        want.push(format!("job 1.log|step {step}"));
    }
    want.push("job 1.log|Build finished".to_owned());
    want.push("worker|build-1|INFO|JOB_END|status=ok duration_ms=D".to_owned());
    want
}

fn trace_scenario(json: bool) -> Result<(), Failed> {
    let s = scenario(json);
    let out = run(&["trace", "req-trace", "--root", s.root.to_str().unwrap()]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    ensure(out.status.code() == Some(0), || {
        format!("exit {:?}: {}", out.status, String::from_utf8_lossy(&out.stderr))
    })?;
    ensure(out.stderr.is_empty(), || {
        String::from_utf8_lossy(&out.stderr).into_owned()
    })?;
    let got: Vec<String> = stdout.lines().map(|l| normal(l, &s.base)).collect();
    ensure(got == expected_trace(), || {
        format!("got:\n{}\nwant:\n{}", got.join("\n"), expected_trace().join("\n"))
    })?;
    // Each line is printed as it is in the file it names, and the
    // request's lines and the job's were rotated into backups meanwhile.
    let mut backups = std::collections::BTreeSet::new();
    for line in stdout.lines() {
        let (file, raw) = line.split_once(": ").unwrap();
        let path = if file.starts_with('/') {
            PathBuf::from(file)
        } else {
            s.root.join(file)
        };
        let text = std::fs::read_to_string(&path).unwrap();
        ensure(text.lines().any(|l| l == raw), || {
            format!("{raw} is not a line of {}", path.display())
        })?;
        if let Some((logger, _)) = file.split_once(".log.") {
            backups.insert(logger.to_owned());
        }
    }
    ensure(backups.contains("api") && backups.contains("worker"), || {
        format!("lines only from backups of {backups:?}")
    })?;
    // The failed build of the other request is not in this trace, and has its own.
    let other = run(&["trace", "req-other", "--root", s.root.to_str().unwrap()]);
    let other = String::from_utf8(other.stdout).unwrap();
    ensure(
        other.contains("the first build fails") && !other.contains("req-trace"),
        || other.clone(),
    )
}

fn trace_json_output() -> Result<(), Failed> {
    let s = scenario(false);
    let out = run(&["trace", "req-trace", "--json", "--root", s.root.to_str().unwrap()]);
    ensure(out.status.success(), || format!("{:?}", out.status))?;
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    ensure(lines.len() == expected_trace().len(), || stdout.clone())?;
    ensure(
        lines.iter().all(|v| v["file"].is_string() && v["ts"].is_string()),
        || stdout.clone(),
    )?;
    ensure(
        lines[0]["message"] == "REQUEST_START" && lines[0]["txid"] == "req-trace",
        || stdout.clone(),
    )?;
    ensure(lines[0]["fields"]["path"] == "/builds", || stdout.clone())?;
    ensure(
        lines[5]["message"] == "Build 1 started" && lines[5]["file"].as_str().unwrap().ends_with("jobs/1.log"),
        || stdout.clone(),
    )
}

/// `tail -f` started before the writer: every line the writer writes
/// arrives exactly once and in order although its file is rotated under it.
fn tail_follow_through_rotation() -> Result<(), Failed> {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut tail = logwire_cmd(&["tail", "-f", "--root", root.to_str().unwrap()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    // ~100 bytes a line, a file every ~20 lines: a rotation every ~0.4 s.
    let mut writer = spawn(
        "writer",
        root,
        &[("LINES", "120"), ("PACE_MS", "20"), ("MAX_BYTES", "2000")],
    );
    let out = tail.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    let mut seqs = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while seqs.last() != Some(&119) && Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
            let e = read::parse_line(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
            seqs.push(e.field("seq").unwrap().parse::<u64>().unwrap());
        }
    }
    tail.kill().unwrap();
    tail.wait().unwrap();
    assert!(writer.wait().unwrap().success());
    let backups = std::fs::read_dir(root)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_str().unwrap().contains(".log."))
        .count();
    ensure(backups >= 4, || format!("only {backups} rotations"))?;
    ensure(seqs == (0..120).collect::<Vec<_>>(), || format!("{seqs:?}"))
}

/// `trace` while another process rotates the files under it (a rotation
/// every few milliseconds, every backup kept): each run finds every marked
/// line exactly once, although names move between listing and opening.
fn trace_during_rotation() -> Result<(), Failed> {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let envs = [
        ("LINES", "8000"),
        ("PACE_MS", "0"),
        ("MAX_BYTES", "3000"),
        ("KEEP_ALL", "1"),
        ("MARKED", "5"),
    ];
    let mut writer = spawn("writer", root, &envs);
    let mut runs = 0;
    let mut result = Ok(());
    while writer.try_wait().unwrap().is_none() {
        let out = run(&["trace", "marked", "--root", root.to_str().unwrap()]);
        if out.status.code() == Some(1) {
            continue; // not written yet
        }
        runs += 1;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let seqs: Vec<String> = stdout
            .lines()
            .map(|l| {
                read::parse_line(l.split_once(": ").unwrap().1)
                    .unwrap()
                    .field("seq")
                    .unwrap()
                    .to_owned()
            })
            .collect();
        if seqs != ["0", "1", "2", "3", "4"] || !out.stderr.is_empty() {
            result = Err(format!("run {runs}: {stdout}{}", String::from_utf8_lossy(&out.stderr)));
            break;
        }
    }
    writer.kill().ok();
    writer.wait().unwrap();
    result?;
    ensure(runs >= 3, || format!("only {runs} runs while the writer rotated"))
}

fn tail_filters() -> Result<(), Failed> {
    let s = scenario(false);
    let root = s.root.to_str().unwrap();
    let out = run(&["tail", "--root", root]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    // The last ten of every file's lines in time order.
    let mut all: Vec<(read::Time, String)> = Vec::new();
    for file in std::fs::read_dir(&s.root).unwrap() {
        let text = std::fs::read_to_string(file.unwrap().path()).unwrap();
        all.extend(text.lines().map(|l| (read::parse_line(l).unwrap().time, l.to_owned())));
    }
    all.sort_by_key(|(t, _)| *t);
    let want: Vec<&str> = all[all.len() - 10..].iter().map(|(_, l)| l.as_str()).collect();
    let got: Vec<&str> = stdout.lines().collect();
    // Lines of one millisecond may come in either file's order.
    let key = |l: &&str| (read::parse_line(l).unwrap().time, l.to_string());
    let (mut g, mut w) = (got.clone(), want.clone());
    g.sort_by_key(key);
    w.sort_by_key(key);
    ensure(g == w && got.windows(2).all(|p| key(&p[0]).0 <= key(&p[1]).0), || {
        format!("got:\n{stdout}\nwant:\n{}", want.join("\n"))
    })?;
    let last_api = run(&["tail", "-n", "3", "api", "--root", root]);
    let last_api = String::from_utf8(last_api.stdout).unwrap();
    ensure(
        last_api.lines().count() == 3 && last_api.lines().all(|l| l.contains(" - api - ")),
        || last_api.clone(),
    )?;
    let warn = run(&["tail", "--level", "warn", "--since", "1h", "--root", root]);
    let warn = String::from_utf8(warn.stdout).unwrap();
    let got: Vec<String> = warn.lines().map(|l| normal(&format!("x: {l}"), &s.base)).collect();
    let want = [
        "api|req-fail|WARN|SLOW_DISK|free_mb=12",
        "api|req-fail|ERROR|SYNC_FAILED|error=disk full",
        "api|req-fail|ERROR|REQUEST_ERROR|method=GET path=/fail status_code=503 error=no ErrorDetail on the response: attach logwire::axum::ErrorDetail to say what failed",
        "worker|build-0|ERROR|JOB_ERROR|error=the first build fails",
    ];
    ensure(got == want, || warn.clone())?;
    let one = run(&["tail", "-n", "100", "--txid", "req-trace", "--root", root]);
    let one = String::from_utf8(one.stdout).unwrap();
    ensure(one.lines().count() == 3, || one.clone())?;
    // Colour only on a terminal, unless forced.
    let piped = logwire_cmd(&["tail", "--root", root])
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    ensure(!piped.stdout.contains(&0x1b), || "colour into a pipe".to_owned())?;
    let forced = logwire_cmd(&["tail", "--root", root])
        .env_remove("NO_COLOR")
        .env("CLICOLOR_FORCE", "1")
        .output()
        .unwrap();
    ensure(
        String::from_utf8_lossy(&forced.stdout).contains("\x1b[1m\x1b[32mINFO\x1b[0m"),
        || String::from_utf8_lossy(&forced.stdout).into_owned(),
    )?;
    let none = run(&["tail", "--txid", "nobody", "--root", root]);
    ensure(none.status.code() == Some(1), || format!("{:?}", none.status))?;
    ensure(
        String::from_utf8_lossy(&none.stderr) == "logwire: no line matches\n",
        || String::from_utf8_lossy(&none.stderr).into_owned(),
    )
}

/// lnav with the shipped format reads every line of both formats with the
/// level and time `logwire::read` reads.
fn lnav_reads_every_line() -> Result<(), Failed> {
    if Command::new("lnav").arg("-V").output().is_err() {
        println!("skipped: lnav is not installed (apt-get install lnav)");
        return Ok(());
    }
    for json in [false, true] {
        let s = scenario(json);
        let home = s.base.join("home");
        std::fs::create_dir(&home).unwrap();
        let format = Path::new(env!("CARGO_MANIFEST_DIR")).join("lnav/logwire.json");
        let install = Command::new("lnav")
            .env("HOME", &home)
            .arg("-i")
            .arg(&format)
            .output()
            .unwrap();
        ensure(install.status.success(), || {
            String::from_utf8_lossy(&install.stderr).into_owned()
        })?;
        let table = if json { "logwire_json" } else { "logwire_log" };
        let mut files: Vec<PathBuf> = std::fs::read_dir(&s.root).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        let query = format!(
            ";SELECT log_path, log_time, log_level, ifnull(log_opid, '') FROM {table} ORDER BY log_path, log_line"
        );
        let out = Command::new("lnav")
            .env("HOME", &home)
            .env("TZ", "UTC")
            .args(["-n", "-c", &query, "-c", ":write-csv-to -"])
            .args(&files)
            .output()
            .unwrap();
        ensure(out.status.success(), || {
            String::from_utf8_lossy(&out.stderr).into_owned()
        })?;
        let csv = String::from_utf8(out.stdout).unwrap();
        let rows: Vec<Vec<&str>> = csv.lines().skip(1).map(|l| l.split(',').collect()).collect();
        // One row per line of each file, in the file's order.
        let mut want = Vec::new();
        let mut errors = 0;
        for file in &files {
            for line in std::fs::read_to_string(file).unwrap().lines() {
                let e = read::parse_line(line).unwrap();
                let level = match e.level {
                    Level::ERROR => "error",
                    Level::WARN => "warning",
                    Level::INFO => "info",
                    Level::DEBUG => "debug",
                    _ => "trace",
                };
                errors += usize::from(e.level == Level::ERROR);
                let time = e.time.to_string();
                want.push((
                    file.to_str().unwrap().to_owned(),
                    time[..23].to_owned(),
                    level,
                    e.txid.unwrap_or_default(),
                ));
            }
        }
        let got: Vec<(String, String, &str, String)> = rows
            .iter()
            .map(|r| (r[0].to_owned(), r[1].to_owned(), r[2], r[3].to_owned()))
            .collect();
        ensure(got.len() == want.len(), || {
            format!("{table}: lnav read {} lines of {}:\n{csv}", got.len(), want.len())
        })?;
        for (g, w) in got.iter().zip(&want) {
            let w = (w.0.clone(), w.1.clone(), w.2, w.3.clone());
            ensure(*g == w, || format!("{table}: lnav {g:?}, logwire {w:?}"))?;
        }
        ensure(errors == 3, || format!("{errors} errors"))?;
        let count = Command::new("lnav")
            .env("HOME", &home)
            .args([
                "-n",
                "-c",
                ";SELECT count(*) FROM all_logs WHERE log_level = 'error'",
                "-c",
                ":write-csv-to -",
            ])
            .args(&files)
            .output()
            .unwrap();
        let count = String::from_utf8(count.stdout).unwrap();
        ensure(count.lines().nth(1) == Some("3"), || count.clone())?;
    }
    Ok(())
}

/// The messages of `file` (and its backups), with their times, in order.
fn messages(root: &Path, logger: &str) -> Vec<Entry> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_str().unwrap();
            n == format!("{logger}.log") || n.starts_with(&format!("{logger}.log."))
        })
        .collect();
    names.sort_by_key(|p| std::cmp::Reverse(p.to_str().unwrap().len()));
    names
        .iter()
        .flat_map(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .lines()
                .map(|l| read::parse_line(l).unwrap())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Waits up to `secs` for a line of `logger` satisfying `what`; its time.
fn wait_line(root: &Path, logger: &str, secs: u64, what: impl Fn(&Entry) -> bool) -> Option<read::Time> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if let Some(e) = messages(root, logger).iter().find(|e| what(e)) {
            return Some(e.time);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

fn level_changed(e: &Entry, from: &str, to: &str) -> bool {
    e.message == "LEVEL_CHANGED" && e.field("from") == Some(from) && e.field("to") == Some(to)
}

/// Two real processes at INFO: `logwire level set worker=debug --for 3s`
/// reaches the worker within 2 s (its own lines and a library's events),
/// not the API, and ends by itself; `*=debug` reaches both; a garbage file
/// changes nothing and warns once per process; `clear` ends an override.
fn levels_at_run_time() -> Result<(), Failed> {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let r = root.to_str().unwrap();
    let spawn_ticker = |name: &str| {
        Command::new(std::env::current_exe().unwrap())
            .env(CHILD, "ticker")
            .env("ROOT", root)
            .env("NAME", name)
            .env("SECS", "25")
            .env_remove("RUST_LOG")
            .env_remove("LOG_LEVEL")
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let mut api = spawn_ticker("api");
    let mut worker = spawn_ticker("worker");
    let result = (|| -> Result<(), Failed> {
        ensure(wait_line(root, "worker", 5, |e| e.message == "TICK").is_some(), || {
            "the worker never ticked".into()
        })?;
        ensure(wait_line(root, "api", 5, |e| e.message == "TICK").is_some(), || {
            "the api never ticked".into()
        })?;

        // worker=debug for 3 s.
        let set_at = read::Time::from(std::time::SystemTime::now());
        let out = run(&["level", "set", "worker=debug", "--for", "3s", "--root", r]);
        ensure(out.status.success(), || {
            String::from_utf8_lossy(&out.stderr).into_owned()
        })?;
        let changed = wait_line(root, "worker", 4, |e| level_changed(e, "info", "debug"))
            .ok_or_else(|| Failed::from("no LEVEL_CHANGED from=info to=debug in worker.log"))?;
        ensure(changed.unix_millis() - set_at.unix_millis() <= 2_000, || {
            format!("applied after {} ms", changed.unix_millis() - set_at.unix_millis())
        })?;
        ensure(
            wait_line(root, "worker", 2, |e| e.message == "TICK_DEBUG").is_some(),
            || "no DEBUG line after the change".into(),
        )?;
        ensure(
            wait_line(root, "worker", 2, |e| {
                e.message == "library detail" && e.level == Level::DEBUG
            })
            .is_some(),
            || "no library DEBUG event".into(),
        )?;
        let back = wait_line(root, "worker", 6, |e| level_changed(e, "debug", "info"))
            .ok_or_else(|| Failed::from("no LEVEL_CHANGED back to info"))?;
        let lasted = back.unix_millis() - changed.unix_millis();
        ensure((2_500..=5_000).contains(&lasted), || {
            format!("the override lasted {lasted} ms, not 3 s")
        })?;
        std::thread::sleep(Duration::from_millis(500));
        let after: Vec<Entry> = messages(root, "worker").into_iter().filter(|e| e.time > back).collect();
        ensure(after.iter().any(|e| e.message == "TICK"), || {
            "the worker stopped ticking".into()
        })?;
        ensure(!after.iter().any(|e| e.level == Level::DEBUG), || {
            "DEBUG lines after the override ended".into()
        })?;
        ensure(
            !messages(root, "api")
                .iter()
                .any(|e| e.level == Level::DEBUG || e.message == "LEVEL_CHANGED"),
            || "the API changed too".into(),
        )?;

        // *=debug reaches both.
        let out = run(&["level", "set", "*=debug", "--for", "3s", "--root", r]);
        ensure(out.status.success(), || {
            String::from_utf8_lossy(&out.stderr).into_owned()
        })?;
        for name in ["api", "worker"] {
            ensure(
                wait_line(root, name, 4, |e| e.message == "TICK_DEBUG" && e.time > back).is_some(),
                || format!("*=debug did not reach {name}"),
            )?;
            ensure(
                wait_line(root, name, 5, |e| level_changed(e, "debug", "info") && e.time > back).is_some(),
                || format!("{name} did not go back"),
            )?;
        }

        // A garbage file: nothing changes, one warning per process.
        let before = messages(root, "worker").len();
        std::fs::write(root.join(".logwire-levels"), "worker please be loud\n").unwrap();
        std::thread::sleep(Duration::from_millis(2_500));
        let since: Vec<Entry> = messages(root, "worker").into_iter().skip(before).collect();
        ensure(
            !since
                .iter()
                .any(|e| e.level == Level::DEBUG || e.message == "LEVEL_CHANGED"),
            || "a garbage file changed the level".into(),
        )?;
        let listed = run(&["level", "--root", r]);
        ensure(listed.status.code() == Some(2), || format!("{:?}", listed.status))?;
        let refused = run(&["level", "set", "api=debug", "--root", r]);
        ensure(
            String::from_utf8_lossy(&refused.stderr)
                == format!("logwire: {r}/.logwire-levels: line 1: \"worker please be loud\" is not NAME LEVEL UNTIL (`logwire level clear` replaces the file)\n"),
            || String::from_utf8_lossy(&refused.stderr).into_owned(),
        )?;
        let cleared = run(&["level", "clear", "--root", r]);
        ensure(cleared.status.success(), || {
            String::from_utf8_lossy(&cleared.stderr).into_owned()
        })?;

        // clear ends an override at once.
        let out = run(&["level", "set", "worker=debug", "--for", "10m", "--root", r]);
        ensure(out.status.success(), || {
            String::from_utf8_lossy(&out.stderr).into_owned()
        })?;
        let on = wait_line(root, "worker", 4, |e| {
            level_changed(e, "info", "debug") && e.time > back
        })
        .ok_or_else(|| Failed::from("the override after the garbage file was not applied"))?;
        let out = run(&["level", "clear", "worker", "--root", r]);
        ensure(out.status.success(), || {
            String::from_utf8_lossy(&out.stderr).into_owned()
        })?;
        let off = wait_line(root, "worker", 4, |e| level_changed(e, "debug", "info") && e.time > on)
            .ok_or_else(|| Failed::from("clear did not end the override"))?;
        ensure(off.unix_millis() - on.unix_millis() < 5_000, || {
            "clear took too long".into()
        })
    })();
    api.kill().ok();
    worker.kill().ok();
    let mut warnings = Vec::new();
    for mut child in [api, worker] {
        child.wait().unwrap();
        let mut stderr = String::new();
        child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
        warnings.push(stderr.lines().filter(|l| l.contains("ignoring")).count());
    }
    result?;
    ensure(warnings == [1, 1], || format!("warnings per process: {warnings:?}"))
}

fn errors_are_one_line() -> Result<(), Failed> {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("logs");
    std::fs::create_dir(&root).unwrap();
    let r = root.to_str().unwrap();
    let stderr = |o: &Output| String::from_utf8_lossy(&o.stderr).into_owned();

    let missing = run(&["trace", "x", "--root", "/no/such/dir"]);
    ensure(missing.status.code() == Some(2), || format!("{:?}", missing.status))?;
    ensure(stderr(&missing) == "logwire: no such directory: /no/such/dir\n", || {
        stderr(&missing)
    })?;

    let log = Logger::builder("api").root(&root).build();
    logwire::txid::scope_sync("t-1", || logwire::info!(log, "HELLO"));
    log.flush();
    let nothing = run(&["trace", "nobody", "--root", r]);
    ensure(nothing.status.code() == Some(1), || format!("{:?}", nothing.status))?;
    ensure(
        stderr(&nothing) == format!("logwire: no line has txid nobody in {r}\n"),
        || stderr(&nothing),
    )?;

    std::fs::write(root.join("notes.log"), "remember the milk\n").unwrap();
    let skipped = run(&["trace", "t-1", "--root", r]);
    ensure(skipped.status.code() == Some(0), || format!("{:?}", skipped.status))?;
    ensure(
        stderr(&skipped)
            == format!(
                "logwire: warning: skipping {r}/notes.log: not a logwire log (first line: \"remember the milk\")\n"
            ),
        || stderr(&skipped),
    )?;
    ensure(
        String::from_utf8_lossy(&skipped.stdout).starts_with("api.log: [t-1] "),
        || String::from_utf8_lossy(&skipped.stdout).into_owned(),
    )?;

    // Unreadable: mode 000, and as root the tool runs as nobody (root reads anything).
    std::fs::remove_file(root.join("notes.log")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(root.join("api.log"), std::fs::Permissions::from_mode(0o000)).unwrap();
    let mut cmd = logwire_cmd(&["trace", "t-1", "--root", r]);
    if nix::unistd::geteuid().is_root() {
        // nobody may not enter the checkout (a clone under /root): a copy it can run.
        let exe = dir.path().join("logwire");
        std::fs::copy(env!("CARGO_BIN_EXE_logwire"), &exe).unwrap();
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        cmd = Command::new(&exe);
        cmd.args(["trace", "t-1", "--root", r])
            .env("NO_COLOR", "1")
            .uid(65534)
            .gid(65534);
    }
    let unreadable = cmd.output().unwrap();
    ensure(unreadable.status.code() == Some(2), || {
        format!("{:?} {}", unreadable.status, stderr(&unreadable))
    })?;
    ensure(
        stderr(&unreadable) == format!("logwire: cannot read {r}/api.log: Permission denied\n"),
        || stderr(&unreadable),
    )?;

    let usage = run(&["trace"]);
    ensure(usage.status.code() == Some(2), || format!("{:?}", usage.status))?;
    let bad_since = run(&["tail", "--since", "yesterday", "--root", r]);
    ensure(
        bad_since.status.code() == Some(2) && stderr(&bad_since).contains("neither a duration"),
        || stderr(&bad_since),
    )
}

/// What a newcomer tried: a readable line ending in `}` under `--json`, a
/// job's line before the one that names its origin, a txid as the header
/// writes it, foreign files under `tail -f`, truncation in place, `-n 0`,
/// a closed pipe, upper-case levels, and usage errors on one line.
fn odd_inputs() -> Result<(), Failed> {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let r = root.to_str().unwrap();
    let log = Logger::builder("api").root(root).build();
    logwire::txid::scope_sync("req-1", || logwire::info!(log, "BODY", body = "{}"));
    logwire::txid::scope_sync("build-1", || logwire::info!(log, "JOB_CLAIMED"));
    logwire::txid::scope_sync("build-1", || logwire::info!(log, "JOB_START", origin = "req-1"));
    logwire::txid::scope_sync("a b]c", || logwire::info!(log, "ODD"));
    log.flush();

    let out = run(&["trace", "req-1", "--json", "--root", r]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    for line in text.lines() {
        ensure(serde_json::from_str::<serde_json::Value>(line).is_ok(), || {
            format!("not JSON: {line}")
        })?;
    }
    ensure(text.lines().count() == 3 && text.contains("JOB_CLAIMED"), || {
        text.clone()
    })?;
    let odd = run(&["trace", "a%20b%5Dc", "--root", r]);
    ensure(
        String::from_utf8_lossy(&odd.stdout).contains(" - api - INFO - ODD"),
        || format!("{odd:?}"),
    )?;

    let upper = run(&["tail", "--level", "WARN", "-n", "0", "--root", r]);
    ensure(upper.status.code() == Some(0) && upper.stdout.is_empty(), || {
        format!("{upper:?}")
    })?;
    let usage = run(&["tail", "--level", "loud", "--root", r]);
    ensure(
        String::from_utf8_lossy(&usage.stderr)
            == "logwire: invalid value 'loud' for '--level <LEVEL>' (see logwire --help)\n",
        || String::from_utf8_lossy(&usage.stderr).into_owned(),
    )?;
    ensure(usage.status.code() == Some(2), || format!("{:?}", usage.status))?;

    // A closed pipe: no panic, no message.
    for args in [&["lnav"][..], &["diagnose", "--root", r][..]] {
        let mut child = logwire_cmd(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        ensure(out.stderr.is_empty() && out.status.code() != Some(101), || {
            format!("{args:?}: {out:?}")
        })?;
    }

    // tail -f: a directory, a FIFO and a binary file named *.log are skipped;
    // a file truncated in place is read again from its start.
    std::fs::create_dir(root.join("d.log")).unwrap();
    nix::unistd::mkfifo(&root.join("p.log"), nix::sys::stat::Mode::S_IRWXU).unwrap();
    let mut tail = logwire_cmd(&["tail", "-f", "-n", "0", "--root", r])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    std::fs::write(root.join("x.log"), b"\x1b]0;PWNED\x07\x00\x01binary\n").unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(root.join("api.log"))
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    logwire::txid::scope_sync("after", || logwire::info!(log, "AFTER_TRUNCATE", n = 1));
    log.flush();
    std::thread::sleep(Duration::from_millis(800));
    tail.kill().unwrap();
    let out = tail.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    ensure(
        stdout.lines().count() == 1 && stdout.contains("AFTER_TRUNCATE | n=1"),
        || format!("{stdout}|{stderr}"),
    )?;
    ensure(
        !stdout.contains("PWNED") && stderr.matches("skipping").count() == 1,
        || format!("{stdout}|{stderr}"),
    )
}
