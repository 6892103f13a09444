//! logwire as one layer of a `tracing` stack: [`layer`], [`init`] and
//! [`try_init`].

use std::fmt;

use tracing::field::{Field, Visit};
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::filter::Filtered;
use tracing_subscriber::layer::{self, Context, Filter, Layer};
use tracing_subscriber::registry::LookupSpan;

use crate::context;
use crate::field::{FieldValue, Value};
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
pub fn layer<S>(logger: &Logger) -> Filtered<LogLayer, LibraryEvents, S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    LogLayer { logger: logger.clone() }.with_filter(LibraryEvents { logger: logger.clone() })
}

/// The layer that [`layer`] returns, before its filter.
#[derive(Debug, Clone)]
pub struct LogLayer {
    logger: Logger,
}

impl<S: Subscriber> Layer<S> for LogLayer {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let meta = event.metadata();
        context::with_logger(&self.logger, |logger| {
            if !logger.enabled(*meta.level()) {
                return;
            }
            let mut visitor = Collect {
                message: String::new(),
                fields: vec![("target", Value::Str(meta.target().to_owned()))],
            };
            event.record(&mut visitor);
            let fields: Vec<(&str, &dyn FieldValue)> =
                visitor.fields.iter().map(|(k, v)| (*k, v as &dyn FieldValue)).collect();
            logger.shared().emit(&format::Event {
                level: *meta.level(),
                message: &visitor.message,
                fields: &fields,
            });
        });
    }
}

/// The per-layer filter of [`layer`]: library events only (no spans, none
/// of logwire's own lines), at the current logger's level. Being a
/// per-layer filter, it never hides anything from the other layers.
#[derive(Debug, Clone)]
pub struct LibraryEvents {
    logger: Logger,
}

impl<S> Filter<S> for LibraryEvents {
    fn enabled(&self, meta: &Metadata<'_>, _: &layer::Context<'_, S>) -> bool {
        meta.is_event() && !mirror::is_line(meta) && context::with_logger(&self.logger, |l| l.enabled(*meta.level()))
    }

    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> tracing::subscriber::Interest {
        if meta.is_span() || mirror::is_line(meta) {
            tracing::subscriber::Interest::never()
        } else {
            // The current logger, and so the level, changes per request.
            tracing::subscriber::Interest::sometimes()
        }
    }
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
/// `warn,sqlx=info`) for library events, defaulting to the logger's level;
/// invalid directives are skipped. logwire's own lines follow the level of
/// their logger (`LOG_LEVEL`), not `RUST_LOG`.
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
    use tracing_subscriber::EnvFilter;

    let filter = EnvFilter::builder()
        .with_default_directive(logger.level().into())
        .from_env_lossy();
    tracing_subscriber::registry()
        .with(filter)
        .with(layer(logger))
        .try_init()
        .map_err(InitError)
}
