//! The fixture crate breaks every rule in the ways users do; its reports
//! are checked to the byte in all three formats, and the binary's exit
//! codes as CI sees them.

use std::path::PathBuf;
use std::process::Command;

use logwire_lint::{check, Code, Format};

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/violations")
}

fn expected(name: &str) -> String {
    std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/expected")
            .join(name),
    )
    .unwrap()
}

#[test]
fn every_rule_is_found_where_it_is_broken() {
    let report = check(fixture());
    let found: Vec<(Code, &str, usize, usize)> = report
        .findings
        .iter()
        .map(|f| (f.code, f.file.as_str(), f.line, f.column))
        .collect();
    assert_eq!(
        found,
        [
            (Code::LW001, "src/aliases.rs", 7, 8),      // glob import
            (Code::LW001, "src/aliases.rs", 12, 8),     // type alias
            (Code::LW003, "src/aliases.rs", 18, 14),    // renamed function
            (Code::LW003, "src/aliases.rs", 19, 14),    // renamed type
            (Code::LW000, "src/aliases.rs", 22, 5),     // allow without a reason
            (Code::LW003, "src/aliases.rs", 23, 14),    // … so not silenced
            (Code::LW000, "src/aliases.rs", 24, 5),     // allow that silences nothing
            (Code::LW001, "src/extra/other.rs", 2, 12), // through #[path], fully qualified
            (Code::LW005, "src/handlers.rs", 14, 33),   // the `new` in a handler
            (Code::LW001, "src/lib.rs", 13, 12),        // renamed import
            (Code::LW003, "src/lib.rs", 25, 21),        // inside vec![..]
            (Code::LW003, "src/lib.rs", 26, 5),         // in a helper
            (Code::LW002, "src/services.rs", 9, 1),     // the `impl`
            (Code::LW004, "src/services.rs", 22, 9),    // println!
            (Code::LW004, "src/services.rs", 23, 9),    // dbg!
            (Code::LW006, "src/services.rs", 58, 18),   // record(req) of a derived Debug
        ]
    );
    assert_eq!(report.parse_errors.len(), 1);
    assert_eq!(report.parse_errors[0].file, "src/broken.rs");
}

#[test]
fn the_three_formats_read_exactly_as_committed() {
    let report = check(fixture());
    assert_eq!(report.render(Format::Human), expected("human.txt"));
    assert_eq!(report.render(Format::Github), expected("github.txt"));
    assert_eq!(report.render(Format::Json), expected("json.txt"));
}

#[test]
#[should_panic(expected = "logwire-lint found problems:\n\nerror: cannot parse src/broken.rs")]
fn assert_clean_panics_with_the_report() {
    check(fixture()).assert_clean();
}

#[test]
fn the_binary_exits_1_on_findings_0_when_clean_2_on_usage() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_logwire-lint"))
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["--format", "github", fixture().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), expected("github.txt"));

    let clean = tempfile_dir_with(
        "src/lib.rs",
        "#[logwire::service]\npub struct S { logger: logwire::Logger }\n",
    );
    assert_eq!(run(&[clean.to_str().unwrap()]).status.code(), Some(0));

    assert_eq!(run(&[]).status.code(), Some(2));
    assert_eq!(run(&["--format", "xml", "."]).status.code(), Some(2));
    let missing = run(&["/nonexistent/crate"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stdout).contains("no src/lib.rs, src/main.rs or src/bin/"));
    std::fs::remove_dir_all(clean).unwrap();
}

/// A directory under the target dir holding one file.
fn tempfile_dir_with(file: &str, text: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("clean-{}", std::process::id()));
    let path = dir.join(file);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    dir
}
