//! `logwire::file_writer`: tracing-subscriber's own formatter writing into
//! logwire's rotating file, beside logwire's lines, nothing lost or torn.

use std::collections::HashMap;

use logwire::Logger;
use logwire_tests::{parse_line, read_rotated};
use tracing_subscriber::prelude::*;

#[test]
fn fmt_lines_and_logwire_lines_share_one_rotating_file_whole_and_once() {
    let dir = tempfile::tempdir().unwrap();
    let log = Logger::builder("api")
        .root(dir.path())
        .max_bytes(8 * 1024)
        .unlimited_backups()
        .build();
    let stack = tracing_subscriber::registry().with(
        tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .without_time()
            .with_target(false)
            .with_writer(logwire::file_writer(&log)),
    );
    let dispatch = tracing::Dispatch::new(stack);
    const THREADS: u64 = 4;
    const EVENTS: u64 = 2000;
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let (log, dispatch) = (log.clone(), dispatch.clone());
            s.spawn(move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    for i in 0..EVENTS {
                        tracing::info!(thread = t, seq = i, "fmt event");
                        logwire::info!(log, "LOGWIRE", thread = t, seq = i);
                    }
                })
            });
        }
    });
    log.flush();
    let files = read_rotated(dir.path(), "api.log");
    assert!(files.len() > 5, "rotated {} times", files.len() - 1);
    let mut fmt_seen: HashMap<(u64, u64), usize> = HashMap::new();
    let mut logwire_seen = 0;
    // logwire's own lines also reach the stack as events (target `logwire`),
    // so fmt writes them too: once each.
    let mut mirrored = 0;
    for (_, text) in &files {
        assert!(text.ends_with('\n'));
        for line in text.lines() {
            if line.starts_with(" INFO LOGWIRE logger=\"api\" thread=") {
                mirrored += 1;
            } else if let Some(rest) = line.strip_prefix(" INFO fmt event thread=") {
                let (t, seq) = rest.split_once(" seq=").unwrap();
                *fmt_seen.entry((t.parse().unwrap(), seq.parse().unwrap())).or_default() += 1;
            } else {
                let parsed = parse_line(line).unwrap_or_else(|e| panic!("torn line {line:?}: {e}"));
                assert_eq!(parsed.message, "LOGWIRE");
                logwire_seen += 1;
            }
        }
    }
    assert_eq!(fmt_seen.len() as u64, THREADS * EVENTS, "every fmt event once");
    assert!(fmt_seen.values().all(|&n| n == 1), "no fmt event twice");
    assert_eq!(logwire_seen, THREADS * EVENTS);
    assert_eq!(mirrored, THREADS * EVENTS);
}

#[test]
fn a_logger_without_a_file_gets_nothing_in_a_file() {
    let (log, captured) = Logger::capture("api");
    let writer = logwire::file_writer(&log);
    let stack = tracing_subscriber::registry().with(tracing_subscriber::fmt::layer().with_writer(writer));
    tracing::subscriber::with_default(stack, || tracing::info!("to stdout"));
    assert!(captured.lines().is_empty());
}
