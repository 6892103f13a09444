//! `parse(format(message, fields)) == (message, fields)` for any input.

use logwire::{Format, Logger};
use logwire_tests::{line_regex, parse_line};
use proptest::prelude::*;

/// Text built from the characters that break naive formats.
fn nasty_text() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        Just("\r\n".to_owned()),
        Just("\n".to_owned()),
        Just("\u{1b}[31m".to_owned()),
        Just("\"".to_owned()),
        Just("=".to_owned()),
        Just("|".to_owned()),
        Just(" | ".to_owned()),
        Just(" - ".to_owned()),
        Just("\\".to_owned()),
        Just("]".to_owned()),
        Just("\t".to_owned()),
        Just("\u{0}".to_owned()),
        Just("\u{7f}\u{85}\u{9b}".to_owned()),
        Just("\u{2028}".to_owned()),
        Just("é漢字🦀".to_owned()),
        Just(" ".to_owned()),
        "[a-z0-9_./:-]{1,8}",
        any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(pieces, 0..8).prop_map(|v| v.concat())
}

thread_local! {
    // One logger for every case: building one per case would measure tracing's
    // dispatcher registry, not the format.
    static LOGGER: (Logger, logwire::Captured) = Logger::builder("rt").format(Format::Readable).build_capture();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 100_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn every_line_parses_back(
        message in nasty_text(),
        values in prop::collection::vec(nasty_text(), 0..4),
        txid in proptest::option::of(nasty_text()),
    ) {
        let (log, cap) = LOGGER.with(|(l, c)| (l.clone(), c.clone()));
        cap.clear();
        let keys = ["a", "b.c", "d", "e"];
        let emit = || match values.as_slice() {
            [] => logwire::info!(log, &message),
            [a] => logwire::info!(log, &message, a = a.as_str()),
            [a, b] => logwire::info!(log, &message, a = a.as_str(), b.c = %b),
            [a, b, c] => logwire::info!(log, &message, a = a.as_str(), b.c = %b, d = c.as_str()),
            [a, b, c, d, ..] => logwire::info!(log, &message, a = a.as_str(), b.c = %b, d = c.as_str(), e = d.as_str()),
        };
        match &txid {
            Some(id) => logwire::txid::scope_sync(id.clone(), emit),
            None => emit(),
        }
        let lines = cap.lines();
        prop_assert_eq!(lines.len(), 1);
        let line = &lines[0];
        prop_assert!(!line.chars().any(|c| c.is_control()), "control char in {:?}", line);
        prop_assert!(line_regex().is_match(line), "regex rejects {:?}", line);
        let parsed = parse_line(line).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&parsed.message, &message);
        prop_assert_eq!(&parsed.txid, &txid);
        let expected: Vec<(String, String)> = keys.iter().zip(&values).map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
        prop_assert_eq!(parsed.fields, expected);
    }
}

thread_local! {
    static JSON_LOGGER: (Logger, logwire::Captured) = Logger::builder("rt").format(Format::Json).build_capture();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 20_000, failure_persistence: None, ..ProptestConfig::default() })]

    /// A JSON line is one valid object that gives back the message and
    /// values, and holds nothing a terminal would act on (controls, DEL,
    /// C1, U+2028/U+2029 are all escaped).
    #[test]
    fn every_json_line_parses_back(message in nasty_text(), a in nasty_text(), b in nasty_text()) {
        let (log, cap) = JSON_LOGGER.with(|(l, c)| (l.clone(), c.clone()));
        cap.clear();
        logwire::info!(log, &message, a = a.as_str(), b = %b);
        let lines = cap.lines();
        prop_assert_eq!(lines.len(), 1);
        let line = lines[0].trim_end_matches('\n');
        prop_assert!(
            !line.chars().any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')),
            "raw control in {:?}", line
        );
        let parsed: serde_json::Value = serde_json::from_str(line).map_err(|e| TestCaseError::fail(format!("{e}: {line}")))?;
        prop_assert_eq!(parsed["message"].as_str(), Some(message.as_str()));
        prop_assert_eq!(parsed["fields"]["a"].as_str(), Some(a.as_str()));
        prop_assert_eq!(parsed["fields"]["b"].as_str(), Some(b.as_str()));
    }
}
