//! logwire as one layer of a `tracing` stack: [`layer()`], [`init`] and
//! [`try_init`].

use std::cell::RefCell;
use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::filter::Filtered;
use tracing_subscriber::layer::{self, Context, Filter, Layer};
use tracing_subscriber::registry::LookupSpan;

use crate::context;
use crate::field::{FieldValue, Slot, ValueRef};
use crate::format;
use crate::mirror;
use crate::Logger;

/// Writes the `tracing` events of libraries (sqlx, hyper, tower-http, your
/// own `tracing::info!`) in logwire's format, to the *current logger*: the
/// one of the enclosing `ApiLayer` request, `run_job` job, or
/// [`Logger::scope`] / [`Logger::in_scope`], and otherwise to `logger`.
///
/// Each line carries the current transaction id and `target=` as its first
/// field. An event is written when the current logger's level allows it;
/// put an `EnvFilter` in the stack to choose per target (as [`init`] does).
/// logwire's own lines (`info!` & co., `METHOD_END`, `REQUEST_*`, `JOB_*`)
/// are written by their logger already and reach other layers of the stack
/// as events with target `logwire`; this layer does not write them twice.
///
/// ```
/// use tracing_subscriber::prelude::*;
///
/// let (api, captured) = logwire::Logger::capture("api"); // logwire::file_logger("api") in main
/// let stack = tracing_subscriber::registry()
///     .with(tracing_subscriber::EnvFilter::new("info"))
///     .with(logwire::layer(&api));
/// tracing::subscriber::with_default(stack, || {
///     tracing::info!(target: "sqlx::query", rows = 2, "query done");
/// });
/// assert!(captured.lines()[0].ends_with(" - api - INFO - query done | target=sqlx::query rows=2"));
/// ```
pub fn layer<S>(logger: &Logger) -> impl Layer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    layer_at(logger, Levels::Logger)
}

/// Who decides the level of the library events the layer writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Levels {
    /// The current logger: an event below its level is not written.
    Logger,
    /// The stack's own filter (`init`'s `EnvFilter` when RUST_LOG is set):
    /// every event that reaches the layer is written.
    Stack,
}

fn layer_at<S>(logger: &Logger, levels: Levels) -> Filtered<LogLayer, LibraryEvents, S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    LogLayer {
        logger: logger.clone(),
        levels,
    }
    .with_filter(LibraryEvents {
        logger: logger.clone(),
        levels,
    })
}

/// The layer that [`layer()`] returns, before its filter.
#[derive(Debug, Clone)]
pub(crate) struct LogLayer {
    logger: Logger,
    levels: Levels,
}

impl<S: Subscriber> Layer<S> for LogLayer {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let level = *event.metadata().level();
        if self.levels == Levels::Logger && !context::with_logger(&self.logger, |l| l.enabled(level)) {
            return;
        }
        // Under RUST_LOG the stack's filter decided: written whatever the logger's level.
        let always = self.levels == Levels::Stack;
        COLLECT.with(|cell| match cell.try_borrow_mut() {
            Ok(mut collect) => collect.write(&self.logger, event, always),
            // An event logged while formatting another one's field.
            Err(_) => Collect::default().write(&self.logger, event, always),
        });
    }
}

/// The per-layer filter of [`layer()`]: library events only (no spans, none
/// of logwire's own lines), at the current logger's level. Being a
/// per-layer filter, it never hides anything from the other layers.
#[derive(Debug, Clone)]
pub(crate) struct LibraryEvents {
    logger: Logger,
    levels: Levels,
}

impl<S> Filter<S> for LibraryEvents {
    fn enabled(&self, meta: &Metadata<'_>, _: &layer::Context<'_, S>) -> bool {
        match self.levels {
            Levels::Logger => {
                meta.is_event()
                    && !mirror::is_line(meta)
                    && context::with_logger(&self.logger, |l| l.enabled(*meta.level()))
            }
            // Asked only by probes (`enabled!`, `span_enabled!`): the
            // callsites are `always` or `never`. A `false` here would stay in
            // tracing-subscriber's per-thread filter state, since a probe
            // dispatches nothing, and hide the next `always` event from this
            // layer; the stack's filter answers for the level.
            Levels::Stack => true,
        }
    }

    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> tracing::subscriber::Interest {
        if meta.is_span() || mirror::is_line(meta) {
            tracing::subscriber::Interest::never()
        } else if self.levels == Levels::Stack {
            // The stack's filter decides: nothing here changes per event.
            tracing::subscriber::Interest::always()
        } else {
            // The current logger, and so the level, changes per request
            // (asking it per event also overwrites whatever a probe left).
            tracing::subscriber::Interest::sometimes()
        }
    }
}

thread_local! {
    // Reused by every event of the thread: a library event costs no allocation.
    static COLLECT: RefCell<Collect> = RefCell::new(Collect::default());
}

/// An event's message and fields, gathered into reused buffers.
#[derive(Default)]
struct Collect {
    message: String,
    /// A `message` field was recorded: the event's message. A second one
    /// (`info!(message = "m", "text")`) is kept as a field called `message`.
    has_message: bool,
    text: String,
    fields: Vec<(&'static str, Slot)>,
}

/// Fields written without a second buffer; more go through a `Vec`.
const INLINE: usize = 16;

impl Collect {
    /// Reads `event` (running its values' `Debug`, which may enter scopes of
    /// their own, so no scope is borrowed meanwhile), then writes it with
    /// the current logger, or `fallback` outside any logger's scope.
    fn write(&mut self, fallback: &Logger, event: &Event<'_>, always: bool) {
        self.message.clear();
        self.has_message = false;
        self.text.clear();
        self.fields.clear();
        event.record(self);
        let meta = event.metadata();
        let target = meta.target();
        let gathered: Vec<ValueRef<'_>>;
        let mut inline: [ValueRef<'_>; INLINE] = std::array::from_fn(|_| ValueRef::Bool(false));
        let values: &[ValueRef<'_>] = if self.fields.len() <= INLINE {
            for (slot, (_, v)) in inline.iter_mut().zip(&self.fields) {
                *slot = self.gathered(v);
            }
            &inline[..self.fields.len()]
        } else {
            gathered = self.fields.iter().map(|(_, v)| self.gathered(v)).collect();
            &gathered
        };
        let head: (&str, &dyn FieldValue) = ("target", &target);
        let mut refs: [(&str, &dyn FieldValue); INLINE + 1] = [head; INLINE + 1];
        let spilled: Vec<(&str, &dyn FieldValue)>;
        let fields: &[(&str, &dyn FieldValue)] = if values.len() <= INLINE {
            for (slot, ((name, _), v)) in refs[1..].iter_mut().zip(self.fields.iter().zip(values)) {
                *slot = (name, v);
            }
            &refs[..=values.len()]
        } else {
            spilled = std::iter::once(head)
                .chain(
                    self.fields
                        .iter()
                        .zip(values)
                        .map(|((name, _), v)| (*name, v as &dyn FieldValue)),
                )
                .collect();
            &spilled
        };
        let line = format::Event {
            level: *meta.level(),
            message: &self.message,
            fields,
        };
        // From here on the values are text and numbers: no code of the
        // event's runs while the current logger is borrowed.
        context::with_logger(fallback, |logger| {
            if always {
                logger.writer().write(&line);
            } else {
                // Below the logger's level inside a request that keeps lines: kept.
                logger.write_event(&line, None);
            }
        });
    }

    fn gathered(&self, slot: &Slot) -> ValueRef<'_> {
        slot.get(&self.text)
    }

    fn push_text(&mut self, field: &Field, write: impl FnOnce(&mut String)) {
        if field.name() == "message" && !self.has_message {
            self.has_message = true;
            write(&mut self.message);
        } else {
            let start = self.text.len();
            write(&mut self.text);
            self.fields.push((field.name(), Slot::Text(start..self.text.len())));
        }
    }
}

impl Visit for Collect {
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.fields.push((field.name(), Slot::I64(value)));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.fields.push((field.name(), Slot::U64(value)));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.fields.push((field.name(), Slot::F64(value)));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.fields.push((field.name(), Slot::Bool(value)));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.push_text(field, |s| s.push_str(value));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.push_text(field, |s| {
            let _ = write!(s, "{value:?}");
        });
    }
}

/// Why [`try_init`] could not install its stack.
#[derive(Debug)]
pub struct InitError(tracing_subscriber::util::TryInitError);

impl fmt::Display for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "logwire::init: {}; add `logwire::layer(&logger)` to the stack that is already set instead",
            self.0
        )
    }
}

impl std::error::Error for InitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// Installs, as the process's global default, a `tracing` stack of a
/// registry, an `EnvFilter` and [`layer(logger)`](layer()), for a process
/// that has no stack of its own; see [`try_init`].
///
/// # Panics
///
/// When a global subscriber is already set, like tracing-subscriber's
/// `init`. Use [`try_init`] to get the error instead.
#[cfg(feature = "init")]
pub fn init(logger: &Logger) {
    if let Err(e) = try_init(logger) {
        panic!("{e}");
    }
}

/// Installs a registry, an `EnvFilter` and [`layer(logger)`](layer()) as
/// the global default, or says why not.
///
/// The `EnvFilter` reads `RUST_LOG` directives (such as
/// `warn,sqlx=info`) for library events; invalid directives are skipped.
/// A `RUST_LOG` that is set decides library events on its own
/// (`RUST_LOG=debug` writes hyper's DEBUG events even into an INFO
/// logger's file); without it they follow the current logger's level,
/// including loggers built after `init` and levels changed at run time.
/// logwire's own lines follow the level of their logger (`LOG_LEVEL`), not
/// `RUST_LOG`.
///
/// ```
/// let (api, _) = logwire::Logger::capture("api");
/// logwire::try_init(&api).unwrap();
/// let again = logwire::try_init(&api).unwrap_err();
/// assert!(again.to_string().contains("add `logwire::layer(&logger)` to the stack"));
/// ```
#[cfg(feature = "init")]
pub fn try_init(logger: &Logger) -> Result<(), InitError> {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;

    let levels = match std::env::var_os("RUST_LOG") {
        Some(v) if !v.is_empty() => Levels::Stack,
        _ => Levels::Logger,
    };
    let most_verbose = || logger.most_verbose().max(crate::process::most_verbose_level());
    let level = most_verbose();
    let (filter, handle) = tracing_subscriber::reload::Layer::new(env_filter(level));
    tracing_subscriber::registry()
        .with(filter)
        .with(layer_at(logger, levels))
        .try_init()
        .map_err(InitError)?;
    // Run-time level overrides (and DEBUG kept for failures) need library
    // events the static default would drop: the filter follows the most
    // verbose level of this process's loggers.
    if RELOAD
        .set((handle, logger.clone(), std::sync::Mutex::new(level)))
        .is_ok()
    {
        crate::process::on_level_change(|| {
            if let Some((handle, logger, applied)) = RELOAD.get() {
                let level = logger.most_verbose().max(crate::process::most_verbose_level());
                // Told of every logger built: rebuild (and so re-ask every
                // callsite) only when the level moved.
                let mut applied = applied.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                if *applied != level {
                    *applied = level;
                    let _ = handle.reload(env_filter(level));
                }
            }
        });
    }
    Ok(())
}

#[cfg(feature = "init")]
type Reload = tracing_subscriber::reload::Handle<tracing_subscriber::EnvFilter, tracing_subscriber::Registry>;

/// The handle that changes `init`'s filter when levels change at run time,
/// `init`'s logger, and the level the filter passes now.
#[cfg(feature = "init")]
static RELOAD: std::sync::OnceLock<(Reload, Logger, std::sync::Mutex<tracing_core::LevelFilter>)> =
    std::sync::OnceLock::new();

/// `RUST_LOG`'s directives, else `default` for every library.
#[cfg(feature = "init")]
fn env_filter(default: tracing_core::LevelFilter) -> tracing_subscriber::EnvFilter {
    let mut filter = tracing_subscriber::EnvFilter::builder()
        .with_default_directive(default.into())
        .from_env_lossy();
    // No layer of this stack wants logwire's own lines and spans (their
    // logger has written them): filtering them out here makes them cost no
    // dispatch, unless RUST_LOG asks for them by name.
    if !std::env::var("RUST_LOG").is_ok_and(|v| v.contains(crate::mirror::TARGET)) {
        if let Ok(off) = format!("{}=off", crate::mirror::TARGET).parse() {
            filter = filter.add_directive(off);
        }
    }
    filter
}
