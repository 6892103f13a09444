//! `logwire`: reads and steers what logwire writes.
//!
//! ```text
//! logwire trace a1b0d5ae-…           one request and everything it caused
//! logwire tail -f                    every process's log, merged, as it grows
//! logwire tail --level warn --since 1h api worker
//! logwire level set worker=debug --for 10m   DEBUG for ten minutes, no restart
//! logwire diagnose                   logwire::diagnose() of that directory
//! logwire lint examples/pipeline     the same as logwire-lint
//! logwire lnav                       prints the lnav format definitions
//! ```
//!
//! Every command takes `--root DIR` (default: `LOG_ROOT`, else `{repo
//! root}/logs`) and exits 0 on success, 1 when it found nothing (or, for
//! `diagnose` and `lint`, problems), 2 on a usage or I/O error with one line
//! saying what was wrong.

mod error;
mod files;
mod level;
mod print;
mod scan;
mod tail;
mod trace;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use clap::{Args, Parser, Subcommand, ValueEnum};
use logwire::read::Time;
use logwire::Level;

use crate::error::Error;

/// The lnav format definitions shipped with logwire (`cli/lnav/logwire.json`).
const LNAV_FORMAT: &str = include_str!("../lnav/logwire.json");

#[derive(Debug, Parser)]
#[command(name = "logwire", version, about = "Reads and steers what logwire writes.", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the logs are.
#[derive(Debug, Args)]
struct Root {
    /// The log directory [default: LOG_ROOT, else {repo root}/logs]
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
}

impl Root {
    fn dir(&self) -> PathBuf {
        self.root.clone().unwrap_or_else(logwire::log_root)
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Every line of one request or job and of everything it caused, in time order.
    ///
    /// The lines whose txid is ID from every *.log and rotated *.log.N in the root;
    /// then, recursively, every txid whose lines carry origin= one of those (the jobs a
    /// request queued) and every job log a JOB_LOG | path=… line of theirs names. Each
    /// line is prefixed with its file's name.
    Trace {
        /// The transaction id to follow.
        id: String,
        /// One JSON object per line, with "file" added.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        root: Root,
    },
    /// The last lines of the loggers' files, merged in time order; -f follows them.
    Tail {
        /// Loggers to show (the NAME of NAME.log) [default: all]
        names: Vec<String>,
        /// Keep following the files as they grow and rotate, as tail -F does.
        #[arg(short, long)]
        follow: bool,
        /// How many of the last matching lines to show.
        #[arg(short = 'n', long = "lines", default_value_t = 10, value_name = "N")]
        lines: usize,
        /// Only lines at least this severe.
        #[arg(long, value_enum, ignore_case = true, value_name = "LEVEL")]
        level: Option<LevelArg>,
        /// Only lines of this transaction id.
        #[arg(long, value_name = "ID")]
        txid: Option<String>,
        /// Every matching line written since then: a duration back from now (90s, 10m,
        /// 1h, 2d) or a UTC time (2025-01-01 12:00:00Z).
        #[arg(long, value_name = "DURATION|TIME", value_parser = parse_since)]
        since: Option<Time>,
        #[command(flatten)]
        root: Root,
    },
    /// Levels at run time: what is in force, set for a while, clear.
    ///
    /// Every process with a file logger under the root applies a change within 2 seconds and
    /// goes back to its own level when the time is up, with a LEVEL_CHANGED line each way.
    Level {
        #[command(subcommand)]
        action: Option<LevelAction>,
        #[command(flatten)]
        root: Root,
    },
    /// What logwire::diagnose() reports for the root: permissions, owners, fixes.
    Diagnose {
        #[command(flatten)]
        root: Root,
    },
    /// Checks the crate in DIR as logwire-lint does.
    Lint {
        /// The crate's directory (holding Cargo.toml or src/).
        dir: PathBuf,
        /// How findings are written.
        #[arg(long, value_enum, default_value_t = LintFormat::Human)]
        format: LintFormat,
    },
    /// Prints lnav's format definitions for logwire's files (logwire_log, logwire_json).
    ///
    /// Install them with: logwire lnav > logwire.json && lnav -i logwire.json
    Lnav,
}

#[derive(Debug, Subcommand)]
enum LevelAction {
    /// Sets NAME=LEVEL[,NAME=LEVEL…] (NAME * for every logger) for a while.
    Set {
        /// NAME=LEVEL pairs, comma-separated: worker=debug,api=info or *=debug.
        #[arg(value_name = "NAME=LEVEL[,…]", value_parser = level::parse_pairs)]
        levels: level::Pairs,
        /// How long [default: 15m; at most 24h]
        #[arg(long = "for", value_name = "DURATION", value_parser = level::parse_duration)]
        duration: Option<Duration>,
        #[command(flatten)]
        root: Root,
    },
    /// Ends the override of NAME, or every override.
    Clear {
        /// The logger whose override ends [default: all]
        name: Option<String>,
        #[command(flatten)]
        root: Root,
    },
}

/// A level name, as tracing writes it (any case).
#[derive(Debug, Clone, Copy, ValueEnum)]
enum LevelArg {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl From<LevelArg> for Level {
    fn from(l: LevelArg) -> Level {
        match l {
            LevelArg::Trace => Level::TRACE,
            LevelArg::Debug => Level::DEBUG,
            LevelArg::Info => Level::INFO,
            LevelArg::Warn => Level::WARN,
            LevelArg::Error => Level::ERROR,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LintFormat {
    Human,
    Github,
    Json,
}

/// `--since`: a duration back from now (humantime's syntax) or a time.
fn parse_since(s: &str) -> Result<Time, String> {
    if let Ok(d) = humantime::parse_duration(s) {
        let then = SystemTime::now().checked_sub(d).unwrap_or(SystemTime::UNIX_EPOCH);
        return Ok(Time::from(then));
    }
    Time::parse(s)
        .or_else(|| Time::parse(&format!("{s}:00")))
        .ok_or_else(|| format!("{s:?} is neither a duration (90s, 10m, 1h) nor a UTC time (2025-01-01 12:00:00Z)"))
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage(e),
    };
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => e.report(),
    }
}

/// `--help` and `--version` as clap prints them; any other command-line
/// error as one line (exit 2) naming the help to read.
fn usage(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        return match e.print() {
            Ok(()) => ExitCode::SUCCESS,
            Err(io) => error::output(io).report(),
        };
    }
    let text = e.render().to_string();
    let first = text.lines().next().unwrap_or("invalid command line");
    let first = first.strip_prefix("error: ").unwrap_or(first);
    Error::usage(format!("{first} (see logwire --help)")).report()
}

/// Writes `text` to stdout; a closed pipe ends quietly, any other write
/// error is exit 2.
fn emit(text: &str) -> Result<(), Error> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(error::output)
}

fn run(command: Command) -> Result<(), Error> {
    match command {
        Command::Trace { id, json, root } => trace::run(&root.dir(), &id, json).map(drop),
        Command::Tail {
            names,
            follow,
            lines,
            level,
            txid,
            since,
            root,
        } => {
            let opts = tail::Options {
                names,
                lines,
                follow,
                poll: Duration::from_millis(200),
                filter: tail::Filter {
                    level: level.map(Level::from),
                    // Copied from a header (`a%20b`): the id it stands for.
                    txid: txid.map(|t| {
                        if t.contains('%') {
                            logwire::read::percent_decode(&t).unwrap_or(t)
                        } else {
                            t
                        }
                    }),
                    since,
                },
            };
            tail::run(&root.dir(), &opts).map(drop)
        }
        Command::Level { action, root } => match action {
            None => level::list(&root.dir()),
            Some(LevelAction::Set { levels, duration, root }) => level::set(&root.dir(), &levels, duration),
            Some(LevelAction::Clear { name, root }) => level::clear(&root.dir(), name.as_deref()),
        },
        Command::Diagnose { root } => {
            let dir = root.dir();
            if !dir.exists() {
                return Err(Error::usage(format!("no such directory: {}", dir.display())));
            }
            let report = logwire::diagnose::Diagnosis::for_directory(&dir);
            emit(&format!("{report}\n"))?;
            if report.has_problems() {
                Err(Error::quiet())
            } else {
                Ok(())
            }
        }
        Command::Lint { dir, format } => {
            let report = logwire_lint::check(&dir);
            if let Some(e) = &report.io_error {
                return Err(Error::usage(format!("cannot lint {}: {e}", dir.display())));
            }
            let format = match format {
                LintFormat::Human => logwire_lint::Format::Human,
                LintFormat::Github => logwire_lint::Format::Github,
                LintFormat::Json => logwire_lint::Format::Json,
            };
            emit(&report.render(format))?;
            if report.is_clean() {
                Ok(())
            } else {
                Err(Error::quiet())
            }
        }
        Command::Lnav => emit(LNAV_FORMAT),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn since_takes_durations_and_times() {
        let t = parse_since("2025-01-01 12:00:00Z").unwrap();
        assert_eq!(t.to_string(), "2025-01-01 12:00:00.000Z");
        assert_eq!(parse_since("2025-01-01 12:00").unwrap(), t);
        let hour_ago = parse_since("1h").unwrap().unix_millis();
        let now = Time::from(SystemTime::now()).unix_millis();
        assert!((now - hour_ago - 3_600_000).abs() < 5_000);
        assert!(parse_since("yesterday").unwrap_err().contains("neither a duration"));
    }

    #[test]
    fn the_lnav_format_is_json() {
        let v: serde_json::Value = serde_json::from_str(LNAV_FORMAT).unwrap();
        assert!(v.get("logwire_log").is_some() && v.get("logwire_json").is_some());
    }
}
