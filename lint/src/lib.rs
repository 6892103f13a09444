//! logwire's rules over a whole crate, for CI: what no macro sees.
//!
//! `#[logwire::service]` checks only the items it is put on. This crate
//! reads every file of a crate (its roots, then every file reached through
//! `mod` declarations) and reports:
//!
//! | code | finding |
//! | --- | --- |
//! | LW001 | a struct with a `logwire::Logger` field (through any import or alias) that has neither `#[logwire::service]` nor `#[derive(logwire::Injectable)]` (nor, for a worker context, `#[derive(logwire::Context)]`) |
//! | LW002 | an inherent `impl` block of a service type without `#[logwire::service]` (its methods log nothing) |
//! | LW003 | a logger built (`file_logger`, `console_logger`, `Logger::builder`, `Logger::capture`, through any alias, also inside macro calls) outside `main`, a binary's top level and tests |
//! | LW004 | `println!`, `eprintln!`, `print!`, `eprint!` or `dbg!` in a service's methods |
//! | LW005 | an axum handler (a function passed to `get`, `post`, … in `.route(..)`) that builds a service with `new` |
//! | LW006 | `#[log(record(x))]` where the crate derives `Debug` for `x`'s type and that type has a secret-named field (`password`, `token`, …) |
//! | LW000 | a suppression comment without a reason, or one that suppresses nothing |
//!
//! `// logwire-lint: allow(LW003) <reason>` on the line before a finding
//! silences it; the reason is required.
//!
//! As a test, so that `cargo test` holds a crate to the rules:
//!
//! ```no_run
//! #[test]
//! fn services_follow_logwire() {
//!     logwire_lint::check(env!("CARGO_MANIFEST_DIR")).assert_clean();
//! }
//! ```
//!
//! Built on `syn` alone: it runs on stable in any CI. It sees names, not
//! types, so it follows imports and aliases within a file; clippy's
//! `disallowed-methods` is the type-aware complement.

mod names;
mod report;
mod rules;
mod walk;

use std::fmt;
use std::path::Path;

pub use report::Format;

/// A rule of `logwire-lint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Code {
    /// A suppression comment without a reason, or one that suppresses nothing.
    LW000,
    /// A struct with a logger field that is not a service.
    LW001,
    /// A service's `impl` block without `#[logwire::service]`.
    LW002,
    /// A logger built outside `main`, a binary's top level and tests.
    LW003,
    /// Console output in a service's methods.
    LW004,
    /// An axum handler that builds a service with `new`.
    LW005,
    /// A recorded argument whose type derives `Debug` over a secret field.
    LW006,
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl std::str::FromStr for Code {
    type Err = ();

    fn from_str(s: &str) -> Result<Code, ()> {
        Ok(match s {
            "LW000" => Code::LW000,
            "LW001" => Code::LW001,
            "LW002" => Code::LW002,
            "LW003" => Code::LW003,
            "LW004" => Code::LW004,
            "LW005" => Code::LW005,
            "LW006" => Code::LW006,
            _ => return Err(()),
        })
    }
}

/// One finding: where, what, and the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The rule.
    pub code: Code,
    /// The file, relative to the checked directory.
    pub file: String,
    /// 1-based line of the offending token.
    pub line: usize,
    /// 1-based column (in characters) of the offending token.
    pub column: usize,
    /// How many characters the token spans on its line.
    pub width: usize,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub help: String,
    /// The text of the line, for the report.
    pub source_line: String,
}

/// A file that does not parse: reported, and the rest still checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The file, relative to the checked directory.
    pub file: String,
    /// 1-based line of the error.
    pub line: usize,
    /// 1-based column of the error.
    pub column: usize,
    /// syn's message.
    pub message: String,
}

/// Everything found in one crate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The findings, by file, line and column.
    pub findings: Vec<Finding>,
    /// Files that could not be parsed.
    pub parse_errors: Vec<ParseError>,
    /// Set when the crate could not be read at all.
    pub io_error: Option<String>,
}

impl Report {
    /// Whether nothing was found and everything was read.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty() && self.parse_errors.is_empty() && self.io_error.is_none()
    }

    /// Panics with the rustc-style report unless the crate is clean.
    #[track_caller]
    pub fn assert_clean(&self) {
        if !self.is_clean() {
            panic!("logwire-lint found problems:\n\n{}", self.render(Format::Human));
        }
    }

    /// The report in one of the output formats.
    pub fn render(&self, format: Format) -> String {
        report::render(self, format)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(Format::Human))
    }
}

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
