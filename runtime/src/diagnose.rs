//! A report of everything that decides whether logs reach their files, with
//! the command that fixes each problem found: [`diagnose()`] for this
//! process's log root, [`Diagnosis::for_directory`] for another directory.
//!
//! ```no_run
//! let report = logwire::diagnose();
//! println!("{report}");
//! std::process::exit(if report.has_problems() { 1 } else { 0 });
//! ```

use std::fmt;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::sink::registry::open_sinks;

/// Who owns a file or directory, and its mode.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Ownership {
    /// Owner's name (the numeric id when it has no name).
    pub user: String,
    /// Owner's id.
    pub uid: u32,
    /// Group's name (the numeric id when it has no name).
    pub group: String,
    /// Group's id.
    pub gid: u32,
    /// Permission bits, including setuid/setgid/sticky (`0o2770`).
    pub mode: u32,
}

impl Ownership {
    fn of(meta: &fs::Metadata, names: &Names) -> Ownership {
        Ownership {
            user: names.user(meta.uid()),
            uid: meta.uid(),
            group: names.group(meta.gid()),
            gid: meta.gid(),
            mode: meta.permissions().mode() & 0o7777,
        }
    }

    /// Whether the setgid bit is set (on a directory: new files keep its group).
    pub fn setgid(&self) -> bool {
        self.mode & 0o2000 != 0
    }

    /// Whether the group may write.
    pub fn group_writable(&self) -> bool {
        self.mode & 0o020 != 0
    }

    /// `rwxrws---`-style text of the mode.
    pub fn rwx(&self) -> String {
        let m = self.mode;
        let bit = |mask: u32, c: char| if m & mask != 0 { c } else { '-' };
        let exec = |x: u32, special: u32, set: char, unset: char| match (m & x != 0, m & special != 0) {
            (true, true) => set,
            (false, true) => unset,
            (true, false) => 'x',
            (false, false) => '-',
        };
        [
            bit(0o400, 'r'),
            bit(0o200, 'w'),
            exec(0o100, 0o4000, 's', 'S'),
            bit(0o040, 'r'),
            bit(0o020, 'w'),
            exec(0o010, 0o2000, 's', 'S'),
            bit(0o004, 'r'),
            bit(0o002, 'w'),
            exec(0o001, 0o1000, 't', 'T'),
        ]
        .iter()
        .collect()
    }
}

/// One `*.log*` file in the log directory.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogFile {
    /// The file.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// Owner, group and mode.
    pub ownership: Ownership,
}

/// A file logger of this process.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoggerState {
    /// The file it should write.
    pub path: PathBuf,
    /// The OS error that made it write to stderr instead, if it did.
    pub fell_back: Option<String>,
    /// The path no longer names the file it holds open (moved or deleted).
    pub stale: bool,
}

/// One problem found, and the command that fixes it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Problem {
    /// What is wrong.
    pub summary: String,
    /// What to run or change.
    pub fix: String,
}

/// Which file loggers of the process a report lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Loggers {
    All,
    InDirectory,
}

/// What [`diagnose`] found. `Display` prints the whole report.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Diagnosis {
    /// `LOG_ROOT` as set (lossily, `U+FFFD` for bytes that are not UTF-8),
    /// or `None` when unset or empty.
    pub log_root_env: Option<String>,
    /// The directory loggers write to.
    pub directory: PathBuf,
    /// Whether it exists.
    pub exists: bool,
    /// Whether it is a directory.
    pub is_dir: bool,
    /// `Ok` when a probe file could be created and removed in it, else the
    /// OS error. Tried, not guessed from mode bits (root writes anywhere).
    pub writable: Result<(), String>,
    /// Owner, group and mode of the directory, when it exists.
    pub ownership: Option<Ownership>,
    /// The user this process runs as.
    pub running_as: String,
    /// Every `*.log*` file in the directory.
    pub files: Vec<LogFile>,
    /// Every file logger of this process.
    pub loggers: Vec<LoggerState>,
    /// The run-time level overrides in force in the directory (see
    /// [`levels`](crate::levels)), or why its file cannot be read.
    pub level_overrides: Result<Vec<crate::levels::Override>, String>,
    /// Everything that stops or will stop lines reaching their files.
    pub problems: Vec<Problem>,
    /// Things worth knowing that are not problems (such as a directory
    /// only its owner can write: fine for one user, not for two services).
    pub notes: Vec<String>,
}

/// Diagnoses [`log_root`](crate::log_root) and the file loggers of this
/// process.
pub fn diagnose() -> Diagnosis {
    Diagnosis::build(log_root_env(), crate::log_root(), Loggers::All)
}

/// `LOG_ROOT` when set and non-empty: a path that is not UTF-8 is still a
/// path loggers use, so it is shown lossily, never as unset.
fn log_root_env() -> Option<String> {
    std::env::var_os("LOG_ROOT")
        .filter(|v| !v.is_empty())
        .map(|v| v.to_string_lossy().into_owned())
}

impl Diagnosis {
    /// Diagnoses `dir` as if it were the log directory, with only the file
    /// loggers of this process that write in it (`LOG_ROOT` is still
    /// reported as set).
    pub fn for_directory(dir: impl Into<PathBuf>) -> Diagnosis {
        Diagnosis::build(log_root_env(), dir.into(), Loggers::InDirectory)
    }

    /// Whether any problem was found.
    pub fn has_problems(&self) -> bool {
        !self.problems.is_empty()
    }

    fn build(log_root_env: Option<String>, directory: PathBuf, scope: Loggers) -> Diagnosis {
        let names = Names::load();
        let running_as = names.user(nix::unistd::geteuid().as_raw());
        let meta = fs::metadata(&directory).ok();
        let exists = meta.is_some() || fs::symlink_metadata(&directory).is_ok();
        let is_dir = meta.as_ref().is_some_and(fs::Metadata::is_dir);
        let ownership = meta.as_ref().map(|m| Ownership::of(m, &names));
        let writable = if is_dir {
            probe(&directory)
        } else {
            Err("not a directory".to_owned())
        };
        let files = if is_dir {
            log_files(&directory, &names)
        } else {
            Vec::new()
        };
        let loggers = open_sinks()
            .iter()
            .filter(|s| scope == Loggers::All || s.path().starts_with(&directory))
            .map(|s| LoggerState {
                path: s.path().to_path_buf(),
                fell_back: s.fallback(),
                stale: s.is_stale(),
            })
            .collect();
        // No directory, no overrides (its absence is reported already).
        let level_overrides = if is_dir {
            crate::levels::read(&directory).map_err(|e| e.to_string())
        } else {
            Ok(Vec::new())
        };
        let mut d = Diagnosis {
            level_overrides,
            log_root_env,
            directory,
            exists,
            is_dir,
            writable,
            ownership,
            running_as,
            files,
            loggers,
            problems: Vec::new(),
            notes: Vec::new(),
        };
        d.problems = d.find_problems();
        d.notes = d.find_notes();
        d
    }

    fn find_notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if let Some(o) = self.ownership.as_ref().filter(|o| self.is_dir && !o.group_writable()) {
            notes.push(format!(
                "{} is writable by its owner only ({}): fine for one user; for an API and a worker running as two users of one group: sudo chmod 2770 {} (and UMask=0002 in the systemd units)",
                self.directory.display(),
                o.rwx(),
                self.directory.display()
            ));
        }
        notes
    }

    /// Every rule, one function each (as serde's `check.rs` does), in the
    /// order the report lists them.
    fn find_problems(&self) -> Vec<Problem> {
        let rules: [fn(&Diagnosis, &mut Vec<Problem>); 5] = [
            Diagnosis::directory_usable,
            Diagnosis::shared_directory_setgid,
            Diagnosis::shared_files_group_writable,
            Diagnosis::loggers_write_their_files,
            Diagnosis::level_overrides_readable,
        ];
        let mut problems = Vec::new();
        for rule in rules {
            rule(self, &mut problems);
        }
        problems
    }

    /// A `.logwire-levels` file that no process can apply.
    fn level_overrides_readable(&self, problems: &mut Vec<Problem>) {
        if let Err(e) = &self.level_overrides {
            problems.push(Problem {
                summary: format!(
                    "{} cannot be applied ({e}): every process keeps its levels",
                    crate::levels::path(&self.directory).display()
                ),
                fix: format!(
                    "logwire level clear --root {}   (rewrites the file)",
                    self.directory.display()
                ),
            });
        }
    }

    /// A directory that is missing and cannot be created, is not a
    /// directory, or cannot be written.
    fn directory_usable(&self, problems: &mut Vec<Problem>) {
        let dir = self.directory.display();
        let user = &self.running_as;
        let group = self.ownership.as_ref().map_or("GROUP", |o| o.group.as_str());
        if !self.exists {
            if let Err(e) = creatable(&self.directory) {
                problems.push(Problem {
                    summary: format!("{dir} does not exist and cannot be created: {e}"),
                    fix: format!(
                        "sudo mkdir -p {dir} && sudo chown {user}:GROUP {dir} && sudo chmod 2770 {dir}   (or set LOG_ROOT to a directory this user can write)"
                    ),
                });
            }
        } else if !self.is_dir {
            problems.push(Problem {
                summary: format!("{dir} is not a directory, so every file logger falls back to stderr"),
                fix: "set LOG_ROOT to a directory (as the systemd units do), or move the file out of the way"
                    .to_owned(),
            });
        } else if let Err(e) = &self.writable {
            problems.push(Problem {
                summary: format!("permission denied writing {dir} as {user}: {e}"),
                fix: format!(
                    "sudo chown {}:{group} {dir} && sudo chmod 2770 {dir}   (and add {user} to group {group})",
                    self.ownership.as_ref().map_or("OWNER", |o| o.user.as_str())
                ),
            });
        }
    }

    /// Whether the directory is shared: its group may write it. One only its
    /// owner writes (a developer's checkout under a 022 umask) needs neither
    /// setgid nor group-writable files.
    fn shared(&self) -> bool {
        self.ownership.as_ref().is_some_and(Ownership::group_writable)
    }

    /// A shared directory without setgid: others' files lose the group.
    fn shared_directory_setgid(&self, problems: &mut Vec<Problem>) {
        let Some(o) = self.ownership.as_ref().filter(|_| self.shared() && self.is_dir) else {
            return;
        };
        if !o.setgid() {
            let dir = self.directory.display();
            problems.push(Problem {
                summary: format!(
                    "{dir} is not setgid: files other users create will not keep group {}",
                    o.group
                ),
                fix: format!("sudo chmod g+s {dir}"),
            });
        }
    }

    /// A file of a shared directory that its group cannot write.
    fn shared_files_group_writable(&self, problems: &mut Vec<Problem>) {
        if !self.shared() {
            return;
        }
        for f in self.files.iter().filter(|f| !f.ownership.group_writable()) {
            problems.push(Problem {
                summary: format!(
                    "{} is not group-writable ({}): another service user of group {} cannot write or rotate it",
                    f.path.display(),
                    f.ownership.rwx(),
                    f.ownership.group
                ),
                fix: format!(
                    "sudo chmod g+rw {}   (and set UMask=0002 in the systemd units)",
                    f.path.display()
                ),
            });
        }
    }

    /// A logger of this process writing to stderr, or holding a moved file.
    fn loggers_write_their_files(&self, problems: &mut Vec<Problem>) {
        for l in &self.loggers {
            if let Some(e) = &l.fell_back {
                problems.push(Problem {
                    summary: format!(
                        "logs are going to stderr instead of {}: {e}{}",
                        l.path.display(),
                        if self.log_root_env.is_none() { " (LOG_ROOT is not set)" } else { "" }
                    ),
                    fix: "set LOG_ROOT to a directory this user can write (see the fixes above), then restart or call Logger::reopen()".to_owned(),
                });
            }
            if l.stale {
                problems.push(Problem {
                    summary: format!(
                        "{} was moved or deleted while open (external logrotate, or a fork without reopen)",
                        l.path.display()
                    ),
                    fix: "logwire follows on its next line; for logrotate, use logwire::reopen_on_sighup() and `postrotate kill -HUP <pid>`, and do not also rotate with max_bytes".to_owned(),
                });
            }
        }
    }
}

/// Creates and removes a probe file in `dir`.
fn probe(dir: &Path) -> Result<(), String> {
    let path = dir.join(format!(".logwire-probe-{}", std::process::id()));
    fs::File::create(&path).map_err(|e| e.to_string())?;
    fs::remove_file(&path).map_err(|e| e.to_string())
}

/// Whether the nearest existing ancestor of `dir` is a writable directory,
/// so a logger could create `dir`.
fn creatable(dir: &Path) -> Result<(), String> {
    match dir.ancestors().skip(1).find(|a| fs::symlink_metadata(a).is_ok()) {
        Some(a) if a.is_dir() => probe(a),
        Some(a) => Err(format!("{} is not a directory", a.display())),
        None => Err("no existing parent".to_owned()),
    }
}

fn log_files(dir: &Path, names: &Names) -> Vec<LogFile> {
    let mut files: Vec<LogFile> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            !name.starts_with('.') && (name.ends_with(".log") || name.contains(".log."))
        })
        .filter_map(|e| {
            let meta = e.metadata().ok()?;
            meta.is_file().then(|| LogFile {
                path: e.path(),
                size: meta.len(),
                ownership: Ownership::of(&meta, names),
            })
        })
        .collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

/// User and group names through the C library (`getpwuid_r`,
/// `getgrgid_r`), so that NSS sources count too (LDAP, sssd, systemd's
/// DynamicUser), not only /etc/passwd; the number when there is no name.
struct Names;

impl Names {
    fn load() -> Names {
        Names
    }

    fn user(&self, uid: u32) -> String {
        match nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)) {
            Ok(Some(user)) => user.name,
            _ => uid.to_string(),
        }
    }

    fn group(&self, gid: u32) -> String {
        match nix::unistd::Group::from_gid(nix::unistd::Gid::from_raw(gid)) {
            Ok(Some(group)) => group.name,
            _ => gid.to_string(),
        }
    }
}

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

impl fmt::Display for Diagnosis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "logwire diagnose (running as {})", self.running_as)?;
        self.fmt_directory(f)?;
        self.fmt_files(f)?;
        self.fmt_loggers(f)?;
        self.fmt_levels(f)?;
        for note in &self.notes {
            writeln!(f, "note: {note}")?;
        }
        self.fmt_problems(f)
    }
}

/// The sections of the report, in its order.
impl Diagnosis {
    fn fmt_directory(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.log_root_env {
            Some(v) => writeln!(f, "LOG_ROOT: {v}")?,
            None => writeln!(f, "LOG_ROOT: not set; using {}", self.directory.display())?,
        }
        writeln!(f, "directory: {}", self.directory.display())?;
        let writable = match &self.writable {
            Ok(()) => "yes (a probe file was created and removed)".to_owned(),
            Err(e) => format!("no ({e})"),
        };
        writeln!(
            f,
            "  exists: {}, directory: {}, writable: {writable}",
            yes(self.exists),
            yes(self.is_dir)
        )?;
        if let Some(o) = &self.ownership {
            writeln!(
                f,
                "  owner: {} ({}), group: {} ({}), mode: {:04o} ({}), setgid: {}",
                o.user,
                o.uid,
                o.group,
                o.gid,
                o.mode,
                o.rwx(),
                yes(o.setgid())
            )?;
        }
        Ok(())
    }

    fn fmt_files(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.files.is_empty() {
            return writeln!(f, "log files: none");
        }
        writeln!(f, "log files:")?;
        for file in &self.files {
            let o = &file.ownership;
            writeln!(
                f,
                "  {}  {} bytes  {}:{}  {:04o} ({})  group-writable: {}",
                file.path.file_name().unwrap_or_default().to_string_lossy(),
                file.size,
                o.user,
                o.group,
                o.mode,
                o.rwx(),
                yes(o.group_writable())
            )?;
        }
        Ok(())
    }

    fn fmt_loggers(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.loggers.is_empty() {
            return writeln!(f, "file loggers in this process: none");
        }
        writeln!(f, "file loggers in this process:")?;
        for l in &self.loggers {
            let state = match (&l.fell_back, l.stale) {
                (Some(e), _) => format!("FELL BACK to stderr: {e}"),
                (None, true) => "writing, but the path was moved or deleted".to_owned(),
                (None, false) => "writing".to_owned(),
            };
            writeln!(f, "  {}: {state}", l.path.display())?;
        }
        Ok(())
    }

    fn fmt_levels(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.level_overrides {
            Ok(o) if o.is_empty() => writeln!(f, "level overrides: none"),
            Ok(overrides) => {
                writeln!(f, "level overrides (logwire level):")?;
                for o in overrides {
                    let until = crate::format::time::iso(o.until);
                    writeln!(f, "  {}={} until {until}", o.logger, o.level)?;
                }
                Ok(())
            }
            Err(e) => writeln!(f, "level overrides: cannot be read ({e})"),
        }
    }

    /// The last section: no newline after it.
    fn fmt_problems(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.problems.is_empty() {
            return write!(f, "problems: none");
        }
        writeln!(f, "problems: {}", self.problems.len())?;
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            writeln!(f, "  {}. {}", i + 1, p.summary)?;
            write!(f, "     fix: {}", p.fix)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rwx_text() {
        let o = |mode| Ownership {
            user: "u".into(),
            uid: 0,
            group: "g".into(),
            gid: 0,
            mode,
        };
        assert_eq!(o(0o2770).rwx(), "rwxrws---");
        assert_eq!(o(0o660).rwx(), "rw-rw----");
        assert_eq!(o(0o2660).rwx(), "rw-rwS---");
        assert_eq!(o(0o1777).rwx(), "rwxrwxrwt");
    }
}
