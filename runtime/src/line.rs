//! The hot path: one event becomes one line, written to every sink of its
//! logger. Everything a line needs is in its [`LineWriter`]; the txid, the
//! service method and the trace come from the thread.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::SystemTime;

use crate::ambient;
use crate::capture::{Captured, Record};
use crate::field::Value;
use crate::format::{self, Event, Format, LineContext};
use crate::keep::{At, Kept, Replay};
use crate::mirror::Mirror;
use crate::sink::{self, Sink};
use crate::span;

#[cfg(feature = "otel")]
use crate::otel::with_trace_id;

/// Where a logger's times come from when not the system clock (tests).
pub(crate) type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// What a logger's lines are written with.
pub(crate) struct LineWriter {
    pub(crate) name: String,
    pub(crate) format: Format,
    /// The most bytes of a message or value written before it is cut.
    pub(crate) max_value: usize,
    pub(crate) sinks: Arc<[Sink]>,
    /// A capturing logger's record (tests), beside or instead of its sinks.
    pub(crate) capture: Option<Captured>,
    /// A fixed clock for tests; the system's otherwise.
    pub(crate) clock: Option<Clock>,
}

thread_local! {
    static LINE: RefCell<String> = RefCell::new(String::with_capacity(512));
}

impl LineWriter {
    /// Formats `ev` into this thread's line buffer and hands the line to
    /// every sink.
    pub(crate) fn write(&self, ev: &Event<'_>) {
        self.format(ev, |line, record| self.hand_out(line, record));
    }

    /// Keeps `ev` (logged at `site`) in `kept` with its time and ids
    /// instead of writing it; `owner` (this writer's logger) writes it if
    /// the request fails.
    pub(crate) fn keep(&self, ev: &Event<'_>, site: Option<Mirror>, kept: &Kept, owner: &Arc<dyn Replay>) {
        let time = self.now();
        let span = span::current();
        with_trace_id(|trace_id| {
            let at = At {
                site,
                time,
                txid: None,
                span,
                trace_id,
            };
            kept.push(owner, at, ambient::current_txid(), ev.level, ev.message, ev.fields);
        });
    }

    /// Writes a kept event as the line it would have been at `at.time`.
    pub(crate) fn replay(&self, at: &At<'_>, ev: &Event<'_>) {
        let cx = LineContext {
            time: at.time,
            max_value: self.max_value,
            logger: &self.name,
            txid: at.txid,
            span: at.span,
            trace_id: at.trace_id,
        };
        let mut line = String::with_capacity(256);
        format::write_line(&mut line, self.format, &cx, ev);
        self.hand_out(&line, &|| self.record(&cx, ev));
    }

    /// The line to every sink; its values to the capture, if any.
    fn hand_out(&self, line: &str, record: &dyn Fn() -> Record) {
        sink::fan_out(&self.sinks, line);
        if let Some(capture) = &self.capture {
            capture.push(line, record());
        }
    }

    fn now(&self) -> SystemTime {
        match &self.clock {
            Some(clock) => clock(),
            None => SystemTime::now(),
        }
    }

    /// Formats `ev` into this thread's line buffer and hands the line (and
    /// what a capturing sink records of it) to `to`.
    fn format(&self, ev: &Event<'_>, to: impl FnOnce(&str, &dyn Fn() -> Record)) {
        let time = self.now();
        LINE.with(|cell| match cell.try_borrow_mut() {
            Ok(mut line) => {
                line.clear();
                self.format_into(&mut line, time, ev, to);
                if line.capacity() > 64 * 1024 {
                    *line = String::with_capacity(512);
                }
            }
            // A field's Display logged through this thread: use a fresh buffer.
            Err(_) => self.format_into(&mut String::new(), time, ev, to),
        });
    }

    fn format_into(
        &self,
        line: &mut String,
        time: SystemTime,
        ev: &Event<'_>,
        to: impl FnOnce(&str, &dyn Fn() -> Record),
    ) {
        let span = span::current();
        ambient::with_txid(|txid| {
            with_trace_id(|trace_id| {
                let cx = LineContext {
                    time,
                    max_value: self.max_value,
                    logger: &self.name,
                    txid,
                    span,
                    trace_id,
                };
                format::write_line(line, self.format, &cx, ev);
                to(line, &|| self.record(&cx, ev));
            })
        });
    }

    fn record(&self, cx: &LineContext<'_>, ev: &Event<'_>) -> Record {
        Record {
            level: ev.level,
            logger: self.name.clone(),
            message: format::capped(ev.message, self.max_value).into_owned(),
            fields: ev
                .fields
                .iter()
                .enumerate()
                .map(|(i, (_, v))| {
                    let value = match Value::of(*v) {
                        Value::Str(s) if s.len() > self.max_value => {
                            Value::Str(format::capped(&s, self.max_value).into_owned())
                        }
                        v => v,
                    };
                    (format::key_name(ev.fields, i).into_owned(), value)
                })
                .collect(),
            txid: cx.txid.map(str::to_owned),
            span: cx.span.map(str::to_owned),
            trace_id: cx.trace_id.map(str::to_owned),
        }
    }
}

/// Without OpenTelemetry there is never a trace.
#[cfg(not(feature = "otel"))]
fn with_trace_id<R>(f: impl FnOnce(Option<&str>) -> R) -> R {
    f(None)
}
