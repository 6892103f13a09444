//! Suppression comments and the three output formats.

use std::fmt::Write as _;

use crate::finding::{Code, Finding, Report};
use crate::walk::Source;

/// How a report is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// rustc-style: `error[LW001]: …`, `--> file:line:col`, the line and a
    /// caret, `= help: …`.
    Human,
    /// GitHub Actions annotations: `::error file=…,line=…,col=…::…`.
    Github,
    /// One JSON object per finding, one per line.
    Json,
}

const MARKER: &str = "// logwire-lint: allow(";

/// Drops the findings that a `// logwire-lint: allow(CODE) reason` on the
/// line before silences; adds an LW000 finding for a suppression without a
/// reason or one that silences nothing.
pub(crate) fn apply_suppressions(source: &Source, findings: &mut Vec<Finding>) {
    let lines: Vec<&str> = source.text.lines().collect();
    let mut extra = Vec::new();
    for (i, raw) in lines.iter().enumerate() {
        let Some(at) = raw.find(MARKER) else { continue };
        let rest = &raw[at + MARKER.len()..];
        let (codes, reason) = rest.split_once(')').unwrap_or((rest, ""));
        let codes: Vec<Option<Code>> = codes.split(',').map(|c| c.trim().parse().ok()).collect();
        let line = i + 1;
        let lw000 = |message: String, help: &str| Finding {
            code: Code::LW000,
            file: source.shown.clone(),
            line,
            column: raw[..at].chars().count() + 1,
            width: raw[at..].chars().count(),
            message,
            help: help.to_owned(),
            source_line: (*raw).to_owned(),
        };
        if reason.trim().is_empty() {
            extra.push(lw000(
                "a `logwire-lint: allow` needs a reason".to_owned(),
                "say why after the parenthesis: `// logwire-lint: allow(LW003) the CLI builds its own logger`",
            ));
            continue;
        }
        let before = findings.len();
        findings.retain(|f| !(f.line == line + 1 && codes.contains(&Some(f.code))));
        if findings.len() == before {
            extra.push(lw000(
                "this `logwire-lint: allow` silences nothing".to_owned(),
                "remove it, or put it on the line just before the finding it is for",
            ));
        }
    }
    findings.extend(extra);
}

pub(crate) fn render(report: &Report, format: Format) -> String {
    let mut out = String::new();
    match format {
        Format::Human => human(report, &mut out),
        Format::Github => github(report, &mut out),
        Format::Json => json(report, &mut out),
    }
    out
}

fn human(report: &Report, out: &mut String) {
    if let Some(e) = &report.io_error {
        let _ = writeln!(out, "error: {e}");
    }
    for e in &report.parse_errors {
        let _ = writeln!(out, "error: cannot parse {}: {}", e.file, e.message);
        let _ = writeln!(out, "  --> {}:{}:{}\n", e.file, e.line, e.column);
    }
    for f in &report.findings {
        let gutter = f.line.to_string().len();
        let pad = " ".repeat(gutter);
        let lead: String = f
            .source_line
            .chars()
            .take(f.column.saturating_sub(1))
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        let _ = writeln!(out, "error[{}]: {}", f.code, f.message);
        let _ = writeln!(out, "{pad}--> {}:{}:{}", f.file, f.line, f.column);
        let _ = writeln!(out, "{pad} |");
        let _ = writeln!(out, "{} | {}", f.line, f.source_line);
        let _ = writeln!(out, "{pad} | {lead}{}", "^".repeat(f.width.max(1)));
        let _ = writeln!(out, "{pad} |");
        let _ = writeln!(out, "{pad} = help: {}\n", f.help);
    }
    let problems = report.findings.len() + report.parse_errors.len();
    if problems > 0 {
        let _ = writeln!(
            out,
            "error: logwire-lint found {problems} problem{}",
            if problems == 1 { "" } else { "s" }
        );
    }
}

/// GitHub's workflow-command escaping for a property or a message.
fn gh_escape(s: &str, property: bool) -> String {
    let s = s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A");
    if property {
        s.replace(':', "%3A").replace(',', "%2C")
    } else {
        s
    }
}

fn github(report: &Report, out: &mut String) {
    if let Some(e) = &report.io_error {
        let _ = writeln!(out, "::error title=logwire-lint::{}", gh_escape(e, false));
    }
    for e in &report.parse_errors {
        let _ = writeln!(
            out,
            "::error file={},line={},col={},title=parse error::{}",
            gh_escape(&e.file, true),
            e.line,
            e.column,
            gh_escape(&e.message, false)
        );
    }
    for f in &report.findings {
        let _ = writeln!(
            out,
            "::error file={},line={},col={},title={}::{} ({})",
            gh_escape(&f.file, true),
            f.line,
            f.column,
            f.code,
            gh_escape(&f.message, false),
            gh_escape(&f.help, false)
        );
    }
}

fn json(report: &Report, out: &mut String) {
    if let Some(e) = &report.io_error {
        let _ = writeln!(out, "{}", serde_json::json!({ "code": "io", "message": e }));
    }
    for e in &report.parse_errors {
        let v = serde_json::json!({
            "code": "parse", "file": e.file, "line": e.line, "column": e.column, "message": e.message,
        });
        let _ = writeln!(out, "{v}");
    }
    for f in &report.findings {
        let v = serde_json::json!({
            "code": f.code.to_string(), "file": f.file, "line": f.line, "column": f.column,
            "message": f.message, "help": f.help,
        });
        let _ = writeln!(out, "{v}");
    }
}

impl Report {
    /// Panics with the rustc-style report unless the crate is clean.
    #[track_caller]
    pub fn assert_clean(&self) {
        if !self.is_clean() {
            panic!("logwire-lint found problems:\n\n{}", self.render(Format::Human));
        }
    }

    /// The report in one of the output formats.
    pub fn render(&self, format: Format) -> String {
        render(self, format)
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render(Format::Human))
    }
}
