//! What `#[service]` and `#[derive(Injectable)]` generate code against:
//! dependency injection for worker code ([`FromContext`]), the logger-type
//! check, and the per-method `METHOD_END` / `METHOD_ERROR` lines.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use pin_project_lite::pin_project;

use crate::field::{FieldValue, Value};
use crate::span::MethodGuard;
use crate::{Level, Logger};
use tracing_core::callsite::DefaultCallsite;

/// Builds a value from a worker's context, the way axum's extractors build
/// it from a request.
///
/// `#[service]` structs implement it field by field, so services that take
/// services nest. A context provides a leaf dependency by implementing
/// `FromContext<Ctx>` for it, and the logger by implementing
/// `AsRef<Logger>`:
///
/// ```
/// use logwire::{FromContext, Logger};
///
/// #[derive(Clone)]
/// struct Db(&'static str);
///
/// struct WorkerCtx {
///     logger: Logger,
///     db: Db,
/// }
///
/// impl AsRef<Logger> for WorkerCtx {
///     fn as_ref(&self) -> &Logger {
///         &self.logger
///     }
/// }
///
/// impl FromContext<WorkerCtx> for Db {
///     fn from_context(ctx: &WorkerCtx) -> Self {
///         ctx.db.clone()
///     }
/// }
///
/// let ctx = WorkerCtx { logger: Logger::capture("worker").0, db: Db("sqlite") };
/// let logger = Logger::from_context(&ctx);
/// assert_eq!(logger.name(), "worker");
/// assert_eq!(Db::from_context(&ctx).0, "sqlite");
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be built from the worker context `{C}`",
    label = "no `FromContext<{C}>` for this type",
    note = "implement `logwire::FromContext<{C}>` for `{Self}` to provide it, or mark the field `#[inject(default)]`"
)]
pub trait FromContext<C: ?Sized>: Sized {
    /// Builds the value from `ctx`.
    fn from_context(ctx: &C) -> Self;
}

impl<C: AsRef<Logger> + ?Sized> FromContext<C> for Logger {
    fn from_context(ctx: &C) -> Self {
        ctx.as_ref().clone()
    }
}

impl AsRef<Logger> for Logger {
    fn as_ref(&self) -> &Logger {
        self
    }
}

/// Implemented only by [`Logger`]: the compiler's check that a service's
/// first field really is logwire's logger, whatever it is called or aliased.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "the logger of a logwire service or context must be `logwire::Logger`, not `{Self}`",
    label = "this is not `logwire::Logger`",
    note = "write `logger: logwire::Logger` (or `use logwire::Logger;` and `logger: Logger`)"
)]
pub trait IsLogger {
    /// The logger itself.
    fn as_logger(&self) -> &Logger;
}

impl IsLogger for Logger {
    #[inline]
    fn as_logger(&self) -> &Logger {
        self
    }
}

/// Compiles only for `T = Logger`; see [`IsLogger`].
#[doc(hidden)]
pub const fn is_logger<T: IsLogger + ?Sized>() {}

/// What `#[inject(default)]` builds a field with: `Default`, with an error
/// that names the attribute.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`#[inject(default)]` needs `{Self}: Default`",
    label = "this field is built with `Default::default()`",
    note = "derive or implement `Default` for `{Self}`, or provide it another way (an extractor, `FromContext`, `#[inject(from_ref)]`)"
)]
pub trait InjectDefault {
    /// `Default::default()`.
    fn inject_default() -> Self;
}

impl<T: Default> InjectDefault for T {
    #[inline]
    fn inject_default() -> Self {
        T::default()
    }
}

/// One call of a service method whose line may be written, begun only when
/// [`MethodCall::wanted`] says so, so that a disabled method reads no clock
/// and copies no argument.
#[doc(hidden)]
#[derive(Debug)]
pub struct MethodCall {
    logger: Logger,
    level: Level,
    start: Instant,
    span: Option<tracing::Span>,
}

impl MethodCall {
    /// Whether a call may write its line or open its span: loads and
    /// compares only, for the disabled path.
    #[inline]
    pub fn wanted(logger: &Logger, level: Level, may_fail: bool) -> bool {
        logger.enabled(level) || (may_fail && logger.enabled(Level::WARN)) || crate::mirror::may_want(level)
    }

    /// A call that [`wanted`](Self::wanted) a line, starting now.
    #[inline]
    pub fn begin(logger: &Logger, level: Level) -> MethodCall {
        MethodCall {
            logger: logger.clone(),
            level,
            start: Instant::now(),
            span: None,
        }
    }

    /// Opens the method's span (its `site` is named like its line), when a
    /// subscriber wants it.
    pub fn open_span(&mut self, site: &'static [DefaultCallsite], args: &[Arg<'_>]) {
        if crate::mirror::may_want(self.level) {
            self.span = with_present(None, args, &[], |fields| crate::mirror::span(site, self.level, fields));
        }
    }

    /// The method's span, if one was opened.
    #[inline]
    pub fn span(&self) -> Option<&tracing::Span> {
        self.span.as_ref()
    }

    /// Writes `METHOD_END`, or `METHOD_ERROR` when `error` is set.
    pub fn finish(
        self,
        site: &'static [DefaultCallsite],
        method: &'static str,
        args: &[Arg<'_>],
        error: Option<ErrorText<'_>>,
    ) {
        let elapsed_ms = crate::format::elapsed_ms(self.start);
        let (level, message) = match error {
            Some(_) => (Level::WARN, "METHOD_ERROR"),
            None => (self.level, "METHOD_END"),
        };
        if !self.logger.enabled(level) {
            return;
        }
        let _entered = self.span.as_ref().map(tracing::Span::enter);
        let head: Field<'_> = ("method", &method);
        let tail: Field<'_> = ("elapsed_ms", &elapsed_ms);
        let mut after = [tail, tail];
        let after: &[Field<'_>] = match &error {
            Some(e) => {
                after[1] = ("error", e);
                &after
            }
            None => &after[..1],
        };
        with_present(Some(head), args, after, |fields| {
            self.logger
                .emit(crate::mirror::Mirror::Static(site), level, message, fields);
        });
    }
}

/// A recorded argument of a service method: its key, and its value unless
/// its type is not recorded (`None`: the field is left out).
#[doc(hidden)]
pub type Arg<'a> = (&'static str, Option<&'a dyn FieldValue>);

type Field<'a> = (&'static str, &'a dyn FieldValue);

/// Calls `f` with `head`, the arguments that have a value, and `after`, in
/// that order; on the stack up to 12 fields.
#[inline]
fn with_present<'a, R>(
    head: Option<Field<'a>>,
    args: &[Arg<'a>],
    after: &[Field<'a>],
    f: impl FnOnce(&[Field<'a>]) -> R,
) -> R {
    const INLINE: usize = 12;
    let total = usize::from(head.is_some()) + args.len() + after.len();
    if total > INLINE {
        let fields: Vec<Field<'a>> = head
            .into_iter()
            .chain(args.iter().filter_map(|&(k, v)| v.map(|v| (k, v))))
            .chain(after.iter().copied())
            .collect();
        return f(&fields);
    }
    let mut fields: [Field<'a>; INLINE] = [("", &false); INLINE];
    let mut n = 0;
    if let Some(head) = head {
        fields[0] = head;
        n = 1;
    }
    for &(key, value) in args {
        if let Some(value) = value {
            fields[n] = (key, value);
            n += 1;
        }
    }
    for &field in after {
        fields[n] = field;
        n += 1;
    }
    f(&fields[..n])
}

/// The error of a method that returned `Err`, as written in `error=…`.
#[doc(hidden)]
pub enum ErrorText<'a> {
    Display(&'a dyn fmt::Display),
    Debug(&'a dyn fmt::Debug),
}

impl fmt::Debug for ErrorText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorText::Display(e) => write!(f, "Display({e})"),
            ErrorText::Debug(e) => write!(f, "Debug({e:?})"),
        }
    }
}

impl FieldValue for ErrorText<'_> {
    fn record<'b>(&'b self, r: &mut dyn crate::Recorder<'b>) {
        match *self {
            ErrorText::Display(e) => r.record_display(e),
            ErrorText::Debug(e) => r.record_debug(e),
        }
    }
}

// What a method returned, found by autoref specialization on
// `(&&Wrap(&value)).__logwire_outcome()`: method lookup tries `&Wrap`
// (a `Result` whose error is `Display`), then `&&Wrap` (error is `Debug`),
// then `Wrap` (anything else: never an error). `Wrap` keeps the catch-all
// from matching the references the other two are implemented for.
#[doc(hidden)]
#[derive(Debug)]
pub struct Wrap<'a, T: ?Sized>(pub &'a T);

#[doc(hidden)]
pub trait OutcomeDisplay<'a> {
    fn __logwire_outcome(&self) -> Option<ErrorText<'a>>;
}
#[doc(hidden)]
pub trait OutcomeDebug<'a> {
    fn __logwire_outcome(&self) -> Option<ErrorText<'a>>;
}
#[doc(hidden)]
pub trait OutcomeOther<'a> {
    fn __logwire_outcome(&self) -> Option<ErrorText<'a>>;
}

impl<'a, T, E: fmt::Display> OutcomeDisplay<'a> for &Wrap<'a, Result<T, E>> {
    #[inline]
    fn __logwire_outcome(&self) -> Option<ErrorText<'a>> {
        match self.0 {
            Err(e) => Some(ErrorText::Display(e)),
            Ok(_) => None,
        }
    }
}

impl<'a, T, E: fmt::Debug> OutcomeDebug<'a> for &&Wrap<'a, Result<T, E>> {
    #[inline]
    fn __logwire_outcome(&self) -> Option<ErrorText<'a>> {
        match self.0 {
            Err(e) => Some(ErrorText::Debug(e)),
            Ok(_) => None,
        }
    }
}

impl<'a, T: ?Sized> OutcomeOther<'a> for Wrap<'a, T> {
    #[inline]
    fn __logwire_outcome(&self) -> Option<ErrorText<'a>> {
        None
    }
}

/// The types a `#[service]` method records by default, decided by the
/// compiler rather than by the spelling of the type: numbers, `bool`,
/// `char`, strings, the `NonZero` integers, an `Option` of any of them (a
/// `None` writes no field), references to them, and any alias of them.
#[doc(hidden)]
pub trait Plain {
    fn plain_value(&self) -> Option<Value>;
}

macro_rules! plain_as_field_value {
    ($($t:ty),*) => {$(
        impl Plain for $t {
            #[inline]
            fn plain_value(&self) -> Option<Value> {
                Some(Value::of(&self))
            }
        }
    )*};
}
plain_as_field_value!(
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    f32,
    f64,
    bool,
    char,
    str,
    String,
    Box<str>,
    std::sync::Arc<str>,
    std::rc::Rc<str>,
    std::borrow::Cow<'_, str>
);

macro_rules! plain_non_zero {
    ($($t:ty),*) => {$(
        impl Plain for $t {
            #[inline]
            fn plain_value(&self) -> Option<Value> {
                self.get().plain_value()
            }
        }
    )*};
}
plain_non_zero!(
    std::num::NonZeroI8,
    std::num::NonZeroI16,
    std::num::NonZeroI32,
    std::num::NonZeroI64,
    std::num::NonZeroI128,
    std::num::NonZeroIsize,
    std::num::NonZeroU8,
    std::num::NonZeroU16,
    std::num::NonZeroU32,
    std::num::NonZeroU64,
    std::num::NonZeroU128,
    std::num::NonZeroUsize
);

impl<T: Plain> Plain for Option<T> {
    #[inline]
    fn plain_value(&self) -> Option<Value> {
        self.as_ref().and_then(Plain::plain_value)
    }
}

impl<T: Plain + ?Sized> Plain for &T {
    #[inline]
    fn plain_value(&self) -> Option<Value> {
        (**self).plain_value()
    }
}

impl<T: Plain + ?Sized> Plain for &mut T {
    #[inline]
    fn plain_value(&self) -> Option<Value> {
        (**self).plain_value()
    }
}

// An argument's value by its type, found by autoref specialization on
// `(&&Wrap(&arg)).__logwire_arg()`: `&Wrap` when the type is `Plain`,
// else `Wrap` (not recorded).
#[doc(hidden)]
pub trait ArgPlain {
    fn __logwire_arg(&self) -> Option<Value>;
}
#[doc(hidden)]
pub trait ArgOther {
    fn __logwire_arg(&self) -> Option<Value>;
}

impl<T: Plain + ?Sized> ArgPlain for &Wrap<'_, T> {
    #[inline]
    fn __logwire_arg(&self) -> Option<Value> {
        self.0.plain_value()
    }
}

impl<T: ?Sized> ArgOther for Wrap<'_, T> {
    #[inline]
    fn __logwire_arg(&self) -> Option<Value> {
        None
    }
}

/// Runs `f` in a function of its own: a sync method's logged path, kept out
/// of the method so that its disabled path needs no registers saved.
#[doc(hidden)]
#[cold]
#[inline(never)]
pub fn out_of_line<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// A sync method body, to be called once. Taking `FnOnce` makes the
/// closure one, so a body may return a borrow of `self` even through
/// `&mut self`.
#[doc(hidden)]
#[inline(always)]
pub fn call_once_later<R>(body: impl FnOnce() -> R) -> impl FnOnce() -> R {
    body
}

pin_project! {
    /// An async method body that runs as `method` (for the JSON `method` key)
    /// and inside its span, across every poll.
    #[doc(hidden)]
    #[derive(Debug)]
    #[must_use = "futures do nothing unless polled"]
    pub struct InMethod<'a, F> {
        method: &'static str,
        span: Option<&'a tracing::Span>,
        #[pin]
        fut: F,
    }
}

impl<'a, F> InMethod<'a, F> {
    #[inline]
    pub fn new(method: &'static str, span: Option<&'a tracing::Span>, fut: F) -> Self {
        InMethod { method, span, fut }
    }
}

impl<F: Future> Future for InMethod<'_, F> {
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _entered = this.span.map(tracing::Span::enter);
        let _guard = MethodGuard::enter(this.method);
        this.fut.poll(cx)
    }
}

/// What a call in a service method returned, for the check that it is not
/// a new logger (the type, not the name, decides: aliases are caught).
#[doc(hidden)]
#[derive(Debug)]
pub struct Probe<T: ?Sized>(std::marker::PhantomData<T>);

impl<T: ?Sized> Probe<T> {
    #[inline(always)]
    pub fn of(_: &T) -> Self {
        Probe(std::marker::PhantomData)
    }
}

/// The verdict on anything but a logger.
#[doc(hidden)]
#[derive(Debug)]
pub struct NotBuilt;

/// The verdict on a logger, a logger builder or a capturing logger.
#[doc(hidden)]
#[derive(Debug)]
pub struct BuildsALogger;

#[doc(hidden)]
pub trait Verdict {
    fn verdict(&self) -> NotBuilt;
}

impl<T: ?Sized> Verdict for Probe<T> {
    #[inline(always)]
    fn verdict(&self) -> NotBuilt {
        NotBuilt
    }
}

// Inherent methods win over the trait's: these types get the other verdict.
impl Probe<Logger> {
    #[inline(always)]
    pub fn verdict(&self) -> BuildsALogger {
        BuildsALogger
    }
}

impl Probe<crate::LoggerBuilder> {
    #[inline(always)]
    pub fn verdict(&self) -> BuildsALogger {
        BuildsALogger
    }
}

impl Probe<(Logger, crate::Captured)> {
    #[inline(always)]
    pub fn verdict(&self) -> BuildsALogger {
        BuildsALogger
    }
}

#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "services receive their logger; they never create one",
    label = "this call builds a logger (or returns a new one)",
    note = "take `logger: Logger` as the first argument of `new` and log with `self.logger`; build loggers in `main`"
)]
pub trait NotALogger {}

#[diagnostic::do_not_recommend]
impl NotALogger for NotBuilt {}

/// A call in a service method, passed through unchanged; `check` gives the
/// verdict on its type (see [`Probe`]). Being generic in `T`, it lets the
/// type expected of the call reach the call itself.
#[doc(hidden)]
#[inline(always)]
pub fn checked<T, V: NotALogger>(value: T, check: impl FnOnce(&T) -> V) -> T {
    let _ = check;
    value
}
