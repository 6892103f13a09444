//! logwire's own lines and spans, handed to the `tracing` stack whenever a
//! subscriber is interested in them.
//!
//! A line's fields are known only where it is logged, so each call site
//! keeps a [`Site`] whose `tracing` callsites are made on first use, one per
//! level, and registered with `tracing-core` like any macro's callsite: the
//! stack's interest in them is cached, and with no interested subscriber a
//! line costs one relaxed load here.
//!
//! Events have target `logwire` and the fields `message`, `logger`, `txid`
//! (when set), then the line's own fields (at most [`MAX_FIELDS`] in all).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Mutex, OnceLock};

use tracing_core::callsite::{Callsite, Identifier};
use tracing_core::field::{Field, FieldSet, Value as TracingValue};
use tracing_core::metadata::Kind;
use tracing_core::{dispatcher, Interest, Level, LevelFilter, Metadata};

use crate::field::{FieldValue, Value};

/// The target of every event and span logwire makes.
pub(crate) const TARGET: &str = "logwire";
/// The metadata name of logwire's line events; `logwire::layer` skips them.
pub(crate) const LINE: &str = "logwire line";
/// The most fields an event or span carries into `tracing`.
pub(crate) const MAX_FIELDS: usize = 32;
const LINE_PREFIX: [&str; 3] = ["message", "logger", "txid"];

/// Whether any subscriber may want something at `level`: `tracing`'s global
/// maximum over every dispatcher, one relaxed load.
#[inline]
pub(crate) fn may_want(level: Level) -> bool {
    level <= tracing::level_filters::STATIC_MAX_LEVEL && level <= LevelFilter::current()
}

struct DynCallsite {
    meta: OnceLock<Metadata<'static>>,
    interest: AtomicU8,
    /// The names after the fixed ones (for events, after `LINE_PREFIX`).
    own_names: &'static [&'static str],
}

const UNKNOWN: u8 = 0;
const NEVER: u8 = 1;
const SOMETIMES: u8 = 2;
const ALWAYS: u8 = 3;

impl Callsite for DynCallsite {
    fn set_interest(&self, interest: Interest) {
        let v = if interest.is_never() {
            NEVER
        } else if interest.is_always() {
            ALWAYS
        } else {
            SOMETIMES
        };
        self.interest.store(v, Ordering::Relaxed);
    }

    fn metadata(&self) -> &Metadata<'_> {
        self.meta.get().expect("metadata is set before the callsite is shared")
    }
}

impl DynCallsite {
    fn meta(&'static self) -> &'static Metadata<'static> {
        self.meta.get().expect("metadata is set before the callsite is shared")
    }

    /// Whether the current dispatcher wants this callsite now.
    fn enabled(&'static self) -> bool {
        match self.interest.load(Ordering::Relaxed) {
            NEVER => false,
            ALWAYS => true,
            _ => dispatcher::get_default(|d| d.enabled(self.meta())),
        }
    }
}

#[derive(PartialEq, Eq, Hash)]
struct Key {
    span: bool,
    name: &'static str,
    level: Level,
    file: &'static str,
    line: u32,
    names: Vec<&'static str>,
}

/// The callsite for `key`, made and registered on first use. Callsites live
/// for the process, as `tracing` requires; there is one per distinct key.
fn intern(key: Key, module: &'static str) -> &'static DynCallsite {
    static MADE: OnceLock<Mutex<HashMap<Key, &'static DynCallsite>>> = OnceLock::new();
    let made = MADE.get_or_init(Default::default);
    let mut map = made.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(cs) = map.get(&key) {
        return cs;
    }
    let fixed: &[&str] = if key.span { &[] } else { &LINE_PREFIX };
    let own_names: &'static [&'static str] = Box::leak(key.names.clone().into_boxed_slice());
    let all_names: &'static [&'static str] = Box::leak(
        fixed
            .iter()
            .chain(own_names)
            .take(MAX_FIELDS)
            .copied()
            .collect::<Vec<_>>()
            .into_boxed_slice(),
    );
    let cs: &'static DynCallsite = Box::leak(Box::new(DynCallsite {
        meta: OnceLock::new(),
        interest: AtomicU8::new(UNKNOWN),
        own_names,
    }));
    let _ = cs.meta.set(Metadata::new(
        if key.span { key.name } else { LINE },
        TARGET,
        key.level,
        Some(key.file),
        Some(key.line),
        Some(module),
        FieldSet::new(all_names, Identifier(cs)),
        if key.span { Kind::SPAN } else { Kind::EVENT },
    ));
    map.insert(key, cs);
    drop(map);
    // Outside the lock: registering asks every subscriber for its interest.
    tracing_core::callsite::register(cs);
    cs
}

fn level_index(level: Level) -> usize {
    match level {
        Level::TRACE => 0,
        Level::DEBUG => 1,
        Level::INFO => 2,
        Level::WARN => 3,
        _ => 4,
    }
}

/// Where a line is logged: one per macro call site, in a `static`.
#[doc(hidden)]
#[derive(Debug)]
pub struct Site {
    file: &'static str,
    line: u32,
    module: &'static str,
    cached: [OnceLock<&'static DynCallsite>; 5],
}

impl std::fmt::Debug for DynCallsite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynCallsite").field("names", &self.own_names).finish()
    }
}

impl Site {
    #[doc(hidden)]
    pub const fn new(file: &'static str, line: u32, module: &'static str) -> Self {
        Site {
            file,
            line,
            module,
            cached: [const { OnceLock::new() }; 5],
        }
    }

    fn callsite(
        &self,
        span: Option<&'static str>,
        level: Level,
        fields: &[(&'static str, &dyn FieldValue)],
    ) -> &'static DynCallsite {
        let slot = &self.cached[level_index(level)];
        let make = || {
            intern(
                Key {
                    span: span.is_some(),
                    name: span.unwrap_or(LINE),
                    level,
                    file: self.file,
                    line: self.line,
                    names: fields.iter().map(|(k, _)| *k).collect(),
                },
                self.module,
            )
        };
        match slot.get() {
            Some(cs) if cs.own_names.iter().eq(fields.iter().map(|(k, _)| k)) => cs,
            // One site logging lines of two shapes (METHOD_END and
            // METHOD_ERROR at one level, a job's own fields).
            Some(_) => make(),
            None => slot.get_or_init(make),
        }
    }

    /// Hands a line that was just written to the `tracing` stack, when a
    /// subscriber wants it.
    pub(crate) fn line(
        &self,
        logger: &str,
        txid: Option<&str>,
        level: Level,
        message: &str,
        fields: &[(&'static str, &dyn FieldValue)],
    ) {
        if !may_want(level) {
            return;
        }
        let cs = self.callsite(None, level, fields);
        if !cs.enabled() {
            return;
        }
        let owned: Vec<Value> = fields.iter().map(|(_, v)| Value::of(*v)).collect();
        let mut values: Vec<Option<&dyn TracingValue>> = Vec::with_capacity(owned.len() + 3);
        values.push(Some(&message));
        values.push(Some(&logger));
        values.push(txid.as_ref().map(|t| t as &dyn TracingValue));
        values.extend(owned.iter().map(|v| Some(as_tracing(v))));
        with_value_set(cs.meta(), &values, |vs| tracing_core::Event::dispatch(cs.meta(), vs));
    }

    /// A span named `name` with `fields`, when a subscriber wants it.
    #[doc(hidden)]
    pub fn span(
        &self,
        name: &'static str,
        level: Level,
        fields: &[(&'static str, &dyn FieldValue)],
    ) -> Option<tracing::Span> {
        if !may_want(level) {
            return None;
        }
        let cs = self.callsite(Some(name), level, fields);
        if !cs.enabled() {
            return None;
        }
        let owned: Vec<Value> = fields.iter().map(|(_, v)| Value::of(*v)).collect();
        let values: Vec<Option<&dyn TracingValue>> = owned.iter().map(|v| Some(as_tracing(v))).collect();
        Some(with_value_set(cs.meta(), &values, |vs| {
            tracing::Span::new(cs.meta(), vs)
        }))
    }
}

fn as_tracing(v: &Value) -> &dyn TracingValue {
    match v {
        Value::I64(v) => v,
        Value::U64(v) => v,
        Value::F64(v) => v,
        Value::Bool(v) => v,
        Value::Str(v) => v,
    }
}

/// Calls `f` with a value set of `meta`'s fields in order; `tracing` takes
/// value sets only from arrays, so this one has room for `MAX_FIELDS`.
fn with_value_set<R>(
    meta: &'static Metadata<'static>,
    values: &[Option<&dyn TracingValue>],
    f: impl FnOnce(&tracing_core::field::ValueSet<'_>) -> R,
) -> R {
    let fields: Vec<Field> = meta.fields().iter().collect();
    let Some(first) = fields.first() else {
        return f(&meta.fields().value_set(&[]));
    };
    let mut set: [(&Field, Option<&dyn TracingValue>); MAX_FIELDS] = [(first, None); MAX_FIELDS];
    for ((slot, field), value) in set.iter_mut().zip(&fields).zip(values) {
        *slot = (field, *value);
    }
    f(&meta.fields().value_set(&set))
}

/// Whether `meta` is one of logwire's line events.
pub(crate) fn is_line(meta: &Metadata<'_>) -> bool {
    meta.is_event() && meta.name() == LINE && meta.target() == TARGET
}
