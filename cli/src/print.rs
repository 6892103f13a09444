//! Writing lines out: prefixed with their file, the level coloured on a
//! terminal (anstream strips the colour elsewhere and honours `NO_COLOR`),
//! or as JSON objects with `file` added.

use std::io::Write;

use anstyle::{AnsiColor, Style};
use logwire::read::{Entry, Time};
use logwire::Level;

use crate::error::{self, Error};

/// Where lines go.
pub(crate) struct Printer {
    out: anstream::AutoStream<std::io::StdoutLock<'static>>,
    json: bool,
    prefix: bool,
}

impl Printer {
    /// Lines prefixed with their file (`prefix`), or as JSON (`json`).
    pub(crate) fn new(json: bool, prefix: bool) -> Printer {
        Printer {
            out: anstream::AutoStream::auto(std::io::stdout().lock()),
            json,
            prefix,
        }
    }

    /// One line of a logger's file as it was written (`raw`), with its
    /// parsed form when it is one of logwire's.
    pub(crate) fn line(&mut self, file: &str, raw: &str, entry: Option<&Entry>) -> Result<(), Error> {
        if self.json {
            let object = match entry {
                Some(_) if raw.starts_with('{') && raw.trim_end().ends_with('}') => with_file(raw, file),
                Some(e) => entry_json(file, e),
                None => format!("{{\"file\":{},\"text\":{}}}", quote(file), quote(raw)),
            };
            return writeln!(self.out, "{object}").map_err(error::output);
        }
        if self.prefix {
            write!(self.out, "{}{file}:{} ", DIM.render(), DIM.render_reset()).map_err(error::output)?;
        }
        let coloured = entry.filter(|_| !raw.starts_with('{')).and_then(|e| {
            let tag = format!(" - {} - ", e.level);
            raw.find(&tag).map(|at| (at + 3, at + tag.len() - 3, style(e.level)))
        });
        match coloured {
            Some((from, to, style)) => writeln!(
                self.out,
                "{}{}{}{}{}",
                &raw[..from],
                style.render(),
                &raw[from..to],
                style.render_reset(),
                &raw[to..]
            ),
            // Another formatter's line (`file_writer`) may hold anything:
            // never a raw control character to a terminal.
            None => writeln!(self.out, "{}", safe(raw)),
        }
        .map_err(error::output)
    }

    /// One line of a job log.
    pub(crate) fn job_line(&mut self, file: &str, raw: &str, time: Option<(Time, &str)>) -> Result<(), Error> {
        if self.json {
            let object = match time {
                Some((t, text)) => format!(
                    "{{\"ts\":\"{}\",\"message\":{},\"file\":{}}}",
                    iso(t),
                    quote(text),
                    quote(file)
                ),
                None => format!("{{\"file\":{},\"text\":{}}}", quote(file), quote(raw)),
            };
            return writeln!(self.out, "{object}").map_err(error::output);
        }
        writeln!(self.out, "{}{file}:{} {}", DIM.render(), DIM.render_reset(), safe(raw)).map_err(error::output)
    }

    /// Pushes what was written to the terminal or pipe.
    pub(crate) fn flush(&mut self) -> Result<(), Error> {
        self.out.flush().map_err(error::output)
    }
}

const DIM: Style = Style::new().dimmed();

fn style(level: Level) -> Style {
    let colour = match level {
        Level::ERROR => AnsiColor::Red,
        Level::WARN => AnsiColor::Yellow,
        Level::INFO => AnsiColor::Green,
        Level::DEBUG => AnsiColor::Blue,
        _ => AnsiColor::Magenta,
    };
    Style::new().fg_color(Some(colour.into())).bold()
}

/// `2025-01-01T12:00:00.123Z`, the JSON format's time.
fn iso(t: Time) -> String {
    t.to_string().replacen(' ', "T", 1)
}

/// `text` with every control character but tab written `\u{..}`, as
/// logwire writes them.
fn safe(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() && c != '\t') {
        return text.into();
    }
    text.chars()
        .map(|c| {
            if c.is_control() && c != '\t' {
                format!("\\u{{{:x}}}", u32::from(c))
            } else {
                c.to_string()
            }
        })
        .collect::<String>()
        .into()
}

/// A JSON string.
fn quote(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

/// A JSON line with `file` added last, the line otherwise as written.
fn with_file(raw: &str, file: &str) -> String {
    let body = raw.trim_end();
    let body = &body[..body.len() - 1];
    format!("{body},\"file\":{}}}", quote(file))
}

/// A readable line as the JSON format writes it (its keys in that order,
/// field values as strings), with `file` added last.
fn entry_json(file: &str, e: &Entry) -> String {
    let mut out = format!(
        "{{\"ts\":\"{}\",\"level\":\"{}\",\"logger\":{}",
        iso(e.time),
        e.level,
        quote(&e.logger)
    );
    if let Some(txid) = &e.txid {
        out += &format!(",\"txid\":{}", quote(txid));
    }
    out += &format!(",\"message\":{},\"fields\":{{", quote(&e.message));
    for (i, (k, v)) in e.fields.iter().enumerate() {
        let comma = if i > 0 { "," } else { "" };
        out += &format!("{comma}{}:{}", quote(k), quote(v));
    }
    out.push('}');
    if let Some(method) = &e.method {
        out += &format!(",\"method\":{}", quote(method));
    }
    out += &format!(",\"file\":{}}}", quote(file));
    out
}
