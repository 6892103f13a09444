//! DEBUG lines kept for failures (`LoggerBuilder::debug_on_failure`): a
//! request's or job's lines below its logger's level, formatted as they are
//! logged (their own time and txid) and held in a bounded ring until the
//! request or job ends: written before its ERROR line if it failed,
//! dropped otherwise.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use crate::sink::{self, Record, Sink};

/// One kept line and the sinks it belongs to.
struct Line {
    sinks: Arc<[Sink]>,
    text: String,
    /// What a capturing sink records, when one of `sinks` captures.
    record: Option<Record>,
}

/// The kept lines of one request or job: at most `max`, the oldest dropped
/// first. Shared by the request's tasks (its scope travels with them).
pub(crate) struct Kept {
    max: usize,
    lines: Mutex<Ring>,
}

#[derive(Default)]
struct Ring {
    lines: VecDeque<Line>,
    dropped: usize,
}

impl std::fmt::Debug for Kept {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kept").field("max", &self.max).finish_non_exhaustive()
    }
}

impl Kept {
    /// An empty ring for at most `max` lines.
    pub(crate) fn new(max: usize) -> Arc<Kept> {
        Arc::new(Kept {
            max,
            lines: Mutex::new(Ring::default()),
        })
    }

    /// Keeps `text`, a whole formatted line for `sinks`.
    pub(crate) fn push(&self, sinks: &Arc<[Sink]>, text: &str, record: &dyn Fn() -> Record) {
        let record = sinks.iter().any(|s| matches!(s, Sink::Capture(_))).then(record);
        let mut ring = self.lines.lock().unwrap_or_else(PoisonError::into_inner);
        let reuse = if ring.lines.len() >= self.max {
            ring.dropped += 1;
            ring.lines.pop_front().map(|l| l.text)
        } else {
            None
        };
        if self.max == 0 {
            return;
        }
        // A dropped line's buffer holds the next: a long request allocates `max` buffers at most.
        let mut buf = reuse.unwrap_or_default();
        buf.clear();
        buf.push_str(text);
        ring.lines.push_back(Line {
            sinks: Arc::clone(sinks),
            text: buf,
            record,
        });
    }

    /// Writes every kept line to its sinks, oldest first, and empties the
    /// ring; returns how many were written and how many were dropped.
    pub(crate) fn write_out(&self) -> (usize, usize) {
        let ring = std::mem::take(&mut *self.lines.lock().unwrap_or_else(PoisonError::into_inner));
        for line in &ring.lines {
            sink::fan_out(&line.sinks, &line.text, || {
                line.record.clone().expect("recorded for a capturing sink")
            });
        }
        (ring.lines.len(), ring.dropped)
    }
}
