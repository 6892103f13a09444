//! Several processes writing and rotating one file: nothing lost, doubled
//! or torn. The children are `logwire-child stress`.

use std::path::Path;
use std::process::Child;
use std::time::Duration;

use logwire::Logger;
use logwire_tests::{check_lines, read_rotated, Report};

const LINES: u64 = 100_000;
const MAX_BYTES: u64 = 1_048_576;

fn spawn_writers(dir: &Path, procs: u64, lines: u64, max_bytes: u64, backups: &str) -> Vec<Child> {
    (0..procs)
        .map(|p| {
            logwire_tests::child("stress", dir, lines)
                .env("CHILD_PROC", p.to_string())
                .env("CHILD_MAX_BYTES", max_bytes.to_string())
                .env("CHILD_BACKUPS", backups)
                .spawn()
                .unwrap()
        })
        .collect()
}

fn run(dir: &Path, procs: u64, lines: u64, max_bytes: u64, backups: &str) {
    let children = spawn_writers(dir, procs, lines, max_bytes, backups);
    // Give every child time to open the file before the start signal.
    std::thread::sleep(Duration::from_millis(300));
    std::fs::write(dir.join("go"), b"").unwrap();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
}

fn longest_line(text: &str) -> u64 {
    text.lines().map(|l| l.len() as u64 + 1).max().unwrap_or(0)
}

#[test]
fn five_processes_unlimited_backups_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    run(dir.path(), 5, LINES, MAX_BYTES, "unlimited");
    let files = read_rotated(dir.path(), "stress.log");
    let report = check_lines(files.iter().flat_map(|(_, t)| t.lines()), 5, LINES);
    assert_eq!(
        report,
        Report {
            lines: 5 * LINES as usize,
            lost: 0,
            duplicated: 0,
            torn: 0
        }
    );
    for (path, text) in &files {
        assert!(
            text.len() as u64 <= MAX_BYTES,
            "{} is {} bytes",
            path.display(),
            text.len()
        );
    }
    let total: u64 = files.iter().map(|(_, t)| t.len() as u64).sum();
    assert!(
        files.len() as u64 >= total / MAX_BYTES,
        "{total} bytes in only {} files",
        files.len()
    );
}

#[test]
fn five_processes_ten_backups_keep_exactly_eleven_files() {
    let dir = tempfile::tempdir().unwrap();
    run(dir.path(), 5, LINES, MAX_BYTES, "10");
    let files = read_rotated(dir.path(), "stress.log");
    assert_eq!(
        files.len(),
        11,
        "{:?}",
        files.iter().map(|(p, _)| p).collect::<Vec<_>>()
    );
    for (path, text) in &files {
        let limit = MAX_BYTES + longest_line(text);
        assert!(text.len() as u64 <= limit, "{} is {} bytes", path.display(), text.len());
    }
    let report = check_lines(files.iter().flat_map(|(_, t)| t.lines()), 5, LINES);
    assert_eq!((report.duplicated, report.torn), (0, 0));
    assert_eq!(
        report.lines + report.lost,
        5 * LINES as usize,
        "only rotated-away lines are missing"
    );
}

#[test]
fn five_processes_just_below_the_threshold_rotate_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    // Fill the file to 40 bytes below the limit: the next line of any process rotates it.
    let filler = "x".repeat(99);
    let mut text = String::new();
    while text.len() + 100 <= 10_000 - 40 {
        text.push_str(&filler);
        text.push('\n');
    }
    std::fs::write(dir.path().join("stress.log"), &text).unwrap();
    run(dir.path(), 5, 1, 10_000, "10");
    let files = read_rotated(dir.path(), "stress.log");
    let names: Vec<String> = files
        .iter()
        .map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["stress.log", "stress.log.1"]);
    assert_eq!(files[1].1, text, "the full file was rotated away untouched");
    let report = check_lines(files[0].1.lines(), 5, 1);
    assert_eq!(
        (report.lines, report.lost, report.duplicated, report.torn),
        (5, 0, 0, 0)
    );
}

#[test]
fn the_checker_sees_dropped_doubled_and_torn_lines() {
    let dir = tempfile::tempdir().unwrap();
    let log = Logger::builder("check").root(dir.path()).build();
    for seq in 0..10u64 {
        logwire::info!(log, "LINE", proc = 0, seq = seq);
    }
    log.flush();
    let text = std::fs::read_to_string(dir.path().join("check.log")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        check_lines(lines.iter().copied(), 1, 10),
        Report {
            lines: 10,
            ..Report::default()
        }
    );

    let mut broken: Vec<&str> = lines.clone();
    broken.remove(3); // drop seq 3
    broken.push(lines[5]); // double seq 5
    let half = &lines[7][..lines[7].len() / 2];
    broken[7] = half; // tear seq 8 (index shifted by the removal)
    let report = check_lines(broken.iter().copied(), 1, 10);
    assert_eq!(
        report,
        Report {
            lines: 10,
            lost: 2,
            duplicated: 1,
            torn: 1
        }
    );
}
