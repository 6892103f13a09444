//! `fork()` while another thread logs: real forks (and `Command::pre_exec`,
//! which forks too) from this multi-threaded test process. The child must
//! never block on a lock its parent held, never write its parent's lines a
//! second time, and its own lines must reach the file.

use std::collections::HashMap;
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use logwire::Logger;
use logwire_tests::{parse_line, read_rotated};

extern "C" {
    fn fork() -> i32;
    fn _exit(code: i32) -> !;
    fn waitpid(pid: i32, status: *mut i32, options: i32) -> i32;
    fn kill(pid: i32, sig: i32) -> i32;
}

const WNOHANG: i32 = 1;
const SIGKILL: i32 = 9;

/// Waits up to 10 s for `pid`; kills it and fails the test if it hangs.
fn wait_or_fail(pid: i32, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut status = 0;
    loop {
        // SAFETY: waitpid on our own child, writing into a local.
        let r = unsafe { waitpid(pid, &mut status, WNOHANG) };
        if r == pid {
            assert_eq!(status, 0, "{what} exited with status {status:#x}");
            return;
        }
        assert_eq!(r, 0, "waitpid({pid}) failed");
        if Instant::now() > deadline {
            // SAFETY: killing and reaping our own hung child.
            unsafe {
                kill(pid, SIGKILL);
                waitpid(pid, &mut status, 0);
            }
            panic!("{what} hung (killed after 10 s)");
        }
        thread::sleep(Duration::from_millis(2));
    }
}

/// A thread that logs `BUSY i=<n>` as fast as it can until stopped.
struct Busy {
    stop: Arc<AtomicBool>,
    count: Arc<AtomicU64>,
    handle: Option<thread::JoinHandle<()>>,
}

impl Busy {
    fn start(log: &Logger) -> Busy {
        let stop = Arc::new(AtomicBool::new(false));
        let count = Arc::new(AtomicU64::new(0));
        let (log, s, c) = (log.clone(), stop.clone(), count.clone());
        let handle = thread::spawn(move || {
            let mut i = 0u64;
            while !s.load(Ordering::Relaxed) {
                logwire::info!(log, "BUSY", i = i);
                i += 1;
                c.store(i, Ordering::Relaxed);
            }
        });
        // Let it get going before the first fork.
        while count.load(Ordering::Relaxed) < 1000 {
            thread::yield_now();
        }
        Busy {
            stop,
            count,
            handle: Some(handle),
        }
    }

    /// Stops the thread; how many lines it logged.
    fn stop(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.take().unwrap().join().unwrap();
        self.count.load(Ordering::Relaxed)
    }
}

/// How often each value of `field` appears on lines with `message`.
fn counts(dir: &std::path::Path, message: &str, field: &str) -> HashMap<u64, usize> {
    let mut seen = HashMap::new();
    for (path, text) in read_rotated(dir, "fork.log") {
        for line in text.lines() {
            let parsed = parse_line(line).unwrap_or_else(|e| panic!("{}: torn line {line:?}: {e}", path.display()));
            if parsed.message == message {
                let n = parsed.field(field).unwrap().parse().unwrap();
                *seen.entry(n).or_default() += 1;
            }
        }
    }
    seen
}

fn assert_each_once(seen: &HashMap<u64, usize>, expected: u64, what: &str) {
    let twice: Vec<_> = seen.iter().filter(|(_, &n)| n > 1).map(|(i, _)| *i).collect();
    let missing: Vec<_> = (0..expected).filter(|i| !seen.contains_key(i)).collect();
    assert!(
        twice.is_empty(),
        "{} {what} lines written more than once, e.g. {:?}",
        twice.len(),
        &twice[..twice.len().min(5)]
    );
    assert!(
        missing.is_empty(),
        "{} {what} lines missing, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    assert_eq!(seen.len() as u64, expected, "{what}");
}

#[test]
fn forty_forks_while_a_thread_logs_neither_hang_nor_double_nor_lose_a_line() {
    let dir = tempfile::tempdir().unwrap();
    let log = Logger::builder("fork")
        .root(dir.path())
        .max_bytes(1 << 20)
        .unlimited_backups()
        .build();
    let busy = Busy::start(&log);
    for n in 0..40u64 {
        // SAFETY: the child only logs and leaves with _exit, as a real
        // pre-fork server's child or a daemonizing helper does.
        let pid = unsafe { fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            logwire::info!(log, "CHILD", n = n);
            // No exit hooks: the line must already be in the file.
            // SAFETY: leaving the forked child at once.
            unsafe { _exit(0) };
        }
        wait_or_fail(pid, &format!("child {n}"));
        thread::sleep(Duration::from_millis(1));
    }
    let busy_lines = busy.stop();
    log.flush();
    assert_each_once(&counts(dir.path(), "CHILD", "n"), 40, "CHILD");
    assert_each_once(&counts(dir.path(), "BUSY", "i"), busy_lines, "BUSY");
}

#[test]
fn a_child_that_reopens_batches_again_and_its_lines_arrive_while_it_lives() {
    let dir = tempfile::tempdir().unwrap();
    let log = Logger::builder("fork").root(dir.path()).build();
    let busy = Busy::start(&log);
    let path = dir.path().join("fork.log");
    // SAFETY: the child logs, waits and leaves with _exit.
    let pid = unsafe { fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let code = match log.reopen() {
            Ok(()) => {
                logwire::info!(log, "CHILD", n = 0);
                // Alive long enough for the test to find the line: a
                // flusher thread of the child's own wrote it.
                thread::sleep(Duration::from_millis(1500));
                0
            }
            Err(_) => 1,
        };
        // SAFETY: leaving the forked child.
        unsafe { _exit(code) };
    }
    let deadline = Instant::now() + Duration::from_millis(1000);
    let found = loop {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        if text.lines().any(|l| l.contains(" - INFO - CHILD | n=0")) {
            break true;
        }
        if Instant::now() > deadline {
            break false;
        }
        thread::sleep(Duration::from_millis(10));
    };
    wait_or_fail(pid, "the child");
    busy.stop();
    assert!(found, "the child's line was not in the file within 1 s while it ran");
}

#[test]
fn pre_exec_closures_that_log_while_a_thread_logs_never_hang() {
    let dir = tempfile::tempdir().unwrap();
    let log = Logger::builder("fork")
        .root(dir.path())
        .max_bytes(1 << 20)
        .unlimited_backups()
        .build();
    let busy = Busy::start(&log);
    for n in 0..40u64 {
        let child_log = log.clone();
        let mut cmd = Command::new("true");
        // SAFETY: the closure logs one line; logwire's fork hooks leave the
        // child's sinks unlocked and writing directly.
        unsafe {
            cmd.pre_exec(move || {
                logwire::info!(child_log, "PRE_EXEC", n = n);
                Ok(())
            });
        }
        let mut child = cmd.spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("command {n} hung (killed after 10 s)");
            }
            thread::sleep(Duration::from_millis(2));
        };
        assert!(status.success(), "command {n}: {status}");
    }
    let busy_lines = busy.stop();
    log.flush();
    assert_each_once(&counts(dir.path(), "PRE_EXEC", "n"), 40, "PRE_EXEC");
    assert_each_once(&counts(dir.path(), "BUSY", "i"), busy_lines, "BUSY");
}
