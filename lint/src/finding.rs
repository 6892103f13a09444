//! What the lint reports: rules, findings, files that do not parse, and
//! the report of one crate.

use std::fmt;

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
}
