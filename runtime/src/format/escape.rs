//! Escaping for the readable line format.
//!
//! The rules, shared by the formatter and the parser in the tests:
//! - a field value is bare when it is non-empty and holds no space, `"`, `=`,
//!   `\`, whitespace or control character; otherwise it is double-quoted;
//! - inside quotes, `"` and `\` are backslash-escaped, `\n`, `\r` and `\t`
//!   keep their usual escapes, and every other control or non-space
//!   whitespace character is written `\u{hex}`;
//! - the message is never quoted: it escapes `\`, `|` and the same
//!   characters, so the ` | ` that opens the fields is never ambiguous;
//! - a transaction id escapes `\`, `]` and the same characters.
//!
//! So no input can end a line early, forge a second line, or send a
//! terminal escape sequence.

use std::fmt::Write as _;

/// True for characters that may never appear raw in a line: controls (C0,
/// DEL, C1) and whitespace other than the plain space, such as U+2028.
#[inline]
fn must_escape(c: char) -> bool {
    c.is_control() || (c != ' ' && c.is_whitespace())
}

/// Bytes that force quoting when they appear in an ASCII value.
static QUOTE_BYTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = b <= 0x20 || b == 0x7f || b == b'"' as usize || b == b'=' as usize || b == b'\\' as usize;
        b += 1;
    }
    table
};

/// Whether a field value must be quoted.
#[inline]
pub(crate) fn needs_quotes(s: &str) -> bool {
    if s.is_empty() {
        return true;
    }
    if s.is_ascii() {
        return s.bytes().any(|b| QUOTE_BYTE[b as usize]);
    }
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

/// Appends a message: never quoted, `\` and `|` escaped.
#[inline]
pub(crate) fn push_message(out: &mut String, s: &str) {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'\\' && b != b'|') {
        out.push_str(s);
    } else {
        push_escaped(out, s, &['|']);
    }
}

/// Appends free text (a job log line): `\` and control characters escaped,
/// nothing else.
pub(crate) fn push_text(out: &mut String, s: &str) {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'\\') {
        out.push_str(s);
    } else {
        push_escaped(out, s, &[]);
    }
}

/// Appends a transaction id or logger name: never quoted, `\` and `]` escaped.
#[inline]
pub(crate) fn push_label(out: &mut String, s: &str) {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'\\' && b != b']') {
        out.push_str(s);
    } else {
        push_escaped(out, s, &[']']);
    }
}

/// Appends `s` as the body of a JSON string (without the quotes).
///
/// Beyond what JSON requires, DEL, C1 controls and U+2028/U+2029 are escaped
/// too, so a JSON line is as safe to print on a terminal as a readable one.
pub(crate) fn push_json_str(out: &mut String, s: &str) {
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
            let _ = write!(out, "\\u{:04x}", c as u32);
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
}
