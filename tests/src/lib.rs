//! Helpers shared by logwire's integration tests: `logwire::read`'s parser
//! (the inverse of the formatter, so tests can prove that every line reads
//! back to what was logged), an independent regex of the readable line and a checker that counts lost,
//! duplicated and torn lines across the files of a multi-process run.

// The README's example compiles as a doctest of this crate.
#[doc = include_str!("../../README.md")]
mod readme {}

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use regex::Regex;

/// Lines are read back through logwire's own reader, the one the `logwire`
/// tool uses: the tests prove it is the formatter's inverse.
pub use logwire::read::{parse_line, percent_decode, Entry as ParsedLine};

/// A regex that every readable line must match whole (without its `\n`).
pub fn line_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r#"^(\[[A-Za-z0-9._:@/+=%-]*\] )?\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}Z - [^\x00-\x1f\x7f]+ - (TRACE|DEBUG|INFO|WARN|ERROR) - [^|\x00-\x1f\x7f\x80-\x9f]*(\\\|[^|\x00-\x1f\x7f\x80-\x9f]*)*( \| [^\x00-\x1f\x7f\x80-\x9f]+)?$"#,
        )
        .expect("valid regex")
    })
}

/// The `logwire-child` binary (`src/bin/logwire-child.rs`): cargo builds a
/// package's binaries for its integration tests and puts them one
/// directory above the tests' own executables (`target/<profile>/deps/`).
///
/// # Panics
///
/// When it is not there: the test was not run through cargo.
pub fn child_exe() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("a test executable under target/<profile>/deps/");
    let child = dir.join("logwire-child");
    assert!(
        child.exists(),
        "{} is missing: run the tests through cargo",
        child.display()
    );
    child
}

/// `logwire-child MODE ROOT COUNT`, ready to be given more environment and
/// spawned or run; see the binary's docs for the modes.
pub fn child(mode: &str, root: impl AsRef<std::ffi::OsStr>, count: u64) -> std::process::Command {
    let mut cmd = std::process::Command::new(child_exe());
    cmd.arg(mode).arg(root).arg(count.to_string());
    cmd
}

/// What the checker found across a multi-process run.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Lines read.
    pub lines: usize,
    /// Expected `(proc, seq)` pairs never seen.
    pub lost: usize,
    /// Extra copies of pairs seen more than once.
    pub duplicated: usize,
    /// Lines that do not parse or lack `proc`/`seq`.
    pub torn: usize,
}

/// Checks lines written as `LINE | proc=P seq=S …` by `procs` processes of
/// `per_proc` lines each.
pub fn check_lines<'a>(lines: impl IntoIterator<Item = &'a str>, procs: u64, per_proc: u64) -> Report {
    let mut seen: HashMap<(u64, u64), usize> = HashMap::new();
    let mut report = Report::default();
    for line in lines {
        report.lines += 1;
        let parsed = match parse_line(line) {
            Ok(p) if line_regex().is_match(line) => p,
            _ => {
                report.torn += 1;
                continue;
            }
        };
        let pair = parsed
            .field("proc")
            .and_then(|p| p.parse().ok())
            .zip(parsed.field("seq").and_then(|s| s.parse().ok()));
        match pair {
            Some(pair) => *seen.entry(pair).or_default() += 1,
            None => report.torn += 1,
        }
    }
    for p in 0..procs {
        for s in 0..per_proc {
            match seen.get(&(p, s)) {
                None => report.lost += 1,
                Some(n) => report.duplicated += n - 1,
            }
        }
    }
    report
}

/// The log file and every backup of it in `dir`, as `(path, text)`.
pub fn read_rotated(dir: &Path, file: &str) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_ours = name == file
            || name
                .strip_prefix(file)
                .and_then(|s| s.strip_prefix('.'))
                .is_some_and(|n| n.parse::<u64>().is_ok());
        if is_ours {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            out.push((entry.path(), text));
        }
    }
    out.sort();
    out
}

#[repr(C)]
struct Timespec {
    sec: i64,
    nsec: i64,
}

extern "C" {
    fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
}

/// CLOCK_MONOTONIC in nanoseconds: one clock shared by a test and the
/// processes it starts.
pub fn monotonic_ns() -> u64 {
    const CLOCK_MONOTONIC: i32 = 1;
    let mut ts = Timespec { sec: 0, nsec: 0 };
    // SAFETY: clock_gettime writes one timespec to the pointer we pass.
    unsafe { clock_gettime(CLOCK_MONOTONIC, &mut ts) };
    ts.sec as u64 * 1_000_000_000 + ts.nsec as u64
}
