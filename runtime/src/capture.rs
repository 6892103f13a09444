//! Loggers for tests: what a capturing logger recorded, each event as its
//! line and as its values.

use std::sync::{Arc, Mutex, PoisonError};

use crate::field::Value;
use crate::Level;

/// One event as a capturing logger recorded it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Record {
    /// The event's level.
    pub level: Level,
    /// The name of the logger that recorded it.
    pub logger: String,
    /// The message, as given (not escaped).
    pub message: String,
    /// The fields in the order written, values as given (not escaped).
    pub fields: Vec<(String, Value)>,
    /// The transaction id in force, if any.
    pub txid: Option<String>,
    /// The innermost service method the event was logged in, if any.
    pub span: Option<String>,
    /// The active OpenTelemetry trace id (feature `otel`), if any.
    pub trace_id: Option<String>,
}

impl Record {
    /// The first field called `name`.
    ///
    /// ```
    /// let (log, captured) = logwire::Logger::capture("test");
    /// logwire::info!(log, "REQUEST_END", status_code = 200, path = "/x");
    /// let record = &captured.records()[0];
    /// assert_eq!(record.field("status_code"), Some(&logwire::Value::I64(200)));
    /// assert_eq!(record.field("path").unwrap(), "/x");
    /// assert_eq!(record.field("missing"), None);
    /// ```
    pub fn field(&self, name: &str) -> Option<&Value> {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
}

/// What a capturing logger recorded; see [`Logger::capture`](crate::Logger::capture).
///
/// Clones share one record, so a test can keep this handle while the logger
/// moves into the code under test.
#[derive(Debug, Clone, Default)]
pub struct Captured {
    inner: Arc<Mutex<Vec<(String, Record)>>>,
}

impl Captured {
    pub(crate) fn push(&self, line: &str, record: Record) {
        let line = line.strip_suffix('\n').unwrap_or(line).to_owned();
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((line, record));
    }

    /// Every line recorded so far, formatted as the logger's format writes
    /// it, without the line terminator.
    pub fn lines(&self) -> Vec<String> {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(l, _)| l.clone())
            .collect()
    }

    /// Every event recorded so far, with its level, message, fields and
    /// transaction id.
    pub fn records(&self) -> Vec<Record> {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(_, r)| r.clone())
            .collect()
    }

    /// All lines joined with `\n`, convenient for `contains` checks.
    pub fn text(&self) -> String {
        let mut text = self.lines().join("\n");
        if !text.is_empty() {
            text.push('\n');
        }
        text
    }

    /// Forgets everything recorded so far.
    pub fn clear(&self) {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }
}
