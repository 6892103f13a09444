//! Job logs with real subprocesses.

use std::process::Command;
use std::time::{Duration, Instant};

use logwire::joblog::JobLog;

fn sh(script: &str) -> Command {
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg(script);
    cmd
}

fn body(line: &str) -> &str {
    // "YYYY-MM-DD HH:MM:SS.mmmZ " is 25 bytes.
    &line[25..]
}

#[test]
fn append_timestamps_every_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("build-logs/nested/7.log");
    let job = JobLog::open(&path).unwrap();
    job.append("Build started\nsecond line").unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let ts = regex::Regex::new(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}Z ").unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(lines.iter().all(|l| ts.is_match(l)));
    assert_eq!(body(lines[0]), "Build started");
    assert_eq!(body(lines[1]), "second line");
}

#[tokio::test]
async fn a_hundred_thousand_interleaved_lines_arrive_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let job = JobLog::open(dir.path().join("big.log")).unwrap();
    let script = r#"awk 'BEGIN { for (i = 0; i < 50000; i++) { print "out " i; print "err " i > "/dev/stderr" } }'"#;
    let status = job.run_script(sh(script), "Running build").await.unwrap();
    assert!(status.success());
    let text = std::fs::read_to_string(job.path()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 100_002, "header + 100,000 lines + footer");
    let mut out = vec![0u8; 50_000];
    let mut err = vec![0u8; 50_000];
    for line in &lines[1..lines.len() - 1] {
        let b = body(line);
        if let Some(n) = b.strip_prefix("[stdout] out ") {
            out[n.parse::<usize>().unwrap()] += 1;
        } else if let Some(n) = b.strip_prefix("[stderr] err ") {
            err[n.parse::<usize>().unwrap()] += 1;
        } else {
            panic!("unexpected line {line:?}");
        }
    }
    assert!(out.iter().all(|&c| c == 1) && err.iter().all(|&c| c == 1));
}

#[tokio::test]
async fn header_footer_and_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let job = JobLog::open(dir.path().join("3.log")).unwrap();
    let mut cmd = sh("echo hi; exit 3");
    cmd.current_dir(dir.path());
    let status = job.run_script(cmd, "Running build").await.unwrap();
    assert_eq!(status.code(), Some(3));
    let text = std::fs::read_to_string(job.path()).unwrap();
    let lines: Vec<&str> = text.lines().map(body).collect();
    assert_eq!(
        lines[0],
        format!(
            r#"=== Running build: "sh" "-c" "echo hi; exit 3" (in {})"#,
            dir.path().display()
        )
    );
    assert_eq!(lines[1], "[stdout] hi");
    assert!(
        lines[2].starts_with("=== Running build: exit code 3 after "),
        "{}",
        lines[2]
    );
    assert!(lines[2].ends_with(" s"));
}

#[tokio::test]
async fn a_missing_program_is_an_error_and_a_line() {
    let dir = tempfile::tempdir().unwrap();
    let job = JobLog::open(dir.path().join("missing.log")).unwrap();
    let err = job
        .run_script(Command::new("/nonexistent/build-tool"), "Running build")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    assert!(err.to_string().contains("/nonexistent/build-tool"));
    let text = std::fs::read_to_string(job.path()).unwrap();
    let last = body(text.lines().last().unwrap()).to_owned();
    assert!(
        last.starts_with(r#"=== Running build: cannot start "/nonexistent/build-tool": "#),
        "{last}"
    );
}

#[tokio::test]
async fn output_is_streamed_while_the_script_runs() {
    let dir = tempfile::tempdir().unwrap();
    let job = JobLog::open(dir.path().join("slow.log")).unwrap();
    let path = job.path().to_path_buf();
    let run = tokio::spawn(async move { job.run_script(sh("echo first; sleep 1; echo second"), "Slow").await });
    let deadline = Instant::now() + Duration::from_millis(900);
    loop {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        if text.contains("[stdout] first") {
            assert!(
                !text.contains("[stdout] second"),
                "first line only appeared with the second"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "first line not in the file while the script sleeps"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(run.await.unwrap().unwrap().success());
    assert!(std::fs::read_to_string(&path).unwrap().contains("[stdout] second"));
}

#[tokio::test]
async fn binary_and_escape_sequences_are_written_safely() {
    let dir = tempfile::tempdir().unwrap();
    let job = JobLog::open(dir.path().join("esc.log")).unwrap();
    job.run_script(
        sh(r"printf '\377abc\n\033[31mred\033[0m\n'; printf 'no newline'"),
        "Esc",
    )
    .await
    .unwrap();
    let text = std::fs::read_to_string(job.path()).unwrap();
    assert!(!text.contains('\u{1b}'));
    let lines: Vec<&str> = text.lines().map(body).collect();
    assert_eq!(lines[1], "[stdout] \u{fffd}abc");
    assert_eq!(lines[2], r"[stdout] \u{1b}[31mred\u{1b}[0m");
    assert_eq!(lines[3], "[stdout] no newline");
}

#[tokio::test]
async fn a_line_without_end_is_written_in_bounded_pieces() {
    let dir = tempfile::tempdir().unwrap();
    let job = JobLog::open(dir.path().join("long.log")).unwrap();
    job.run_script(sh("head -c 300000 /dev/zero | tr '\\0' x"), "Long")
        .await
        .unwrap();
    let text = std::fs::read_to_string(job.path()).unwrap();
    let pieces: Vec<&str> = text.lines().filter(|l| l.contains("[stdout] ")).collect();
    assert_eq!(pieces.len(), 5, "300,000 bytes in pieces of at most 64 KiB");
    let total: usize = pieces.iter().map(|l| body(l).len() - "[stdout] ".len()).sum();
    assert_eq!(total, 300_000);
}

/// Whether a process is still running (a zombie or a missing one is not).
fn running(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'),
        Err(_) => false,
    }
}

fn wait_gone(pid: i32, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if !running(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    !running(pid)
}

#[tokio::test]
async fn the_job_ends_when_the_script_exits_even_if_a_background_child_holds_its_output() {
    let dir = tempfile::tempdir().unwrap();
    let job = JobLog::open(dir.path().join("bg.log")).unwrap();
    let pidfile = dir.path().join("bg.pid");
    let script = format!("sleep 30 & echo $! > {}; echo built", pidfile.display());
    let start = Instant::now();
    let status = job.run_script(sh(&script), "Running build").await.unwrap();
    assert!(status.success());
    assert!(start.elapsed() < Duration::from_secs(5), "took {:?}", start.elapsed());
    let text = std::fs::read_to_string(job.path()).unwrap();
    assert!(text.contains("[stdout] built\n"), "{text}");
    assert!(
        text.lines()
            .last()
            .unwrap()
            .contains("Running build: exit code 0 after"),
        "{text}"
    );
    // The background child was killed with the rest of the script's group.
    let pid: i32 = std::fs::read_to_string(&pidfile).unwrap().trim().parse().unwrap();
    assert!(wait_gone(pid, Duration::from_secs(5)), "pid {pid} still runs");
}

#[tokio::test]
async fn a_timeout_kills_the_whole_group_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let job = JobLog::open(dir.path().join("slow.log")).unwrap();
    let pidfile = dir.path().join("slow.pid");
    // A script that ignores SIGTERM and has a child of its own.
    let script = format!(
        "trap '' TERM; sleep 60 & echo $! > {}; echo started; sleep 60",
        pidfile.display()
    );
    let start = Instant::now();
    let err = job
        .run_script_with_timeout(sh(&script), "Running build", Duration::from_secs(1))
        .await
        .unwrap_err();
    let took = start.elapsed();
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
    assert_eq!(err.to_string(), "Running build: timed out after 1 s");
    // One second, then SIGTERM (ignored), then SIGKILL two seconds later.
    assert!(
        took >= Duration::from_secs(3) && took < Duration::from_secs(8),
        "took {took:?}"
    );
    let text = std::fs::read_to_string(job.path()).unwrap();
    assert!(text.contains("[stdout] started\n"), "{text}");
    let footer = body(text.lines().last().unwrap());
    assert!(
        footer.starts_with("=== Running build: timed out after 1 s, killed ("),
        "{footer}"
    );
    let pid: i32 = std::fs::read_to_string(&pidfile).unwrap().trim().parse().unwrap();
    assert!(wait_gone(pid, Duration::from_secs(5)), "pid {pid} still runs");
}

#[tokio::test]
async fn a_script_that_ends_in_time_is_not_touched_by_its_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let job = JobLog::open(dir.path().join("quick.log")).unwrap();
    let status = job
        .run_script_with_timeout(sh("echo ok; exit 4"), "Running build", Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(status.code(), Some(4));
}

#[tokio::test]
async fn a_long_line_of_multibyte_characters_is_cut_between_characters() {
    let dir = tempfile::tempdir().unwrap();
    let job = JobLog::open(dir.path().join("wide.log")).unwrap();
    // 3 MB of U+65E5 without a newline: 64 KiB is no multiple of 3 bytes.
    let script = "awk 'BEGIN { s = \"日日日日日日日日日日\"; for (i = 0; i < 100000; i++) printf \"%s\", s }'";
    job.run_script(sh(script), "Running build").await.unwrap();
    let text = std::fs::read_to_string(job.path()).unwrap();
    assert!(!text.contains('\u{fffd}'), "a character was cut");
    let total: usize = text
        .lines()
        .filter_map(|l| body(l).strip_prefix("[stdout] "))
        .map(|piece| piece.chars().filter(|&c| c == '日').count())
        .sum();
    assert_eq!(total, 1_000_000);
}

#[test]
fn a_script_dies_with_the_worker_that_started_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut worker = logwire_tests::child("script", dir.path(), 0).spawn().unwrap();
    let pidfile = dir.path().join("script.pid");
    let deadline = Instant::now() + Duration::from_secs(20);
    let script = loop {
        if let Some(pid) = std::fs::read_to_string(&pidfile)
            .ok()
            .and_then(|p| p.trim().parse::<i32>().ok())
        {
            break pid;
        }
        assert!(Instant::now() < deadline, "the script never started");
        std::thread::sleep(Duration::from_millis(10));
    };
    let background: i32 = std::fs::read_to_string(dir.path().join("background.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(running(script) && running(background));
    worker.kill().unwrap(); // SIGKILL: no destructor, no handler runs
    worker.wait().unwrap();
    assert!(
        wait_gone(script, Duration::from_secs(5)),
        "the script {script} outlived its worker"
    );
    assert!(
        wait_gone(background, Duration::from_secs(5)),
        "the script's background child {background} outlived the worker"
    );
}

/// Inside a job, opening its log says where it is, with the absolute path,
/// so the job's own file can be found from its txid; outside any job or
/// request nothing is written.
#[tokio::test]
async fn opening_a_job_log_inside_a_job_names_it_in_the_jobs_lines() {
    let dir = tempfile::tempdir().unwrap();
    let (log, captured) = logwire::Logger::capture("worker");
    let outside = JobLog::open(dir.path().join("0.log")).unwrap();
    assert!(outside.path().is_absolute());
    assert!(captured.lines().is_empty());

    // A relative path is written absolute.
    let cwd = std::env::current_dir().unwrap();
    let relative = dir
        .path()
        .strip_prefix(&cwd)
        .map(|p| p.join("7.log"))
        .unwrap_or(dir.path().join("7.log"));
    let result = logwire::worker::run_job(&log, "build-7", async {
        let job = JobLog::open(&relative).map_err(|e| e.to_string())?;
        job.append("Build started").map_err(|e| e.to_string())
    })
    .await;
    assert_eq!(result, Ok(()));
    let records = captured.records();
    let messages: Vec<&str> = records.iter().map(|r| r.message.as_str()).collect();
    assert_eq!(messages, ["JOB_START", "JOB_LOG", "JOB_END"]);
    let job_log = &records[1];
    assert_eq!(
        (job_log.level, job_log.txid.as_deref()),
        (logwire::Level::INFO, Some("build-7"))
    );
    assert_eq!(
        job_log.field("path").unwrap().to_string(),
        dir.path().join("7.log").display().to_string()
    );
}
