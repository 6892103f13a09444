//! Exact lines for every part of the readable and JSON formats.

use std::time::{Duration, UNIX_EPOCH};

use logwire::{Format, Level, Logger, Value};
use logwire_tests::{line_regex, parse_line};

/// A capturing logger whose clock reads 2025-01-01 12:00:00.123 UTC.
fn fixed(name: &str, format: Format) -> (Logger, logwire::Captured) {
    Logger::builder(name)
        .level(Level::TRACE)
        .format(format)
        .clock(|| UNIX_EPOCH + Duration::from_millis(1_735_732_800_123))
        .build_capture()
}

#[test]
fn plain_line_without_txid_or_fields() {
    let (log, cap) = fixed("api", Format::Readable);
    logwire::info!(log, "SERVER_READY");
    assert_eq!(cap.lines(), ["2025-01-01 12:00:00.123Z - api - INFO - SERVER_READY"]);
}

#[test]
fn fields_in_the_order_written() {
    let (log, cap) = fixed("api", Format::Readable);
    let uri = "/api/health";
    logwire::info!(log, "REQUEST_START", method = "GET", path = %uri);
    assert_eq!(
        cap.lines(),
        ["2025-01-01 12:00:00.123Z - api - INFO - REQUEST_START | method=GET path=/api/health"]
    );
}

#[test]
fn txid_prefix_inside_a_scope_only() {
    let (log, cap) = fixed("worker", Format::Readable);
    logwire::txid::scope_sync("9b2f0c1e-1111", || logwire::warn!(log, "RETRY", attempt = 2));
    logwire::warn!(log, "OUTSIDE");
    assert_eq!(
        cap.lines(),
        [
            "[9b2f0c1e-1111] 2025-01-01 12:00:00.123Z - worker - WARN - RETRY | attempt=2",
            "2025-01-01 12:00:00.123Z - worker - WARN - OUTSIDE",
        ]
    );
}

#[test]
fn every_level_name_is_tracings() {
    let (log, cap) = fixed("x", Format::Readable);
    logwire::trace!(log, "m");
    logwire::debug!(log, "m");
    logwire::info!(log, "m");
    logwire::warn!(log, "m");
    logwire::error!(log, "m");
    let levels: Vec<String> = cap
        .lines()
        .iter()
        .map(|l| parse_line(l).unwrap().level.to_string())
        .collect();
    assert_eq!(levels, ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"]);
}

#[test]
fn value_kinds_and_quoting() {
    let (log, cap) = fixed("x", Format::Readable);
    let err = std::io::Error::other("disk \"full\"");
    let path = std::path::Path::new("/tmp/a b");
    logwire::info!(
        log,
        "KINDS",
        int = -7,
        uint = 7u64,
        float = 0.042,
        flag = true,
        ch = 'x',
        empty = "",
        spaced = "a b",
        eq = "k=v",
        error = %err,
        path = ?path,
        nl = "one\ntwo",
        esc = "\u{1b}[31m",
    );
    assert_eq!(
        cap.lines(),
        [concat!(
            "2025-01-01 12:00:00.123Z - x - INFO - KINDS | int=-7 uint=7 float=0.042 flag=true ch=x ",
            r#"empty="" spaced="a b" eq="k=v" error="disk \"full\"" path="\"/tmp/a b\"" "#,
            r#"nl="one\ntwo" esc="\u{1b}[31m""#
        )]
    );
}

#[test]
fn message_is_escaped_never_quoted() {
    let (log, cap) = fixed("x", Format::Readable);
    logwire::info!(log, "a | b\nforged - x - ERROR - c \"q\" \\");
    assert_eq!(
        cap.lines(),
        [r#"2025-01-01 12:00:00.123Z - x - INFO - a \| b\nforged - x - ERROR - c "q" \\"#]
    );
    let parsed = parse_line(&cap.lines()[0]).unwrap();
    assert_eq!(parsed.message, "a | b\nforged - x - ERROR - c \"q\" \\");
    assert!(parsed.fields.is_empty());
}

#[test]
fn shorthand_dotted_and_literal_keys() {
    let (log, cap) = fixed("x", Format::Readable);
    struct Req {
        id: u32,
    }
    let req = Req { id: 5 };
    let user = "ann";
    let kind = Some(3);
    logwire::info!(log, "M", user, req.id, ?kind, "http.status" = 200, %user);
    assert_eq!(
        cap.lines(),
        ["2025-01-01 12:00:00.123Z - x - INFO - M | user=ann req.id=5 kind=Some(3) http.status=200 user.2=ann"]
    );
}

#[test]
fn level_filter_drops_more_verbose_events() {
    let (log, cap) = Logger::builder("x").level(Level::WARN).build_capture();
    logwire::info!(log, "DROPPED");
    logwire::warn!(log, "KEPT");
    logwire::error!(log, "KEPT_TOO");
    let messages: Vec<String> = cap.records().into_iter().map(|r| r.message).collect();
    assert_eq!(messages, ["KEPT", "KEPT_TOO"]);
}

#[test]
fn disabled_level_evaluates_no_field() {
    let (log, cap) = Logger::builder("x").level(Level::INFO).build_capture();
    let mut evaluated = 0;
    let mut touch = || {
        evaluated += 1;
        1
    };
    logwire::debug!(log, "NOPE", n = touch());
    assert_eq!(evaluated, 0);
    assert!(cap.lines().is_empty());
}

#[test]
fn records_keep_types_and_raw_text() {
    let (log, cap) = fixed("api", Format::Readable);
    logwire::txid::scope_sync("t-1", || {
        logwire::error!(log, "FAILED", code = 500u16, ratio = 0.5, ok = false, why = "no space")
    });
    let r = &cap.records()[0];
    assert_eq!(r.level, Level::ERROR);
    assert_eq!(r.logger, "api");
    assert_eq!(r.message, "FAILED");
    assert_eq!(r.txid.as_deref(), Some("t-1"));
    assert_eq!(
        r.fields,
        [
            ("code".to_owned(), Value::U64(500)),
            ("ratio".to_owned(), Value::F64(0.5)),
            ("ok".to_owned(), Value::Bool(false)),
            ("why".to_owned(), Value::Str("no space".into())),
        ]
    );
}

#[test]
fn json_lines() {
    let (log, cap) = fixed("api", Format::Json);
    logwire::txid::scope_sync(
        "t-1",
        || logwire::info!(log, "REQUEST_END", status_code = 200, duration_ms = 1.5, cached = false, path = "/a\"b", who = %"x y"),
    );
    logwire::info!(log, "BARE");
    assert_eq!(
        cap.lines(),
        [
            concat!(
                r#"{"ts":"2025-01-01T12:00:00.123Z","level":"INFO","logger":"api","txid":"t-1","message":"REQUEST_END","#,
                r#""fields":{"status_code":200,"duration_ms":1.5,"cached":false,"path":"/a\"b","who":"x y"}}"#
            ),
            r#"{"ts":"2025-01-01T12:00:00.123Z","level":"INFO","logger":"api","message":"BARE","fields":{}}"#,
        ]
    );
}

#[test]
fn json_escapes_controls_and_non_finite_floats() {
    let (log, cap) = fixed("api", Format::Json);
    logwire::info!(log, "M\u{1b}", nan = f64::NAN, s = "\u{9b}\n");
    assert_eq!(
        cap.lines(),
        [concat!(
            r#"{"ts":"2025-01-01T12:00:00.123Z","level":"INFO","logger":"api","message":"M\u001b","#,
            r#""fields":{"nan":"NaN","s":"\u009b\n"}}"#
        )]
    );
}

#[test]
fn capture_loggers_share_nothing() {
    let (a, cap_a) = Logger::capture("a");
    let (b, cap_b) = Logger::capture("b");
    logwire::info!(a, "ONLY_A");
    logwire::info!(b, "ONLY_B");
    assert_eq!(cap_a.records().len(), 1);
    assert_eq!(cap_a.records()[0].message, "ONLY_A");
    assert_eq!(cap_b.records().len(), 1);
    assert_eq!(cap_b.records()[0].message, "ONLY_B");
}

#[test]
fn library_tracing_events_reach_the_logger_in_scope() {
    use tracing_subscriber::prelude::*;
    let (log, cap) = fixed("api", Format::Readable);
    let (other, other_cap) = Logger::capture("other");
    let (fallback, fallback_cap) = Logger::capture("fallback");
    let stack = tracing_subscriber::registry().with(logwire::layer(&fallback));
    tracing::subscriber::with_default(stack, || {
        log.in_scope(|| tracing::info!(rows = 3, "query done"));
        tracing::info!("outside any scope");
        other.in_scope(|| tracing::debug!(target: "hyper", "conn closed"));
    });
    tracing::info!("nobody listens");
    assert_eq!(fallback_cap.records().len(), 1);
    assert_eq!(fallback_cap.records()[0].message, "outside any scope");
    assert_eq!(
        cap.lines(),
        ["2025-01-01 12:00:00.123Z - api - INFO - query done | target=format rows=3"]
    );
    assert_eq!(other_cap.records()[0].field("target").unwrap(), "hyper");
    assert_eq!(other_cap.records().len(), 1);
}

#[test]
fn every_captured_line_matches_the_format_regex() {
    let (log, cap) = fixed("api", Format::Readable);
    logwire::txid::scope_sync("a]b\\c", || logwire::info!(log, "x|y", "odd key" = "v"));
    for line in cap.lines() {
        assert!(line.starts_with("[a%5Db%5Cc] "), "{line}");
        assert!(line_regex().is_match(&line), "{line}");
        let p = parse_line(&line).unwrap();
        assert_eq!(p.txid.as_deref(), Some("a]b\\c"));
        assert_eq!(p.message, "x|y");
        assert_eq!(p.fields, [("odd key".to_owned(), "v".to_owned())]);
    }
}

#[test]
fn long_values_and_messages_are_cut_at_8_kib_on_a_character_boundary() {
    let (log, cap) = fixed("api", Format::Readable);
    // 1.9 MB of a three-byte character: the cut falls inside one.
    let project = "日".repeat(633_334);
    let message = format!("M{}", "x".repeat(9_000));
    let error = std::io::Error::other("e".repeat(20_000));
    logwire::warn!(log, &message, project = project.as_str(), error = %error, n = 1);
    let line = &cap.lines()[0];
    let kept = "日".repeat(2730); // 8190 bytes; the next character would pass 8192
    assert_eq!(
        *line,
        format!(
            "2025-01-01 12:00:00.123Z - api - WARN - M{x}…[+809 bytes] | project=\"{kept}…[+1891812 bytes]\" \
             error=\"{e}…[+11808 bytes]\" n=1",
            x = "x".repeat(8191),
            e = "e".repeat(8192),
        )
    );
    // The capture logger records the same capped values.
    let record = &cap.records()[0];
    assert_eq!(record.message.len(), 8192 + "…[+809 bytes]".len());
    assert_eq!(
        record.field("project").unwrap(),
        format!("{kept}…[+1891812 bytes]").as_str()
    );
    assert_eq!(
        record.field("error").unwrap(),
        format!("{}…[+11808 bytes]", "e".repeat(8192)).as_str()
    );

    let (log, cap) = fixed("api", Format::Json);
    logwire::info!(log, "Q", project = project.as_str());
    assert!(cap.lines()[0].contains(&format!(r#""project":"{kept}…[+1891812 bytes]""#)));
    assert!(cap.lines()[0].len() < 9 * 1024);
}

#[test]
fn bidi_and_invisible_characters_are_escaped_so_a_viewer_shows_the_file() {
    let (log, cap) = fixed("api", Format::Readable);
    // What Trojan Source does: the viewer would show "admin" and "exe.txt".
    logwire::info!(
        log,
        "LOGIN\u{202e}",
        user = "admin\u{200b}",
        file = "\u{2066}exe.txt\u{2069}",
        bom = "\u{feff}x"
    );
    assert_eq!(
        cap.lines(),
        [
            r#"2025-01-01 12:00:00.123Z - api - INFO - LOGIN\u{202e} | user="admin\u{200b}" file="\u{2066}exe.txt\u{2069}" bom="\u{feff}x""#
        ]
    );
    let parsed = parse_line(&cap.lines()[0]).unwrap();
    assert_eq!(parsed.message, "LOGIN\u{202e}");
    assert_eq!(parsed.field("file"), Some("\u{2066}exe.txt\u{2069}"));
    for c in [
        '\u{ad}', '\u{61c}', '\u{200f}', '\u{202a}', '\u{2060}', '\u{2067}', '\u{2028}', '\u{2029}',
    ] {
        let (log, cap) = fixed("api", Format::Readable);
        logwire::info!(log, "X", v = format!("a{c}b"));
        assert!(
            cap.lines()[0].ends_with(&format!(r#"v="a\u{{{:x}}}b""#, c as u32)),
            "{:?}",
            cap.lines()[0]
        );
    }
}

/// A value of the user's own that hands over nothing.
struct Nothing;

impl logwire::FieldValue for Nothing {
    fn record<'a>(&'a self, _: &mut dyn logwire::Recorder<'a>) {}
}

/// A value of the user's own that hands over two values.
struct Twice(String);

impl logwire::FieldValue for Twice {
    fn record<'a>(&'a self, r: &mut dyn logwire::Recorder<'a>) {
        r.record_i64(1);
        r.record_str(&self.0);
    }
}

/// Whatever a `FieldValue` of the user's does, a line holds one value per
/// field (the last one handed over, or empty text), and the JSON line stays
/// valid JSON; the capture records the same.
#[test]
fn a_field_value_that_records_nothing_or_twice_is_still_one_value() {
    let (log, cap) = fixed("api", Format::Readable);
    logwire::info!(
        log,
        "ODD",
        nothing = Nothing,
        twice = Twice("second value".into()),
        after = 3
    );
    assert_eq!(
        cap.lines(),
        [r#"2025-01-01 12:00:00.123Z - api - INFO - ODD | nothing="" twice="second value" after=3"#]
    );
    let records = cap.records();
    assert_eq!(
        records[0].fields,
        [
            ("nothing".to_owned(), Value::Str(String::new())),
            ("twice".to_owned(), Value::Str("second value".into())),
            ("after".to_owned(), Value::I64(3)),
        ]
    );

    let (log, cap) = fixed("api", Format::Json);
    logwire::info!(log, "ODD", nothing = Nothing, twice = Twice("x\"y".into()), after = 3);
    let line = &cap.lines()[0];
    let parsed: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    assert_eq!(
        parsed["fields"],
        serde_json::json!({"nothing": "", "twice": "x\"y", "after": 3})
    );
}
