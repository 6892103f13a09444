//! Reading logwire's lines back: the readable format, the JSON format and job
//! logs, parsed into [`Entry`] values (feature `read`).
//!
//! This is the one grammar of what logwire writes; the `logwire` tool and
//! logwire's own tests both read through it. Parsing is the exact inverse of
//! the formatter: every line logwire writes parses back to the message and
//! fields that were logged, unescaped.
//!
//! ```
//! use logwire::read::{parse_line, Time};
//!
//! let e = parse_line(r#"[req-7] 2025-01-01 12:00:00.123Z - api - ERROR - SYNC_FAILED | build_id=4 error="disk full""#)?;
//! assert_eq!(e.txid.as_deref(), Some("req-7"));
//! assert_eq!(e.time, Time::parse("2025-01-01T12:00:00.123Z").unwrap());
//! assert_eq!(e.level, logwire::Level::ERROR);
//! assert_eq!(e.field("error"), Some("disk full"));
//!
//! let j = parse_line(r#"{"ts":"2025-01-01T12:00:00.123Z","level":"INFO","logger":"api","message":"M","fields":{"n":3}}"#)?;
//! assert_eq!((j.logger.as_str(), j.field("n")), ("api", Some("3")));
//! # Ok::<(), logwire::read::ParseError>(())
//! ```

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tracing::Level;

use crate::format::escape;

/// An instant as logwire writes it: milliseconds since the Unix epoch, UTC.
///
/// Displays as the readable format writes it, `2025-01-01 12:00:00.123Z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(i64);

impl Time {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    pub const fn from_unix_millis(ms: i64) -> Time {
        Time(ms)
    }

    /// Milliseconds since 1970-01-01T00:00:00Z.
    pub const fn unix_millis(self) -> i64 {
        self.0
    }

    /// Parses `YYYY-MM-DD HH:MM:SS.mmmZ` and the RFC 3339 forms around it:
    /// `T` or a space between date and time, `.` or `,` before 0–9 digits
    /// of fraction (kept to the millisecond), `Z` or nothing (both UTC:
    /// logwire wrote `,mmm` without a zone before it said the zone).
    /// `None` for anything else, offsets other than `Z` included.
    pub fn parse(s: &str) -> Option<Time> {
        crate::format::time::parse_millis(s).map(Time)
    }

    /// The same instant as a [`SystemTime`].
    pub fn to_system_time(self) -> SystemTime {
        match u64::try_from(self.0) {
            Ok(ms) => UNIX_EPOCH + Duration::from_millis(ms),
            Err(_) => UNIX_EPOCH - Duration::from_millis(self.0.unsigned_abs()),
        }
    }
}

impl From<SystemTime> for Time {
    fn from(t: SystemTime) -> Time {
        match t.duration_since(UNIX_EPOCH) {
            Ok(d) => Time(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
            Err(e) => Time(-i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX)),
        }
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::with_capacity(24);
        crate::format::time::push_timestamp(&mut s, self.to_system_time(), crate::format::time::Stamp::Readable);
        f.write_str(&s)
    }
}

/// One line of a logger's file, taken apart and unescaped.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The transaction id, when the line has one.
    pub txid: Option<String>,
    /// When the line was written.
    pub time: Time,
    /// The logger's name.
    pub logger: String,
    /// The level.
    pub level: Level,
    /// The message, unescaped.
    pub message: String,
    /// The fields in the order written; values unescaped and unquoted, JSON
    /// numbers and bools as their JSON text.
    pub fields: Vec<(String, String)>,
    /// The innermost service method (JSON `method`; the readable format
    /// writes it as the `method` field of METHOD_END lines instead).
    pub method: Option<String>,
}

impl Entry {
    /// The first field called `key`.
    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// Why a line is not one of logwire's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(String);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParseError {}

fn err<T>(why: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError(why.into()))
}

/// Parses one line in either format (JSON when it starts with `{`), with or
/// without its line break.
///
/// # Errors
///
/// A [`ParseError`] saying what is wrong when the line is not one logwire
/// writes in that format.
pub fn parse_line(line: &str) -> Result<Entry, ParseError> {
    let line = line.strip_suffix('\n').unwrap_or(line);
    if line.starts_with('{') {
        parse_json(line)
    } else {
        parse_readable(line)
    }
}

const LEVELS: [(&str, Level); 5] = [
    ("TRACE", Level::TRACE),
    ("DEBUG", Level::DEBUG),
    ("INFO", Level::INFO),
    ("WARN", Level::WARN),
    ("ERROR", Level::ERROR),
];

/// Length of `YYYY-MM-DD HH:MM:SS.mmmZ`.
const TIME_LEN: usize = 24;

/// Parses one readable line: `[txid] time - logger - LEVEL - message | k=v …`.
///
/// # Errors
///
/// A [`ParseError`] when the line does not follow that grammar.
pub fn parse_readable(line: &str) -> Result<Entry, ParseError> {
    if line.contains(['\n', '\r']) {
        return err("raw line break inside a line");
    }
    let mut rest = line;
    let mut txid = None;
    if let Some(after) = rest.strip_prefix('[') {
        let Some((raw, after)) = after.split_once("] ") else {
            return err("unterminated [txid]");
        };
        txid = Some(percent_decode(raw)?);
        rest = after;
    }
    let (time, rest) = split_time(rest).ok_or_else(|| ParseError("no time at the start of the line".into()))?;
    let Some(rest) = rest.strip_prefix(" - ") else {
        return err("no ' - ' after the time");
    };
    // The logger name never holds " - LEVEL - " unescaped, so the first one ends it.
    let Some((at, level, sep_len)) = LEVELS
        .iter()
        .filter_map(|&(name, level)| find_level(rest, name).map(|i| (i, level, name.len() + 6)))
        .min_by_key(|(i, _, _)| *i)
    else {
        return err("no ' - LEVEL - ' after the logger name");
    };
    let (logger, rest) = (&rest[..at], &rest[at + sep_len..]);
    let (raw_message, raw_fields) = match split_unescaped(rest, " | ") {
        Some((m, f)) => (m, Some(f)),
        None => (rest, None),
    };
    if raw_message.contains('|') && !raw_message.contains("\\|") {
        return err("raw | in the message");
    }
    Ok(Entry {
        txid,
        time,
        logger: unescape(logger)?,
        level,
        message: unescape(raw_message)?,
        fields: match raw_fields {
            Some(f) => parse_fields(f)?,
            None => Vec::new(),
        },
        method: None,
    })
}

fn find_level(s: &str, name: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = s[from..].find(" - ") {
        let at = from + i;
        let after = &s[at + 3..];
        if after.starts_with(name) && after[name.len()..].starts_with(" - ") {
            return Some(at);
        }
        from = at + 3;
    }
    None
}

/// The time at the start of `s` and what follows it: the current form
/// (`….123Z`) or the one before the zone was written (`…,123`).
fn split_time(s: &str) -> Option<(Time, &str)> {
    for len in [TIME_LEN, TIME_LEN - 1] {
        if let Some(head) = s.get(..len) {
            if let Some(t) = Time::parse(head) {
                return Some((t, &s[len..]));
            }
        }
    }
    None
}

/// Splits at the first `sep` not preceded by an escaping backslash.
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

/// Decodes a header's transaction id: `%XX` decoded, every other byte one of
/// `A-Z a-z 0-9 . _ : @ / + = -`.
///
/// # Errors
///
/// A [`ParseError`] for any other byte, a bad `%XX` or a result that is not UTF-8.
pub fn percent_decode(s: &str) -> Result<String, ParseError> {
    let mut bytes = Vec::with_capacity(s.len());
    let mut rest = s.bytes();
    while let Some(b) = rest.next() {
        match b {
            b'%' => {
                let hex = [rest.next().unwrap_or(0), rest.next().unwrap_or(0)];
                let digit = std::str::from_utf8(&hex)
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match digit {
                    Some(d) => bytes.push(d),
                    None => return err(format!("bad %XX in the txid {s:?}")),
                }
            }
            b if b.is_ascii_alphanumeric() || b".:_@/+=-".contains(&b) => bytes.push(b),
            b => return err(format!("raw byte {b:#x} in the txid {s:?}")),
        }
    }
    String::from_utf8(bytes).or_else(|_| err(format!("txid {s:?} is not UTF-8")))
}

fn unescape(s: &str) -> Result<String, ParseError> {
    if !s.contains('\\') {
        return Ok(s.to_owned());
    }
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
                    return err(format!("bad \\u escape in {s:?}"));
                }
                let hex: String = chars.by_ref().take_while(|&c| c != '}').collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(c) => out.push(c),
                    None => return err(format!("bad \\u{{{hex}}} in {s:?}")),
                }
            }
            Some(c @ ('\\' | '"' | '|' | ']')) => out.push(c),
            other => return err(format!("unknown escape \\{} in {s:?}", other.unwrap_or(' '))),
        }
    }
    Ok(out)
}

fn parse_fields(s: &str) -> Result<Vec<(String, String)>, ParseError> {
    let mut fields = Vec::new();
    let mut rest = s;
    loop {
        let (key, after) = take_token(rest, true)?;
        let Some(after) = after.strip_prefix('=') else {
            return err(format!("no '=' after the key in {rest:?}"));
        };
        let (value, after) = take_token(after, false)?;
        fields.push((key, value));
        if after.is_empty() {
            return Ok(fields);
        }
        rest = match after.strip_prefix(' ') {
            Some(r) => r,
            None => return err(format!("expected a space before {after:?}")),
        };
    }
}

/// A bare or quoted token, unescaped, and what follows it.
fn take_token(s: &str, is_key: bool) -> Result<(String, &str), ParseError> {
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
        return err(format!("unterminated quote in {s:?}"));
    }
    let end = s
        .find(if is_key { &['=', ' '][..] } else { &[' '][..] })
        .unwrap_or(s.len());
    let token = &s[..end];
    if token.is_empty() || token.contains(['"', '\\', '=']) {
        return err(format!("bad bare token {token:?}"));
    }
    Ok((token.to_owned(), &s[end..]))
}

/// Parses one JSON line: `{"ts","level","logger","txid"?,"message","fields",
/// "method"?, …}`; keys logwire does not write are ignored.
///
/// # Errors
///
/// A [`ParseError`] when the line is not a JSON object with those keys.
pub fn parse_json(line: &str) -> Result<Entry, ParseError> {
    let JsonLine(keys) = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => return err(format!("not a JSON object: {e}")),
    };
    let text = |key: &str| keys.iter().find(|(k, _)| k == key).and_then(|(_, v)| v.as_str());
    let Some(time) = text("ts").and_then(Time::parse) else {
        return err("no \"ts\" time");
    };
    let Some(level) = text("level").and_then(|l| LEVELS.iter().find(|(n, _)| *n == l).map(|(_, lv)| *lv)) else {
        return err("no \"level\"");
    };
    let (Some(logger), Some(message)) = (text("logger"), text("message")) else {
        return err("no \"logger\" or \"message\"");
    };
    let fields = match keys.iter().find(|(k, _)| k == "fields") {
        Some((_, JsonValue::Fields(f))) => f
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), v)
            })
            .collect(),
        _ => Vec::new(),
    };
    Ok(Entry {
        txid: text("txid").map(str::to_owned),
        time,
        logger: logger.to_owned(),
        level,
        message: message.to_owned(),
        fields,
        method: text("method").map(str::to_owned),
    })
}

/// A JSON line's keys in the order written: serde_json's own map keeps
/// them sorted unless a crate somewhere in the build turns on its
/// `preserve_order` feature, and the fields' order is part of the line.
struct JsonLine(Vec<(String, JsonValue)>);

enum JsonValue {
    /// The `fields` object, its keys in order.
    Fields(Vec<(String, serde_json::Value)>),
    Other(serde_json::Value),
}

impl JsonValue {
    fn as_str(&self) -> Option<&str> {
        match self {
            JsonValue::Other(v) => v.as_str(),
            JsonValue::Fields(_) => None,
        }
    }
}

struct Pairs(Vec<(String, serde_json::Value)>);

impl<'de> serde::Deserialize<'de> for Pairs {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Pairs;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Pairs, A::Error> {
                let mut out = Vec::new();
                while let Some(pair) = map.next_entry()? {
                    out.push(pair);
                }
                Ok(Pairs(out))
            }
        }
        d.deserialize_map(Visit)
    }
}

impl<'de> serde::Deserialize<'de> for JsonLine {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = JsonLine;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<JsonLine, A::Error> {
                let mut out = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    let value = if key == "fields" {
                        JsonValue::Fields(map.next_value::<Pairs>()?.0)
                    } else {
                        JsonValue::Other(map.next_value()?)
                    };
                    out.push((key, value));
                }
                Ok(JsonLine(out))
            }
        }
        d.deserialize_map(Visit)
    }
}

/// The time of a line in either format, or of a job log line, without
/// parsing the rest: for ordering lines cheaply. `None` when the line has none.
pub fn time_of(line: &str) -> Option<Time> {
    if line.starts_with('{') {
        let at = line.find("\"ts\":\"")? + 6;
        return Time::parse(line.get(at..at + TIME_LEN)?);
    }
    let rest = match line.strip_prefix('[') {
        Some(after) => after.split_once("] ")?.1,
        None => line,
    };
    split_time(rest).map(|(t, _)| t)
}

/// One line of a job log (`2025-01-01 12:00:00.123Z text`): its time and its
/// text, unescaped. `None` when the line does not start with a time.
pub fn parse_job_log_line(line: &str) -> Option<(Time, String)> {
    let line = line.strip_suffix('\n').unwrap_or(line);
    let (time, rest) = split_time(line)?;
    let text = rest.strip_prefix(' ').unwrap_or(rest);
    Some((time, unescape(text).unwrap_or_else(|_| text.to_owned())))
}

/// The byte strings one of which every line holding `txid` contains — as
/// its header's txid (percent-encoded), as a readable field value (quoted
/// and escaped when it must be) or in JSON (escaped) — for a substring
/// search that parses only the lines it finds. Deduplicated; the
/// plain text first.
pub fn needles(txid: &str) -> Vec<String> {
    let mut header = String::new();
    escape::push_txid(&mut header, txid);
    let mut value = String::new();
    escape::push_value(&mut value, txid);
    let value = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .map(str::to_owned)
        .unwrap_or(value);
    let mut json = String::new();
    escape::push_json_str(&mut json, txid);
    let mut out = vec![txid.to_owned()];
    for n in [header, value, json] {
        // A needle that contains another adds nothing to the search.
        if !out.iter().any(|o| n.contains(o.as_str())) {
            out.push(n);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_back() {
        let t = Time::parse("2025-01-01 12:00:00.123Z").unwrap();
        assert_eq!(t.unix_millis(), 1_735_732_800_123);
        assert_eq!(Time::parse("2025-01-01T12:00:00.123Z"), Some(t));
        assert_eq!(Time::parse("2025-01-01 12:00:00,123"), Some(t));
        assert_eq!(Time::parse("2025-01-01T12:00:00.123456789Z"), Some(t));
        assert_eq!(Time::parse("2025-01-01 12:00:00+02:00"), None);
        assert_eq!(Time::parse("2025-13-01 12:00:00.123Z"), None);
        assert_eq!(t.to_string(), "2025-01-01 12:00:00.123Z");
        assert_eq!(Time::from(t.to_system_time()), t);
        assert_eq!(
            Time::parse("2000-02-29 00:00:00Z").unwrap().unix_millis(),
            951_782_400_000
        );
    }

    #[test]
    fn needles_cover_every_form() {
        assert_eq!(needles("build-1"), ["build-1"]);
        assert_eq!(needles("a b"), ["a b", "a%20b"]);
        assert_eq!(needles("a\"b"), ["a\"b", "a%22b", "a\\\"b"]);
    }

    #[test]
    fn json_fields_keep_their_order() {
        let line = r#"{"ts":"2025-01-01T12:00:00.123Z","level":"WARN","logger":"api","txid":"t","message":"M","fields":{"z":1,"a":"x","m":true},"method":"S::f"}"#;
        let e = parse_line(line).unwrap();
        assert_eq!(
            e.fields,
            [
                ("z".into(), "1".into()),
                ("a".into(), "x".into()),
                ("m".into(), "true".into())
            ]
        );
        assert_eq!(
            (e.txid.as_deref(), e.method.as_deref(), e.level),
            (Some("t"), Some("S::f"), Level::WARN)
        );
        assert!(parse_line(
            r#"{"ts":"2025-01-01T12:00:00.123Z","level":"INFO","logger":"a","message":"m","fields":3}"#
        )
        .is_err());
    }

    #[test]
    fn lines_that_are_not_logwires_are_refused() {
        for bad in [
            "",
            "hello",
            "2025-01-01 12:00:00.123Z - api - NOTICE - x",
            "{\"ts\":1}",
            "[x 2025",
        ] {
            assert!(parse_line(bad).is_err(), "{bad:?}");
        }
    }
}
