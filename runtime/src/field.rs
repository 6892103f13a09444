//! Field values: what may stand on the right of `key = value` in an event.

use std::borrow::Cow;
use std::fmt;
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
    /// Hands the value to `recorder` as its most specific kind.
    fn record(&self, recorder: &mut dyn Recorder);
}

/// Receives a field value from [`FieldValue::record`]; each output format
/// implements it.
pub trait Recorder {
    /// A signed integer.
    fn record_i64(&mut self, value: i64);
    /// An unsigned integer.
    fn record_u64(&mut self, value: u64);
    /// A floating-point number.
    fn record_f64(&mut self, value: f64);
    /// A boolean.
    fn record_bool(&mut self, value: bool);
    /// Text.
    fn record_str(&mut self, value: &str);
    /// A value written through `Display`.
    fn record_display(&mut self, value: &dyn fmt::Display);
    /// A value written through `Debug`.
    fn record_debug(&mut self, value: &dyn fmt::Debug);
}

macro_rules! impl_ints {
    ($method:ident as $wide:ty: $($t:ty),*) => {$(
        impl FieldValue for $t {
            #[inline]
            fn record(&self, r: &mut dyn Recorder) {
                r.$method(*self as $wide)
            }
        }
    )*};
}
impl_ints!(record_i64 as i64: i8, i16, i32, i64, isize);
impl_ints!(record_u64 as u64: u8, u16, u32, u64, usize);
impl_ints!(record_f64 as f64: f32, f64);

impl FieldValue for i128 {
    fn record(&self, r: &mut dyn Recorder) {
        match i64::try_from(*self) {
            Ok(v) => r.record_i64(v),
            Err(_) => r.record_display(self),
        }
    }
}

impl FieldValue for u128 {
    fn record(&self, r: &mut dyn Recorder) {
        match u64::try_from(*self) {
            Ok(v) => r.record_u64(v),
            Err(_) => r.record_display(self),
        }
    }
}

impl FieldValue for bool {
    #[inline]
    fn record(&self, r: &mut dyn Recorder) {
        r.record_bool(*self)
    }
}

impl FieldValue for char {
    #[inline]
    fn record(&self, r: &mut dyn Recorder) {
        r.record_str(self.encode_utf8(&mut [0; 4]))
    }
}

impl FieldValue for str {
    #[inline]
    fn record(&self, r: &mut dyn Recorder) {
        r.record_str(self)
    }
}

macro_rules! impl_deref_str {
    ($($t:ty),*) => {$(
        impl FieldValue for $t {
            #[inline]
            fn record(&self, r: &mut dyn Recorder) {
                r.record_str(self)
            }
        }
    )*};
}
impl_deref_str!(String, Box<str>, Arc<str>, Rc<str>, Cow<'_, str>);

impl<T: FieldValue + ?Sized> FieldValue for &T {
    #[inline]
    fn record(&self, r: &mut dyn Recorder) {
        (**self).record(r)
    }
}

impl<T: FieldValue + ?Sized> FieldValue for &mut T {
    #[inline]
    fn record(&self, r: &mut dyn Recorder) {
        (**self).record(r)
    }
}

/// `key = %value`: logs `value` through `Display`.
#[doc(hidden)]
#[derive(Debug)]
pub struct DisplayValue<'a, T: ?Sized>(pub &'a T);

impl<T: fmt::Display + ?Sized> FieldValue for DisplayValue<'_, T> {
    #[inline]
    fn record(&self, r: &mut dyn Recorder) {
        r.record_display(&self.0)
    }
}

/// `key = ?value`: logs `value` through `Debug`.
#[doc(hidden)]
#[derive(Debug)]
pub struct DebugValue<'a, T: ?Sized>(pub &'a T);

impl<T: fmt::Debug + ?Sized> FieldValue for DebugValue<'_, T> {
    #[inline]
    fn record(&self, r: &mut dyn Recorder) {
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
    fn record(&self, r: &mut dyn Recorder) {
        match self {
            Value::I64(v) => r.record_i64(*v),
            Value::U64(v) => r.record_u64(*v),
            Value::F64(v) => r.record_f64(*v),
            Value::Bool(v) => r.record_bool(*v),
            Value::Str(v) => r.record_str(v),
        }
    }
}

/// Turns any field value into an owned [`Value`].
pub(crate) struct ToValue(pub(crate) Option<Value>);

impl Recorder for ToValue {
    fn record_i64(&mut self, v: i64) {
        self.0 = Some(Value::I64(v));
    }
    fn record_u64(&mut self, v: u64) {
        self.0 = Some(Value::U64(v));
    }
    fn record_f64(&mut self, v: f64) {
        self.0 = Some(Value::F64(v));
    }
    fn record_bool(&mut self, v: bool) {
        self.0 = Some(Value::Bool(v));
    }
    fn record_str(&mut self, v: &str) {
        self.0 = Some(Value::Str(v.to_owned()));
    }
    fn record_display(&mut self, v: &dyn fmt::Display) {
        self.0 = Some(Value::Str(v.to_string()));
    }
    fn record_debug(&mut self, v: &dyn fmt::Debug) {
        self.0 = Some(Value::Str(format!("{v:?}")));
    }
}

impl Value {
    /// The owned form of any field value.
    pub(crate) fn of(v: &dyn FieldValue) -> Value {
        let mut r = ToValue(None);
        v.record(&mut r);
        r.0.unwrap_or(Value::Str(String::new()))
    }
}
