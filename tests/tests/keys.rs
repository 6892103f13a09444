//! A line never holds one key twice, readable or JSON: logwire's own keys
//! win, and a colliding argument or field is kept under a documented name
//! (`arg.<name>` for a service argument, `<key>.2` for a repeated field).

use std::fmt;
use std::time::{Duration, UNIX_EPOCH};

use logwire::{Format, Level, Logger};
use logwire_tests::parse_line;
use serde::de::{Deserializer, MapAccess, Visitor};

/// A JSON object's keys in the order written, duplicates kept (serde_json's
/// `Value` would silently keep only one), and those of its `fields` object.
#[derive(Debug, Default)]
struct Keys(Vec<String>, Vec<String>);

impl<'de> serde::Deserialize<'de> for Keys {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Keys;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Keys, A::Error> {
                let mut keys = Keys::default();
                while let Some(key) = map.next_key::<String>()? {
                    if key == "fields" {
                        keys.1 = map.next_value::<Keys>()?.0;
                    } else {
                        map.next_value::<serde_json::Value>()?;
                    }
                    keys.0.push(key);
                }
                Ok(keys)
            }
        }
        d.deserialize_map(V)
    }
}

/// The top-level keys of a JSON line and the keys of its `fields`.
fn json_keys(line: &str) -> (Vec<String>, Vec<String>) {
    let keys: Keys = serde_json::from_str(line).unwrap();
    (keys.0, keys.1)
}

fn fixed(format: Format) -> (Logger, logwire::Captured) {
    Logger::builder("api")
        .level(Level::TRACE)
        .format(format)
        .clock(|| UNIX_EPOCH + Duration::from_millis(1_735_732_800_123))
        .build_capture()
}

#[logwire::service]
struct Router {
    logger: Logger,
}

#[logwire::service]
impl Router {
    fn dispatch(&self, method: &str) -> u8 {
        method.len() as u8
    }

    fn retry(&self, error: &str, elapsed_ms: u64) -> Result<(), String> {
        Err(format!("{error} after {elapsed_ms} ms"))
    }
}

#[test]
fn a_service_argument_named_like_a_line_key_is_written_as_arg_name() {
    let (log, cap) = fixed(Format::Readable);
    Router::new(log).dispatch("GET");
    let line = parse_line(&cap.lines()[0]).unwrap();
    let keys: Vec<&str> = line.fields.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["method", "arg.method", "elapsed_ms"]);
    assert_eq!(line.field("method"), Some("Router::dispatch"));
    assert_eq!(line.field("arg.method"), Some("GET"));

    let (log, cap) = fixed(Format::Readable);
    Router::new(log).retry("timeout", 30).unwrap_err();
    let line = parse_line(&cap.lines()[0]).unwrap();
    assert_eq!(line.message, "METHOD_ERROR");
    let keys: Vec<&str> = line.fields.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["method", "arg.error", "arg.elapsed_ms", "elapsed_ms", "error"]);
    assert_eq!(line.field("arg.error"), Some("timeout"));
    assert_eq!(line.field("error"), Some("timeout after 30 ms"));
    assert_eq!(cap.records()[0].field("arg.elapsed_ms"), Some(&logwire::Value::U64(30)));
}

#[test]
fn the_json_object_of_a_method_line_has_each_key_once() {
    let (log, cap) = fixed(Format::Json);
    Router::new(log).dispatch("GET");
    let (top, fields) = json_keys(&cap.lines()[0]);
    assert_eq!(top, ["ts", "level", "logger", "message", "fields", "method"]);
    assert_eq!(fields, ["method", "arg.method", "elapsed_ms"]);
    let value: serde_json::Value = serde_json::from_str(&cap.lines()[0]).unwrap();
    assert_eq!(value["fields"]["method"], "Router::dispatch");
    assert_eq!(value["fields"]["arg.method"], "GET");
}

#[test]
fn a_field_given_twice_is_kept_as_key_dot_2() {
    let (log, cap) = fixed(Format::Readable);
    logwire::info!(log, "X", a = 1, b = 2, a = 3, a = "four");
    assert_eq!(
        cap.lines()[0],
        "2025-01-01 12:00:00.123Z - api - INFO - X | a=1 b=2 a.2=3 a.3=four"
    );
    let fields: Vec<String> = cap.records()[0].fields.iter().map(|(k, _)| k.clone()).collect();
    assert_eq!(fields, ["a", "b", "a.2", "a.3"]);

    let (log, cap) = fixed(Format::Json);
    logwire::info!(log, "X", a = 1, a = 3);
    assert_eq!(json_keys(&cap.lines()[0]).1, ["a", "a.2"]);
}

#[test]
fn a_library_event_keeps_target_and_both_messages_apart() {
    use tracing_subscriber::layer::SubscriberExt;
    for format in [Format::Readable, Format::Json] {
        let (log, cap) = fixed(format);
        let stack = tracing_subscriber::registry().with(logwire::layer(&log));
        tracing::subscriber::with_default(stack, || {
            tracing::info!(target: "hyper", target = "db", message = "m", "text");
        });
        let line = &cap.lines()[0];
        match format {
            Format::Readable => assert_eq!(
                line,
                "2025-01-01 12:00:00.123Z - api - INFO - text | target=hyper target.2=db message=m"
            ),
            _ => {
                let value: serde_json::Value = serde_json::from_str(line).unwrap();
                assert_eq!(value["message"], "text");
                assert_eq!(json_keys(line).1, ["target", "target.2", "message"]);
                assert_eq!(value["fields"]["message"], "m");
                assert_eq!(value["fields"]["target"], "hyper");
            }
        }
    }
}

/// A renamed repeat never takes a name the line already uses: `a`, `a`,
/// `a.2` writes `a`, `a.3`, `a.2`, in both formats and in the capture.
#[test]
fn a_renamed_repeat_skips_names_the_line_already_has() {
    let (log, cap) = fixed(Format::Readable);
    logwire::info!(log, "X", a = 1, a = 2, "a.2" = 3, a = 4);
    assert_eq!(
        cap.lines()[0],
        "2025-01-01 12:00:00.123Z - api - INFO - X | a=1 a.3=2 a.2=3 a.4=4"
    );
    let fields: Vec<String> = cap.records()[0].fields.iter().map(|(k, _)| k.clone()).collect();
    assert_eq!(fields, ["a", "a.3", "a.2", "a.4"]);

    let (log, cap) = fixed(Format::Json);
    logwire::info!(log, "X", a = 1, a = 2, "a.2" = 3, a = 4);
    assert_eq!(json_keys(&cap.lines()[0]).1, ["a", "a.3", "a.2", "a.4"]);
}
