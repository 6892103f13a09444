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
    // "YYYY-MM-DD HH:MM:SS,mmm " is 24 bytes.
    &line[24..]
}

#[test]
fn append_timestamps_every_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("build-logs/nested/7.log");
    let job = JobLog::open(&path).unwrap();
    job.append("Build started\nsecond line").unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let ts = regex::Regex::new(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} ").unwrap();
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
