//! A log file that several processes append to and rotate by size.
//!
//! The protocol, which loses, duplicates and tears no line:
//! - the file is opened with `O_APPEND` and whole lines are written in one
//!   `write` (a batch of whole lines, under the lock below);
//! - every batch is written under an exclusive `flock` on a sidecar lock
//!   file (`.api.log.lock`), never on the log itself, which is renamed;
//! - after taking the lock, `stat(path)` is compared with `fstat(fd)`: when
//!   another process rotated (or logrotate moved the file), the file is
//!   reopened before writing;
//! - the decision to rotate reads the size from `fstat`, never from a
//!   counter kept in this process, and the rename chain runs under the lock;
//! - after a `fork` the child opens its own lock file, since a `flock` is
//!   shared by every process holding the same open file description, and
//!   drops the lines its parent had queued (the parent writes them): the
//!   fork hooks hold both of a sink's locks across the `fork` ([`ForkHold`]),
//!   so no thread is inside a sink when the child's copy is made;
//! - before appending, a file that does not end with `\n` is ended with
//!   one: a writer killed inside a `write` (or cut short by a full disk)
//!   leaves part of a line, and the next line must not be glued to it. The
//!   fragment stays in the file, alone on its line;
//! - when a `write` is cut short, the lines it wrote whole count as
//!   written; the rest, from the start of the cut line, is not, and what
//!   reached the file of the cut line is truncated away (under the lock, no
//!   one else has appended since).

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, FileExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// When this many bytes are waiting, the flusher thread is woken at once
/// to write them; smaller batches wait at most `FLUSH_DELAY`.
pub(crate) const BATCH_BYTES: usize = 64 * 1024;

/// Past this many waiting bytes the logging thread writes them itself:
/// backpressure instead of unbounded memory or lost lines. Below it, the
/// logging thread does no file I/O and never waits for a rotation (a rename
/// chain) in progress.
pub(crate) const HIGH_WATER_BYTES: usize = 256 * 1024;

/// Keep every backup: `api.log.1` … as many as rotation produces.
pub(crate) const UNLIMITED: usize = usize::MAX;

/// What the flusher should do after a line was queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wake {
    /// Nothing: it already knows.
    No,
    /// The buffer was empty: write it within the flush delay.
    Soon,
    /// A full batch is waiting: write it now.
    Now,
}

/// Where a sink's lines go.
enum Output {
    File {
        file: File,
        lock: File,
    },
    /// The file could not be opened, for the reason given; lines go to
    /// stderr (the fallback).
    Stderr(String),
}

/// What the writing side owns: taken first, so that batches are written in
/// the order they were taken from the buffer.
struct Io {
    out: Output,
    /// The other buffer: swapped with the pending one under the buffer
    /// lock, written with only this lock held.
    spare: Vec<u8>,
    /// The process that opened `out`; a different one means we were forked.
    pid: u32,
    /// A write error has been reported once; later ones are not repeated.
    write_error_reported: bool,
}

/// One log file, shared by every logger of this process that writes it.
pub(crate) struct FileSink {
    path: PathBuf,
    lock_path: PathBuf,
    max_bytes: u64,
    backups: usize,
    /// Lines waiting to be written; held only to append or swap.
    buf: Mutex<Vec<u8>>,
    io: Mutex<Io>,
}

impl std::fmt::Debug for FileSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileSink")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere must not stop logging: the data is bytes, never half-updated.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl FileSink {
    /// A sink of its own for `path`; loggers share one through
    /// [`registry::shared`](super::registry::shared). Never fails: a file
    /// that cannot be opened falls back to stderr after one warning.
    pub(crate) fn open(path: PathBuf, max_bytes: u64, backups: usize) -> FileSink {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let lock_path = path.with_file_name(format!(".{name}.lock"));
        let out = match open_output(&path, &lock_path) {
            Ok(out) => out,
            Err(e) => fall_back(&path, &e),
        };
        FileSink {
            path,
            lock_path,
            max_bytes,
            backups,
            buf: Mutex::new(Vec::with_capacity(BATCH_BYTES)),
            io: Mutex::new(Io {
                out,
                spare: Vec::with_capacity(BATCH_BYTES),
                pid: std::process::id(),
                write_error_reported: false,
            }),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Takes both locks of the sink, for the moments around a `fork`: no
    /// other thread is then half-way through queuing or writing a batch,
    /// so the child's copy of the sink is whole and unlocked once released.
    pub(crate) fn hold_for_fork(&self) -> ForkHold<'_> {
        let io = lock(&self.io);
        let buf = lock(&self.buf);
        ForkHold { io, buf }
    }

    /// Queues one or more whole lines, and says whether the flusher has to
    /// be told (this file knows nothing of the flusher).
    #[inline]
    pub(crate) fn write(&self, line: &[u8]) -> Wake {
        let mut buf = lock(&self.buf);
        let before = buf.len();
        buf.extend_from_slice(line);
        let after = buf.len();
        drop(buf);
        if after >= HIGH_WATER_BYTES {
            // Backpressure: the logging thread writes itself.
            self.flush();
            Wake::No
        } else if before < BATCH_BYTES && after >= BATCH_BYTES {
            Wake::Now
        } else if before == 0 {
            Wake::Soon
        } else {
            Wake::No
        }
    }

    /// Writes every queued line.
    pub(crate) fn flush(&self) {
        self.flush_io(&mut lock(&self.io));
    }

    /// Like [`flush`](Self::flush), but gives up instead of waiting on a
    /// lock another thread holds (for exit and panic hooks).
    pub(crate) fn try_flush(&self) -> bool {
        match self.io.try_lock() {
            Ok(mut io) => {
                self.flush_io(&mut io);
                true
            }
            Err(std::sync::TryLockError::Poisoned(p)) => {
                self.flush_io(&mut p.into_inner());
                true
            }
            Err(std::sync::TryLockError::WouldBlock) => false,
        }
    }

    /// Why this sink writes to stderr instead of its file, if it does.
    pub(crate) fn fallback(&self) -> Option<String> {
        match &lock(&self.io).out {
            Output::Stderr(why) => Some(why.clone()),
            Output::File { .. } => None,
        }
    }

    /// Whether the path no longer names the file this sink holds open
    /// (moved by an external logrotate, or deleted). The sink follows on
    /// its next batch; this is for reports.
    pub(crate) fn is_stale(&self) -> bool {
        let io = lock(&self.io);
        let Output::File { file, .. } = &io.out else {
            return false;
        };
        !matches!(names_file(&self.path, file), Ok(true))
    }

    pub(crate) fn has_pending(&self) -> bool {
        !lock(&self.buf).is_empty()
    }

    /// Flushes, then opens the file and its lock file afresh (after a fork,
    /// an external logrotate, or to leave the stderr fallback).
    pub(crate) fn reopen(&self) -> io::Result<()> {
        let mut io = lock(&self.io);
        self.flush_io(&mut io);
        io.out = open_output(&self.path, &self.lock_path)?;
        io.pid = std::process::id();
        Ok(())
    }

    /// Takes what is pending and writes it; the buffer lock is held only
    /// for the swap, so loggers keep appending while the file is written.
    fn flush_io(&self, io: &mut Io) {
        let mut batch = std::mem::take(&mut io.spare);
        std::mem::swap(&mut *lock(&self.buf), &mut batch);
        if !batch.is_empty() {
            let mut rest = &batch[..];
            if let Err(e) = self.write_batch(io, &mut rest) {
                if !io.write_error_reported {
                    io.write_error_reported = true;
                    super::stderr::warn_stderr!(
                        "logwire: cannot write log file {}: {e}; writing its lines to stderr instead",
                        self.path.display()
                    );
                }
                // Nothing is lost: what could not be written goes to stderr.
                let _ = io::stderr().write_all(rest);
            }
        }
        batch.clear();
        if batch.capacity() > 2 * HIGH_WATER_BYTES {
            batch.shrink_to(BATCH_BYTES);
        }
        io.spare = batch;
    }

    /// Writes `rest` (whole lines) under the cross-process lock, rotating
    /// as needed. On error, `rest` holds what was not written.
    fn write_batch(&self, st: &mut Io, rest: &mut &[u8]) -> io::Result<()> {
        if std::process::id() != st.pid {
            // Forked: our lock file description is shared with the parent.
            st.out = open_output(&self.path, &self.lock_path)?;
            st.pid = std::process::id();
        }
        let Output::File { file, lock } = &mut st.out else {
            io::stderr().write_all(rest)?;
            *rest = &[];
            return Ok(());
        };
        // The guard borrows the lock file, which stays open for the whole
        // batch: only the log itself is reopened below.
        let _held = Flock::exclusive(lock)?;
        self.follow_rotation(file)?;
        end_last_line(file)?;
        while !rest.is_empty() {
            let size = file.metadata()?.len();
            let take = if self.max_bytes == 0 {
                rest.len()
            } else {
                match whole_lines_within(rest, self.max_bytes.saturating_sub(size)) {
                    0 if size == 0 => first_line_len(rest),
                    0 => {
                        self.rotate(file)?;
                        continue;
                    }
                    n => n,
                }
            };
            write_lines(file, rest, take, size)?;
        }
        Ok(())
    }

    /// Reopens the file when the path no longer names the file we hold.
    fn follow_rotation(&self, file: &mut File) -> io::Result<()> {
        if !names_file(&self.path, file)? {
            self.reopen_file(file)?;
        }
        Ok(())
    }

    fn reopen_file(&self, file: &mut File) -> io::Result<()> {
        *file = match open_log(&self.path) {
            // Someone removed the directory while we run: make it again.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if let Some(dir) = self.path.parent() {
                    create_dir(dir)?;
                }
                open_log(&self.path)?
            }
            r => r?,
        };
        Ok(())
    }

    /// `api.log` → `api.log.1` → … → `api.log.{backups}` (dropped after).
    /// Called with the lock held.
    fn rotate(&self, file: &mut File) -> io::Result<()> {
        if self.backups == 0 {
            ignore_missing(fs::remove_file(&self.path))?;
        } else {
            let top = if self.backups == UNLIMITED {
                (1..).find(|&i| !self.backup(i).exists()).unwrap_or(1)
            } else {
                ignore_missing(fs::remove_file(self.backup(self.backups)))?;
                self.backups
            };
            for i in (1..top).rev() {
                ignore_missing(fs::rename(self.backup(i), self.backup(i + 1)))?;
            }
            ignore_missing(fs::rename(&self.path, self.backup(1)))?;
        }
        self.reopen_file(file)
    }

    fn backup(&self, i: usize) -> PathBuf {
        let mut name = self.path.clone().into_os_string();
        name.push(format!(".{i}"));
        PathBuf::from(name)
    }
}

/// A sink held across a `fork`; see [`FileSink::hold_for_fork`].
pub(crate) struct ForkHold<'a> {
    io: MutexGuard<'a, Io>,
    buf: MutexGuard<'a, Vec<u8>>,
}

impl ForkHold<'_> {
    /// In the parent: lets the sink go on as before.
    pub(crate) fn release(self) {}

    /// In the child: forgets the parent's queued lines (the parent writes
    /// them) and lets the sink go. The child's first batch opens its own
    /// lock file. Frees nothing and allocates nothing.
    pub(crate) fn release_in_child(mut self) {
        self.buf.clear();
        self.io.spare.clear();
    }
}

/// Writes the first `len` bytes of `rest` (whole lines) to the end of
/// `file`, which is `size` bytes long, and advances `rest` past them. When
/// a `write` fails part-way (a full disk), `rest` is advanced past the
/// lines written whole only, and the part of the next line that did reach
/// the file is cut off again: no other writer appends while we hold the
/// lock, so the file ends with the last whole line, as if the cut line had
/// never been started.
fn write_lines(file: &mut File, rest: &mut &[u8], len: usize, size: u64) -> io::Result<()> {
    let mut written = 0;
    while written < len {
        let e = match file.write(&rest[written..len]) {
            Ok(0) => io::ErrorKind::WriteZero.into(),
            Ok(n) => {
                written += n;
                continue;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => e,
        };
        let whole = cut_short(rest, written);
        if whole < written {
            // If this fails too, the next batch still ends the fragment's line.
            let _ = file.set_len(size + whole as u64);
        }
        return Err(e);
    }
    *rest = &rest[len..];
    Ok(())
}

/// Advances `rest` past the lines of its first `written` bytes that reached
/// the file whole; returns how many bytes that is.
fn cut_short(rest: &mut &[u8], written: usize) -> usize {
    let whole = if rest.get(written) == Some(&b'\n') {
        // Only the terminator is missing: the line is in the file, and the
        // next batch ends it.
        written + 1
    } else {
        rest[..written].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1)
    };
    *rest = &rest[whole..];
    whole
}

/// Ends the file with `\n` when its last byte is something else (a line
/// cut short by a killed writer or a full disk).
fn end_last_line(file: &mut File) -> io::Result<()> {
    let size = file.metadata()?.len();
    if size == 0 {
        return Ok(());
    }
    let mut last = [0u8; 1];
    match file.read_exact_at(&mut last, size - 1) {
        Ok(()) if last[0] != b'\n' => file.write_all(b"\n"),
        // A file we may append to but not read: nothing to check with.
        Ok(()) | Err(_) => Ok(()),
    }
}

/// Whether `path` still names the file `file` holds open (same device and
/// inode); a missing path is `false`.
fn names_file(path: &Path, file: &File) -> io::Result<bool> {
    let ours = file.metadata()?;
    match fs::metadata(path) {
        Ok(m) => Ok(m.dev() == ours.dev() && m.ino() == ours.ino()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

fn ignore_missing(r: io::Result<()>) -> io::Result<()> {
    match r {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        r => r,
    }
}

/// The length of the longest prefix of `buf` made of whole lines and at
/// most `room` bytes long.
fn whole_lines_within(buf: &[u8], room: u64) -> usize {
    let room = usize::try_from(room).unwrap_or(usize::MAX);
    if buf.len() <= room {
        return buf.len();
    }
    buf[..room].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1)
}

fn first_line_len(buf: &[u8]) -> usize {
    buf.iter().position(|&b| b == b'\n').map_or(buf.len(), |i| i + 1)
}

/// Creates the directory (group-writable, setgid so files keep its group)
/// and opens the log and its lock file.
fn open_output(path: &Path, lock_path: &Path) -> io::Result<Output> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_dir(dir)?;
    }
    let file = open_log(path)?;
    let lock = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o660)
        .open(lock_path)?;
    Ok(Output::File { file, lock })
}

pub(crate) fn create_dir(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    DirBuilder::new().recursive(true).mode(0o2770).create(dir)?;
    // mkdir ignores the setgid bit; set it so new files keep the group.
    let mode = fs::metadata(dir)?.permissions().mode();
    if mode & 0o2000 == 0 {
        let _ = fs::set_permissions(dir, fs::Permissions::from_mode((mode & 0o7777) | 0o2000));
    }
    Ok(())
}

fn open_log(path: &Path) -> io::Result<File> {
    let open = |read| {
        OpenOptions::new()
            .read(read)
            .append(true)
            .create(true)
            .mode(0o660)
            .open(path)
    };
    // Read access lets the sink check the file's last byte; a file that is
    // write-only for us is still written.
    match open(true) {
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => open(false),
        r => r,
    }
}

fn fall_back(path: &Path, e: &io::Error) -> Output {
    super::stderr::warn_stderr!(
        "logwire: cannot open log file {}: {e}; logging to stderr instead",
        path.display()
    );
    Output::Stderr(e.to_string())
}

/// An exclusive `flock` (std's `File::lock`, the lock other processes of
/// this library and the `logwire` tool take), released on drop; it borrows
/// the lock file, so the file cannot be closed while the lock is held.
struct Flock<'f>(&'f File);

impl<'f> Flock<'f> {
    fn exclusive(lock: &'f File) -> io::Result<Self> {
        loop {
            match lock.lock() {
                Ok(()) => return Ok(Flock(lock)),
                // A signal while waiting for another process's rotation.
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

impl Drop for Flock<'_> {
    fn drop(&mut self) {
        // Closing the lock file would release it too; it stays open for the next batch.
        let _ = self.0.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_lines_fit_the_room() {
        assert_eq!(whole_lines_within(b"ab\ncd\n", 10), 6);
        assert_eq!(whole_lines_within(b"ab\ncd\n", 5), 3);
        assert_eq!(whole_lines_within(b"ab\ncd\n", 2), 0);
        assert_eq!(first_line_len(b"abc\nd\n"), 4);
    }
}
