//! Field values: what may stand on the right of `key = value` in an event.

use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::ops::Range;
use std::rc::Rc;
use std::sync::Arc;

/// A value that can be written as a field of a log line.
///
/// Implemented for integers, floats, `bool`, `char` and strings, which are
/// written as themselves. Anything else is logged through its `Display`
/// (`key = %value`) or `Debug` (`key = ?value`) implementation, as in
/// `tracing`:
///
/// ```
/// # let log = logwire::Logger::capture("doc").0;
/// let path = std::path::Path::new("/srv/app");
/// let err = std::io::Error::other("disk full");
/// logwire::error!(log, "SAVE_FAILED", path = ?path, error = %err, attempt = 3);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be logged as a field value directly",
    label = "not a number, bool, char or string",
    note = "write `name = %value` to log it with `Display`, or `name = ?value` to log it with `Debug`"
)]
pub trait FieldValue {
    /// Hands the value to `recorder` as its most specific kind. What it
    /// hands over may borrow from `self` for `'a`, so a recorder can keep a
    /// value without copying it.
    fn record<'a>(&'a self, recorder: &mut dyn Recorder<'a>);
}

/// Receives a field value from [`FieldValue::record`]; each output format
/// implements it, and so does the bridge that hands logwire's lines to the
/// `tracing` stack.
///
/// A type of your own becomes a field value by handing its most specific
/// kind over:
///
/// ```
/// use logwire::{FieldValue, Recorder};
///
/// struct UserId(u64);
///
/// impl FieldValue for UserId {
///     fn record<'a>(&'a self, r: &mut dyn Recorder<'a>) {
///         r.record_u64(self.0)
///     }
/// }
///
/// let (log, captured) = logwire::Logger::capture("api");
/// logwire::info!(log, "LOGIN", user = UserId(7));
/// assert!(captured.lines()[0].ends_with("LOGIN | user=7"));
/// ```
pub trait Recorder<'a> {
    /// A signed integer.
    fn record_i64(&mut self, value: i64);
    /// An unsigned integer.
    fn record_u64(&mut self, value: u64);
    /// A floating-point number.
    fn record_f64(&mut self, value: f64);
    /// A boolean.
    fn record_bool(&mut self, value: bool);
    /// Text.
    fn record_str(&mut self, value: &'a str);
    /// A value written through `Display`.
    fn record_display(&mut self, value: &'a dyn fmt::Display);
    /// A value written through `Debug`.
    fn record_debug(&mut self, value: &'a dyn fmt::Debug);
}

macro_rules! impl_ints {
    ($method:ident as $wide:ty: $($t:ty),*) => {$(
        impl FieldValue for $t {
            #[inline]
            fn record<'a>(&'a self, r: &mut dyn Recorder<'a>) {
                r.$method(*self as $wide)
            }
        }
    )*};
}
impl_ints!(record_i64 as i64: i8, i16, i32, i64, isize);
impl_ints!(record_u64 as u64: u8, u16, u32, u64, usize);
impl_ints!(record_f64 as f64: f32, f64);

impl FieldValue for i128 {
    fn record<'a>(&'a self, r: &mut dyn Recorder<'a>) {
        match i64::try_from(*self) {
            Ok(v) => r.record_i64(v),
            Err(_) => r.record_display(self),
        }
    }
}

impl FieldValue for u128 {
    fn record<'a>(&'a self, r: &mut dyn Recorder<'a>) {
        match u64::try_from(*self) {
            Ok(v) => r.record_u64(v),
            Err(_) => r.record_display(self),
        }
    }
}

impl FieldValue for bool {
    #[inline]
    fn record<'a>(&'a self, r: &mut dyn Recorder<'a>) {
        r.record_bool(*self)
    }
}

impl FieldValue for char {
    #[inline]
    fn record<'a>(&'a self, r: &mut dyn Recorder<'a>) {
        r.record_display(self)
    }
}

impl FieldValue for str {
    #[inline]
    fn record<'a>(&'a self, r: &mut dyn Recorder<'a>) {
        r.record_str(self)
    }
}

macro_rules! impl_deref_str {
    ($($t:ty),*) => {$(
        impl FieldValue for $t {
            #[inline]
            fn record<'a>(&'a self, r: &mut dyn Recorder<'a>) {
                r.record_str(self)
            }
        }
    )*};
}
impl_deref_str!(String, Box<str>, Arc<str>, Rc<str>, Cow<'_, str>);

impl<T: FieldValue + ?Sized> FieldValue for &T {
    #[inline]
    fn record<'a>(&'a self, r: &mut dyn Recorder<'a>) {
        (**self).record(r)
    }
}

impl<T: FieldValue + ?Sized> FieldValue for &mut T {
    #[inline]
    fn record<'a>(&'a self, r: &mut dyn Recorder<'a>) {
        (**self).record(r)
    }
}

/// `key = %value`: logs `value` through `Display`.
#[doc(hidden)]
#[derive(Debug)]
pub struct DisplayValue<'a, T: ?Sized>(pub &'a T);

impl<T: fmt::Display + ?Sized> FieldValue for DisplayValue<'_, T> {
    #[inline]
    fn record<'a>(&'a self, r: &mut dyn Recorder<'a>) {
        r.record_display(&self.0)
    }
}

/// `key = ?value`: logs `value` through `Debug`.
#[doc(hidden)]
#[derive(Debug)]
pub struct DebugValue<'a, T: ?Sized>(pub &'a T);

impl<T: fmt::Debug + ?Sized> FieldValue for DebugValue<'_, T> {
    #[inline]
    fn record<'a>(&'a self, r: &mut dyn Recorder<'a>) {
        r.record_debug(&self.0)
    }
}

/// A recorded field value, as [`Captured::records`](crate::Captured::records)
/// returns it.
///
/// Numbers and booleans keep their type; everything written through
/// `Display` or `Debug` is kept as its text. `Display` writes the value as
/// it was given, before any quoting or escaping.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A signed integer.
    I64(i64),
    /// An unsigned integer.
    U64(u64),
    /// A floating-point number.
    F64(f64),
    /// A boolean.
    Bool(bool),
    /// Text, including values logged with `%` or `?`.
    Str(String),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::I64(v) => v.fmt(f),
            Value::U64(v) => v.fmt(f),
            Value::F64(v) => v.fmt(f),
            Value::Bool(v) => v.fmt(f),
            Value::Str(v) => f.write_str(v),
        }
    }
}

impl PartialEq<str> for Value {
    /// Compares the value's text, so `value == "/x"` and `value == "200"`
    /// read naturally in tests.
    fn eq(&self, other: &str) -> bool {
        match self {
            Value::Str(s) => s == other,
            v => v.to_string().as_str() == other,
        }
    }
}

impl PartialEq<&str> for Value {
    fn eq(&self, other: &&str) -> bool {
        *self == **other
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(s.to_owned())
    }
}

impl FieldValue for Value {
    fn record<'a>(&'a self, r: &mut dyn Recorder<'a>) {
        match self {
            Value::I64(v) => r.record_i64(*v),
            Value::U64(v) => r.record_u64(*v),
            Value::F64(v) => r.record_f64(*v),
            Value::Bool(v) => r.record_bool(*v),
            Value::Str(v) => r.record_str(v),
        }
    }
}

/// A field value as its [`FieldValue::record`] handed it over, borrowed
/// from where it was logged: the one form in which the formats' callers,
/// the bridge to `tracing` and the library-event layer pass a value on
/// without copying it.
#[derive(Clone, Copy)]
pub(crate) enum ValueRef<'a> {
    I64(i64),
    U64(u64),
    F64(f64),
    Bool(bool),
    Str(&'a str),
    Display(&'a dyn fmt::Display),
    Debug(&'a dyn fmt::Debug),
}

impl<'a> ValueRef<'a> {
    /// What `v` hands over; empty text when it hands nothing. Generic, so
    /// that a value of a known type is read without a dynamic call.
    #[inline]
    pub(crate) fn of<T: FieldValue + ?Sized>(v: &'a T) -> ValueRef<'a> {
        let mut take = Take(ValueRef::Str(""));
        v.record(&mut take);
        take.0
    }
}

impl FieldValue for ValueRef<'_> {
    fn record<'b>(&'b self, r: &mut dyn Recorder<'b>) {
        match *self {
            ValueRef::I64(v) => r.record_i64(v),
            ValueRef::U64(v) => r.record_u64(v),
            ValueRef::F64(v) => r.record_f64(v),
            ValueRef::Bool(v) => r.record_bool(v),
            ValueRef::Str(v) => r.record_str(v),
            ValueRef::Display(v) => r.record_display(v),
            ValueRef::Debug(v) => r.record_debug(v),
        }
    }
}

/// A field value copied into a text buffer that the owner keeps beside it:
/// how the library-event layer gathers an event's fields and how kept
/// DEBUG lines are stored, without an allocation per value.
#[derive(Clone, Debug)]
pub(crate) enum Slot {
    I64(i64),
    U64(u64),
    F64(f64),
    Bool(bool),
    /// Text, and what `Display` or `Debug` wrote, in the buffer.
    Text(Range<usize>),
}

impl Slot {
    /// Copies `v` into a slot, its text (formatted if need be) appended to `text`.
    pub(crate) fn store(v: &dyn FieldValue, text: &mut String) -> Slot {
        let start = text.len();
        let wrote = |text: &mut String| Slot::Text(start..text.len());
        match ValueRef::of(v) {
            ValueRef::I64(v) => Slot::I64(v),
            ValueRef::U64(v) => Slot::U64(v),
            ValueRef::F64(v) => Slot::F64(v),
            ValueRef::Bool(v) => Slot::Bool(v),
            ValueRef::Str(v) => {
                text.push_str(v);
                wrote(text)
            }
            ValueRef::Display(v) => {
                let _ = write!(text, "{v}");
                wrote(text)
            }
            ValueRef::Debug(v) => {
                let _ = write!(text, "{v:?}");
                wrote(text)
            }
        }
    }

    /// The value, its text read from the buffer it was stored in.
    pub(crate) fn get<'a>(&self, text: &'a str) -> ValueRef<'a> {
        match self {
            Slot::I64(v) => ValueRef::I64(*v),
            Slot::U64(v) => ValueRef::U64(*v),
            Slot::F64(v) => ValueRef::F64(*v),
            Slot::Bool(v) => ValueRef::Bool(*v),
            Slot::Text(range) => ValueRef::Str(&text[range.clone()]),
        }
    }
}

/// Keeps the value a [`FieldValue`] hands over.
struct Take<'a>(ValueRef<'a>);

impl<'a> Recorder<'a> for Take<'a> {
    fn record_i64(&mut self, v: i64) {
        self.0 = ValueRef::I64(v);
    }
    fn record_u64(&mut self, v: u64) {
        self.0 = ValueRef::U64(v);
    }
    fn record_f64(&mut self, v: f64) {
        self.0 = ValueRef::F64(v);
    }
    fn record_bool(&mut self, v: bool) {
        self.0 = ValueRef::Bool(v);
    }
    fn record_str(&mut self, v: &'a str) {
        self.0 = ValueRef::Str(v);
    }
    fn record_display(&mut self, v: &'a dyn fmt::Display) {
        self.0 = ValueRef::Display(v);
    }
    fn record_debug(&mut self, v: &'a dyn fmt::Debug) {
        self.0 = ValueRef::Debug(v);
    }
}

impl Value {
    /// The owned form of any field value.
    #[inline]
    pub(crate) fn of<T: FieldValue + ?Sized>(v: &T) -> Value {
        match ValueRef::of(v) {
            ValueRef::I64(v) => Value::I64(v),
            ValueRef::U64(v) => Value::U64(v),
            ValueRef::F64(v) => Value::F64(v),
            ValueRef::Bool(v) => Value::Bool(v),
            ValueRef::Str(v) => Value::Str(v.to_owned()),
            ValueRef::Display(v) => Value::Str(v.to_string()),
            ValueRef::Debug(v) => Value::Str(format!("{v:?}")),
        }
    }
}
