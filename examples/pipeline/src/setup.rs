//! First-start setup on disk: the demo project.

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

const DEMO_BUILD: &str = r#"#!/bin/sh
# The demo project's build: steps on stdout, a warning on stderr.
set -e
echo "compiling demo"
echo "warning: demo has no tests" >&2
sleep 0.2
echo "linking demo"
echo "build finished"
"#;

const DEMO_DEPLOY: &str = r#"#!/bin/sh
# The demo project's deployment.
set -e
echo "deploying demo"
echo "deployed"
"#;

/// Creates `{projects}/demo/` with its scripts unless it exists.
pub fn demo_project(projects: &Path) -> io::Result<()> {
    let demo = projects.join("demo");
    if demo.join("build.sh").exists() {
        return Ok(());
    }
    fs::create_dir_all(&demo)?;
    for (name, text) in [("build.sh", DEMO_BUILD), ("deploy.sh", DEMO_DEPLOY)] {
        let path = demo.join(name);
        fs::write(&path, text)?;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755))?;
    }
    Ok(())
}
