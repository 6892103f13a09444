//! Helpers shared by logwire's integration tests: a parser for the readable
//! line format (the inverse of the formatter, so tests can prove that every
//! line reads back to what was logged) and a checker that counts lost,
//! duplicated and torn lines across the files of a multi-process run.

// The README's example compiles as a doctest of this crate.
#[doc = include_str!("../../README.md")]
mod readme {}

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use regex::Regex;

/// One readable line, taken apart and unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedLine {
    /// The transaction id, when the line has a `[txid] ` prefix.
    pub txid: Option<String>,
    /// `YYYY-MM-DD HH:MM:SS,mmm`.
    pub timestamp: String,
    /// The logger name.
    pub logger: String,
    /// `TRACE`, `DEBUG`, `INFO`, `WARN` or `ERROR`.
    pub level: String,
    /// The message, unescaped.
    pub message: String,
    /// The fields in order, values unescaped (and unquoted).
    pub fields: Vec<(String, String)>,
}

impl ParsedLine {
    /// The first field called `name`.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// A regex that every readable line must match whole (without its `\n`).
pub fn line_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r#"^(\[[A-Za-z0-9._:@/+=%-]*\] )?\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} - [^\x00-\x1f\x7f]+ - (TRACE|DEBUG|INFO|WARN|ERROR) - [^|\x00-\x1f\x7f\x80-\x9f]*(\\\|[^|\x00-\x1f\x7f\x80-\x9f]*)*( \| [^\x00-\x1f\x7f\x80-\x9f]+)?$"#,
        )
        .expect("valid regex")
    })
}

/// Parses one readable line (with or without its trailing `\n`).
pub fn parse_line(line: &str) -> Result<ParsedLine, String> {
    let line = line.strip_suffix('\n').unwrap_or(line);
    if line.contains(['\n', '\r']) {
        return Err("raw line break inside a line".into());
    }
    let mut rest = line;
    let mut txid = None;
    if let Some(after) = rest.strip_prefix('[') {
        let (raw, after) = after.split_once("] ").ok_or("unterminated [txid]")?;
        txid = Some(percent_decode(raw)?);
        rest = after;
    }
    if rest.len() < 23 || !rest.is_char_boundary(23) {
        return Err("line too short for a timestamp".into());
    }
    let (timestamp, rest) = rest.split_at(23);
    static TS: OnceLock<Regex> = OnceLock::new();
    let ts = TS.get_or_init(|| Regex::new(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3}$").expect("valid regex"));
    if !ts.is_match(timestamp) {
        return Err(format!("bad timestamp {timestamp:?}"));
    }
    let rest = rest.strip_prefix(" - ").ok_or("no ' - ' after the timestamp")?;
    let (logger, level, rest) = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"]
        .iter()
        .filter_map(|lvl| {
            let sep = format!(" - {lvl} - ");
            rest.find(&sep).map(|i| (i, *lvl, sep.len()))
        })
        .min_by_key(|(i, _, _)| *i)
        .map(|(i, lvl, n)| (&rest[..i], lvl, &rest[i + n..]))
        .ok_or("no level")?;
    let (raw_message, raw_fields) = match split_unescaped(rest, " | ") {
        Some((m, f)) => (m, Some(f)),
        None => (rest, None),
    };
    let message = unescape(raw_message)?;
    if message.contains('|') && !raw_message.contains("\\|") {
        return Err("raw | in the message".into());
    }
    let fields = match raw_fields {
        Some(f) => parse_fields(f)?,
        None => Vec::new(),
    };
    Ok(ParsedLine {
        txid,
        timestamp: timestamp.to_owned(),
        logger: unescape(logger)?,
        level: level.to_owned(),
        message,
        fields,
    })
}

/// Splits at the first `sep` that is not preceded by an escaping backslash.
fn split_unescaped<'a>(s: &'a str, sep: &str) -> Option<(&'a str, &'a str)> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            i += 2;
            continue;
        }
        if bytes[i..].starts_with(sep.as_bytes()) {
            return Some((&s[..i], &s[i + sep.len()..]));
        }
        i += 1;
    }
    None
}

/// The transaction id of a header: `%XX` decoded, every other byte one of
/// `A-Z a-z 0-9 . _ : @ / + = -`.
pub fn percent_decode(s: &str) -> Result<String, String> {
    let mut bytes = Vec::with_capacity(s.len());
    let mut rest = s.bytes();
    while let Some(b) = rest.next() {
        match b {
            b'%' => {
                let hex = [rest.next().unwrap_or(0), rest.next().unwrap_or(0)];
                let hex = std::str::from_utf8(&hex).map_err(|e| e.to_string())?;
                bytes.push(u8::from_str_radix(hex, 16).map_err(|e| format!("bad %{hex} in {s:?}: {e}"))?);
            }
            b if b.is_ascii_alphanumeric() || b".:_@/+=-".contains(&b) => bytes.push(b),
            b => return Err(format!("raw byte {b:#x} in the txid {s:?}")),
        }
    }
    String::from_utf8(bytes).map_err(|e| e.to_string())
}

fn unescape(s: &str) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('u') => {
                if chars.next() != Some('{') {
                    return Err(format!("bad \\u escape in {s:?}"));
                }
                let hex: String = chars.by_ref().take_while(|&c| c != '}').collect();
                let code = u32::from_str_radix(&hex, 16).map_err(|e| format!("bad \\u{{{hex}}}: {e}"))?;
                out.push(char::from_u32(code).ok_or_else(|| format!("bad code point {code:x}"))?);
            }
            Some(c @ ('\\' | '"' | '|' | ']')) => out.push(c),
            other => return Err(format!("unknown escape \\{other:?} in {s:?}")),
        }
    }
    Ok(out)
}

fn parse_fields(s: &str) -> Result<Vec<(String, String)>, String> {
    let mut fields = Vec::new();
    let mut rest = s;
    loop {
        let (key, after) = take_token(rest, true)?;
        let after = after
            .strip_prefix('=')
            .ok_or_else(|| format!("no '=' after key in {rest:?}"))?;
        let (value, after) = take_token(after, false)?;
        fields.push((key, value));
        if after.is_empty() {
            return Ok(fields);
        }
        rest = after
            .strip_prefix(' ')
            .ok_or_else(|| format!("expected a space before {after:?}"))?;
    }
}

/// A bare or quoted token; returns it unescaped and what follows it.
fn take_token(s: &str, is_key: bool) -> Result<(String, &str), String> {
    if let Some(body) = s.strip_prefix('"') {
        let bytes = body.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' => i += 2,
                b'"' => return Ok((unescape(&body[..i])?, &body[i + 1..])),
                _ => i += 1,
            }
        }
        return Err(format!("unterminated quote in {s:?}"));
    }
    let end = s
        .find(if is_key { &['=', ' '][..] } else { &[' '][..] })
        .unwrap_or(s.len());
    let token = &s[..end];
    if token.is_empty() || token.contains(['"', '\\', '=']) {
        return Err(format!("bad bare token {token:?}"));
    }
    Ok((token.to_owned(), &s[end..]))
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
