//! Per-job log files: a build's or deployment's own output, every line
//! timestamped, including what its scripts print.
//!
//! ```no_run
//! # async fn build(id: u64, work_dir: std::path::PathBuf) -> std::io::Result<()> {
//! use logwire::joblog::JobLog;
//!
//! let path = logwire::data_dir().join("build-logs").join(format!("{id}.log"));
//! let job = JobLog::open(path)?; // creates build-logs/ if needed
//! job.append("Build started")?;
//! let mut cmd = std::process::Command::new("sh");
//! cmd.arg("build.sh").current_dir(&work_dir);
//! let status = job.run_script(cmd, "Running build").await?;
//! job.append(if status.success() { "Build succeeded" } else { "Build failed" })?;
//! # Ok(()) }
//! ```
//!
//! A job log reads:
//!
//! ```text
//! 2025-01-01 12:00:00.123Z Build started
//! 2025-01-01 12:00:00.124Z === Running build: "sh" "build.sh" (in /srv/data/projects/demo)
//! 2025-01-01 12:00:00.130Z [stdout] compiling
//! 2025-01-01 12:00:00.131Z [stderr] warning: unused variable
//! 2025-01-01 12:00:01.502Z === Running build: exit code 0 after 1.378 s
//! ```
//!
//! Lines are escaped like the main log's messages, so a script cannot send
//! terminal escapes to whoever reads the file; output that is not UTF-8 is
//! written with replacement characters, never dropped.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use nix::sys::signal::Signal;
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::format::{escape, time};

/// A line longer than this is written in pieces, so that a program that
/// never prints a newline cannot make the reader hold unbounded memory.
const MAX_LINE: usize = 64 * 1024;

/// An append-only, timestamped log file for one job.
#[derive(Debug, Clone)]
pub struct JobLog {
    path: PathBuf,
    file: Arc<Mutex<File>>,
}

/// Which stream a subprocess line came from.
#[derive(Debug, Clone, Copy)]
enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    fn mark(self) -> &'static str {
        match self {
            Stream::Stdout => "[stdout] ",
            Stream::Stderr => "[stderr] ",
        }
    }
}

impl JobLog {
    /// Opens `path` for appending, creating it and its parent directories
    /// (group-writable, like the main logs).
    ///
    /// Inside a job or request (a logger's scope, as [`run_job`] sets up)
    /// it writes INFO `JOB_LOG | path=<absolute path>` to that logger, so
    /// the job's own file can be found from its txid (`logwire trace` does).
    ///
    /// [`run_job`]: crate::worker::run_job
    pub fn open(path: impl AsRef<Path>) -> io::Result<JobLog> {
        let path = std::path::absolute(path.as_ref())?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::sink::file::create_dir(dir)?;
        }
        let file = OpenOptions::new().append(true).create(true).mode(0o660).open(&path)?;
        if let Some(logger) = crate::context::current_logger() {
            crate::info!(logger, "JOB_LOG", path = %path.display());
        }
        Ok(JobLog {
            path,
            file: Arc::new(Mutex::new(file)),
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes every line of `text`, each with a timestamp.
    pub fn append(&self, text: &str) -> io::Result<()> {
        let mut out = String::new();
        let now = SystemTime::now();
        for line in text.lines() {
            push_line(&mut out, now, "", line);
        }
        if text.is_empty() {
            push_line(&mut out, now, "", "");
        }
        self.write(out.as_bytes())
    }

    fn write(&self, bytes: &[u8]) -> io::Result<()> {
        // One write per batch of whole lines: O_APPEND keeps them whole.
        self.file
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .write_all(bytes)
    }

    /// Runs `cmd`, streaming its stdout and stderr into the log line by
    /// line as they come (stderr lines marked), between a header naming
    /// `description`, the command and its working directory, and a footer
    /// with the exit code and the duration.
    ///
    /// Any amount of output is fine: both pipes are read at once, so the
    /// program never blocks on a full pipe. A program that cannot be
    /// started is an `Err`, and a line in the log naming it.
    ///
    /// The program runs in a process group of its own, and the whole group
    /// is killed if this process dies (the program by `PR_SET_PDEATHSIG`,
    /// what it started by a small `sh` watcher that waits for this process's
    /// end on a pipe). The job ends when the
    /// program exits, even if something it started in the background still
    /// holds its output: what is buffered is read, and after a short grace
    /// the rest of its process group is killed.
    pub async fn run_script(&self, cmd: std::process::Command, description: &str) -> io::Result<ExitStatus> {
        self.run(cmd, description, None).await
    }

    /// [`run_script`](Self::run_script), bounded by `timeout`: when it
    /// expires, the whole process group gets SIGTERM, then SIGKILL after a
    /// grace of two seconds; the footer says `timed out after N s` and the
    /// result is an error of kind [`io::ErrorKind::TimedOut`].
    ///
    /// ```no_run
    /// # async fn build(job: logwire::joblog::JobLog) -> std::io::Result<()> {
    /// use std::time::Duration;
    ///
    /// let mut cmd = std::process::Command::new("sh");
    /// cmd.arg("build.sh");
    /// match job.run_script_with_timeout(cmd, "Running build", Duration::from_secs(3600)).await {
    ///     Ok(status) if status.success() => job.append("Build succeeded")?,
    ///     Ok(_) => job.append("Build failed")?,
    ///     Err(e) if e.kind() == std::io::ErrorKind::TimedOut => job.append("Build took too long")?,
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn run_script_with_timeout(
        &self,
        cmd: std::process::Command,
        description: &str,
        timeout: Duration,
    ) -> io::Result<ExitStatus> {
        self.run(cmd, description, Some(timeout)).await
    }

    async fn run(
        &self,
        mut cmd: std::process::Command,
        description: &str,
        timeout: Option<Duration>,
    ) -> io::Result<ExitStatus> {
        let program = format!("{:?}", cmd.get_program());
        let args: Vec<String> = cmd.get_args().map(|a| format!("{a:?}")).collect();
        let dir = match cmd.get_current_dir() {
            Some(dir) => dir.to_path_buf(),
            None => std::env::current_dir().unwrap_or_default(),
        };
        let command_line = std::iter::once(program.clone())
            .chain(args)
            .collect::<Vec<_>>()
            .join(" ");
        self.append(&format!("=== {description}: {command_line} (in {})", dir.display()))?;

        own_group_dying_with_us(&mut cmd);
        let mut cmd = tokio::process::Command::from(cmd);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let started = Instant::now();
        let mut child = match cmd.spawn() {
            Ok(child) => child,
            Err(e) => {
                self.append(&format!("=== {description}: cannot start {program}: {e}"))?;
                return Err(io::Error::new(e.kind(), format!("cannot start {program}: {e}")));
            }
        };
        let group = child.id().and_then(|id| i32::try_from(id).ok());
        // Held until the job ends: when this process dies, however it dies,
        // the watcher reads end-of-file and kills the whole group.
        let _lifeline = group.and_then(watch_group);
        let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
        let pumps = async {
            let (out, err) = tokio::join!(self.pump(stdout, Stream::Stdout), self.pump(stderr, Stream::Stderr));
            out.and(err)
        };
        let mut pumps = std::pin::pin!(pumps);
        let mut pumped: Option<io::Result<()>> = None;

        let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
        let mut timed_out = false;
        let mut killed = false;
        let status = loop {
            let wake = match (deadline, timed_out) {
                (Some(at), false) => Some(at),
                (Some(at), true) if !killed => Some(at + KILL_GRACE),
                _ => None,
            };
            tokio::select! {
                done = &mut pumps, if pumped.is_none() => pumped = Some(done),
                status = child.wait() => break status?,
                () = sleep_until(wake), if wake.is_some() => {
                    if timed_out {
                        kill_group(group, Signal::SIGKILL);
                        killed = true;
                    } else {
                        kill_group(group, Signal::SIGTERM);
                        timed_out = true;
                    }
                }
            }
        };
        // The program is gone; its pipes may still be held by something it
        // started in the background. Read what is there, then end it.
        if pumped.is_none() {
            pumped = tokio::time::timeout(OUTPUT_GRACE, &mut pumps).await.ok();
        }
        kill_group(group, Signal::SIGKILL);
        if pumped.is_none() {
            pumped = tokio::time::timeout(OUTPUT_GRACE, &mut pumps).await.ok();
        }
        if let Some(result) = pumped {
            result?;
        }
        let seconds = started.elapsed().as_secs_f64();
        if let (true, Some(limit)) = (timed_out, timeout) {
            let limit = limit.as_secs_f64();
            self.append(&format!(
                "=== {description}: timed out after {limit} s, killed ({seconds:.3} s)"
            ))?;
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("{description}: timed out after {limit} s"),
            ));
        }
        let ended = match (status.code(), status.signal()) {
            (Some(code), _) => format!("exit code {code}"),
            (None, Some(signal)) => format!("killed by signal {signal}"),
            (None, None) => "ended".to_owned(),
        };
        self.append(&format!("=== {description}: {ended} after {seconds:.3} s"))?;
        Ok(status)
    }

    /// Copies one pipe into the log, whole lines at a time, as they come.
    async fn pump(&self, pipe: Option<impl AsyncRead + Unpin>, stream: Stream) -> io::Result<()> {
        let Some(mut pipe) = pipe else { return Ok(()) };
        let mut pending: Vec<u8> = Vec::new();
        let mut chunk = vec![0u8; 16 * 1024];
        let mut out = String::new();
        loop {
            let n = pipe.read(&mut chunk).await?;
            let now = SystemTime::now();
            out.clear();
            if n == 0 {
                if !pending.is_empty() {
                    push_line(&mut out, now, stream.mark(), &String::from_utf8_lossy(&pending));
                    self.write(out.as_bytes())?;
                }
                return Ok(());
            }
            pending.extend_from_slice(&chunk[..n]);
            let mut start = 0;
            while let Some(i) = pending[start..].iter().position(|&b| b == b'\n') {
                let line = &pending[start..start + i];
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                push_line(&mut out, now, stream.mark(), &String::from_utf8_lossy(line));
                start += i + 1;
            }
            pending.drain(..start);
            while pending.len() > MAX_LINE {
                // A line without end: write what we have, cut where a
                // character starts, and keep reading.
                let cut = char_start_at_or_before(&pending, MAX_LINE);
                let piece: Vec<u8> = pending.drain(..cut).collect();
                push_line(&mut out, now, stream.mark(), &String::from_utf8_lossy(&piece));
            }
            if !out.is_empty() {
                self.write(out.as_bytes())?;
            }
        }
    }
}

/// The last index at or before `at` where a UTF-8 character starts (a
/// byte that is not a continuation byte), looking back at most 3 bytes;
/// `at` itself for bytes that are not UTF-8 anyway.
fn char_start_at_or_before(bytes: &[u8], at: usize) -> usize {
    (at.saturating_sub(3)..=at)
        .rev()
        .find(|&i| bytes.get(i).is_none_or(|b| b & 0xC0 != 0x80))
        .filter(|&i| i > 0)
        .unwrap_or(at)
}

/// How long the output of a program that exited is read before the rest of
/// its process group is killed.
const OUTPUT_GRACE: Duration = Duration::from_millis(500);

/// Between SIGTERM and SIGKILL for a program that timed out.
const KILL_GRACE: Duration = Duration::from_secs(2);

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Signals every process of the program's group; a group that is gone
/// already is fine.
fn kill_group(group: Option<i32>, signal: Signal) {
    if let Some(group) = group.filter(|&g| g > 0) {
        let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(group), signal);
    }
}

/// Starts a watcher that kills process group `group` when its stdin closes,
/// which happens when the returned handle is dropped or this process dies.
/// `PR_SET_PDEATHSIG` reaches only the program itself; this reaches what it
/// started in the background too.
fn watch_group(group: i32) -> Option<tokio::process::ChildStdin> {
    let mut watcher = tokio::process::Command::new("sh")
        .arg("-c")
        .arg("read _ignored; kill -s KILL -- -\"$0\" 2>/dev/null")
        .arg(group.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Its own group: a signal to the program's group must not reach it.
        .process_group(0)
        .spawn()
        .ok()?;
    watcher.stdin.take()
}

/// Makes the program the leader of a new process group, so that it and
/// what it starts can be signalled together, and has the kernel kill it
/// when the process that started it dies.
fn own_group_dying_with_us(cmd: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;

    cmd.process_group(0);
    // SAFETY: the closure runs in the child between fork and exec and only
    // makes async-signal-safe system calls (prctl, getppid).
    unsafe {
        let parent = libc::getpid();
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(io::Error::last_os_error());
            }
            // The parent died before the line above: nobody will be told.
            if libc::getppid() != parent {
                return Err(io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
}

fn push_line(out: &mut String, now: SystemTime, mark: &str, text: &str) {
    time::push_timestamp(out, now, time::Stamp::Readable);
    out.push(' ');
    out.push_str(mark);
    escape::push_text(out, text);
    out.push('\n');
}
