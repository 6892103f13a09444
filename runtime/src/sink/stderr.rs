//! Warnings that logwire writes to stderr itself.

/// Writes a warning to stderr as one line in one `write`, so that another
/// process sharing the terminal or file cannot land inside it.
macro_rules! warn_stderr {
    ($($arg:tt)*) => {{
        let mut line = ::std::format!($($arg)*);
        line.push('\n');
        let _ = ::std::io::Write::write_all(&mut ::std::io::stderr(), line.as_bytes());
    }};
}
pub(crate) use warn_stderr;
