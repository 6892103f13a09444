//! How the tool fails: exit code 1 when it found nothing (or, for `diagnose`
//! and `lint`, problems), 2 on a usage or I/O error; always one line on
//! stderr saying what was wrong.

use std::fmt;
use std::io;
use std::process::ExitCode;

/// A failure with its exit code and its one line.
#[derive(Debug)]
pub(crate) struct Error {
    code: u8,
    message: String,
}

impl Error {
    /// Exit 2: a usage or I/O error.
    pub(crate) fn usage(message: impl Into<String>) -> Error {
        Error {
            code: 2,
            message: message.into(),
        }
    }

    /// Exit 1: nothing found (or problems found).
    pub(crate) fn nothing(message: impl Into<String>) -> Error {
        Error {
            code: 1,
            message: message.into(),
        }
    }

    /// Exit 1 with nothing more to say (the output said it).
    pub(crate) fn quiet() -> Error {
        Error {
            code: 1,
            message: String::new(),
        }
    }

    /// Prints the line (if any) and gives the exit code.
    pub(crate) fn report(self) -> ExitCode {
        if !self.message.is_empty() {
            eprintln!("logwire: {}", self.message);
        }
        ExitCode::from(self.code)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// An I/O error while writing the output: a closed pipe (`| head`) ends the
/// command quietly, anything else is exit 2.
pub(crate) fn output(e: io::Error) -> Error {
    if e.kind() == io::ErrorKind::BrokenPipe {
        Error {
            code: 0,
            message: String::new(),
        }
    } else {
        Error::usage(format!("cannot write the output: {}", reason(&e)))
    }
}

/// An I/O error's reason without Rust's `(os error N)` suffix.
pub(crate) fn reason(e: &io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

/// One warning line on stderr; the command goes on.
pub(crate) fn warn(message: &str) {
    eprintln!("logwire: warning: {message}");
}
