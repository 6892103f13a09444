//! Another formatter's lines in a logger's file: a `MakeWriter`, as
//! tracing-appender's `RollingFileAppender` is one, over logwire's
//! process-safe, rotating file.

use std::io::{self, Write};

use tracing_subscriber::fmt::MakeWriter;

use crate::sink::{self, FileSink};
use crate::Logger;

/// A [`MakeWriter`] that puts another formatter's lines into `logger`'s
/// file, with the same guarantees as logwire's own lines: batched, rotated
/// by size, shared safely with other processes, each event's output kept
/// whole (it is queued when the formatter is done with the event), and in
/// the file within the flush delay and at exit.
///
/// A logger without a file (console or capture only) gets the lines on
/// stdout.
///
/// ```
/// use tracing_subscriber::prelude::*;
///
/// # let dir = tempfile::tempdir().unwrap();
/// let api = logwire::Logger::builder("api").root(dir.path()).build(); // logwire::file_logger("api")
/// let stack = tracing_subscriber::registry()
///     .with(tracing_subscriber::fmt::layer().with_ansi(false).with_writer(logwire::file_writer(&api)));
/// tracing::subscriber::with_default(stack, || tracing::info!(rows = 3, "query done"));
/// api.flush();
/// let text = std::fs::read_to_string(dir.path().join("api.log")).unwrap();
/// assert!(text.ends_with("query done rows=3\n"));
/// ```
pub fn file_writer(logger: &Logger) -> FileWriter {
    FileWriter {
        sink: logger.file_sink(),
    }
}

/// See [`file_writer`].
#[derive(Debug, Clone, Copy)]
pub struct FileWriter {
    sink: Option<&'static FileSink>,
}

impl<'a> MakeWriter<'a> for FileWriter {
    type Writer = EventWriter;

    fn make_writer(&'a self) -> EventWriter {
        EventWriter {
            sink: self.sink,
            buf: Vec::new(),
        }
    }
}

/// The output of one event, queued for the file as one piece when dropped.
#[derive(Debug)]
pub struct EventWriter {
    sink: Option<&'static FileSink>,
    buf: Vec<u8>,
}

impl Write for EventWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for EventWriter {
    fn drop(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        // The file holds whole lines only.
        if !self.buf.ends_with(b"\n") {
            self.buf.push(b'\n');
        }
        match self.sink {
            Some(file) => sink::write_file(file, &self.buf),
            None => sink::write_stdout(&self.buf),
        }
    }
}
