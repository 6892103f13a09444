//! Escaping for the readable line format.
//!
//! The rules, shared by the formatter and the parser in the tests:
//! - a field value is bare when it is non-empty and holds no space, `"`, `=`,
//!   `\`, whitespace or control character; otherwise it is double-quoted;
//! - inside quotes, `"` and `\` are backslash-escaped, `\n`, `\r` and `\t`
//!   keep their usual escapes, and every other control, non-space
//!   whitespace or Unicode format character (bidi controls, zero-width
//!   spaces, U+FEFF, U+00AD, …) is written `\u{hex}`;
//! - the message is never quoted: it escapes `\`, `|` and the same
//!   characters, so the ` | ` that opens the fields is never ambiguous;
//! - a transaction id keeps `A-Z a-z 0-9 . _ : @ / + = -` as they are and
//!   percent-encodes every other byte (RFC 3986's `%5D`), so the header is
//!   `[` + id + `] ` + time whatever the id holds: a reader that splits at
//!   the first `] ` or at ` - ` always finds the real time, logger and level;
//! - a logger name escapes `\`, `]` and the same characters as a message.
//!
//! So no input can end a line early, forge a second line, send a terminal
//! escape sequence, or make a viewer show a line other than the one in the
//! file.

use std::fmt::Write as _;

/// True for characters that may never appear raw in a line: controls (C0,
/// DEL, C1), whitespace other than the plain space (such as U+2028), and
/// Unicode format characters, which a viewer draws as nothing or uses to
/// reorder what it shows (bidi overrides, zero-width spaces: CVE-2021-42574).
#[inline]
fn must_escape(c: char) -> bool {
    c.is_control() || (c != ' ' && c.is_whitespace()) || is_format(c)
}

/// The characters of Unicode's general category Cf (format), Unicode 16.
/// The standard library has no category lookup, and this short table is
/// all the line format needs.
const FORMAT: [(u32, u32); 21] = [
    (0x00AD, 0x00AD),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
];

#[inline]
fn is_format(c: char) -> bool {
    let c = c as u32;
    c >= 0xAD && FORMAT.iter().any(|&(lo, hi)| (lo..=hi).contains(&c))
}

/// Bytes that force quoting (`true`), or that start a non-ASCII character
/// whose quoting depends on the whole character: every byte from 0x80 on.
static QUOTE_BYTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = b <= 0x20 || b >= 0x7f || b == b'"' as usize || b == b'=' as usize || b == b'\\' as usize;
        b += 1;
    }
    table
};

/// Whether a field value must be quoted: one pass over the bytes in the
/// common, ASCII case.
#[inline]
pub(crate) fn needs_quotes(s: &str) -> bool {
    match s.bytes().position(|b| QUOTE_BYTE[usize::from(b)]) {
        None => s.is_empty(),
        Some(i) if s.as_bytes()[i].is_ascii() => true,
        // The bytes before `i` are ASCII, so a character starts at `i`.
        Some(i) => non_ascii_needs_quotes(&s[i..]),
    }
}

/// [`needs_quotes`] from the first non-ASCII character on.
#[cold]
fn non_ascii_needs_quotes(s: &str) -> bool {
    s.chars().any(|c| {
        if c.is_ascii() {
            QUOTE_BYTE[c as usize]
        } else {
            must_escape(c)
        }
    })
}

/// Appends `c` escaped as `\u{hex}`.
fn push_unicode_escape(out: &mut String, c: char) {
    // Writing to a String cannot fail.
    let _ = write!(out, "\\u{{{:x}}}", c as u32);
}

/// Appends `s` with backslash escapes for `\`, the characters in `extra`,
/// and every character that must not appear raw.
#[inline]
fn push_escaped(out: &mut String, s: &str, extra: &[char]) {
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let escaped = match c {
            '\\' => true,
            '\n' | '\r' | '\t' => true,
            c if extra.contains(&c) => true,
            c => must_escape(c),
        };
        if !escaped {
            continue;
        }
        out.push_str(&s[start..i]);
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == '\\' || extra.contains(&c) => {
                out.push('\\');
                out.push(c);
            }
            c => push_unicode_escape(out, c),
        }
        start = i + c.len_utf8();
    }
    out.push_str(&s[start..]);
}

/// Appends a field value: bare when safe, else quoted and escaped.
#[inline]
pub(crate) fn push_value(out: &mut String, s: &str) {
    if needs_quotes(s) {
        out.push('"');
        push_escaped(out, s, &['"']);
        out.push('"');
    } else {
        out.push_str(s);
    }
}

/// Appends `s` unquoted, escaping `\`, the characters in `extra` and every
/// character that must not appear raw; printable ASCII without those goes
/// through untouched (the common case, checked bytewise).
#[inline]
fn push_unquoted(out: &mut String, s: &str, extra: &[char]) {
    let plain = |b: u8| (0x20..0x7f).contains(&b) && b != b'\\' && !extra.contains(&char::from(b));
    if s.bytes().all(plain) {
        out.push_str(s);
    } else {
        push_escaped(out, s, extra);
    }
}

/// Appends a message: never quoted, `\` and `|` escaped.
#[inline]
pub(crate) fn push_message(out: &mut String, s: &str) {
    push_unquoted(out, s, &['|']);
}

/// Appends free text (a job log line): `\` and control characters escaped,
/// nothing else.
#[cfg(feature = "worker")]
pub(crate) fn push_text(out: &mut String, s: &str) {
    push_unquoted(out, s, &[]);
}

/// Appends a logger name: never quoted, `\` and `]` escaped.
#[inline]
pub(crate) fn push_label(out: &mut String, s: &str) {
    push_unquoted(out, s, &[']']);
}

/// Whether a transaction id byte is written as itself.
#[inline]
const fn txid_plain(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'@' | b'/' | b'+' | b'=' | b'-')
}

/// Appends a transaction id: `A-Z a-z 0-9 . _ : @ / + = -` as themselves,
/// every other byte (UTF-8 included) as `%XX`, upper-case hex.
#[inline]
pub(crate) fn push_txid(out: &mut String, s: &str) {
    if s.bytes().all(txid_plain) {
        out.push_str(s);
        return;
    }
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in s.bytes() {
        if txid_plain(b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
    }
}

/// Appends `s` as the body of a JSON string (without the quotes).
///
/// Beyond what JSON requires, DEL, C1 controls and U+2028/U+2029 are escaped
/// too, so a JSON line is as safe to print on a terminal as a readable one.
pub(crate) fn push_json_str(out: &mut String, s: &str) {
    // Printable ASCII but `"` and `\` goes through as it is (checked bytewise).
    if s.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\') {
        out.push_str(s);
        return;
    }
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let esc: &str = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            c if must_escape(c) => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if esc.is_empty() {
            // Beyond U+FFFF (some format characters), JSON wants a surrogate pair.
            for unit in c.encode_utf16(&mut [0; 2]) {
                let _ = write!(out, "\\u{:04x}", unit);
            }
        } else {
            out.push_str(esc);
        }
        start = i + c.len_utf8();
    }
    out.push_str(&s[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(s: &str) -> String {
        let mut out = String::new();
        push_value(&mut out, s);
        out
    }

    #[test]
    fn bare_values_stay_bare() {
        assert_eq!(value("GET"), "GET");
        assert_eq!(value("/api/health"), "/api/health");
        assert_eq!(value("héllo"), "héllo");
        assert_eq!(value("a|b"), "a|b");
    }

    #[test]
    fn unsafe_values_are_quoted() {
        assert_eq!(value(""), r#""""#);
        assert_eq!(value("a b"), r#""a b""#);
        assert_eq!(value("a=b"), r#""a=b""#);
        assert_eq!(value(r#"say "hi""#), r#""say \"hi\"""#);
        assert_eq!(value(r"C:\x"), r#""C:\\x""#);
        assert_eq!(value("line\nnext"), r#""line\nnext""#);
        assert_eq!(value("\u{1b}[31mred"), r#""\u{1b}[31mred""#);
        assert_eq!(value("\u{85}"), r#""\u{85}""#);
        assert_eq!(value("é\u{2028}"), r#""é\u{2028}""#);
        assert_eq!(value("ü x"), r#""ü x""#);
        assert_eq!(value("ü\u{a0}"), r#""ü\u{a0}""#);
    }

    #[test]
    fn format_characters_are_escaped_everywhere() {
        // Trojan Source: bidi overrides and invisible characters.
        assert_eq!(value("admin\u{202e}txt.exe"), r#""admin\u{202e}txt.exe""#);
        assert_eq!(value("a\u{200b}b"), r#""a\u{200b}b""#);
        for c in [
            '\u{ad}',
            '\u{61c}',
            '\u{2066}',
            '\u{2069}',
            '\u{2060}',
            '\u{feff}',
            '\u{e0001}',
        ] {
            assert_eq!(value(&format!("x{c}")), format!("\"x\\u{{{:x}}}\"", c as u32));
        }
        let mut out = String::new();
        push_message(&mut out, "LOGIN\u{202e}");
        assert_eq!(out, r"LOGIN\u{202e}");
        let mut out = String::new();
        push_text(&mut out, "build \u{2067}ok");
        assert_eq!(out, r"build \u{2067}ok");
        let mut out = String::new();
        push_json_str(&mut out, "\u{202e}\u{e0001}");
        assert_eq!(out, r"\u202e\udb40\udc01");
        // Letters that merely look unusual stay as they are.
        assert_eq!(value("日本"), "日本");
    }

    #[test]
    fn messages_escape_pipes_and_controls() {
        let mut out = String::new();
        push_message(&mut out, "a | b\r\n\\ \"ok\" x=y");
        assert_eq!(out, r#"a \| b\r\n\\ "ok" x=y"#);
    }

    #[test]
    fn json_escapes_controls_and_c1() {
        let mut out = String::new();
        push_json_str(&mut out, "a\"\\\n\u{1b}\u{9b}\u{2028}é");
        assert_eq!(out, r#"a\"\\\n\u001b\u009b\u2028é"#);
    }
    /// The rule as the module docs state it, a character at a time.
    fn needs_quotes_by_the_rule(s: &str) -> bool {
        s.is_empty()
            || s.chars().any(|c| match c {
                ' ' | '"' | '=' | '\\' | '\u{7f}' => true,
                c if c.is_ascii() => c.is_ascii_control(),
                c => must_escape(c),
            })
    }

    /// Text of up to 40 bytes from the characters
    /// the fast paths must notice, in any position.
    fn text() -> impl proptest::strategy::Strategy<Value = String> {
        "[a-zA-Z0-9_./:|\\]\\- \"=\t\n\u{0}\u{1f}\u{7f}\u{80}\u{85}\u{a0}\u{ad}\u{200b}\u{2028}é漢🦀]{0,40}"
    }

    proptest::proptest! {
        // A character that forces quoting, alone among plain ones, is a rare draw.
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(20_000))]

        #[test]
        fn quoting_follows_the_rule_wherever_a_character_falls(s in text()) {
            proptest::prop_assert_eq!(needs_quotes(&s), needs_quotes_by_the_rule(&s), "{:?}", s);
        }

        #[test]
        fn unquoted_text_is_escaped_as_the_slow_path_escapes_it(s in text()) {
            for extra in [&['|'][..], &[']'], &[]] {
                let (mut fast, mut slow) = (String::new(), String::new());
                push_unquoted(&mut fast, &s, extra);
                push_escaped(&mut slow, &s, extra);
                proptest::prop_assert_eq!(&fast, &slow, "{:?} with {:?}", s, extra);
            }
        }
    }
}
