//! Levels at run time: overrides in `{root}/.logwire-levels` that every
//! process with a file logger under that root applies within 2 seconds,
//! and that end by themselves.
//!
//! The `logwire level` command writes the file; so can an application (an
//! admin route, say) through [`set`] and [`clear`]. Each line is one
//! override, `NAME LEVEL UNTIL`:
//!
//! ```text
//! # logwire level overrides: NAME LEVEL UNTIL (UTC); NAME * is every logger
//! worker debug 2026-11-30T09:10:00.000Z
//! ```
//!
//! A logger uses the override of its own name, else the one for `*`, until
//! its time is up, then its own level again; each change is one INFO line
//! `LEVEL_CHANGED | from=info to=debug until=2026-11-30T09:10:00.000Z`
//! (going back, `until` is when the override ended). It applies to the
//! logger's own lines and to the library events written through it. A file
//! that cannot be read or parsed changes nothing and gives one warning on
//! stderr. Nothing outlives 24 hours.
//!
//! ```
//! use std::time::Duration;
//! use logwire::levels;
//! use logwire::LevelFilter;
//!
//! let root = tempfile::tempdir()?;
//! levels::set(root.path(), &[("worker", LevelFilter::DEBUG)], Duration::from_secs(600))?;
//! let now = levels::read(root.path())?;
//! assert_eq!((now[0].logger.as_str(), now[0].level), ("worker", LevelFilter::DEBUG));
//! levels::clear(root.path(), Some("worker"))?;
//! assert!(levels::read(root.path())?.is_empty());
//! # Ok::<(), std::io::Error>(())
//! ```

use std::fmt::Write as _;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nix::fcntl::{Flock, FlockArg};
use tracing_core::LevelFilter;

use crate::format::time;

/// The file's name in a log root.
pub const FILE_NAME: &str = ".logwire-levels";

/// How long an override lasts when not told (`logwire level set` without `--for`).
pub const DEFAULT_DURATION: Duration = Duration::from_secs(15 * 60);

/// The longest an override may last: a DEBUG level left on by mistake ends
/// within a day.
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 3600);

/// One override: the loggers called `logger` (`*`: all) log at `level`
/// until `until`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    /// A logger's name, or `*` for every logger.
    pub logger: String,
    /// The level in force meanwhile.
    pub level: LevelFilter,
    /// When it ends.
    pub until: SystemTime,
}

/// The path of the overrides file of `root`.
pub fn path(root: &Path) -> PathBuf {
    root.join(FILE_NAME)
}

/// The overrides in `root`'s file that have not ended, in the file's order;
/// none when there is no file.
///
/// # Errors
///
/// The file cannot be read, or a line is not `NAME LEVEL UNTIL`
/// ([`io::ErrorKind::InvalidData`], saying which line and why).
pub fn read(root: &Path) -> io::Result<Vec<Override>> {
    let text = match fs::read_to_string(path(root)) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let now = SystemTime::now();
    Ok(parse(&text)?.into_iter().filter(|o| o.until > now).collect())
}

/// Sets `levels` (logger name or `*`, level) for `duration` from now,
/// replacing earlier overrides of those names and dropping ended ones;
/// returns the overrides in force afterwards.
///
/// # Errors
///
/// [`io::ErrorKind::InvalidInput`] for a zero duration or one over
/// [`MAX_DURATION`], or a name that is empty or holds whitespace; the file
/// cannot be read, parsed or written.
pub fn set(root: &Path, levels: &[(&str, LevelFilter)], duration: Duration) -> io::Result<Vec<Override>> {
    if duration.is_zero() || duration > MAX_DURATION {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("an override lasts from 1 s to 24 h, not {} s", duration.as_secs()),
        ));
    }
    for (name, _) in levels {
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{name:?} is not a logger name"),
            ));
        }
    }
    let until = SystemTime::now() + duration;
    update(root, |entries| {
        entries.retain(|o| !levels.iter().any(|(n, _)| *n == o.logger));
        entries.extend(levels.iter().map(|(n, level)| Override {
            logger: (*n).to_owned(),
            level: *level,
            until,
        }));
    })
}

/// Ends the override of `logger` (all of them when `None`) now; returns the
/// overrides in force afterwards. Clearing all rewrites the file without
/// reading it: the way out of a file that cannot be parsed.
///
/// # Errors
///
/// The file cannot be written, or (for one logger) read or parsed.
pub fn clear(root: &Path, logger: Option<&str>) -> io::Result<Vec<Override>> {
    match logger {
        Some(name) => update(root, |entries| entries.retain(|o| o.logger != name)),
        None => replace(root, |_| Ok(Vec::new())),
    }
}

/// Reads, changes and writes the file; see [`replace`].
fn update(root: &Path, change: impl FnOnce(&mut Vec<Override>)) -> io::Result<Vec<Override>> {
    replace(root, |root| {
        let mut entries = read(root)
            .map_err(|e| io::Error::new(e.kind(), format!("{e} (`logwire level clear` replaces the file)")))?;
        change(&mut entries);
        Ok(entries)
    })
}

/// Writes the overrides `make` returns, under an exclusive `flock` on
/// `.logwire-levels.lock` so that two writers never lose each other's
/// change; the new file replaces the old by `rename`, so a reader sees one
/// or the other, whole.
fn replace(root: &Path, make: impl FnOnce(&Path) -> io::Result<Vec<Override>>) -> io::Result<Vec<Override>> {
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o660)
        .open(root.join(".logwire-levels.lock"))?;
    let _held = Flock::lock(lock, FlockArg::LockExclusive).map_err(|(_, e)| io::Error::from(e))?;
    let entries = make(root)?;
    let tmp = root.join(format!("{FILE_NAME}.{}.tmp", std::process::id()));
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .mode(0o660)
        .open(&tmp)?;
    file.write_all(render(&entries).as_bytes())?;
    file.sync_all()?;
    fs::rename(&tmp, path(root))?;
    Ok(entries)
}

fn render(entries: &[Override]) -> String {
    let mut out = String::from("# logwire level overrides: NAME LEVEL UNTIL (UTC); NAME * is every logger\n");
    for o in entries {
        // LevelFilter displays as the file writes it: `debug`, `info`, … `off`.
        let _ = writeln!(out, "{} {} {}", o.logger, o.level, time::iso(o.until));
    }
    out
}

/// `trace`, `debug`, `info`, `warn` (or `warning`), `error`, `off`, any case.
pub(crate) fn parse_level(value: &str) -> Option<LevelFilter> {
    Some(match value.trim().to_ascii_lowercase().as_str() {
        "trace" => LevelFilter::TRACE,
        "debug" => LevelFilter::DEBUG,
        "info" => LevelFilter::INFO,
        "warn" | "warning" => LevelFilter::WARN,
        "error" => LevelFilter::ERROR,
        "off" => LevelFilter::OFF,
        _ => return None,
    })
}

/// The overrides in a file's text, ended ones included.
pub(crate) fn parse(text: &str) -> io::Result<Vec<Override>> {
    let bad = |n: usize, why: String| io::Error::new(io::ErrorKind::InvalidData, format!("line {}: {why}", n + 1));
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let [logger, level, until] = words[..] else {
            return Err(bad(n, format!("{line:?} is not NAME LEVEL UNTIL")));
        };
        let level = parse_level(level).ok_or_else(|| bad(n, format!("{level:?} is not a level")))?;
        let until = time::parse_millis(until)
            .and_then(|ms| u64::try_from(ms).ok())
            .map(|ms| UNIX_EPOCH + Duration::from_millis(ms))
            .ok_or_else(|| bad(n, format!("{until:?} is not a UTC time (2026-01-01T12:00:00Z)")))?;
        out.push(Override {
            logger: logger.to_owned(),
            level,
            until,
        });
    }
    Ok(out)
}

/// What the watcher (in `process`) changes: a logger (all clones share one).
pub(crate) trait Target: Send + Sync {
    /// The logger's name.
    fn name(&self) -> &str;
    /// The most verbose level it writes or keeps now.
    #[cfg(feature = "init")]
    fn level(&self) -> LevelFilter;
    /// Puts `to` in force (`None`: the logger's own level); says whether
    /// anything changed.
    fn apply(&self, to: Option<&Override>) -> bool;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_reads_back_what_was_written() {
        let until = UNIX_EPOCH + Duration::from_millis(4_102_444_800_000);
        let entries = vec![
            Override {
                logger: "worker".into(),
                level: LevelFilter::DEBUG,
                until,
            },
            Override {
                logger: "*".into(),
                level: LevelFilter::WARN,
                until,
            },
        ];
        let text = render(&entries);
        assert!(text.ends_with("worker debug 2100-01-01T00:00:00.000Z\n* warn 2100-01-01T00:00:00.000Z\n"));
        assert_eq!(parse(&text).unwrap(), entries);
    }

    #[test]
    fn a_broken_line_is_named() {
        let e = parse("# c\nworker loud 2100-01-01T00:00:00Z\n").unwrap_err();
        assert_eq!(e.to_string(), "line 2: \"loud\" is not a level");
        let e = parse("worker debug\n").unwrap_err();
        assert_eq!(e.to_string(), "line 1: \"worker debug\" is not NAME LEVEL UNTIL");
        let e = parse("worker debug tomorrow\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 1: \"tomorrow\" is not a UTC time (2026-01-01T12:00:00Z)"
        );
    }

    #[test]
    fn set_refuses_what_would_outlive_a_day() {
        let dir = tempfile::tempdir().unwrap();
        let e = set(dir.path(), &[("w", LevelFilter::DEBUG)], Duration::from_secs(25 * 3600)).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(e.to_string(), "an override lasts from 1 s to 24 h, not 90000 s");
        assert!(set(dir.path(), &[("a b", LevelFilter::DEBUG)], DEFAULT_DURATION).is_err());
    }
}
