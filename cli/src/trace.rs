//! `logwire trace ID`: one request and everything it caused.
//!
//! The lines whose txid is ID, then recursively every txid whose lines carry
//! `origin=` one of those (the jobs a request queued, the jobs those
//! queued), and every job log a `JOB_LOG | path=…` line of them names; from
//! every log file of the root, merged in time order.
//!
//! Each file is searched once for the byte strings the known txids are
//! written as (memchr's `memmem`, see `scan`), and only the lines holding one are
//! parsed. Files are taken oldest first; a txid found on the way joins the
//! search at once, and a file already searched is searched again for it only
//! if it was written to after that txid's first line.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use logwire::read::{self, Entry, Time};
use memchr::memmem::Finder;

use crate::error::{self, Error};
use crate::files::{self, LogFile};
use crate::print::Printer;
use crate::scan::{self, Next};

/// One line found, in the order it is printed.
struct Hit {
    file: String,
    line: String,
    entry: Option<Entry>,
    job_log: bool,
}

/// What the search has learnt so far.
struct Search {
    /// Every txid to follow, with the time of its first line found (the
    /// traced id: the epoch).
    wanted: HashMap<String, Time>,
    /// Job logs named by `JOB_LOG` lines, in the order found.
    job_logs: Vec<PathBuf>,
    /// Keyed by (time, file rank, offset): the merge order, ties in file order.
    hits: BTreeMap<(Time, usize, u64), Hit>,
}

impl Search {
    /// Looks at one line that holds a needle: keeps it if its txid is
    /// wanted or its `origin=` is; says whether a new txid joined.
    fn look(&mut self, name: &str, rank: usize, offset: u64, raw: &[u8]) -> bool {
        let text = String::from_utf8_lossy(raw);
        let Ok(entry) = read::parse_line(&text) else {
            return false;
        };
        let Some(txid) = entry.txid.as_deref() else {
            return false;
        };
        let mut joined = false;
        if !self.wanted.contains_key(txid) {
            match entry.field("origin") {
                Some(origin) if self.wanted.contains_key(origin) => {
                    self.wanted.insert(txid.to_owned(), entry.time);
                    joined = true;
                }
                _ => return false,
            }
        }
        if entry.message == "JOB_LOG" {
            if let Some(path) = entry.field("path") {
                let path = PathBuf::from(path);
                if !self.job_logs.contains(&path) {
                    self.job_logs.push(path);
                }
            }
        }
        let hit = Hit {
            file: name.to_owned(),
            line: text.into_owned(),
            entry: None,
            job_log: false,
        };
        self.hits.insert(
            (entry.time, rank, offset),
            Hit {
                entry: Some(entry),
                ..hit
            },
        );
        joined
    }
}

/// The needles every line of one of `txids` holds.
fn needles<'a>(txids: impl Iterator<Item = &'a String>) -> Vec<String> {
    txids.flat_map(|t| read::needles(t)).collect()
}

/// Runs `trace`; returns how many lines it printed.
pub(crate) fn run(root: &Path, id: &str, json: bool) -> Result<usize, Error> {
    if id.is_empty() {
        return Err(Error::usage("the txid to trace is empty"));
    }
    // Copied from a header (`a%20b`): the id it stands for.
    let decoded = if id.contains('%') {
        read::percent_decode(id).ok()
    } else {
        None
    };
    let id = decoded.as_deref().unwrap_or(id);
    let mut files = files::discover(root, &[])?;
    // Oldest first across loggers, so a job's first line is mostly met
    // before its others; each logger's own order is kept.
    files.sort_by_key(|f| f.modified);
    let mut search = Search {
        wanted: HashMap::from([(id.to_owned(), Time::from_unix_millis(i64::MIN))]),
        job_logs: Vec::new(),
        hits: BTreeMap::new(),
    };
    let mut searched: Vec<HashSet<String>> = vec![HashSet::new(); files.len()];
    loop {
        let mut any = false;
        for rank in 0..files.len() {
            let missing: Vec<String> = search
                .wanted
                .iter()
                .filter(|(t, since)| !searched[rank].contains(*t) && could_hold(&files[rank], **since))
                .map(|(t, _)| t.clone())
                .collect();
            if missing.is_empty() {
                continue;
            }
            any = true;
            // A file never searched is searched for everything wanted; one
            // searched before, for the txids that joined since.
            let mut for_txids = missing;
            let mut from = 0;
            loop {
                let needles = needles(for_txids.iter());
                let finders: Vec<Finder<'_>> = needles.iter().map(Finder::new).collect();
                // Only a search from the start covers the whole file: a txid
                // found halfway is searched for again (its lines may come
                // before the one that named it); lines found twice are kept once.
                if from == 0 {
                    searched[rank].extend(for_txids.iter().cloned());
                }
                let LogFile { name, path, file, .. } = &mut files[rank];
                let mut joined = false;
                let end = scan::lines_holding(file, from, &finders, |offset, line| {
                    joined = search.look(name, rank, offset, line);
                    if joined {
                        Next::Stop
                    } else {
                        Next::Continue
                    }
                })
                .map_err(|e| Error::usage(format!("cannot read {}: {}", path.display(), error::reason(&e))))?;
                if !joined {
                    break;
                }
                // Go on in this file with every txid wanted now.
                for_txids = search.wanted.keys().cloned().collect();
                from = end;
            }
        }
        if !any {
            break;
        }
    }
    for (i, path) in search.job_logs.clone().iter().enumerate() {
        read_job_log(path, files.len() + i, &mut search);
    }
    if search.hits.is_empty() {
        return Err(Error::nothing(format!("no line has txid {id} in {}", root.display())));
    }
    let mut printer = Printer::new(json, true);
    for hit in search.hits.values() {
        if hit.job_log {
            let parsed = read::parse_job_log_line(&hit.line);
            printer.job_line(&hit.file, &hit.line, parsed.as_ref().map(|(t, s)| (*t, s.as_str())))?;
        } else {
            printer.line(&hit.file, &hit.line, hit.entry.as_ref())?;
        }
    }
    printer.flush()?;
    Ok(search.hits.len())
}

/// Whether `file` can hold lines written at or after `since`: its last
/// write (asked now: the file may still be growing) is not more than a
/// second before (clocks of file systems and processes may differ by that
/// much).
fn could_hold(file: &LogFile, since: Time) -> bool {
    if since.unix_millis() == i64::MIN {
        return true;
    }
    let modified = file.file.metadata().and_then(|m| m.modified()).unwrap_or(file.modified);
    Time::from(modified + Duration::from_secs(1)) >= since
}

/// Every line of a job log, each with its time (a line without one, with
/// the line's before it).
fn read_job_log(path: &Path, rank: usize, search: &mut Search) {
    let text = match std::fs::read(path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) => {
            error::warn(&format!(
                "cannot read the job log {}: {}",
                path.display(),
                error::reason(&e)
            ));
            return;
        }
    };
    let name = path.display().to_string();
    let mut last = Time::from_unix_millis(i64::MIN);
    for (offset, line) in text.lines().enumerate() {
        if let Some(t) = read::time_of(line) {
            last = t;
        }
        let hit = Hit {
            file: name.clone(),
            line: line.to_owned(),
            entry: None,
            job_log: true,
        };
        search.hits.insert((last, rank, offset as u64), hit);
    }
}
