//! `pipeline render-deploy`: fills the templates in `deploy/` (systemd
//! units, nginx site, log directory setup) with a deployment's values.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The templates, by the file name they are written to.
pub const TEMPLATES: [(&str, &str); 4] = [
    ("pipeline-api.service", include_str!("../deploy/pipeline-api.service")),
    (
        "pipeline-worker.service",
        include_str!("../deploy/pipeline-worker.service"),
    ),
    ("nginx-site.conf", include_str!("../deploy/nginx-site.conf")),
    ("setup-logs.sh", include_str!("../deploy/setup-logs.sh")),
];

/// Replaces every `{{NAME}}` with its value; a placeholder without a value
/// is an error naming it, so no half-rendered unit is ever written.
pub fn render(template: &str, values: &BTreeMap<&str, String>) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or_else(|| "unclosed {{ in template".to_owned())?;
        let name = &after[..end];
        let value = values.get(name).ok_or_else(|| format!("no value for {{{{{name}}}}}"))?;
        out.push_str(value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The values of a deployment, from `--key value` arguments.
pub fn values(args: &[String]) -> Result<(BTreeMap<&'static str, String>, PathBuf), String> {
    let mut given: BTreeMap<String, String> = BTreeMap::new();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let key = flag
            .strip_prefix("--")
            .ok_or_else(|| format!("expected --option, got {flag:?}"))?;
        let value = it.next().ok_or_else(|| format!("--{key} needs a value"))?;
        given.insert(key.to_owned(), value.clone());
    }
    let get = |k: &str| given.get(k).cloned().ok_or_else(|| format!("--{k} is required"));
    let base = get("base")?;
    let out = PathBuf::from(get("out")?);
    let mut v = BTreeMap::new();
    v.insert("API_USER", get("user")?);
    v.insert("WORKER_USER", given.get("worker-user").cloned().unwrap_or(get("user")?));
    v.insert("GROUP", get("group")?);
    v.insert("BASE", base.clone());
    v.insert(
        "LOG_ROOT",
        given.get("log-root").cloned().unwrap_or(format!("{base}/logs")),
    );
    v.insert(
        "DATA_DIR",
        given.get("data-dir").cloned().unwrap_or(format!("{base}/data")),
    );
    v.insert("PORT", given.get("port").cloned().unwrap_or_else(|| "8080".to_owned()));
    v.insert(
        "BIN",
        given.get("bin").cloned().unwrap_or(format!("{base}/bin/pipeline")),
    );
    v.insert(
        "SERVER_NAME",
        given.get("server-name").cloned().unwrap_or_else(|| "_".to_owned()),
    );
    Ok((v, out))
}

/// Renders every template into `out`.
pub fn write_all(values: &BTreeMap<&str, String>, out: &Path) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    TEMPLATES
        .iter()
        .map(|(name, template)| {
            let path = out.join(name);
            let text = render(template, values).map_err(|e| format!("{name}: {e}"))?;
            std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            Ok(path)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn templates_render_with_given_values() {
        let (values, _) = values(&args(&[
            "--user",
            "www-data",
            "--worker-user",
            "builder",
            "--group",
            "pipeline",
            "--base",
            "/srv/pipeline",
            "--port",
            "9000",
            "--out",
            "/tmp/x",
        ]))
        .unwrap();
        let api = render(TEMPLATES[0].1, &values).unwrap();
        assert!(api.contains("\nUser=www-data\nGroup=pipeline\n"));
        assert!(api.contains("Environment=\"LOG_ROOT=/srv/pipeline/logs\""));
        assert!(api.contains("Environment=\"DATA_DIR=/srv/pipeline/data\""));
        assert!(api.contains("Environment=\"PORT=9000\""));
        assert!(api.contains("\nUMask=0002\n"));
        assert!(api.contains("\nExecStart=/srv/pipeline/bin/pipeline api\n"));
        assert!(api.contains("\nRestart=on-failure\n"));
        let worker = render(TEMPLATES[1].1, &values).unwrap();
        assert!(worker.contains("\nUser=builder\nGroup=pipeline\n"));
        assert!(worker.contains("\nExecStart=/srv/pipeline/bin/pipeline worker\n"));
        let nginx = render(TEMPLATES[2].1, &values).unwrap();
        assert!(nginx.contains("access_log /srv/pipeline/logs/access-nginx.log;"));
        assert!(nginx.contains("error_log /srv/pipeline/logs/error-nginx.log;"));
        assert!(nginx.contains("proxy_pass http://127.0.0.1:9000;"));
        let setup = render(TEMPLATES[3].1, &values).unwrap();
        assert!(setup.contains("dir=${1:-/srv/pipeline/logs}"));
        assert!(setup.contains("chmod 2770 \"$dir\""));
        for (name, t) in TEMPLATES {
            assert!(!render(t, &values).unwrap().contains("{{"), "{name} left a placeholder");
        }
    }

    #[test]
    fn a_missing_value_is_named() {
        let err = render("User={{API_USER}}", &BTreeMap::new()).unwrap_err();
        assert_eq!(err, "no value for {{API_USER}}");
    }

    #[test]
    fn the_setup_script_makes_a_shared_directory() {
        let dir = tempfile::tempdir().unwrap();
        let mut values = BTreeMap::new();
        for (k, v) in [
            ("LOG_ROOT", dir.path().join("logs").display().to_string()),
            ("API_USER", "root".into()),
            ("GROUP", "root".into()),
        ] {
            values.insert(k, v);
        }
        let script = render(TEMPLATES[3].1, &values).unwrap();
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(&script)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("logs")).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o2770);
    }
}
