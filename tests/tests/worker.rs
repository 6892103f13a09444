//! run_job: lines, outcomes, panics, txids; the poll loop as a real child
//! process stopped by SIGTERM mid-job.

use std::time::{Duration, Instant};

use logwire::worker::{run_job, Job, JobFailure};
use logwire::{Captured, Level, Logger};
use logwire_tests::parse_line;

fn messages(cap: &Captured) -> Vec<String> {
    cap.records().into_iter().map(|r| r.message).collect()
}

#[tokio::test]
async fn an_ok_job_writes_start_and_end_under_its_txid() {
    let (log, cap) = Logger::capture("worker");
    let out = run_job(&log, "build-1", async {
        logwire::info!(log, "STEP");
        tokio::task::yield_now().await;
        Ok::<_, String>(5)
    })
    .await;
    assert_eq!(out, Ok(5));
    assert_eq!(messages(&cap), ["JOB_START", "STEP", "JOB_END"]);
    assert!(cap.records().iter().all(|r| r.txid.as_deref() == Some("build-1")));
    let end = &cap.records()[2];
    assert_eq!(end.field("status").unwrap(), "ok");
    assert!(matches!(end.field("duration_ms"), Some(logwire::Value::F64(_))));
    let line = parse_line(&cap.lines()[2]).unwrap();
    assert_eq!(line.txid.as_deref(), Some("build-1"));
    assert_eq!(line.fields[0], ("status".to_owned(), "ok".to_owned()));
    assert_eq!(logwire::txid::current(), None, "no txid leaks out of run_job");
}

#[tokio::test]
async fn an_error_is_one_error_line_and_the_outcome() {
    let (log, cap) = Logger::capture("worker");
    let out: Result<(), _> = run_job(&log, "build-2", async { Err("script exited 3") }).await;
    assert_eq!(out, Err(JobFailure::Error("script exited 3".into())));
    assert_eq!(messages(&cap), ["JOB_START", "JOB_ERROR", "JOB_END"]);
    let records = cap.records();
    assert_eq!(records.iter().filter(|r| r.level == Level::ERROR).count(), 1);
    assert_eq!(records[1].field("error").unwrap(), "script exited 3");
    assert_eq!(records[2].field("status").unwrap(), "error");
}

#[tokio::test]
async fn a_panic_is_caught_logged_once_and_the_next_job_runs() {
    let (log, cap) = Logger::capture("worker");
    let out = run_job(&log, "build-3", async {
        tokio::task::yield_now().await;
        if logwire::txid::current().is_some() {
            panic!("build directory vanished");
        }
        Ok::<(), String>(())
    })
    .await;
    match out {
        Err(JobFailure::Panic { message, location }) => {
            assert_eq!(message, "build directory vanished");
            assert!(location.unwrap().starts_with("tests/tests/worker.rs:"));
        }
        other => panic!("expected a panic outcome, got {other:?}"),
    }
    let next = run_job(&log, "build-4", async { Ok::<_, String>("fine") }).await;
    assert_eq!(next, Ok("fine"));
    assert_eq!(
        messages(&cap),
        ["JOB_START", "JOB_PANIC", "JOB_END", "JOB_START", "JOB_END"]
    );
    let records = cap.records();
    assert_eq!(records[1].level, Level::ERROR);
    assert_eq!(records[1].txid.as_deref(), Some("build-3"));
    assert_eq!(records[2].field("status").unwrap(), "panic");
    assert_eq!(records[4].txid.as_deref(), Some("build-4"));
    assert_eq!(logwire::txid::current(), None);
}

#[tokio::test]
async fn job_start_carries_extra_fields() {
    let (log, cap) = Logger::capture("worker");
    let origin = String::from("9b2f0c1e-aaaa");
    Job::new(&log, "build-5")
        .field("origin", origin.as_str())
        .field("project", "demo")
        .run(async { Ok::<_, String>(()) })
        .await
        .unwrap();
    let start = &cap.records()[0];
    assert_eq!(start.field("origin").unwrap(), "9b2f0c1e-aaaa");
    assert_eq!(start.field("project").unwrap(), "demo");
}

#[tokio::test]
async fn library_events_inside_a_job_reach_its_logger() {
    use tracing_subscriber::prelude::*;
    let (log, cap) = Logger::capture("worker");
    let (outside, outside_cap) = Logger::capture("outside");
    let _stack = tracing::subscriber::set_default(tracing_subscriber::registry().with(logwire::layer(&outside)));
    run_job(&log, "build-6", async {
        tracing::warn!(table = "builds", "slow statement");
        Ok::<_, String>(())
    })
    .await
    .unwrap();
    let event = cap
        .records()
        .into_iter()
        .find(|r| r.message == "slow statement")
        .unwrap();
    assert_eq!(event.txid.as_deref(), Some("build-6"));
    assert!(outside_cap.records().is_empty());
}

#[test]
fn sigterm_mid_job_finishes_the_job_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = logwire_tests::child("worker", dir.path(), 20).spawn().unwrap();
    let started = dir.path().join("job-started");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !started.exists() {
        assert!(Instant::now() < deadline, "the worker never started its job");
        std::thread::sleep(Duration::from_millis(5));
    }
    // SAFETY: sending a signal to our own child by its pid.
    assert_eq!(unsafe { libc_kill(child.id() as i32, 15) }, 0);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    let text = std::fs::read_to_string(dir.path().join("child.log")).unwrap();
    let parsed: Vec<_> = text.lines().map(|l| parse_line(l).unwrap()).collect();
    let steps = parsed.iter().filter(|p| p.message == "STEP").count();
    assert_eq!(steps, 20, "the job in hand ran to its end");
    let messages: Vec<&str> = parsed.iter().map(|p| p.message.as_str()).collect();
    let end = messages.iter().position(|m| *m == "JOB_END").unwrap();
    let stop = messages.iter().position(|m| *m == "WORKER_STOP").unwrap();
    assert!(end < stop);
    assert_eq!(parsed[stop].field("signal"), Some("SIGTERM"));
    assert_eq!(messages[0], "WORKER_START");
    // Two more jobs were queued: a worker asked to stop claims nothing new.
    assert_eq!(
        messages.iter().filter(|m| **m == "JOB_START").count(),
        1,
        "{messages:?}"
    );
}

#[test]
fn after_a_job_the_next_is_taken_at_once_not_after_the_interval() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = logwire_tests::child("worker", dir.path(), 1).spawn().unwrap();
    // The poll interval is 10 s; three one-step jobs take well under that.
    let deadline = Instant::now() + Duration::from_secs(8);
    let ends = || {
        std::fs::read_to_string(dir.path().join("child.log"))
            .unwrap_or_default()
            .matches(" - JOB_END |")
            .count()
    };
    while ends() < 3 {
        assert!(Instant::now() < deadline, "jobs waited for the interval");
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: sending a signal to our own child by its pid.
    assert_eq!(unsafe { libc_kill(child.id() as i32, 15) }, 0);
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}

/// A txid built from user input cannot forge a header: everything outside
/// `A-Z a-z 0-9 . _ : @ / + = -` is percent-encoded, so a reader that
/// splits at the first `] ` and at ` - ` finds the real time and level.
#[tokio::test]
async fn a_hostile_project_name_in_the_txid_forges_no_header() {
    let dir = tempfile::tempdir().unwrap();
    let log = Logger::builder("worker").root(dir.path()).build();
    let project = "demo] 2026-01-01 00:00:00.000Z - worker - ERROR - DEPLOY_APPROVED | by=admin [x";
    let out = run_job(&log, format!("build-{project}"), async {
        logwire::info!(log, "BUILD_RAN");
        Ok::<_, String>(())
    })
    .await;
    assert_eq!(out, Ok(()));
    log.flush();
    let text = std::fs::read_to_string(dir.path().join("worker.log")).unwrap();
    let encoded = "[build-demo%5D%202026-01-01%2000:00:00.000Z%20-%20worker%20-%20ERROR%20-%20DEPLOY_APPROVED%20%7C%20by=admin%20%5Bx] ";
    for line in text.lines() {
        assert!(line.starts_with(encoded), "{line}");
        let (_, after) = line.split_once("] ").unwrap();
        let level = after.split(" - ").nth(2).unwrap();
        assert_eq!(level, "INFO", "{line}");
        assert!(!line.contains(" - ERROR - "), "{line}");
        assert_eq!(parse_line(line).unwrap().txid.unwrap(), format!("build-{project}"));
    }
    assert_eq!(text.lines().count(), 3);
}
