//! What is written: the readable line and the JSON line.

pub(crate) mod escape;
pub(crate) mod time;

use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::time::SystemTime;

use crate::field::{FieldValue, Recorder};
use crate::Level;

/// How a logger writes its lines.
///
/// ```text
/// Readable: [9b2f0c1e-…] 2025-01-01 12:00:00.123Z - api - INFO - REQUEST_START | method=GET path=/api/health
/// Json:     {"ts":"2025-01-01T12:00:00.123Z","level":"INFO","logger":"api","txid":"9b2f0c1e-…","message":"REQUEST_START","fields":{"method":"GET","path":"/api/health"}}
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Format {
    /// One human-readable line per event, logfmt-style fields (the default).
    #[default]
    Readable,
    /// One JSON object per line.
    Json,
}

/// One event as the formatters see it.
pub(crate) struct Event<'a> {
    pub(crate) level: Level,
    pub(crate) message: &'a str,
    pub(crate) fields: &'a [(&'static str, &'a dyn FieldValue)],
}

/// What surrounds an event: when, where and under which ids.
pub(crate) struct LineContext<'a> {
    pub(crate) time: SystemTime,
    /// The most bytes of a message or value written before it is cut.
    pub(crate) max_value: usize,
    pub(crate) logger: &'a str,
    pub(crate) txid: Option<&'a str>,
    pub(crate) span: Option<&'a str>,
    /// The active OpenTelemetry trace, as 32 hex digits.
    pub(crate) trace_id: Option<&'a str>,
}

pub(crate) fn level_name(level: Level) -> &'static str {
    match level {
        Level::TRACE => "TRACE",
        Level::DEBUG => "DEBUG",
        Level::INFO => "INFO",
        Level::WARN => "WARN",
        _ => "ERROR",
    }
}

/// Appends one complete line, terminator included.
pub(crate) fn write_line(out: &mut String, format: Format, cx: &LineContext<'_>, ev: &Event<'_>) {
    match format {
        Format::Readable => readable(out, cx, ev),
        Format::Json => json(out, cx, ev),
    }
}

fn readable(out: &mut String, cx: &LineContext<'_>, ev: &Event<'_>) {
    if let Some(txid) = cx.txid {
        out.push('[');
        escape::push_txid(out, txid);
        out.push_str("] ");
    }
    time::push_timestamp(out, cx.time, time::Stamp::Readable);
    out.push_str(" - ");
    escape::push_label(out, cx.logger);
    out.push_str(" - ");
    out.push_str(level_name(ev.level));
    out.push_str(" - ");
    escape::push_message(out, &capped(ev.message, cx.max_value));
    if has_repeats(ev.fields) {
        readable_fields_renamed(out, cx, ev);
    } else {
        for (i, (key, value)) in ev.fields.iter().enumerate() {
            out.push_str(if i == 0 { " | " } else { " " });
            escape::push_value(out, key);
            out.push('=');
            ReadableValue::write(out, cx.max_value, *value);
        }
    }
    if let Some(trace_id) = cx.trace_id {
        out.push_str(if ev.fields.is_empty() {
            " | trace_id="
        } else {
            " trace_id="
        });
        escape::push_value(out, trace_id);
    }
    out.push('\n');
}

/// How many fields before `fields[i]` have its key: 0 for the first of a
/// name. A line never holds one key twice: the second `a` is written `a.2`.
#[inline]
pub(crate) fn repeats(fields: &[(&str, &dyn FieldValue)], i: usize) -> usize {
    let key = fields[i].0;
    fields[..i].iter().filter(|(k, _)| *k == key).count()
}

/// The name `fields[i]` is written under: its key, or `key.N` when it is
/// the N-th field of that name, N raised past any name the line already
/// has (`a`, `a`, `a.2` are written `a`, `a.3`, `a.2`).
pub(crate) fn key_name<'a>(fields: &[(&'a str, &dyn FieldValue)], i: usize) -> Cow<'a, str> {
    let key = fields[i].0;
    let n = repeats(fields, i);
    if n == 0 {
        return Cow::Borrowed(key);
    }
    // Rare (a key given twice): every earlier name is worked out again.
    let earlier: Vec<Cow<'a, str>> = (0..i).map(|j| key_name(fields, j)).collect();
    let taken = |name: &str| fields.iter().any(|(k, _)| *k == name) || earlier.iter().any(|e| e == name);
    let mut n = n + 1;
    loop {
        let name = format!("{key}.{n}");
        if !taken(&name) {
            return Cow::Owned(name);
        }
        n += 1;
    }
}

/// The fields of a line in which some key repeats (rare: kept out of the
/// loop that writes every other line), each under its [`key_name`].
#[cold]
#[inline(never)]
fn readable_fields_renamed(out: &mut String, cx: &LineContext<'_>, ev: &Event<'_>) {
    for (i, (_, value)) in ev.fields.iter().enumerate() {
        out.push_str(if i == 0 { " | " } else { " " });
        escape::push_value(out, &key_name(ev.fields, i));
        out.push('=');
        ReadableValue::write(out, cx.max_value, *value);
    }
}

/// Whether some key appears twice among `fields`.
#[inline]
fn has_repeats(fields: &[(&str, &dyn FieldValue)]) -> bool {
    (1..fields.len()).any(|i| fields[..i].iter().any(|(k, _)| *k == fields[i].0))
}

/// Milliseconds since `start` with microsecond precision (`0.042`, never
/// `0.041999999`), as `elapsed_ms` and `duration_ms` fields write them.
pub(crate) fn elapsed_ms(start: std::time::Instant) -> f64 {
    start.elapsed().as_micros() as f64 / 1000.0
}

/// Appends `v` as the shortest text that reads back exactly, without an
/// exponent (`0.042`, `1`, `-0`, `NaN`, `inf`), never spaces: what its
/// `Display` writes.
///
/// The digits come from zmij (Schubfach), at about a fifth of std's cost;
/// `elapsed_ms` is on every METHOD_END, REQUEST_END and JOB_END line. zmij
/// writes `1.0` and `1e16` where `Display` writes `1` and
/// `10000000000000000`: the first is cut to `1`, and a number that zmij
/// writes with an exponent (below 1e-5 or from 1e16 on) is left to
/// `Display`. One difference remains: when the value lies exactly between
/// two shortest texts (`93023944593786.625`), zmij writes the one ending in
/// an even digit (`…786.62`, as Python and JavaScript do) and std the
/// other; both read back as the same `f64`.
pub(crate) fn push_f64(out: &mut String, v: f64) {
    if v.is_finite() {
        let mut digits = zmij::Buffer::new();
        let text = digits.format_finite(v);
        if !text.contains('e') {
            out.push_str(text.strip_suffix(".0").unwrap_or(text));
            return;
        }
    }
    let _ = write!(out, "{v}");
}

/// `s` cut to at most `max` bytes on a character boundary, with
/// `…[+N bytes]` saying how much was cut; `s` itself when it fits.
pub(crate) fn capped(s: &str, max: usize) -> Cow<'_, str> {
    if s.len() <= max {
        return Cow::Borrowed(s);
    }
    let end = floor_boundary(s, max);
    Cow::Owned(format!("{}{}", &s[..end], CutMarker(s.len() - end)))
}

/// The largest character boundary of `s` at or before `i`.
pub(crate) fn floor_boundary(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// What ends a cut value: `…[+N bytes]`.
struct CutMarker(usize);

impl fmt::Display for CutMarker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "…[+{} bytes]", self.0)
    }
}

/// Passes on at most `room` bytes, cut on a character boundary, and counts
/// the rest: a huge `Display` costs no more memory than its cap.
struct Limited<W> {
    inner: W,
    room: usize,
    cut: usize,
}

impl<W: fmt::Write> fmt::Write for Limited<W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.cut > 0 {
            self.cut += s.len();
            return Ok(());
        }
        if s.len() <= self.room {
            self.room -= s.len();
            return self.inner.write_str(s);
        }
        let end = floor_boundary(s, self.room);
        self.room = 0;
        self.cut = s.len() - end;
        self.inner.write_str(&s[..end])
    }
}

impl<W: fmt::Write> Limited<W> {
    fn new(inner: W, room: usize) -> Self {
        Limited { inner, room, cut: 0 }
    }

    /// Formats `args`, then the cut marker if anything was cut.
    fn write_capped(mut self, args: fmt::Arguments<'_>) -> fmt::Result {
        self.write_fmt(args)?;
        if self.cut > 0 {
            write!(self.inner, "{}", CutMarker(self.cut))?;
        }
        Ok(())
    }
}

thread_local! {
    /// A formatted value that needs quoting, while it is escaped back into the line.
    static RAW: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// Writes a field value through `record` (which gets the buffer and where
/// the value starts) as exactly one value, whatever its `FieldValue` does:
/// the last one it hands over (each recorder method calls [`restart`]
/// first), or `""` when it hands over none, as `Captured` and the bridge to
/// `tracing` read it.
fn exactly_one(out: &mut String, record: impl FnOnce(&mut String, usize)) {
    let start = out.len();
    record(out, start);
    if out.len() == start {
        out.push_str("\"\"");
    }
}

/// Forgets a value handed over before this one (the rare value that hands
/// over several).
#[inline]
fn restart(out: &mut String, start: usize) {
    if out.len() != start {
        forget_since(out, start);
    }
}

/// Drops what was written of a field value from `start` on.
#[cold]
#[inline(never)]
fn forget_since(out: &mut String, start: usize) {
    out.truncate(start);
}

/// Writes a field value in the readable format, cut at the given length.
struct ReadableValue<'a>(&'a mut String, usize, usize);

impl ReadableValue<'_> {
    fn write(out: &mut String, max: usize, value: &dyn FieldValue) {
        exactly_one(out, |out, start| value.record(&mut ReadableValue(out, max, start)));
    }

    #[inline]
    fn restart(&mut self) {
        restart(self.0, self.2);
    }

    /// Formats in place; only a value that needs quoting is moved and escaped.
    fn write_fmt_value(&mut self, args: fmt::Arguments<'_>) {
        let start = self.0.len();
        if Limited::new(&mut *self.0, self.1).write_capped(args).is_err() {
            self.0.truncate(start);
            self.0.push_str("\"<formatting failed>\"");
            return;
        }
        if escape::needs_quotes(&self.0[start..]) {
            // Moved aside into a reused buffer (a `?value` of a string or a
            // path always needs quotes): no allocation once warm.
            RAW.with(|cell| match cell.try_borrow_mut() {
                Ok(mut raw) => {
                    raw.clear();
                    raw.push_str(&self.0[start..]);
                    self.0.truncate(start);
                    escape::push_value(self.0, &raw);
                    if raw.capacity() > 64 * 1024 {
                        *raw = String::new();
                    }
                }
                Err(_) => {
                    let raw = self.0.split_off(start);
                    escape::push_value(self.0, &raw);
                }
            });
        }
    }
}

impl<'a> Recorder<'a> for ReadableValue<'_> {
    fn record_i64(&mut self, v: i64) {
        self.restart();
        self.0.push_str(itoa::Buffer::new().format(v));
    }
    fn record_u64(&mut self, v: u64) {
        self.restart();
        self.0.push_str(itoa::Buffer::new().format(v));
    }
    fn record_f64(&mut self, v: f64) {
        self.restart();
        push_f64(self.0, v);
    }
    fn record_bool(&mut self, v: bool) {
        self.restart();
        self.0.push_str(if v { "true" } else { "false" });
    }
    fn record_str(&mut self, v: &str) {
        self.restart();
        escape::push_value(self.0, &capped(v, self.1));
    }
    fn record_display(&mut self, v: &dyn fmt::Display) {
        self.restart();
        self.write_fmt_value(format_args!("{v}"));
    }
    fn record_debug(&mut self, v: &dyn fmt::Debug) {
        self.restart();
        self.write_fmt_value(format_args!("{v:?}"));
    }
}

fn json(out: &mut String, cx: &LineContext<'_>, ev: &Event<'_>) {
    out.push_str("{\"ts\":\"");
    time::push_timestamp(out, cx.time, time::Stamp::Iso);
    out.push_str("\",\"level\":\"");
    out.push_str(level_name(ev.level));
    out.push_str("\",\"logger\":\"");
    escape::push_json_str(out, cx.logger);
    if let Some(txid) = cx.txid {
        out.push_str("\",\"txid\":\"");
        escape::push_json_str(out, txid);
    }
    out.push_str("\",\"message\":\"");
    escape::push_json_str(out, &capped(ev.message, cx.max_value));
    out.push_str("\",\"fields\":{");
    let repeats = has_repeats(ev.fields);
    for (i, (key, value)) in ev.fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('"');
        if repeats {
            escape::push_json_str(out, &key_name(ev.fields, i));
        } else {
            escape::push_json_str(out, key);
        }
        out.push_str("\":");
        JsonValue::write(out, cx.max_value, *value);
    }
    out.push('}');
    if let Some(span) = cx.span {
        out.push_str(",\"method\":\"");
        escape::push_json_str(out, span);
        out.push('"');
    }
    if let Some(trace_id) = cx.trace_id {
        out.push_str(",\"trace_id\":\"");
        escape::push_json_str(out, trace_id);
        out.push('"');
    }
    out.push_str("}\n");
}

/// Writes a field value as JSON, cut at the given length.
struct JsonValue<'a>(&'a mut String, usize, usize);

/// Escapes everything formatted through it as the body of a JSON string.
struct JsonEscaper<'a>(&'a mut String);

impl fmt::Write for JsonEscaper<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        escape::push_json_str(self.0, s);
        Ok(())
    }
}

impl JsonValue<'_> {
    fn write(out: &mut String, max: usize, value: &dyn FieldValue) {
        exactly_one(out, |out, start| value.record(&mut JsonValue(out, max, start)));
    }

    #[inline]
    fn restart(&mut self) {
        restart(self.0, self.2);
    }

    fn quoted(&mut self, args: fmt::Arguments<'_>) {
        self.0.push('"');
        let start = self.0.len();
        if Limited::new(JsonEscaper(self.0), self.1).write_capped(args).is_err() {
            self.0.truncate(start);
            self.0.push_str("<formatting failed>");
        }
        self.0.push('"');
    }
}

impl<'a> Recorder<'a> for JsonValue<'_> {
    fn record_i64(&mut self, v: i64) {
        self.restart();
        self.0.push_str(itoa::Buffer::new().format(v));
    }
    fn record_u64(&mut self, v: u64) {
        self.restart();
        self.0.push_str(itoa::Buffer::new().format(v));
    }
    fn record_f64(&mut self, v: f64) {
        self.restart();
        if v.is_finite() {
            push_f64(self.0, v);
        } else {
            // JSON has no NaN or infinity.
            self.quoted(format_args!("{v}"));
        }
    }
    fn record_bool(&mut self, v: bool) {
        self.restart();
        self.0.push_str(if v { "true" } else { "false" });
    }
    fn record_str(&mut self, v: &str) {
        self.restart();
        self.0.push('"');
        escape::push_json_str(self.0, &capped(v, self.1));
        self.0.push('"');
    }
    fn record_display(&mut self, v: &dyn fmt::Display) {
        self.restart();
        self.quoted(format_args!("{v}"));
    }
    fn record_debug(&mut self, v: &dyn fmt::Debug) {
        self.restart();
        self.quoted(format_args!("{v:?}"));
    }
}

#[cfg(test)]
mod tests {
    use super::push_f64;
    use proptest::prelude::*;

    fn written(v: f64) -> String {
        let mut s = String::new();
        push_f64(&mut s, v);
        s
    }

    #[test]
    fn floats_are_written_as_display_writes_them() {
        for v in [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.042,
            0.1 + 0.2,
            12.345,
            1e15,
            1e16,
            123_456_789_012_345_680.0,
            1e-5,
            1e-6,
            1.5e-7,
            f64::MIN_POSITIVE,
            f64::MAX,
            f64::MIN,
            f64::EPSILON,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            assert_eq!(written(v), v.to_string(), "{v:?}");
        }
        assert_eq!(written(1.0), "1");
        assert_eq!(written(0.042), "0.042");
    }

    /// Reads back as the same `f64`, as short as `Display`'s text, and
    /// equal to it unless the value lies exactly between two shortest texts.
    fn check(v: f64) -> Result<(), TestCaseError> {
        let (ours, std) = (written(v), v.to_string());
        let back: f64 = ours.parse().map_err(|e| TestCaseError::fail(format!("{ours}: {e}")))?;
        prop_assert!(
            back.to_bits() == v.to_bits() || (v.is_nan() && back.is_nan()),
            "{} read back as {}",
            ours,
            back
        );
        prop_assert!(!ours.contains('e'), "{}", ours);
        prop_assert_eq!(ours.len(), std.len(), "{} against {}", ours, std);
        if ours != std {
            // A tie: the value's exact decimal expansion (an f64 has at most
            // 1074 fractional digits) is the text's digits, then one 5, then
            // nothing; and the two texts differ in their last digit only.
            let digits = std.split_once('.').map_or(0, |(_, f)| f.len());
            let exact = format!("{v:.1100}");
            let (_, fraction) = exact.split_once('.').unwrap_or((&exact, ""));
            let rest = fraction.get(digits..).unwrap_or("");
            prop_assert!(
                rest.starts_with('5') && rest[1..].bytes().all(|b| b == b'0'),
                "{} against {}: not a tie ({}…)",
                ours,
                std,
                &rest[..rest.len().min(20)]
            );
            prop_assert_eq!(&ours[..ours.len() - 1], &std[..std.len() - 1]);
            let last = ours.as_bytes()[ours.len() - 1];
            prop_assert!(last % 2 == 0, "{} does not end in an even digit", ours);
        }
        Ok(())
    }

    #[test]
    fn a_tie_is_written_with_the_even_digit() {
        let v = f64::from_bits(4_815_797_934_485_692_072);
        assert_eq!(v.to_string(), "93023944593786.63");
        assert_eq!(written(v), "93023944593786.62");
    }

    proptest! {
        #[test]
        fn any_float_reads_back_from_the_shortest_text(bits in any::<u64>()) {
            check(f64::from_bits(bits))?;
        }

        /// Eighths from 1e14 to 2^50: exact in an `f64`, and often
        /// exactly between two shortest texts.
        #[test]
        fn ties_are_written_with_the_even_digit(eighths in 800_000_000_000_000u64..9_000_000_000_000_000) {
            check(eighths as f64 / 8.0)?;
        }

        #[test]
        fn any_elapsed_time_is_written_as_display_writes_it(micros in 0u64..10_000_000_000) {
            let v = micros as f64 / 1000.0;
            prop_assert_eq!(written(v), v.to_string());
        }
    }
}
