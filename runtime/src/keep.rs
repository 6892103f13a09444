//! DEBUG lines kept for failures (`LoggerBuilder::debug_on_failure`): a
//! request's or job's events below its logger's level, held in a bounded
//! ring until the request or job ends, and written as lines (their own
//! time, txid and service method) only if it failed.
//!
//! An event is kept as its values, not as a line: most requests succeed,
//! and copying a few values costs a fraction of formatting a line that is
//! then thrown away.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::ops::Range;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use crate::field::{FieldValue, Slot, ValueRef};
use crate::mirror::Mirror;
use crate::Level;

/// What writes a kept event as the line it would have been: its logger.
pub(crate) trait Replay: Send + Sync {
    /// Writes the event as it would have been written at `at.time`, under
    /// `at`'s txid, method and trace.
    fn replay(&self, at: &At<'_>, level: Level, message: &str, fields: &[(&'static str, &dyn FieldValue)]);
}

/// When, where and under which ids an event was kept.
pub(crate) struct At<'a> {
    /// Where a line of logwire's own was logged, to hand it to the
    /// `tracing` stack when it is written; `None` for a library event,
    /// which the stack had when it was logged.
    pub(crate) site: Option<Mirror>,
    pub(crate) time: SystemTime,
    pub(crate) txid: Option<&'a str>,
    pub(crate) span: Option<&'static str>,
    pub(crate) trace_id: Option<&'a str>,
}

/// One kept event.
struct Kept1 {
    site: Option<Mirror>,
    time: SystemTime,
    level: Level,
    txid: Option<Arc<str>>,
    span: Option<&'static str>,
    trace_id: Option<Box<str>>,
    /// The message, in [`Ring::text`].
    message: Range<usize>,
    /// How many of [`Ring::fields`] are this event's (they follow the
    /// previous event's).
    fields: usize,
    /// Index into [`Ring::owners`].
    owner: usize,
}

thread_local! {
    /// An event's values, copied before its ring is locked.
    static STAGED: RefCell<Staged> = RefCell::new(Staged::default());
}

#[derive(Default)]
struct Staged {
    text: String,
    slots: Vec<(&'static str, Slot)>,
}

/// Calls `f` with `fields` copied into this thread's staging buffers, or
/// into fresh ones when a value's `Display` keeps a line while another is
/// staged.
fn staged(fields: &[(&'static str, &dyn FieldValue)], f: impl FnOnce(&str, &[(&'static str, Slot)])) {
    let fill = |staged: &mut Staged| {
        let Staged { text, slots } = staged;
        text.clear();
        slots.clear();
        slots.extend(fields.iter().map(|(k, v)| (*k, Slot::store(*v, text))));
    };
    STAGED.with(|cell| match cell.try_borrow_mut() {
        Ok(mut staged) => {
            fill(&mut staged);
            f(&staged.text, &staged.slots);
        }
        Err(_) => {
            let mut fresh = Staged::default();
            fill(&mut fresh);
            f(&fresh.text, &fresh.slots);
        }
    });
}

/// Lines and bytes reserved with the first kept event.
const FIRST_LINES: usize = 16;
const TEXT_BYTES: usize = 32;
const FIELDS: usize = 2;

/// The kept events of one request or job: at most `max`, the oldest dropped
/// first. Shared by the request's tasks (its scope travels with them).
pub(crate) struct Kept {
    max: usize,
    ring: Mutex<Ring>,
}

/// Messages and text values live in one growing buffer, compacted when
/// dropped events fill half of it: memory stays bounded by about twice
/// `max` events, and a kept value is copied into the buffers, not
/// allocated on its own.
#[derive(Default)]
struct Ring {
    text: String,
    events: VecDeque<Kept1>,
    /// Every kept event's fields, oldest first.
    fields: VecDeque<(&'static str, Slot)>,
    /// The loggers of the events (nearly always one).
    owners: Vec<Arc<dyn Replay>>,
    dropped: usize,
}

impl std::fmt::Debug for Kept {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kept").field("max", &self.max).finish_non_exhaustive()
    }
}

impl Kept {
    /// An empty ring for at most `max` events.
    pub(crate) fn new(max: usize) -> Arc<Kept> {
        Arc::new(Kept {
            max,
            ring: Mutex::new(Ring::default()),
        })
    }

    /// Keeps an event of `owner` logged now under `at`'s ids.
    pub(crate) fn push(
        &self,
        owner: &Arc<dyn Replay>,
        at: At<'_>,
        txid: Option<Arc<str>>,
        level: Level,
        message: &str,
        fields: &[(&'static str, &dyn FieldValue)],
    ) {
        // Values are copied (and `%`/`?` ones formatted) before the ring is
        // locked: a `Display` that logs, and so keeps a line of its own, must
        // not find the lock taken on its own thread.
        staged(fields, |text, slots| {
            let mut ring = self.ring.lock().unwrap_or_else(PoisonError::into_inner);
            if self.max == 0 {
                ring.dropped += 1;
                return;
            }
            if ring.events.len() >= self.max {
                if let Some(oldest) = ring.events.pop_front() {
                    ring.fields.drain(..oldest.fields);
                }
                ring.dropped += 1;
                ring.compact();
            }
            if ring.events.capacity() == 0 {
                // Room for a request's first events at once rather than by doubling.
                let first = self.max.min(FIRST_LINES);
                ring.events.reserve(first);
                ring.fields.reserve(first * FIELDS);
                ring.text.reserve(first * TEXT_BYTES);
            }
            let owner = match ring.owners.iter().position(|o| Arc::ptr_eq(o, owner)) {
                Some(i) => i,
                None => {
                    ring.owners.push(Arc::clone(owner));
                    ring.owners.len() - 1
                }
            };
            let message = ring.add(message);
            let base = ring.text.len();
            ring.text.push_str(text);
            ring.fields.extend(slots.iter().map(|(k, slot)| {
                let slot = match slot {
                    Slot::Text(r) => Slot::Text(r.start + base..r.end + base),
                    other => other.clone(),
                };
                (*k, slot)
            }));
            let fields = slots.len();
            ring.events.push_back(Kept1 {
                site: at.site,
                time: at.time,
                level,
                txid,
                span: at.span,
                trace_id: at.trace_id.map(Box::from),
                message,
                fields,
                owner,
            });
        });
    }

    /// Writes every kept event as its line, oldest first, and empties the
    /// ring; returns how many were written and how many were dropped.
    pub(crate) fn write_out(&self) -> (usize, usize) {
        let ring = std::mem::take(&mut *self.ring.lock().unwrap_or_else(PoisonError::into_inner));
        // Runs only for a failure: a vector per event is fine here.
        let mut next = ring.fields.iter();
        for e in &ring.events {
            let values: Vec<(&'static str, ValueRef<'_>)> = next
                .by_ref()
                .take(e.fields)
                .map(|(k, slot)| (*k, slot.get(&ring.text)))
                .collect();
            let fields: Vec<(&'static str, &dyn FieldValue)> =
                values.iter().map(|(k, v)| (*k, v as &dyn FieldValue)).collect();
            let at = At {
                site: e.site,
                time: e.time,
                txid: e.txid.as_deref(),
                span: e.span,
                trace_id: e.trace_id.as_deref(),
            };
            ring.owners[e.owner].replay(&at, e.level, &ring.text[e.message.clone()], &fields);
        }
        (ring.events.len(), ring.dropped)
    }
}

impl Ring {
    fn add(&mut self, s: &str) -> Range<usize> {
        let start = self.text.len();
        self.text.push_str(s);
        start..self.text.len()
    }

    /// Moves the live events' text to the buffer's start once dropped ones
    /// take half of it.
    fn compact(&mut self) {
        let Some(first) = self.events.front().map(|e| e.message.start) else {
            self.text.clear();
            return;
        };
        if first < self.text.len() / 2 {
            return;
        }
        self.text.drain(..first);
        let shift = |r: &mut Range<usize>| *r = r.start - first..r.end - first;
        for e in &mut self.events {
            shift(&mut e.message);
        }
        for (_, slot) in &mut self.fields {
            if let Slot::Text(r) = slot {
                shift(r);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Lines(Mutex<Vec<String>>);

    impl Replay for Lines {
        fn replay(&self, at: &At<'_>, level: Level, message: &str, fields: &[(&'static str, &dyn FieldValue)]) {
            let fields: Vec<String> = fields
                .iter()
                .map(|(k, v)| format!("{k}={}", crate::field::Value::of(*v)))
                .collect();
            let txid = at.txid.unwrap_or("-");
            self.0
                .lock()
                .unwrap()
                .push(format!("{txid} {level} {message} {}", fields.join(" ")));
        }
    }

    #[test]
    fn keeps_the_last_events_in_bounded_memory() {
        let kept = Kept::new(3);
        let lines = Arc::new(Lines(Mutex::new(Vec::new())));
        let owner: Arc<dyn Replay> = lines.clone();
        let txid: Arc<str> = Arc::from("req-1");
        for i in 0..1000u32 {
            let at = At {
                site: None,
                time: SystemTime::now(),
                txid: None,
                span: None,
                trace_id: None,
            };
            kept.push(
                &owner,
                at,
                Some(txid.clone()),
                Level::DEBUG,
                &format!("step {i:04}"),
                &[("n", &i)],
            );
        }
        {
            let ring = kept.ring.lock().unwrap();
            assert!(ring.text.len() <= 2 * 3 * 10 + 10, "{}", ring.text.len());
            assert_eq!((ring.dropped, ring.owners.len(), ring.fields.len()), (997, 1, 3));
        }
        assert_eq!(kept.write_out(), (3, 997));
        assert_eq!(
            *lines.0.lock().unwrap(),
            [
                "req-1 DEBUG step 0997 n=997",
                "req-1 DEBUG step 0998 n=998",
                "req-1 DEBUG step 0999 n=999"
            ]
        );
    }
}
