//! The log files of a root: `NAME.log` and its backups `NAME.log.1` …
//! `NAME.log.N`, opened so that a rotation while they are opened loses none.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use nix::fcntl::{Flock, FlockArg};

use crate::error::Error;

/// One opened log file.
#[derive(Debug)]
pub(crate) struct LogFile {
    /// The file's name in the root (`api.log.3`), as printed.
    pub(crate) name: String,
    /// The logger that writes it (`api`).
    pub(crate) logger: String,
    /// 0 for the file being written, N for the backup `.N`.
    pub(crate) index: u32,
    pub(crate) path: PathBuf,
    pub(crate) file: File,
    pub(crate) modified: SystemTime,
}

/// `(logger, index)` of a file name that is a logger's file or backup.
pub(crate) fn parse_name(name: &str) -> Option<(&str, u32)> {
    if let Some(logger) = name.strip_suffix(".log") {
        return (!logger.is_empty()).then_some((logger, 0));
    }
    let (stem, n) = name.rsplit_once('.')?;
    let logger = stem.strip_suffix(".log")?;
    if n.starts_with('0') || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let index = n.parse().ok()?;
    (!logger.is_empty()).then_some((logger, index))
}

/// Every log file in `root` of the loggers in `names` (all when empty),
/// opened, each logger's oldest backup first.
///
/// Each logger's files are listed and opened under a shared `flock` on its
/// sidecar lock file (`.api.log.lock`), which its writers hold exclusively
/// while they rotate: the names cannot move between listing and opening,
/// and once opened a file is read whole whatever it is renamed to. Where
/// the lock file cannot be opened (another user's directory), the files are
/// opened newest first and kept once each, so a rotation meanwhile can only
/// hide a backup that it would have deleted anyway. A `*.log` file that is
/// not a logwire log is skipped with a warning.
///
/// # Errors
///
/// The root missing or unreadable, or a log file that cannot be opened.
pub(crate) fn discover(root: &Path, names: &[String]) -> Result<Vec<LogFile>, Error> {
    let mut loggers: Vec<String> = list(root, names)?.into_iter().map(|(logger, _, _)| logger).collect();
    loggers.sort();
    loggers.dedup();
    let mut seen = HashSet::new();
    let mut files = Vec::new();
    for logger in loggers {
        let _rotation_held = File::open(root.join(format!(".{logger}.log.lock")))
            .ok()
            .and_then(|f| Flock::lock(f, FlockArg::LockShared).ok());
        let mut found = list(root, std::slice::from_ref(&logger))?;
        // Newest first, so a rotation meanwhile shows a file twice rather than never.
        found.sort_by_key(|(_, _, index)| *index);
        for (logger, name, index) in found {
            if let Some(file) = open(root, logger, name, index, &mut seen)? {
                files.push(file);
            }
        }
    }
    files.sort_by(|a, b| a.logger.cmp(&b.logger).then(b.index.cmp(&a.index)));
    Ok(files)
}

/// `(logger, file name, index)` of the log files in `root` of the loggers
/// in `names` (all when empty).
fn list(root: &Path, names: &[String]) -> Result<Vec<(String, String, u32)>, Error> {
    let unreadable = |e: io::Error| match e.kind() {
        io::ErrorKind::NotFound => Error::usage(format!("no such directory: {}", root.display())),
        _ => Error::usage(format!("cannot read {}: {}", root.display(), crate::error::reason(&e))),
    };
    let mut found = Vec::new();
    for entry in fs::read_dir(root).map_err(unreadable)? {
        let entry = entry.map_err(unreadable)?;
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let Some((logger, index)) = parse_name(&name) else {
            continue;
        };
        if !names.is_empty() && !names.iter().any(|n| n == logger) {
            continue;
        }
        // A symbolic link to a log file counts; a directory does not.
        if fs::metadata(entry.path()).map(|m| m.is_file()).unwrap_or(false) {
            found.push((logger.to_owned(), name, index));
        }
    }
    Ok(found)
}

/// Opens one listed file; `None` when it is gone, already open under
/// another name, or not a logwire log.
fn open(
    root: &Path,
    logger: String,
    name: String,
    index: u32,
    seen: &mut HashSet<(u64, u64)>,
) -> Result<Option<LogFile>, Error> {
    let path = root.join(&name);
    let cannot = |e: io::Error| Error::usage(format!("cannot read {}: {}", path.display(), crate::error::reason(&e)));
    let file = match File::open(&path) {
        Ok(f) => f,
        // Rotated away (the oldest backup deleted) between listing and opening.
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(cannot(e)),
    };
    let meta = file.metadata().map_err(cannot)?;
    if !seen.insert((meta.dev(), meta.ino())) {
        return Ok(None);
    }
    let mut lf = LogFile {
        name,
        logger,
        index,
        file,
        modified: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
        path,
    };
    if let Err(why) = looks_like_a_log(&mut lf.file) {
        crate::error::warn(&format!("skipping {}: not a logwire log ({why})", lf.path.display()));
        return Ok(None);
    }
    Ok(Some(lf))
}

/// Whether one of the first lines of `file` is one of logwire's (another
/// formatter's lines may share the file, see `logwire::file_writer`).
/// Leaves the file at its start.
pub(crate) fn looks_like_a_log(file: &mut File) -> Result<(), String> {
    use std::io::Seek;
    let mut head = Vec::with_capacity(64 * 1024);
    let read = file.by_ref().take(64 * 1024).read_to_end(&mut head);
    file.rewind().map_err(|e| e.to_string())?;
    read.map_err(|e| crate::error::reason(&e))?;
    if head.is_empty() {
        return Ok(());
    }
    let text = String::from_utf8_lossy(&head);
    let mut lines = text.lines().take(20).peekable();
    let first = lines
        .peek()
        .map(|l| l.chars().take(60).collect::<String>())
        .unwrap_or_default();
    if lines.any(|l| logwire::read::parse_line(l).is_ok()) {
        Ok(())
    } else {
        Err(format!("first line: {first:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::parse_name;

    #[test]
    fn names_of_files_and_backups() {
        assert_eq!(parse_name("api.log"), Some(("api", 0)));
        assert_eq!(parse_name("api.log.10"), Some(("api", 10)));
        assert_eq!(parse_name("start_services.log.1"), Some(("start_services", 1)));
        for other in [
            ".log",
            "api.log.0",
            "api.log.01",
            "api.log.x",
            "api.txt",
            ".logwire-levels",
            "api.log.1.gz",
        ] {
            assert_eq!(parse_name(other), None, "{other}");
        }
    }
}
