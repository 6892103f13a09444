//! The event macros (`info!` & co.) and the helpers generated code uses;
//! `#[macro_export]` puts them at the crate root, as tracing's are.

#[cfg(feature = "axum")]
#[doc(hidden)]
#[macro_export]
macro_rules! __axum_glue {
    ($($item:tt)*) => { $($item)* };
}

#[cfg(not(feature = "axum"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __axum_glue {
    ($($item:tt)*) => {};
}

/// Logs an event at a level given at run time; prefer [`info!`](crate::info!) and its
/// siblings.
///
/// The level is checked before any field is evaluated or formatted, so a
/// disabled event costs one comparison.
///
/// ```
/// # let (log, captured) = logwire::Logger::capture("doc");
/// logwire::event!(log, logwire::Level::WARN, "SLOW_QUERY", ms = 1250);
/// # assert!(captured.lines()[0].ends_with("WARN - SLOW_QUERY | ms=1250"));
/// ```
#[macro_export]
macro_rules! event {
    ($log:expr, $level:expr $(,)?) => {
        ::core::compile_error!("logwire::event! needs a message after the level: `event!(logger, level, \"MESSAGE\", key = value, …)`")
    };
    ($log:expr, $level:expr, $($k:ident).+ = $($rest:tt)*) => {
        ::core::compile_error!("logwire::event! needs a message before its fields: `event!(logger, level, \"MESSAGE\", key = value, …)`")
    };
    ($log:expr, $level:expr, $message:expr $(, $($fields:tt)*)?) => {
        $crate::__fields!(
            @ {
                [$crate::Level::TRACE, $crate::Level::DEBUG, $crate::Level::INFO, $crate::Level::WARN, $crate::Level::ERROR]
                $log, $level, $message
            }
            ["message", "logger", "txid",] [] $($($fields)*)?
        )
    };
}

/// The error for an event macro called without its message.
#[doc(hidden)]
#[macro_export]
macro_rules! __no_message {
    ($name:ident) => {
        ::core::compile_error!(::core::concat!(
            "logwire::",
            ::core::stringify!($name),
            "! needs a message after the logger: `",
            ::core::stringify!($name),
            "!(logger, \"MESSAGE\", key = value, …)`"
        ))
    };
}

/// An event at a level known where it is written: one callsite.
#[doc(hidden)]
#[macro_export]
macro_rules! __event_at {
    ($level:expr, $log:expr, $message:expr $(, $($fields:tt)*)?) => {
        $crate::__fields!(@ { [$level] $log, $level, $message } ["message", "logger", "txid",] [] $($($fields)*)?)
    };
}

/// Where the fields have been split into their names and their values:
/// the check, the call site and the line.
#[doc(hidden)]
#[macro_export]
macro_rules! __event_end {
    ({ [$($levels:expr),+] $log:expr, $level:expr, $message:expr } [$($names:expr,)*] [$($values:tt)*]) => {{
        let __logwire_log: &$crate::Logger = &$log;
        let __logwire_level: $crate::Level = $level;
        if __logwire_log.enabled(__logwire_level) {
            $crate::__site!(__LOGWIRE_SITE, EVENT, "logwire line", &[$($names),*], [$($levels),+]);
            $crate::__private::emit(
                __logwire_log,
                &__LOGWIRE_SITE.1,
                __logwire_level,
                $crate::__private::message(&$message),
                &[$($values)*],
            );
        }
    }};
}

/// A `static` [`Site`](crate::__private::Site) named `$site`: `Metadata`
/// of kind `$kind` named `$name` with the field names `$fields`, and a
/// tracing-core `DefaultCallsite`, for each level listed. Each names the
/// other, as in tracing's `callsite!`.
#[doc(hidden)]
#[macro_export]
macro_rules! __site {
    ($site:ident, $kind:ident, $name:expr, $fields:expr, [$l0:expr]) => {
        static $site: $crate::__private::Site<1> = (
            [$crate::__meta!($site, 0, $kind, $name, $fields, $l0)],
            [$crate::__private::DefaultCallsite::new(&$site.0[0])],
        );
    };
    ($site:ident, $kind:ident, $name:expr, $fields:expr, [$l0:expr, $l1:expr]) => {
        static $site: $crate::__private::Site<2> = (
            [
                $crate::__meta!($site, 0, $kind, $name, $fields, $l0),
                $crate::__meta!($site, 1, $kind, $name, $fields, $l1),
            ],
            [
                $crate::__private::DefaultCallsite::new(&$site.0[0]),
                $crate::__private::DefaultCallsite::new(&$site.0[1]),
            ],
        );
    };
    ($site:ident, $kind:ident, $name:expr, $fields:expr, [$l0:expr, $l1:expr, $l2:expr, $l3:expr, $l4:expr]) => {
        static $site: $crate::__private::Site<5> = (
            [
                $crate::__meta!($site, 0, $kind, $name, $fields, $l0),
                $crate::__meta!($site, 1, $kind, $name, $fields, $l1),
                $crate::__meta!($site, 2, $kind, $name, $fields, $l2),
                $crate::__meta!($site, 3, $kind, $name, $fields, $l3),
                $crate::__meta!($site, 4, $kind, $name, $fields, $l4),
            ],
            [
                $crate::__private::DefaultCallsite::new(&$site.0[0]),
                $crate::__private::DefaultCallsite::new(&$site.0[1]),
                $crate::__private::DefaultCallsite::new(&$site.0[2]),
                $crate::__private::DefaultCallsite::new(&$site.0[3]),
                $crate::__private::DefaultCallsite::new(&$site.0[4]),
            ],
        );
    };
}

/// One `Metadata` of a [`__site!`](crate::__site).
#[doc(hidden)]
#[macro_export]
macro_rules! __meta {
    ($site:ident, $i:tt, $kind:ident, $name:expr, $fields:expr, $level:expr) => {
        $crate::__private::Metadata::new(
            $name,
            "logwire",
            $level,
            ::core::option::Option::Some(::core::file!()),
            ::core::option::Option::Some(::core::line!()),
            ::core::option::Option::Some(::core::module_path!()),
            $crate::__private::FieldSet::new($fields, $crate::__private::Identifier(&$site.1[$i])),
            $crate::__private::Kind::$kind,
        )
    };
}

/// Logs at `TRACE`: `trace!(logger, "MESSAGE", key = value, …)`. See [`info!`](crate::info!).
#[macro_export]
macro_rules! trace {
    ($log:expr $(,)?) => { $crate::__no_message!(trace) };
    ($log:expr, $($k:ident).+ = $($rest:tt)*) => { $crate::__no_message!(trace) };
    ($log:expr, $($rest:tt)+) => { $crate::__event_at!($crate::Level::TRACE, $log, $($rest)+) };
}

/// Logs at `DEBUG`: `debug!(logger, "MESSAGE", key = value, …)`. See [`info!`](crate::info!).
#[macro_export]
macro_rules! debug {
    ($log:expr $(,)?) => { $crate::__no_message!(debug) };
    ($log:expr, $($k:ident).+ = $($rest:tt)*) => { $crate::__no_message!(debug) };
    ($log:expr, $($rest:tt)+) => { $crate::__event_at!($crate::Level::DEBUG, $log, $($rest)+) };
}

/// Logs at `INFO`: the logger first, then the message, then fields in
/// `tracing`'s syntax.
///
/// ```
/// # let (log, captured) = logwire::Logger::capture("api");
/// let uri: &str = "/api/health";
/// let user = "admin";
/// logwire::info!(log, "REQUEST_START", method = "GET", path = %uri, user, ok = true);
/// # assert!(captured.lines()[0].ends_with("INFO - REQUEST_START | method=GET path=/api/health user=admin ok=true"));
/// ```
///
/// - `key = value` for numbers, bools, chars and strings;
/// - `key = %value` through `Display`, `key = ?value` through `Debug`;
/// - `key` alone for `key = key` (likewise `%key`, `?key`); `a.b = v` for
///   dotted names.
///
/// A disabled level evaluates no field and formats nothing.
#[macro_export]
macro_rules! info {
    ($log:expr $(,)?) => { $crate::__no_message!(info) };
    ($log:expr, $($k:ident).+ = $($rest:tt)*) => { $crate::__no_message!(info) };
    ($log:expr, $($rest:tt)+) => { $crate::__event_at!($crate::Level::INFO, $log, $($rest)+) };
}

/// Logs at `WARN`: `warn!(logger, "MESSAGE", key = value, …)`. See [`info!`](crate::info!).
#[macro_export]
macro_rules! warn {
    ($log:expr $(,)?) => { $crate::__no_message!(warn) };
    ($log:expr, $($k:ident).+ = $($rest:tt)*) => { $crate::__no_message!(warn) };
    ($log:expr, $($rest:tt)+) => { $crate::__event_at!($crate::Level::WARN, $log, $($rest)+) };
}

/// Logs at `ERROR`: `error!(logger, "MESSAGE", key = value, …)`. See [`info!`](crate::info!).
#[macro_export]
macro_rules! error {
    ($log:expr $(,)?) => { $crate::__no_message!(error) };
    ($log:expr, $($k:ident).+ = $($rest:tt)*) => { $crate::__no_message!(error) };
    ($log:expr, $($rest:tt)+) => { $crate::__event_at!($crate::Level::ERROR, $log, $($rest)+) };
}

/// Splits `tracing`-style fields into their names and their values
/// (`&dyn FieldValue`), then hands both to `__event_end!` with `$cx`.
#[doc(hidden)]
#[macro_export]
macro_rules! __fields {
    (@ $cx:tt [$($names:tt)*] [$($out:tt)*]) => { $crate::__event_end!($cx [$($names)*] [$($out)*]) };
    // `%` and `?` come first: an `expr` fragment that fails to parse is a
    // hard error, not a fall-through to the next rule.
    (@ $cx:tt [$($names:tt)*] [$($out:tt)*] $($k:ident).+ = %$v:expr $(, $($rest:tt)*)?) => {
        $crate::__fields!(@ $cx [$($names)* $crate::__private::event_name(const { $crate::__private::key($crate::__private::stringify!($($k).+)) }),] [$($out)* (const { $crate::__private::key($crate::__private::stringify!($($k).+)) }, &$crate::__private::DisplayValue(&$v) as &dyn $crate::FieldValue),] $($($rest)*)?)
    };
    (@ $cx:tt [$($names:tt)*] [$($out:tt)*] $($k:ident).+ = ?$v:expr $(, $($rest:tt)*)?) => {
        $crate::__fields!(@ $cx [$($names)* $crate::__private::event_name(const { $crate::__private::key($crate::__private::stringify!($($k).+)) }),] [$($out)* (const { $crate::__private::key($crate::__private::stringify!($($k).+)) }, &$crate::__private::DebugValue(&$v) as &dyn $crate::FieldValue),] $($($rest)*)?)
    };
    (@ $cx:tt [$($names:tt)*] [$($out:tt)*] $($k:ident).+ = $v:expr $(, $($rest:tt)*)?) => {
        $crate::__fields!(@ $cx [$($names)* $crate::__private::event_name(const { $crate::__private::key($crate::__private::stringify!($($k).+)) }),] [$($out)* (const { $crate::__private::key($crate::__private::stringify!($($k).+)) }, $crate::__private::field(&$v)),] $($($rest)*)?)
    };
    (@ $cx:tt [$($names:tt)*] [$($out:tt)*] $k:literal = %$v:expr $(, $($rest:tt)*)?) => {
        $crate::__fields!(@ $cx [$($names)* $crate::__private::event_name($k),] [$($out)* ($k, &$crate::__private::DisplayValue(&$v) as &dyn $crate::FieldValue),] $($($rest)*)?)
    };
    (@ $cx:tt [$($names:tt)*] [$($out:tt)*] $k:literal = ?$v:expr $(, $($rest:tt)*)?) => {
        $crate::__fields!(@ $cx [$($names)* $crate::__private::event_name($k),] [$($out)* ($k, &$crate::__private::DebugValue(&$v) as &dyn $crate::FieldValue),] $($($rest)*)?)
    };
    (@ $cx:tt [$($names:tt)*] [$($out:tt)*] $k:literal = $v:expr $(, $($rest:tt)*)?) => {
        $crate::__fields!(@ $cx [$($names)* $crate::__private::event_name($k),] [$($out)* ($k, $crate::__private::field(&$v)),] $($($rest)*)?)
    };
    (@ $cx:tt [$($names:tt)*] [$($out:tt)*] %$($k:ident).+ $(, $($rest:tt)*)?) => {
        $crate::__fields!(@ $cx [$($names)* $crate::__private::event_name(const { $crate::__private::key($crate::__private::stringify!($($k).+)) }),] [$($out)* (const { $crate::__private::key($crate::__private::stringify!($($k).+)) }, &$crate::__private::DisplayValue(&$($k).+) as &dyn $crate::FieldValue),] $($($rest)*)?)
    };
    (@ $cx:tt [$($names:tt)*] [$($out:tt)*] ?$($k:ident).+ $(, $($rest:tt)*)?) => {
        $crate::__fields!(@ $cx [$($names)* $crate::__private::event_name(const { $crate::__private::key($crate::__private::stringify!($($k).+)) }),] [$($out)* (const { $crate::__private::key($crate::__private::stringify!($($k).+)) }, &$crate::__private::DebugValue(&$($k).+) as &dyn $crate::FieldValue),] $($($rest)*)?)
    };
    (@ $cx:tt [$($names:tt)*] [$($out:tt)*] $($k:ident).+ $(, $($rest:tt)*)?) => {
        $crate::__fields!(@ $cx [$($names)* $crate::__private::event_name(const { $crate::__private::key($crate::__private::stringify!($($k).+)) }),] [$($out)* (const { $crate::__private::key($crate::__private::stringify!($($k).+)) }, $crate::__private::field(&$($k).+)),] $($($rest)*)?)
    };
}
