//! Checking one crate: its files, their names, the rules, the
//! suppressions.

use std::path::Path;

use crate::finding::Report;
use crate::{names, report, rules, walk};

/// Checks the crate in `dir` (a package directory with `src/`, or a
/// directory holding `lib.rs` or `main.rs`).
pub fn check(dir: impl AsRef<Path>) -> Report {
    let (sources, parse_errors) = match walk::crate_files(dir.as_ref()) {
        Ok(found) => found,
        Err(e) => {
            return Report {
                io_error: Some(e.to_string()),
                ..Report::default()
            }
        }
    };
    let files: Vec<_> = sources.iter().map(|s| (s, names::Names::of(&s.ast))).collect();
    let facts = rules::CrateFacts::of(&files);
    let mut findings = Vec::new();
    for (source, names) in &files {
        let mut found = Vec::new();
        rules::check(source, names, &facts, &mut found);
        report::apply_suppressions(source, &mut found);
        findings.extend(found);
    }
    findings.sort_by(|a, b| (&a.file, a.line, a.column, a.code).cmp(&(&b.file, b.line, b.column, b.code)));
    Report {
        findings,
        parse_errors,
        io_error: None,
    }
}
