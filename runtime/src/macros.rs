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
    ($log:expr, $level:expr, $message:expr $(, $($fields:tt)*)?) => {{
        let __logwire_log: &$crate::Logger = &$log;
        let __logwire_level: $crate::Level = $level;
        if __logwire_log.enabled(__logwire_level) {
            static __LOGWIRE_SITE: $crate::__private::Site =
                $crate::__private::Site::new(::core::file!(), ::core::line!(), ::core::module_path!());
            $crate::__private::emit(
                __logwire_log,
                &__LOGWIRE_SITE,
                __logwire_level,
                ::core::convert::AsRef::<str>::as_ref(&$message),
                &$crate::__fields!(@ [] $($($fields)*)?),
            );
        }
    }};
}

/// Logs at `TRACE`: `trace!(logger, "MESSAGE", key = value, …)`. See [`info!`](crate::info!).
#[macro_export]
macro_rules! trace {
    ($log:expr, $($rest:tt)+) => { $crate::event!($log, $crate::Level::TRACE, $($rest)+) };
}

/// Logs at `DEBUG`: `debug!(logger, "MESSAGE", key = value, …)`. See [`info!`](crate::info!).
#[macro_export]
macro_rules! debug {
    ($log:expr, $($rest:tt)+) => { $crate::event!($log, $crate::Level::DEBUG, $($rest)+) };
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
    ($log:expr, $($rest:tt)+) => { $crate::event!($log, $crate::Level::INFO, $($rest)+) };
}

/// Logs at `WARN`: `warn!(logger, "MESSAGE", key = value, …)`. See [`info!`](crate::info!).
#[macro_export]
macro_rules! warn {
    ($log:expr, $($rest:tt)+) => { $crate::event!($log, $crate::Level::WARN, $($rest)+) };
}

/// Logs at `ERROR`: `error!(logger, "MESSAGE", key = value, …)`. See [`info!`](crate::info!).
#[macro_export]
macro_rules! error {
    ($log:expr, $($rest:tt)+) => { $crate::event!($log, $crate::Level::ERROR, $($rest)+) };
}

/// Turns `tracing`-style fields into `[(name, &dyn FieldValue), …]`.
#[doc(hidden)]
#[macro_export]
macro_rules! __fields {
    (@ [$($out:tt)*]) => { [$($out)*] };
    // `%` and `?` come first: an `expr` fragment that fails to parse is a
    // hard error, not a fall-through to the next rule.
    (@ [$($out:tt)*] $($k:ident).+ = %$v:expr $(, $($rest:tt)*)?) => {
        $crate::__fields!(@ [$($out)* ($crate::__private::stringify!($($k).+), &$crate::__private::DisplayValue(&$v) as &dyn $crate::FieldValue),] $($($rest)*)?)
    };
    (@ [$($out:tt)*] $($k:ident).+ = ?$v:expr $(, $($rest:tt)*)?) => {
        $crate::__fields!(@ [$($out)* ($crate::__private::stringify!($($k).+), &$crate::__private::DebugValue(&$v) as &dyn $crate::FieldValue),] $($($rest)*)?)
    };
    (@ [$($out:tt)*] $($k:ident).+ = $v:expr $(, $($rest:tt)*)?) => {
        $crate::__fields!(@ [$($out)* ($crate::__private::stringify!($($k).+), &$v as &dyn $crate::FieldValue),] $($($rest)*)?)
    };
    (@ [$($out:tt)*] $k:literal = %$v:expr $(, $($rest:tt)*)?) => {
        $crate::__fields!(@ [$($out)* ($k, &$crate::__private::DisplayValue(&$v) as &dyn $crate::FieldValue),] $($($rest)*)?)
    };
    (@ [$($out:tt)*] $k:literal = ?$v:expr $(, $($rest:tt)*)?) => {
        $crate::__fields!(@ [$($out)* ($k, &$crate::__private::DebugValue(&$v) as &dyn $crate::FieldValue),] $($($rest)*)?)
    };
    (@ [$($out:tt)*] $k:literal = $v:expr $(, $($rest:tt)*)?) => {
        $crate::__fields!(@ [$($out)* ($k, &$v as &dyn $crate::FieldValue),] $($($rest)*)?)
    };
    (@ [$($out:tt)*] %$($k:ident).+ $(, $($rest:tt)*)?) => {
        $crate::__fields!(@ [$($out)* ($crate::__private::stringify!($($k).+), &$crate::__private::DisplayValue(&$($k).+) as &dyn $crate::FieldValue),] $($($rest)*)?)
    };
    (@ [$($out:tt)*] ?$($k:ident).+ $(, $($rest:tt)*)?) => {
        $crate::__fields!(@ [$($out)* ($crate::__private::stringify!($($k).+), &$crate::__private::DebugValue(&$($k).+) as &dyn $crate::FieldValue),] $($($rest)*)?)
    };
    (@ [$($out:tt)*] $($k:ident).+ $(, $($rest:tt)*)?) => {
        $crate::__fields!(@ [$($out)* ($crate::__private::stringify!($($k).+), &$($k).+ as &dyn $crate::FieldValue),] $($($rest)*)?)
    };
}
