//! `logwire level`: the run-time level overrides of a root, through
//! `logwire::levels` (the file's one grammar).

use std::path::Path;
use std::time::{Duration, SystemTime};

use logwire::levels::{self, Override};
use logwire::read::Time;
use logwire::LevelFilter;

use crate::error::{self, Error};

/// `NAME=LEVEL` pairs as given.
pub(crate) type Pairs = Vec<(String, LevelFilter)>;

/// `worker=debug,api=info`, `*=debug`.
pub(crate) fn parse_pairs(s: &str) -> Result<Pairs, String> {
    s.split(',')
        .map(|pair| {
            let (name, level) = pair
                .split_once('=')
                .ok_or_else(|| format!("{pair:?} is not NAME=LEVEL (worker=debug)"))?;
            let level = level
                .parse::<LevelFilter>()
                .map_err(|_| format!("{level:?} is not a level (trace, debug, info, warn, error, off)"))?;
            if name.is_empty() || name.contains(char::is_whitespace) {
                return Err(format!("{name:?} is not a logger name"));
            }
            Ok((name.to_owned(), level))
        })
        .collect()
}

/// `10m`, `90s`, `2h` (humantime's syntax), at most 24 hours.
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s).map_err(|e| format!("{s:?} is not a duration (10m, 90s, 2h): {e}"))?;
    if d.is_zero() || d > levels::MAX_DURATION {
        return Err(format!("{s} is not between 1s and 24h: an override must end by itself"));
    }
    Ok(d)
}

fn io(root: &Path, e: std::io::Error) -> Error {
    Error::usage(format!("{}: {}", levels::path(root).display(), error::reason(&e)))
}

fn show(overrides: &[Override]) -> Result<(), Error> {
    let now = SystemTime::now();
    for o in overrides {
        let left = o.until.duration_since(now).unwrap_or_default();
        let left = humantime::format_duration(Duration::from_secs(left.as_secs()));
        println!("{}={} until {} ({left} left)", o.logger, o.level, Time::from(o.until));
    }
    Ok(())
}

/// What is in force; exit 1 when nothing is.
pub(crate) fn list(root: &Path) -> Result<(), Error> {
    if !root.is_dir() {
        return Err(Error::usage(format!("no such directory: {}", root.display())));
    }
    let overrides = levels::read(root).map_err(|e| io(root, e))?;
    if overrides.is_empty() {
        return Err(Error::nothing(format!(
            "no level overrides in force in {}",
            root.display()
        )));
    }
    show(&overrides)
}

/// Sets the pairs for `duration` (default 15 minutes); prints what is in force.
pub(crate) fn set(root: &Path, pairs: &Pairs, duration: Option<Duration>) -> Result<(), Error> {
    if !root.is_dir() {
        return Err(Error::usage(format!("no such directory: {}", root.display())));
    }
    let pairs: Vec<(&str, LevelFilter)> = pairs.iter().map(|(n, l)| (n.as_str(), *l)).collect();
    let overrides = levels::set(root, &pairs, duration.unwrap_or(levels::DEFAULT_DURATION)).map_err(|e| io(root, e))?;
    show(&overrides)
}

/// Ends one override or all; prints what is still in force.
pub(crate) fn clear(root: &Path, name: Option<&str>) -> Result<(), Error> {
    if !root.is_dir() {
        return Err(Error::usage(format!("no such directory: {}", root.display())));
    }
    let overrides = levels::clear(root, name).map_err(|e| io(root, e))?;
    show(&overrides)
}
