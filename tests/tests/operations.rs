//! SIGHUP reopening and a log directory shared by two service users.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use logwire_tests::{check_lines, read_rotated};

extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
}

fn wait_for(path: &Path, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !path.exists() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn sighup_reopens_into_a_fresh_file_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = logwire_tests::child("sighup", dir.path(), 1000).spawn().unwrap();
    wait_for(&dir.path().join("ready"), "the child's first lines");
    let log = dir.path().join("child.log");
    fs::rename(&log, dir.path().join("child.log.moved")).unwrap();
    // SAFETY: signalling our own child.
    assert_eq!(unsafe { libc_kill(child.id() as i32, 1) }, 0);
    // The signal alone reopens: the file is back before any new line.
    wait_for(&log, "the reopened file");
    fs::write(dir.path().join("go"), b"").unwrap();
    assert!(child.wait().unwrap().success());
    let moved = fs::read_to_string(dir.path().join("child.log.moved")).unwrap();
    let fresh = fs::read_to_string(&log).unwrap();
    assert_eq!(check_lines(moved.lines(), 1, 1000).lines, 1000);
    let all = check_lines(moved.lines().chain(fresh.lines()), 1, 2000);
    assert_eq!((all.lines, all.lost, all.duplicated, all.torn), (2000, 0, 0, 0));
    assert_eq!(fresh.lines().count(), 1000);
}

/// Users and a group made for one test, removed when it ends.
struct TempAccounts {
    users: Vec<String>,
    group: String,
}

impl Drop for TempAccounts {
    fn drop(&mut self) {
        for u in &self.users {
            let _ = Command::new("userdel").arg(u).output();
        }
        let _ = Command::new("groupdel").arg(&self.group).output();
    }
}

fn id_of(kind: &str, name: &str) -> u32 {
    let out = Command::new("id").arg(kind).arg(name).output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().parse().unwrap()
}

#[test]
fn two_service_users_share_and_rotate_one_file() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc_geteuid() } != 0 || Command::new("useradd").arg("--help").output().is_err() {
        println!("skipped: needs root and useradd to create two users in one group");
        return;
    }
    let tag = std::process::id();
    let accounts = TempAccounts {
        users: vec![format!("lwapi{tag}"), format!("lwwork{tag}")],
        group: format!("lwshare{tag}"),
    };
    assert!(Command::new("groupadd")
        .arg(&accounts.group)
        .status()
        .unwrap()
        .success());
    for u in &accounts.users {
        let ok = Command::new("useradd")
            .args(["-M", "-N", "-g", &accounts.group, "-s", "/usr/sbin/nologin", u])
            .status()
            .unwrap()
            .success();
        assert!(ok, "useradd {u}");
    }
    let gid = id_of("-g", &accounts.users[0]);
    let base = tempfile::tempdir().unwrap();
    fs::set_permissions(base.path(), fs::Permissions::from_mode(0o755)).unwrap();
    // The other users run a copy of the child that they can reach: the
    // checkout (and so target/) may be in a directory only we can enter.
    if let Some(closed) = base
        .path()
        .ancestors()
        .find(|d| fs::metadata(d).map_or(true, |m| m.permissions().mode() & 0o001 == 0))
    {
        println!(
            "skipped: the temp dir's ancestor {} is closed to other users",
            closed.display()
        );
        return;
    }
    let child = base.path().join("logwire-child");
    fs::copy(logwire_tests::child_exe(), &child).unwrap();
    fs::set_permissions(&child, fs::Permissions::from_mode(0o755)).unwrap();
    let root = base.path().join("logs");
    fs::create_dir(&root).unwrap();
    std::os::unix::fs::chown(&root, Some(0), Some(gid)).unwrap();
    fs::set_permissions(&root, fs::Permissions::from_mode(0o2770)).unwrap();

    // Both users at once, as the API and the worker run.
    let children: Vec<_> = accounts
        .users
        .iter()
        .enumerate()
        .map(|(proc, u)| {
            Command::new(&child)
                .args(["shared", root.to_str().unwrap(), "2500"])
                .env("CHILD_MAX_BYTES", "3000")
                .env("CHILD_PROC", proc.to_string())
                .uid(id_of("-u", u))
                .gid(gid)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(!stderr.contains("Permission denied"), "{stderr}");
        assert!(!stderr.contains("logwire:"), "{stderr}");
    }
    let files = read_rotated(&root, "child.log");
    let report = check_lines(files.iter().flat_map(|(_, t)| t.lines()), 2, 2500);
    assert_eq!(
        (report.lines, report.lost, report.duplicated, report.torn),
        (5000, 0, 0, 0)
    );
    let rotations = files.len() - 1;
    assert!(rotations >= 10, "only {rotations} backups");
    for entry in fs::read_dir(&root).unwrap() {
        let entry = entry.unwrap();
        let meta = entry.metadata().unwrap();
        assert_eq!(meta.gid(), gid, "{:?} lost the shared group", entry.path());
        assert_eq!(meta.permissions().mode() & 0o777, 0o660, "{:?}", entry.path());
    }
    let names = fs::read_dir(&root).unwrap().count();
    println!("{names} files, {rotations} backups kept, all 0660 in the shared group");
    drop(accounts);
}

#[test]
fn sighup_reaches_both_logwire_and_a_tokio_stream_of_the_same_program() {
    let dir = tempfile::tempdir().unwrap();
    let child = logwire_tests::child("sighup-tokio", dir.path(), 5)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(&dir.path().join("ready"), "the child to log and install its handlers");
    fs::rename(dir.path().join("child.log"), dir.path().join("child.log.moved")).unwrap();
    // SAFETY: signalling our own child.
    assert_eq!(unsafe { libc_kill(child.id() as i32, 1) }, 0);
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "tokio saw SIGHUP");
    assert!(out.status.success());
    let moved = fs::read_to_string(dir.path().join("child.log.moved")).unwrap();
    assert_eq!(moved.matches(" - BEFORE |").count(), 5);
    let fresh = fs::read_to_string(dir.path().join("child.log")).unwrap();
    assert_eq!(fresh.lines().count(), 1, "logwire reopened the file: {fresh}");
    assert!(fresh.contains(" - AFTER"), "{fresh}");
}
