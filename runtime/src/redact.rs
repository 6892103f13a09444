//! Secrets inside a value recorded through `Debug`: a struct field or map
//! key whose name says it holds a secret is written `***`, at any depth.
//!
//! Works on the text `{:?}` produces (derived `Debug` of structs, tuples,
//! enums, maps and sequences; strings and chars quoted and escaped), so it
//! needs nothing from the value's type.

/// Names that mark a secret, matched case-insensitively anywhere in a name
/// (`password`, `db_password`, `X-Api-Key`…); `#[service]` uses the same
/// list for argument names.
pub(crate) const SECRET_MARKERS: [&str; 6] = ["password", "secret", "token", "credential", "api_key", "authorization"];

/// Whether a field, key or argument name marks a secret.
pub(crate) fn is_secret(name: &str) -> bool {
    let lower = name.to_ascii_lowercase().replace('-', "_");
    SECRET_MARKERS.iter().any(|m| lower.contains(m))
}

/// `debug` with the value of every secret-named field or key replaced by
/// `***`: `LoginRequest { user: "eve", password: "hunter2" }` becomes
/// `LoginRequest { user: "eve", password: *** }`.
pub(crate) fn redact_debug(debug: &str) -> String {
    let bytes = debug.as_bytes();
    let mut out = String::with_capacity(debug.len());
    let mut i = 0;
    // Start of the last key-like token: an identifier or a quoted string.
    let mut key: Option<(usize, usize)> = None;
    while i < bytes.len() {
        match bytes[i] {
            b'"' | b'\'' => {
                let end = quoted_end(bytes, i);
                out.push_str(&debug[i..end]);
                key = Some((i + 1, end.saturating_sub(1)));
                i = end;
            }
            b':' if bytes.get(i + 1) == Some(&b' ') && key.is_some_and(|(s, e)| is_secret(&debug[s..e.max(s)])) => {
                out.push_str(": ***");
                i = value_end(bytes, i + 2);
                key = None;
            }
            b if b.is_ascii_alphanumeric() || b == b'_' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                out.push_str(&debug[start..i]);
                key = Some((start, i));
            }
            _ => {
                // Copy one whole character.
                let len = utf8_len(bytes[i]);
                out.push_str(&debug[i..i + len]);
                if bytes[i] != b' ' {
                    key = None;
                }
                i += len;
            }
        }
    }
    out
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0.. => 4,
        0xE0.. => 3,
        0xC0.. => 2,
        _ => 1,
    }
}

/// The index just past the string or char literal starting at `start`.
fn quoted_end(bytes: &[u8], start: usize) -> usize {
    let quote = bytes[start];
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b if b == quote => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// The index where the value starting at `start` ends: before the `,` or
/// closing bracket that is not inside it (and the space before a bracket).
fn value_end(bytes: &[u8], start: usize) -> usize {
    let mut end = raw_value_end(bytes, start);
    while end > start && bytes[end - 1] == b' ' {
        end -= 1;
    }
    end
}

fn raw_value_end(bytes: &[u8], start: usize) -> usize {
    let mut depth = 0usize;
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b'"' | b'\'' => {
                i = quoted_end(bytes, i);
                continue;
            }
            b'{' | b'[' | b'(' => depth += 1,
            b'}' | b']' | b')' if depth == 0 => return i,
            b'}' | b']' | b')' => depth -= 1,
            b',' if depth == 0 => return i,
            _ => {}
        }
        i += 1;
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[derive(Debug)]
    #[allow(dead_code)]
    struct Login {
        user: String,
        password: String,
    }

    #[derive(Debug)]
    #[allow(dead_code)]
    struct Outer {
        login: Login,
        api_key: Option<String>,
        tags: Vec<&'static str>,
        headers: BTreeMap<&'static str, &'static str>,
        note: char,
    }

    #[test]
    fn secrets_are_starred_at_any_depth() {
        let outer = Outer {
            login: Login {
                user: "eve, password: x".into(),
                password: "hun\"ter2, }".into(),
            },
            api_key: Some("k-1".into()),
            tags: vec!["a", "token"],
            headers: BTreeMap::from([("Authorization", "Bearer abc"), ("accept", "json")]),
            note: '"',
        };
        assert_eq!(
            redact_debug(&format!("{outer:?}")),
            r#"Outer { login: Login { user: "eve, password: x", password: *** }, api_key: ***, tags: ["a", "token"], headers: {"Authorization": ***, "accept": "json"}, note: '"' }"#
        );
    }

    #[test]
    fn plain_values_are_left_alone() {
        assert_eq!(redact_debug("Some(3)"), "Some(3)");
        assert_eq!(redact_debug(r#""password: x""#), r#""password: x""#);
        assert_eq!(redact_debug("Point { x: 1, y: -2 }"), "Point { x: 1, y: -2 }");
        assert_eq!(redact_debug("é { secret: (1, [2]) }"), "é { secret: *** }");
    }
}
