//! Which worker process runs a job: its boot, pid and start time, so that
//! a worker that starts can tell a job whose worker is gone (crashed,
//! killed, or the machine rebooted) from one another worker still runs.

/// This process, as `{boot id} {pid} {start time}`.
pub fn me() -> String {
    let pid = std::process::id();
    format!("{} {pid} {}", boot_id(), start_time(pid).unwrap_or_default())
}

/// Whether the worker recorded as `owner` still runs.
pub fn is_alive(owner: &str) -> bool {
    let mut parts = owner.split(' ');
    let (Some(boot), Some(pid), Some(started)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let Ok(pid) = pid.parse::<u32>() else { return false };
    boot == boot_id() && start_time(pid).is_some_and(|t| t.to_string() == started)
}

/// Changes at every boot; a pid from another boot means nothing.
fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

/// The process's start time in clock ticks since boot (field 22 of
/// `/proc/PID/stat`): a reused pid has another one.
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces; it ends at the last ')'.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace();
    // State is field 3, so start time (22) is the 20th after the name.
    let state = fields.next()?;
    if state == "Z" {
        return None;
    }
    fields.nth(18)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_finished_one_is_not() {
        assert!(is_alive(&me()));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        let started = start_time(pid);
        child.wait().unwrap();
        let gone = format!("{} {pid} {}", boot_id(), started.unwrap_or(1));
        assert!(!is_alive(&gone));
        // Same pid and boot, another start time: a reused pid.
        let reused = format!("{} {} 1", boot_id(), std::process::id());
        assert!(!is_alive(&reused));
        assert!(!is_alive("garbage"));
    }
}
