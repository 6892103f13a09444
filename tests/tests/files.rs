//! File loggers in one process: rotation naming and retention, sharing,
//! reopening, durability at exit, the stderr fallback and file modes.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use logwire::Logger;
use logwire_tests::{check_lines, parse_line, read_rotated};

fn seqs(text: &str) -> Vec<u64> {
    text.lines()
        .map(|l| parse_line(l).unwrap().field("seq").unwrap().parse().unwrap())
        .collect()
}

fn write_lines(log: &Logger, range: std::ops::Range<u64>) {
    for seq in range {
        logwire::info!(
            log,
            "LINE",
            proc = 0,
            seq = seq,
            pad = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        );
    }
    log.flush();
}

#[test]
fn rotation_names_newest_first_and_keeps_only_backups() {
    let dir = tempfile::tempdir().unwrap();
    let log = Logger::builder("api")
        .root(dir.path())
        .max_bytes(2_000)
        .backups(3)
        .build();
    write_lines(&log, 0..200);

    let mut names: Vec<String> = read_rotated(dir.path(), "api.log")
        .iter()
        .map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["api.log", "api.log.1", "api.log.2", "api.log.3"]);

    let read = |name: &str| fs::read_to_string(dir.path().join(name)).unwrap();
    let (current, b1, b2, b3) = (
        seqs(&read("api.log")),
        seqs(&read("api.log.1")),
        seqs(&read("api.log.2")),
        seqs(&read("api.log.3")),
    );
    // .3 is the oldest, then .2, .1, and the live file holds the newest lines.
    let all: Vec<u64> = [b3, b2, b1, current.clone()].concat();
    assert_eq!(*all.last().unwrap(), 199);
    assert!(
        all.windows(2).all(|w| w[1] == w[0] + 1),
        "retained lines are consecutive"
    );
    for name in ["api.log", "api.log.1", "api.log.2", "api.log.3"] {
        assert!(
            fs::metadata(dir.path().join(name)).unwrap().len() <= 2_000,
            "{name} over max_bytes"
        );
    }
}

#[test]
fn zero_backups_keeps_only_the_live_file() {
    let dir = tempfile::tempdir().unwrap();
    let log = Logger::builder("api")
        .root(dir.path())
        .max_bytes(1_000)
        .backups(0)
        .build();
    write_lines(&log, 0..100);
    assert_eq!(read_rotated(dir.path(), "api.log").len(), 1);
    assert_eq!(
        *seqs(&fs::read_to_string(dir.path().join("api.log")).unwrap())
            .last()
            .unwrap(),
        99
    );
}

#[test]
fn unlimited_backups_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let log = Logger::builder("api")
        .root(dir.path())
        .max_bytes(1_000)
        .unlimited_backups()
        .build();
    write_lines(&log, 0..500);
    let files = read_rotated(dir.path(), "api.log");
    assert!(files.len() > 40, "{} files", files.len());
    let report = check_lines(files.iter().flat_map(|(_, t)| t.lines()), 1, 500);
    assert_eq!((report.lost, report.duplicated, report.torn), (0, 0, 0));
}

#[test]
fn one_name_twice_shares_one_sink() {
    let dir = tempfile::tempdir().unwrap();
    let a = Logger::builder("shared").root(dir.path()).build();
    let b = Logger::builder("shared").root(dir.path()).build();
    logwire::info!(a, "FIRST");
    logwire::info!(b, "SECOND");
    logwire::info!(a, "THIRD");
    // One flush writes what both logged, in order: they share a buffer and a file.
    a.flush();
    let text = fs::read_to_string(dir.path().join("shared.log")).unwrap();
    let messages: Vec<String> = text.lines().map(|l| parse_line(l).unwrap().message).collect();
    assert_eq!(messages, ["FIRST", "SECOND", "THIRD"]);
}

#[test]
fn file_logger_reads_log_root() {
    // The only test in this binary that reads LOG_ROOT; the others pass .root().
    let dir = tempfile::tempdir().unwrap();
    let out = logwire_tests::child("return", "env", 1)
        .env("LOG_ROOT", dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(dir.path().join("child.log").exists());
}

#[test]
fn an_external_rename_is_followed_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let log = Logger::builder("api").root(dir.path()).build();
    write_lines(&log, 0..100);
    // logrotate-style: move the file away while the logger holds it open.
    fs::rename(dir.path().join("api.log"), dir.path().join("api.log.old")).unwrap();
    write_lines(&log, 100..200);
    let old = fs::read_to_string(dir.path().join("api.log.old")).unwrap();
    let new = fs::read_to_string(dir.path().join("api.log")).unwrap();
    assert_eq!(seqs(&old), (0..100).collect::<Vec<_>>());
    assert_eq!(seqs(&new), (100..200).collect::<Vec<_>>());

    // reopen() after a rename too.
    fs::rename(dir.path().join("api.log"), dir.path().join("api.log.older")).unwrap();
    log.reopen().unwrap();
    write_lines(&log, 200..210);
    assert_eq!(
        seqs(&fs::read_to_string(dir.path().join("api.log")).unwrap()),
        (200..210).collect::<Vec<_>>()
    );
}

#[test]
fn a_removed_directory_is_made_again() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("logs");
    let log = Logger::builder("api").root(&root).build();
    write_lines(&log, 0..10);
    fs::remove_dir_all(&root).unwrap();
    write_lines(&log, 10..20);
    assert_eq!(
        seqs(&fs::read_to_string(root.join("api.log")).unwrap()),
        (10..20).collect::<Vec<_>>()
    );
}

#[test]
fn a_single_line_reaches_the_file_within_100ms_without_flush() {
    let dir = tempfile::tempdir().unwrap();
    let log = Logger::builder("quiet").root(dir.path()).build();
    let path = dir.path().join("quiet.log");
    logwire::info!(log, "ALONE");
    let logged = Instant::now();
    loop {
        if fs::read_to_string(&path).unwrap_or_default().contains("ALONE") {
            break;
        }
        assert!(
            logged.elapsed() < Duration::from_millis(100),
            "line not in the file after 100 ms"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn files_and_directories_are_group_writable() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("nested/logs");
    let log = Logger::builder("api").root(&root).build();
    logwire::info!(log, "X");
    log.flush();
    // SAFETY: umask is process-wide; reading it means setting it back at once.
    let umask = unsafe {
        let m = libc_umask(0);
        libc_umask(m);
        m
    };
    let file_mode = fs::metadata(root.join("api.log")).unwrap().permissions().mode() & 0o7777;
    assert_eq!(file_mode, 0o660 & !umask);
    let dir_mode = fs::metadata(&root).unwrap().permissions().mode() & 0o7777;
    assert_eq!(dir_mode & 0o777, 0o770 & !umask);
    assert_ne!(dir_mode & 0o2000, 0, "setgid so new files keep the group");
}

extern "C" {
    #[link_name = "umask"]
    fn libc_umask(mask: u32) -> u32;
}

fn child(mode: &str, root: &Path, count: u64) -> std::process::Output {
    logwire_tests::child(mode, root, count).output().unwrap()
}

#[test]
fn returning_from_main_without_flush_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = child("return", dir.path(), 10_000);
    assert!(out.status.success(), "{out:?}");
    let files = read_rotated(dir.path(), "child.log");
    assert_eq!(files.len(), 2, "10,000 lines rotate once at 1 MiB");
    let report = check_lines(files.iter().flat_map(|(_, t)| t.lines()), 1, 10_000);
    assert_eq!(
        (report.lines, report.lost, report.duplicated, report.torn),
        (10_000, 0, 0, 0)
    );
}

#[test]
fn a_panic_out_of_main_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = child("panic", dir.path(), 5_000);
    assert_eq!(out.status.code(), Some(101));
    assert!(String::from_utf8_lossy(&out.stderr).contains("child panics after 5000 lines"));
    let text = fs::read_to_string(dir.path().join("child.log")).unwrap();
    assert_eq!(check_lines(text.lines(), 1, 5_000).lost, 0);
}

#[test]
fn process_exit_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = child("exit", dir.path(), 5_000);
    assert_eq!(out.status.code(), Some(3));
    let text = fs::read_to_string(dir.path().join("child.log")).unwrap();
    assert_eq!(check_lines(text.lines(), 1, 5_000).lost, 0);
}

#[test]
fn an_unusable_root_falls_back_to_stderr_with_one_warning() {
    // Tests run as root, where permissions do not stop writes: use a path
    // under a regular file, which no user can make a directory.
    let bad = Path::new("/dev/null/logs");
    let out = child("fallback", bad, 3);
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.starts_with("logwire:")).collect();
    assert_eq!(
        warnings,
        ["logwire: cannot open log file /dev/null/logs/child.log: Not a directory (os error 20); logging to stderr instead"]
    );
    let report = check_lines(stderr.lines().filter(|l| !l.starts_with("logwire:")), 1, 3);
    assert_eq!((report.lines, report.lost, report.torn), (3, 0, 0));
}

#[test]
fn console_logger_writes_stdout_only() {
    let dir = tempfile::tempdir().unwrap();
    let out = logwire_tests::child("console", "unused", 3)
        .current_dir(dir.path())
        .env("LOG_ROOT", dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    let report = check_lines(stdout.lines(), 1, 3);
    assert_eq!((report.lines, report.lost, report.torn), (3, 0, 0));
    assert!(stdout
        .lines()
        .all(|l| l.contains(" - child - INFO - LINE | proc=0 seq=")));
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0, "no file written");
}
