//! What generated code reaches through `::logwire::__private`: never
//! through names the user happens to have imported. Not a public API.

pub use crate::field::{DebugValue, DisplayValue, FieldValue, Value};
pub use crate::mirror::{event_name, Site};
pub use tracing::Span;
pub use tracing_core::callsite::{DefaultCallsite, Identifier};
pub use tracing_core::field::FieldSet;
pub use tracing_core::metadata::Kind;
pub use tracing_core::Metadata;

/// A recorded argument of a service method, owned.
#[inline]
pub fn value_of(v: &dyn FieldValue) -> Value {
    Value::of(v)
}

/// An argument recorded through `Debug` (`#[log(record(..))]`), with
/// every secret-named field or map key inside it written `***`.
#[inline]
pub fn value_debug(v: &dyn ::core::fmt::Debug) -> Value {
    Value::Str(crate::redact::redact_debug(&format!("{v:?}")))
}

/// A field's key as written, without the leading `r#` of a raw identifier
/// (`r#type = 1` is `type=1`, as `tracing` writes it; a dotted key keeps
/// the `r#` of its later parts).
pub const fn key(written: &'static str) -> &'static str {
    match written.as_bytes() {
        [b'r', b'#', ..] => written.split_at(2).1,
        _ => written,
    }
}

/// A field value of an event macro, its type checked where the user wrote it.
#[inline(always)]
pub fn field<T: FieldValue>(value: &T) -> &dyn FieldValue {
    value
}

/// The message of an event macro: text.
#[inline(always)]
pub fn message<M: Message + ?Sized>(message: &M) -> &str {
    message.text()
}

/// What an event's message may be: anything that is text.
#[diagnostic::on_unimplemented(
    message = "the message of a logwire event must be text, not `{Self}`",
    label = "not a `&str` or a `String`",
    note = "write `info!(logger, \"MESSAGE\", key = value, …)`: the message comes right after the logger, then the fields"
)]
pub trait Message {
    /// The message's text.
    fn text(&self) -> &str;
}

impl<T: AsRef<str> + ?Sized> Message for T {
    #[inline(always)]
    fn text(&self) -> &str {
        self.as_ref()
    }
}

/// Writes a line of an event macro and hands it to the `tracing` stack.
#[inline]
pub fn emit(
    logger: &Logger,
    site: &'static [DefaultCallsite],
    level: Level,
    message: &str,
    fields: &[(&'static str, &dyn FieldValue)],
) {
    logger.emit(crate::mirror::Mirror::Static(site), level, message, fields);
}
pub use crate::service::{
    call_once_later, checked, is_logger, out_of_line, Arg, ArgOther, ArgPlain, ErrorText, InMethod, InjectDefault,
    IsLogger, MethodCall, OutcomeDebug, OutcomeDisplay, OutcomeOther, Plain, Probe, Verdict, Wrap,
};
pub use crate::span::MethodGuard;
pub use crate::{FromContext, Level, Logger};
pub use core::stringify;

#[cfg(feature = "axum")]
pub use crate::axum::glue::LoggerFromParts;
#[cfg(feature = "axum")]
pub use ::axum;

/// Emits the axum glue of `#[service]` only when logwire's `axum`
/// feature is on: a proc macro cannot see the user's features.
pub use crate::__axum_glue as axum_glue;
