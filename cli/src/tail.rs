//! `logwire tail`: the last lines of every logger's files (or all since a
//! time), merged in time order, and with `-f` what they write next, through
//! rotations as `tail -F` follows them.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use logwire::read::{self, Entry, Time};
use logwire::Level;

use crate::error::{self, Error};
use crate::files::{self, LogFile};
use crate::print::Printer;

/// Which lines are shown.
#[derive(Debug, Clone, Default)]
pub(crate) struct Filter {
    /// At least this severe.
    pub(crate) level: Option<Level>,
    /// With this txid.
    pub(crate) txid: Option<String>,
    /// Written at or after this time.
    pub(crate) since: Option<Time>,
}

impl Filter {
    fn keeps(&self, line: &Line) -> bool {
        if let Some(since) = self.since {
            if line.time < since {
                return false;
            }
        }
        if self.level.is_none() && self.txid.is_none() {
            return true;
        }
        // Another formatter's line in the file has no level or txid to match.
        let Some(entry) = &line.entry else { return false };
        // tracing orders levels by verbosity: ERROR is the least.
        self.level.is_none_or(|l| entry.level <= l) && self.txid.as_ref().is_none_or(|t| entry.txid.as_ref() == Some(t))
    }
}

/// One line read, with its time (a line without one, its predecessor's).
struct Line {
    time: Time,
    text: String,
    entry: Option<Entry>,
}

impl Line {
    fn new(raw: &[u8], previous: Time) -> Line {
        let text = String::from_utf8_lossy(raw.strip_suffix(b"\n").unwrap_or(raw)).into_owned();
        let entry = read::parse_line(&text).ok();
        let time = entry
            .as_ref()
            .map(|e| e.time)
            .or_else(|| read::time_of(&text))
            .unwrap_or(previous);
        Line { time, text, entry }
    }
}

/// Options of `tail`.
#[derive(Debug)]
pub(crate) struct Options {
    pub(crate) names: Vec<String>,
    pub(crate) lines: usize,
    pub(crate) follow: bool,
    pub(crate) poll: Duration,
    pub(crate) filter: Filter,
}

/// Runs `tail`; returns how many lines it printed before following.
pub(crate) fn run(root: &Path, opts: &Options) -> Result<usize, Error> {
    let files = files::discover(root, &opts.names)?;
    if files.is_empty() && !opts.follow {
        let whose = if opts.names.is_empty() {
            String::new()
        } else {
            format!(" of {}", opts.names.join(", "))
        };
        return Err(Error::nothing(format!("no log files{whose} in {}", root.display())));
    }
    let mut loggers: Vec<Vec<LogFile>> = Vec::new();
    for file in files {
        match loggers.last_mut() {
            Some(group) if group[0].logger == file.logger => group.push(file),
            _ => loggers.push(vec![file]),
        }
    }
    let mut printer = Printer::new(false, false);
    let mut followed = Vec::new();
    let printed = if opts.filter.since.is_some() {
        since(&loggers, opts, &mut printer)?
    } else {
        last(&mut loggers, opts, &mut printer)?
    };
    printer.flush()?;
    if !opts.follow {
        // `-n 0` asked for nothing: nothing is not a miss.
        return if printed == 0 && (opts.lines > 0 || opts.filter.since.is_some()) {
            Err(Error::nothing("no line matches"))
        } else {
            Ok(printed)
        };
    }
    for group in loggers {
        let newest = group.into_iter().next_back().filter(|f| f.index == 0);
        if let Some(mut f) = newest {
            let pos = f.file.stream_position().unwrap_or(0);
            let meta = f.file.metadata().ok();
            followed.push(Followed {
                path: f.path,
                refused: false,
                id: meta.map(|m| (m.dev(), m.ino())),
                file: Some(f.file),
                pos,
                partial: Vec::new(),
                last: Time::from_unix_millis(i64::MIN),
            });
        }
    }
    follow(root, opts, followed, &mut printer)
}

/// The last `opts.lines` matching lines: each logger's newest files, read
/// until it has that many, then merged and cut.
fn last(loggers: &mut [Vec<LogFile>], opts: &Options, printer: &mut Printer) -> Result<usize, Error> {
    if opts.lines == 0 {
        // Nothing to show; `-f` starts following at each file's end.
        for file in loggers.iter_mut().flatten() {
            file.file.seek(SeekFrom::End(0)).map_err(read_error)?;
        }
        return Ok(0);
    }
    let mut all: Vec<Line> = Vec::new();
    for group in loggers.iter_mut() {
        let mut kept: VecDeque<Line> = VecDeque::new();
        // Newest file first; each read whole, keeping its last matches.
        for file in group.iter_mut().rev() {
            let mut ring: VecDeque<Line> = VecDeque::new();
            each_line(file, |line| {
                if opts.filter.keeps(&line) {
                    if ring.len() == opts.lines {
                        ring.pop_front();
                    }
                    ring.push_back(line);
                }
            })?;
            while kept.len() < opts.lines {
                match ring.pop_back() {
                    Some(line) => kept.push_front(line),
                    None => break,
                }
            }
            if kept.len() >= opts.lines {
                break;
            }
        }
        all.extend(kept);
    }
    all.sort_by_key(|l| l.time);
    let skip = all.len().saturating_sub(opts.lines);
    for line in &all[skip..] {
        printer.line("", &line.text, line.entry.as_ref())?;
    }
    Ok(all.len() - skip)
}

/// Every matching line since the filter's time: the loggers' files read
/// side by side and merged as they are read, so memory holds one line per
/// logger.
fn since(loggers: &[Vec<LogFile>], opts: &Options, printer: &mut Printer) -> Result<usize, Error> {
    let from = opts.filter.since.unwrap_or(Time::from_unix_millis(i64::MIN));
    let mut streams: Vec<Stream<'_>> = loggers
        .iter()
        .map(|group| {
            // Files last written before the time hold nothing newer.
            let from_file = group
                .iter()
                .position(|f| Time::from(f.modified) >= from)
                .unwrap_or(group.len());
            Stream {
                files: &group[from_file..],
                at: 0,
                reader: None,
                last: Time::from_unix_millis(i64::MIN),
            }
        })
        .collect();
    let mut heap = BinaryHeap::new();
    let mut heads: Vec<Option<Line>> = Vec::new();
    for (i, s) in streams.iter_mut().enumerate() {
        let head = s.next()?;
        if let Some(l) = &head {
            heap.push(Reverse((l.time, i)));
        }
        heads.push(head);
    }
    let mut printed = 0;
    while let Some(Reverse((_, i))) = heap.pop() {
        let line = heads[i].take().expect("a stream in the heap has a head");
        if opts.filter.keeps(&line) {
            printer.line("", &line.text, line.entry.as_ref())?;
            printed += 1;
        }
        heads[i] = streams[i].next()?;
        if let Some(l) = &heads[i] {
            heap.push(Reverse((l.time, i)));
        }
    }
    Ok(printed)
}

/// One logger's files read in order, a line at a time.
struct Stream<'a> {
    files: &'a [LogFile],
    at: usize,
    reader: Option<BufReader<File>>,
    last: Time,
}

impl Stream<'_> {
    fn next(&mut self) -> Result<Option<Line>, Error> {
        let mut raw = Vec::new();
        loop {
            if self.reader.is_none() {
                let Some(file) = self.files.get(self.at) else {
                    return Ok(None);
                };
                // A second handle on the same open file: a rotation cannot take it away.
                let mut handle = file.file.try_clone().map_err(read_error)?;
                handle.rewind().map_err(read_error)?;
                self.reader = Some(BufReader::with_capacity(1 << 16, handle));
            }
            let reader = self.reader.as_mut().expect("set above");
            raw.clear();
            let n = reader.read_until(b'\n', &mut raw).map_err(read_error)?;
            if n == 0 {
                self.reader = None;
                self.at += 1;
                continue;
            }
            let line = Line::new(&raw, self.last);
            self.last = line.time;
            return Ok(Some(line));
        }
    }
}

fn read_error(e: io::Error) -> Error {
    Error::usage(format!("cannot read a log file: {}", error::reason(&e)))
}

/// Calls `each` for every line of `file` from its start; leaves the file
/// at the end of what it read.
fn each_line(file: &mut LogFile, mut each: impl FnMut(Line)) -> Result<(), Error> {
    file.file.rewind().map_err(read_error)?;
    let path = file.path.clone();
    let mut reader = BufReader::with_capacity(1 << 16, &mut file.file);
    let mut raw = Vec::new();
    let mut last = Time::from_unix_millis(i64::MIN);
    loop {
        raw.clear();
        let n = reader
            .read_until(b'\n', &mut raw)
            .map_err(|e| Error::usage(format!("cannot read {}: {}", path.display(), error::reason(&e))))?;
        if n == 0 {
            return Ok(());
        }
        let line = Line::new(&raw, last);
        last = line.time;
        each(line);
    }
}

/// A logger's current file, followed.
struct Followed {
    path: PathBuf,
    /// Not a logwire log (warned once): never read.
    refused: bool,
    file: Option<File>,
    id: Option<(u64, u64)>,
    pos: u64,
    partial: Vec<u8>,
    last: Time,
}

impl Followed {
    /// Appends the complete lines written since the last call; at the end
    /// of a file rotated away, its unfinished last line too.
    fn read_new(&mut self, out: &mut Vec<Line>, finished: bool) -> io::Result<()> {
        let Some(file) = self.file.as_mut() else { return Ok(()) };
        if file.metadata()?.len() < self.pos {
            // Truncated in place (logrotate's copytruncate): start again at 0, as `tail -F` does.
            self.pos = 0;
            self.partial.clear();
        }
        file.seek(SeekFrom::Start(self.pos))?;
        let mut bytes = std::mem::take(&mut self.partial);
        let n = file.read_to_end(&mut bytes)?;
        self.pos += n as u64;
        let mut start = 0;
        while let Some(i) = memchr::memchr(b'\n', &bytes[start..]) {
            let line = Line::new(&bytes[start..start + i], self.last);
            self.last = line.time;
            out.push(line);
            start += i + 1;
        }
        if finished && start < bytes.len() {
            out.push(Line::new(&bytes[start..], self.last));
        } else {
            self.partial = bytes[start..].to_vec();
        }
        Ok(())
    }

    /// Reads what is new, and moves to the file now at the path if the one
    /// held was rotated away (or the path appeared).
    fn poll(&mut self, out: &mut Vec<Line>) -> io::Result<()> {
        self.read_new(out, false)?;
        let now = match std::fs::metadata(&self.path) {
            Ok(m) => Some((m.dev(), m.ino())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        if now.is_some() && now != self.id {
            // What the writer put in the old file before it moved on.
            self.read_new(out, true)?;
            self.file = None;
            self.id = now;
            // Only a regular file that is a logwire log (a FIFO would block, a directory cannot be read).
            if !std::fs::metadata(&self.path).is_ok_and(|m| m.is_file()) {
                return Ok(());
            }
            let Ok(mut file) = File::open(&self.path) else {
                return Ok(());
            };
            if let Err(why) = files::looks_like_a_log(&mut file) {
                if !self.refused {
                    crate::error::warn(&format!("skipping {}: not a logwire log ({why})", self.path.display()));
                }
                self.refused = true;
                return Ok(());
            }
            self.refused = false;
            self.file = Some(file);
            self.id = self
                .file
                .as_ref()
                .and_then(|f| f.metadata().ok())
                .map(|m| (m.dev(), m.ino()));
            self.pos = 0;
            self.partial.clear();
            self.read_new(out, false)?;
        }
        Ok(())
    }
}

/// Follows every logger's current file (and any logger that starts
/// writing), printing each poll's lines in time order. Ends only on an
/// error or a closed output.
fn follow(root: &Path, opts: &Options, mut followed: Vec<Followed>, printer: &mut Printer) -> Result<usize, Error> {
    loop {
        std::thread::sleep(opts.poll);
        if let Ok(entries) = std::fs::read_dir(root) {
            for entry in entries.flatten() {
                let name = entry.file_name();
                let Some(name) = name.to_str() else { continue };
                let Some((logger, 0)) = files::parse_name(name) else {
                    continue;
                };
                if !opts.names.is_empty() && !opts.names.iter().any(|n| n == logger) {
                    continue;
                }
                let path = root.join(name);
                if followed.iter().any(|f| f.path == path) {
                    continue;
                }
                followed.push(Followed {
                    path,
                    refused: false,
                    file: None,
                    id: None,
                    pos: 0,
                    partial: Vec::new(),
                    last: Time::from_unix_millis(i64::MIN),
                });
            }
        }
        let mut batch = Vec::new();
        for f in &mut followed {
            if let Err(e) = f.poll(&mut batch) {
                return Err(Error::usage(format!(
                    "cannot read {}: {}",
                    f.path.display(),
                    error::reason(&e)
                )));
            }
        }
        batch.sort_by_key(|l| l.time);
        for line in batch.iter().filter(|l| opts.filter.keeps(l)) {
            printer.line("", &line.text, line.entry.as_ref())?;
        }
        printer.flush()?;
    }
}
