//! The diagnose report on healthy and broken directories.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use logwire::diagnose::Diagnosis;
use logwire::Logger;

extern "C" {
    #[link_name = "umask"]
    fn libc_umask(mask: u32) -> u32;
}

/// The systemd units' UMask=0002, for every test in this binary.
fn group_umask() {
    // SAFETY: umask only swaps the process's file creation mask.
    unsafe { libc_umask(0o002) };
}

fn shared_dir(path: &Path) {
    fs::create_dir_all(path).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o2770)).unwrap();
}

#[test]
fn a_healthy_directory_has_no_problems() {
    group_umask();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("logs");
    shared_dir(&root);
    let log = Logger::builder("api").root(&root).build();
    logwire::info!(log, "HELLO");
    log.flush();
    let d = Diagnosis::for_directory(&root);
    assert!(d.exists && d.is_dir);
    assert_eq!(d.writable, Ok(()));
    let o = d.ownership.as_ref().unwrap();
    assert_eq!(o.mode, 0o2770);
    assert_eq!(o.rwx(), "rwxrws---");
    assert!(o.setgid());
    assert_eq!(d.files.len(), 1);
    assert_eq!(d.files[0].path, root.join("api.log"));
    assert_eq!(d.files[0].ownership.mode, 0o660);
    assert_eq!(d.loggers.len(), 1);
    assert_eq!(d.loggers[0].fell_back, None);
    assert_eq!(d.problems, []);
    let text = d.to_string();
    assert!(text.contains(&format!("directory: {}\n", root.display())), "{text}");
    assert!(text.contains("  exists: yes, directory: yes, writable: yes (a probe file was created and removed)\n"));
    assert!(text.contains("mode: 2770 (rwxrws---), setgid: yes\n"), "{text}");
    assert!(text.contains("0660 (rw-rw----)  group-writable: yes\n"), "{text}");
    assert!(
        text.contains(&format!("  {}: writing\n", root.join("api.log").display())),
        "{text}"
    );
    assert!(text.ends_with("problems: none"), "{text}");
    assert!(!fs::read_dir(&root)
        .unwrap()
        .any(|e| e.unwrap().file_name().to_string_lossy().contains("probe")));
}

#[test]
fn a_missing_directory_that_can_be_created_is_not_a_problem() {
    let dir = tempfile::tempdir().unwrap();
    let d = Diagnosis::for_directory(dir.path().join("not-yet"));
    assert!(!d.exists);
    assert_eq!(d.problems, []);
    assert!(d
        .to_string()
        .contains("exists: no, directory: no, writable: no (not a directory)"));
}

#[test]
fn a_path_under_a_regular_file_is_a_problem_with_a_fix() {
    let d = Diagnosis::for_directory("/dev/null/logs");
    assert!(!d.exists);
    assert_eq!(d.problems.len(), 1);
    assert_eq!(
        d.problems[0].summary,
        "/dev/null/logs does not exist and cannot be created: /dev/null is not a directory"
    );
    assert!(d.problems[0]
        .fix
        .starts_with("sudo mkdir -p /dev/null/logs && sudo chown "));
    assert!(d.has_problems());
}

#[test]
fn a_regular_file_as_the_directory_is_a_problem() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("logs");
    fs::write(&file, b"oops").unwrap();
    let d = Diagnosis::for_directory(&file);
    assert!(d.exists && !d.is_dir);
    assert_eq!(
        d.problems[0].summary,
        format!(
            "{} is not a directory, so every file logger falls back to stderr",
            file.display()
        )
    );
}

#[test]
fn a_file_that_is_not_group_writable_is_named_with_its_fix() {
    group_umask();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("logs");
    shared_dir(&root);
    let private = root.join("worker.log");
    fs::write(&private, b"x\n").unwrap();
    fs::set_permissions(&private, fs::Permissions::from_mode(0o600)).unwrap();
    let d = Diagnosis::for_directory(&root);
    assert_eq!(d.problems.len(), 1);
    assert!(d.problems[0]
        .summary
        .starts_with(&format!("{} is not group-writable (rw-------)", private.display())));
    assert_eq!(
        d.problems[0].fix,
        format!(
            "sudo chmod g+rw {}   (and set UMask=0002 in the systemd units)",
            private.display()
        )
    );
}

#[test]
fn a_directory_without_setgid_is_a_problem() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("plain");
    fs::create_dir(&root).unwrap();
    fs::set_permissions(&root, fs::Permissions::from_mode(0o770)).unwrap();
    let d = Diagnosis::for_directory(&root);
    assert_eq!(d.problems.len(), 1);
    assert_eq!(d.problems[0].fix, format!("sudo chmod g+s {}", root.display()));
}

#[test]
fn a_logger_that_fell_back_is_reported() {
    let log = Logger::builder("api").root("/dev/null/fallback").build();
    logwire::info!(log, "TO_STDERR");
    let d = Diagnosis::for_directory("/dev/null/fallback");
    assert_eq!(d.loggers.len(), 1);
    assert_eq!(d.loggers[0].fell_back.as_deref(), Some("Not a directory (os error 20)"));
    let summaries: Vec<&str> = d.problems.iter().map(|p| p.summary.as_str()).collect();
    assert!(summaries.iter().any(|s| s
        .starts_with("logs are going to stderr instead of /dev/null/fallback/api.log: Not a directory (os error 20)")));
    assert!(d
        .to_string()
        .contains("/dev/null/fallback/api.log: FELL BACK to stderr: Not a directory (os error 20)"));
}

#[test]
fn a_file_moved_away_is_reported_stale() {
    group_umask();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("logs");
    shared_dir(&root);
    let log = Logger::builder("api").root(&root).build();
    logwire::info!(log, "BEFORE");
    log.flush();
    fs::rename(root.join("api.log"), root.join("api.log.rotated")).unwrap();
    let d = Diagnosis::for_directory(&root);
    assert!(d.loggers[0].stale);
    assert!(d.problems.iter().any(|p| p.fix.contains("reopen_on_sighup")));
}

#[test]
fn a_single_users_checkout_under_umask_022_is_fine_with_a_note() {
    // What logwire makes under a 022 umask: a 2750 directory, 0640 files.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("logs");
    fs::create_dir(&root).unwrap();
    fs::set_permissions(&root, fs::Permissions::from_mode(0o2750)).unwrap();
    for name in ["api.log", "worker.log", "start_services.log"] {
        fs::write(root.join(name), "x\n").unwrap();
        fs::set_permissions(root.join(name), fs::Permissions::from_mode(0o640)).unwrap();
    }
    let d = Diagnosis::for_directory(&root);
    assert!(d.problems.is_empty(), "{d}");
    assert_eq!(d.notes.len(), 1, "{d}");
    assert!(
        d.notes[0].ends_with(&format!(
            "is writable by its owner only (rwxr-s---): fine for one user; for an API and a worker running as two users of one group: sudo chmod 2770 {} (and UMask=0002 in the systemd units)",
            root.display()
        )),
        "{}",
        d.notes[0]
    );
    assert!(d.to_string().contains("\nnote: "), "{d}");
    assert!(d.to_string().ends_with("problems: none"), "{d}");
}

#[test]
fn owners_are_named_as_the_system_names_them() {
    let dir = tempfile::tempdir().unwrap();
    let d = Diagnosis::for_directory(dir.path());
    let id = |flag: &str| {
        let out = std::process::Command::new("id").arg(flag).output().unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let owner = d.ownership.expect("the directory exists");
    assert_eq!(owner.user, id("-un"));
    assert_eq!(owner.group, id("-gn"));
}

/// A LOG_ROOT that is not UTF-8 is still where loggers write: the report
/// shows it (lossily), never "not set".
#[test]
fn a_log_root_that_is_not_utf8_is_shown_not_reported_unset() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join(std::ffi::OsStr::from_bytes(b"logs-\xff"));
    let out = logwire_tests::child("diagnose", "env", 0)
        .env("LOG_ROOT", &root)
        .output()
        .unwrap();
    let report = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{report}");
    let line = report.lines().find(|l| l.starts_with("LOG_ROOT:")).unwrap();
    assert_eq!(line, format!("LOG_ROOT: {}", root.to_string_lossy()));
    assert!(line.ends_with("logs-\u{fffd}"), "{line}");
    assert!(!report.contains("not set"), "{report}");
}
