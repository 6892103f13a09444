//! logwire's own lines and spans, handed to the `tracing` stack whenever a
//! subscriber is interested in them.
//!
//! Where the field names are known when the code is compiled (`info!` & co.,
//! `#[service]` methods, the request's and job's lines) the macros make a
//! [`Site`] in a `static`, as tracing's own macros do: `Metadata` and a
//! tracing-core `DefaultCallsite` per level the site logs at, registered on
//! first use, the stack's interest cached in them. With no interested
//! subscriber a line costs one relaxed load here.
//!
//! Only a job's own `JOB_START` fields ([`Job::field`](crate::worker::Job::field))
//! arrive at run time; their callsites are made once per distinct set of
//! names ([`Shapes`]), found again without a lock, and bounded.
//!
//! Events have target `logwire` and the fields `message`, `logger`, `txid`
//! (when set), then the line's own fields, as many as it has.

use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Mutex, OnceLock};

use tracing_core::callsite::{Callsite, DefaultCallsite, Identifier};
use tracing_core::field::{DebugValue, DisplayValue, FieldSet, Value as TracingValue, ValueSet};
use tracing_core::metadata::Kind;
use tracing_core::{dispatcher, Interest, Level, LevelFilter, Metadata};

use crate::field::{FieldValue, ValueRef};

/// The target of every event and span logwire makes.
pub(crate) const TARGET: &str = "logwire";
/// The metadata name of logwire's line events; `logwire::layer` skips them.
pub(crate) const LINE: &str = "logwire line";
/// The fields every line event starts with.
pub(crate) const LINE_PREFIX: [&str; 3] = ["message", "logger", "txid"];

/// The name a line's own field has in its event: its key, except that a
/// key repeating one of the event's fixed fields (`message`, `logger`,
/// `txid`) is `fields.<key>`, as the JSON line nests it under `fields`; a
/// layer that keeps the last value of a name (JSON, OpenTelemetry
/// attributes) then still sees the line's real message, logger and txid.
#[doc(hidden)]
pub const fn event_name(key: &'static str) -> &'static str {
    const RENAMED: [(&str, &str); 3] = [
        ("message", "fields.message"),
        ("logger", "fields.logger"),
        ("txid", "fields.txid"),
    ];
    let mut i = 0;
    while i < RENAMED.len() {
        if const_eq(key, RENAMED[i].0) {
            return RENAMED[i].1;
        }
        i += 1;
    }
    key
}

const fn const_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Whether a line's field `key` is the field `name` of its event (see
/// [`event_name`]).
#[inline]
fn names_match(key: &str, name: &str) -> bool {
    key == name || (name.len() == key.len() + 7 && name.starts_with("fields.") && &name[7..] == key)
}

/// The callsites of one place that logs: one `Metadata` and one callsite
/// per level it logs at, made in a `static` by the macros (see
/// `__site!`). The metadata's field set names the callsite, and the
/// callsite the metadata, as in tracing's `callsite!`.
pub type Site<const N: usize> = ([Metadata<'static>; N], [DefaultCallsite; N]);

/// Whether any subscriber may want something at `level`: `tracing`'s global
/// maximum over every dispatcher, one relaxed load.
#[inline]
pub(crate) fn may_want(level: Level) -> bool {
    level <= tracing::level_filters::STATIC_MAX_LEVEL && level <= LevelFilter::current()
}

/// Whether the current dispatcher wants what `meta` describes, given the
/// interest cached for its callsite (tracing's own test, as its macros make it).
#[inline]
fn wanted(interest: Interest, meta: &'static Metadata<'static>) -> bool {
    !interest.is_never() && (interest.is_always() || dispatcher::get_default(|d| d.enabled(meta)))
}

/// The callsite among `callsites` at `level`, when the stack wants it now.
#[inline]
fn wanted_at(callsites: &'static [DefaultCallsite], level: Level) -> Option<&'static Metadata<'static>> {
    let cs = callsites.iter().find(|cs| *cs.metadata().level() == level)?;
    let meta = cs.metadata();
    wanted(cs.interest(), meta).then_some(meta)
}

/// Where a line of logwire's own was logged: the callsites that hand it to
/// the `tracing` stack once it is written (at once, or when a failure
/// writes a kept line).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Mirror {
    /// A macro's or a `#[service]` method's callsites, made in a `static`.
    Static(&'static [DefaultCallsite]),
    /// A site whose field names arrive at run time (`JOB_START`).
    Shapes(&'static Shapes),
}

impl Mirror {
    /// Hands a line that was just written to the stack, when a subscriber
    /// wants it.
    pub(crate) fn line(
        self,
        logger: &str,
        txid: Option<&str>,
        level: Level,
        message: &str,
        fields: &[(&'static str, &dyn FieldValue)],
    ) {
        match self {
            Mirror::Static(callsites) => line(callsites, logger, txid, level, message, fields),
            Mirror::Shapes(shapes) => shapes.line(logger, txid, message, fields),
        }
    }
}

/// Hands a line that was just written to the `tracing` stack, when a
/// subscriber wants it. `fields` are the fields of the line, in the order of
/// the site's names (a field whose value is absent is left out of `fields`).
fn line(
    callsites: &'static [DefaultCallsite],
    logger: &str,
    txid: Option<&str>,
    level: Level,
    message: &str,
    fields: &[(&'static str, &dyn FieldValue)],
) {
    if let Some(meta) = wanted_at(callsites, level) {
        dispatch_line(meta, logger, txid, message, fields);
    }
}

/// A span of `callsites` at `level` with `fields` (in the order of its
/// names, absent ones left out), when a subscriber wants it.
pub(crate) fn span(
    callsites: &'static [DefaultCallsite],
    level: Level,
    fields: &[(&'static str, &dyn FieldValue)],
) -> Option<tracing::Span> {
    if !may_want(level) {
        return None;
    }
    let meta = wanted_at(callsites, level)?;
    Some(with_value_set(meta, &[], fields, |values| {
        tracing::Span::new(meta, values)
    }))
}

fn dispatch_line(
    meta: &'static Metadata<'static>,
    logger: &str,
    txid: Option<&str>,
    message: &str,
    fields: &[(&'static str, &dyn FieldValue)],
) {
    let head: [Option<&dyn TracingValue>; 3] = [Some(&message), Some(&logger), txid.as_ref().map(|t| t as _)];
    with_value_set(meta, &head, fields, |values| {
        tracing_core::Event::dispatch(meta, values)
    });
}

/// A field value in a form `tracing` takes (its `Value` is sealed): numbers,
/// bools and text as themselves, the rest through `Display` or `Debug`.
enum Bridged<'a> {
    Absent,
    I64(i64),
    U64(u64),
    F64(f64),
    Bool(bool),
    Str(&'a str),
    Display(DisplayValue<&'a dyn fmt::Display>),
    Debug(DebugValue<&'a dyn fmt::Debug>),
}

impl<'a> Bridged<'a> {
    fn of(v: &'a dyn FieldValue) -> Self {
        match ValueRef::of(v) {
            ValueRef::I64(v) => Bridged::I64(v),
            ValueRef::U64(v) => Bridged::U64(v),
            ValueRef::F64(v) => Bridged::F64(v),
            ValueRef::Bool(v) => Bridged::Bool(v),
            ValueRef::Str(v) => Bridged::Str(v),
            ValueRef::Display(v) => Bridged::Display(tracing_core::field::display(v)),
            ValueRef::Debug(v) => Bridged::Debug(tracing_core::field::debug(v)),
        }
    }

    fn as_value(&self) -> Option<&dyn TracingValue> {
        Some(match self {
            Bridged::Absent => return None,
            Bridged::I64(v) => v,
            Bridged::U64(v) => v,
            Bridged::F64(v) => v,
            Bridged::Bool(v) => v,
            Bridged::Str(v) => v,
            Bridged::Display(v) => v,
            Bridged::Debug(v) => v,
        })
    }
}

/// Fields handed over from the stack; a line with more takes one allocation.
const INLINE: usize = 32;

/// Calls `f` with the value set of `meta`'s fields: `head` for the first
/// ones, then `fields` matched to the remaining names in order (a name with
/// no field left for it gets no value).
fn with_value_set<R>(
    meta: &'static Metadata<'static>,
    head: &[Option<&dyn TracingValue>],
    fields: &[(&'static str, &dyn FieldValue)],
    f: impl FnOnce(&ValueSet<'_>) -> R,
) -> R {
    let set = meta.fields();
    let n = set.len();
    let mut inline: [Bridged<'_>; INLINE] = std::array::from_fn(|_| Bridged::Absent);
    let mut spilled: Vec<Bridged<'_>>;
    let bridged: &mut [Bridged<'_>] = if n <= INLINE {
        &mut inline[..n]
    } else {
        spilled = std::iter::repeat_with(|| Bridged::Absent).take(n).collect();
        &mut spilled
    };
    let mut rest = fields.iter().peekable();
    for (slot, name) in bridged.iter_mut().zip(set.iter()).skip(head.len()) {
        if let Some((_, value)) = rest.next_if(|(key, _)| names_match(key, name.name())) {
            *slot = Bridged::of(*value);
        }
    }
    let mut refs: [Option<&dyn TracingValue>; INLINE] = [None; INLINE];
    let mut refs_spilled: Vec<Option<&dyn TracingValue>>;
    let refs: &mut [Option<&dyn TracingValue>] = if n <= INLINE {
        &mut refs[..n]
    } else {
        refs_spilled = vec![None; n];
        &mut refs_spilled
    };
    for (i, (slot, value)) in refs.iter_mut().zip(bridged.iter()).enumerate() {
        *slot = match head.get(i) {
            Some(v) => *v,
            None => value.as_value(),
        };
    }
    // `value_set_all` is what tracing's own macros build value sets with
    // (since tracing 0.1.44), hence as stable as they are.
    f(&set.value_set_all(refs))
}

/// Whether `meta` is one of logwire's line events.
pub(crate) fn is_line(meta: &Metadata<'_>) -> bool {
    meta.is_event() && meta.name() == LINE && meta.target() == TARGET
}

/// The callsites of one place whose field names arrive at run time (a
/// job's `JOB_START` line and `job` span): one per distinct list of names,
/// found again by a lock-free scan of this site's slots.
pub(crate) struct Shapes {
    kind: Kind,
    /// The fields given before the own ones (`message`, `logger`, `txid`
    /// for a line; `txid` for the job span); an own field of one of these
    /// names is renamed `fields.<name>`.
    fixed: &'static [&'static str],
    name: &'static str,
    level: Level,
    file: &'static str,
    line: u32,
    module: &'static str,
    /// The shapes seen here; a new one takes the lock once, to be made.
    seen: [OnceLock<&'static DynCallsite>; SLOTS],
}

/// Shapes a site finds without a lock; more are found under it.
const SLOTS: usize = 8;
/// The most shapes one site makes in a process: their callsites live for
/// the process, as `tracing` requires, so there must be a bound.
pub(crate) const MAX_SHAPES: usize = 256;

impl Shapes {
    pub(crate) const fn new(
        kind: Kind,
        fixed: &'static [&'static str],
        name: &'static str,
        level: Level,
        file: &'static str,
        line: u32,
        module: &'static str,
    ) -> Self {
        Shapes {
            kind,
            fixed,
            name,
            level,
            file,
            line,
            module,
            seen: [const { OnceLock::new() }; SLOTS],
        }
    }

    /// The line event of this site for `fields`, when a subscriber wants it.
    pub(crate) fn line(
        &'static self,
        logger: &str,
        txid: Option<&str>,
        message: &str,
        fields: &[(&'static str, &dyn FieldValue)],
    ) {
        if !may_want(self.level) {
            return;
        }
        if let Some(meta) = self.callsite(fields).and_then(DynCallsite::wanted) {
            dispatch_line(meta, logger, txid, message, fields);
        }
    }

    /// The span of this site with the values of its fixed fields (`head`)
    /// and `fields`, when a subscriber wants it.
    pub(crate) fn span(
        &'static self,
        head: &[Option<&dyn TracingValue>],
        fields: &[(&'static str, &dyn FieldValue)],
    ) -> Option<tracing::Span> {
        if !may_want(self.level) {
            return None;
        }
        let meta = self.callsite(fields)?.wanted()?;
        Some(with_value_set(meta, head, fields, |values| {
            tracing::Span::new(meta, values)
        }))
    }

    fn callsite(&'static self, fields: &[(&'static str, &dyn FieldValue)]) -> Option<&'static DynCallsite> {
        let names = || fields.iter().map(|(k, _)| *k);
        for slot in &self.seen {
            let Some(cs) = slot.get() else { break };
            if cs.own_names.iter().copied().eq(names()) {
                return Some(cs);
            }
        }
        self.make(names().collect())
    }

    #[cold]
    fn make(&'static self, names: Vec<&'static str>) -> Option<&'static DynCallsite> {
        static MADE: Mutex<Vec<&'static DynCallsite>> = Mutex::new(Vec::new());
        static WARNED: OnceLock<()> = OnceLock::new();
        let mut made = MADE.lock().unwrap_or_else(|e| e.into_inner());
        let mine = || made.iter().filter(|cs| std::ptr::eq(cs.site, self));
        let found = mine().find(|cs| cs.own_names == names.as_slice()).copied();
        let cs = match found {
            Some(cs) => cs,
            None if mine().count() >= MAX_SHAPES => {
                drop(made);
                WARNED.get_or_init(|| {
                    crate::sink::warn_stderr!(
                        "logwire: more than {MAX_SHAPES} distinct sets of job fields; further ones are not handed to the tracing stack"
                    );
                });
                return None;
            }
            None => {
                let cs = DynCallsite::make(self, names);
                made.push(cs);
                drop(made);
                // Outside the lock: registering asks every subscriber for its interest.
                tracing_core::callsite::register(cs);
                cs
            }
        };
        for slot in &self.seen {
            match slot.set(cs) {
                Ok(()) => break,
                Err(_) if slot.get().is_some_and(|other| std::ptr::eq(*other, cs)) => break,
                Err(_) => {}
            }
        }
        Some(cs)
    }
}

impl fmt::Debug for Shapes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shapes")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// A callsite made at run time, for a [`Shapes`] site.
struct DynCallsite {
    site: &'static Shapes,
    meta: OnceLock<Metadata<'static>>,
    interest: AtomicU8,
    /// The names after the fixed ones, as the line gives them.
    own_names: &'static [&'static str],
}

const UNKNOWN: u8 = 0;
const NEVER: u8 = 1;
const SOMETIMES: u8 = 2;
const ALWAYS: u8 = 3;

impl DynCallsite {
    fn make(site: &'static Shapes, own: Vec<&'static str>) -> &'static DynCallsite {
        let own_names: &'static [&'static str] = Box::leak(own.into_boxed_slice());
        let renamed = own_names.iter().map(|name| {
            if site.fixed.contains(name) {
                event_name(name)
            } else {
                name
            }
        });
        let all: &'static [&'static str] = Box::leak(
            site.fixed
                .iter()
                .copied()
                .chain(renamed)
                .collect::<Vec<_>>()
                .into_boxed_slice(),
        );
        let cs: &'static DynCallsite = Box::leak(Box::new(DynCallsite {
            site,
            meta: OnceLock::new(),
            interest: AtomicU8::new(UNKNOWN),
            own_names,
        }));
        let _ = cs.meta.set(Metadata::new(
            site.name,
            TARGET,
            site.level,
            Some(site.file),
            Some(site.line),
            Some(site.module),
            FieldSet::new(all, Identifier(cs)),
            site.kind.clone(),
        ));
        cs
    }

    fn meta(&'static self) -> &'static Metadata<'static> {
        self.meta.get().expect("metadata is set before the callsite is shared")
    }

    fn wanted(&'static self) -> Option<&'static Metadata<'static>> {
        let interest = match self.interest.load(Ordering::Relaxed) {
            NEVER => Interest::never(),
            ALWAYS => Interest::always(),
            _ => Interest::sometimes(),
        };
        let meta = self.meta();
        wanted(interest, meta).then_some(meta)
    }
}

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

impl fmt::Debug for DynCallsite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynCallsite").field("names", &self.own_names).finish()
    }
}
