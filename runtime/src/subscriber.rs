//! Events that libraries emit through `tracing` while a logger is the
//! default dispatcher go to that logger, written like its own events with
//! the event's target as the first field.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};
use tracing_core::LevelFilter;

use crate::field::{FieldValue, Value};
use crate::format;
use crate::logger::Shared;

pub(crate) struct LibrarySubscriber {
    shared: Arc<Shared>,
    next_span: AtomicU64,
}

impl LibrarySubscriber {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        LibrarySubscriber {
            shared,
            next_span: AtomicU64::new(1),
        }
    }
}

impl Subscriber for LibrarySubscriber {
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        if self.enabled(meta) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, meta: &Metadata<'_>) -> bool {
        *meta.level() <= self.shared.max_level()
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(self.shared.max_level())
    }

    // Library spans are accepted and ignored: lines carry the transaction id
    // and the service method, not library span fields.
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(self.next_span.fetch_add(1, Ordering::Relaxed))
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let meta = event.metadata();
        let mut visitor = Collect {
            message: String::new(),
            fields: vec![("target", Value::Str(meta.target().to_owned()))],
        };
        event.record(&mut visitor);
        let fields: Vec<(&str, &dyn FieldValue)> =
            visitor.fields.iter().map(|(k, v)| (*k, v as &dyn FieldValue)).collect();
        self.shared.emit(&format::Event {
            level: *meta.level(),
            message: &visitor.message,
            fields: &fields,
        });
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

struct Collect {
    message: String,
    fields: Vec<(&'static str, Value)>,
}

impl Visit for Collect {
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.fields.push((field.name(), Value::I64(value)));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.fields.push((field.name(), Value::U64(value)));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.fields.push((field.name(), Value::F64(value)));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.fields.push((field.name(), Value::Bool(value)));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_owned();
        } else {
            self.fields.push((field.name(), Value::Str(value.to_owned())));
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.message = format!("{value:?}");
        } else {
            self.fields.push((field.name(), Value::Str(format!("{value:?}"))));
        }
    }
}
