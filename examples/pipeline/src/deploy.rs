//! `pipeline render-deploy`: fills the templates in `deploy/` (systemd
//! units, nginx site, log directory setup) with a deployment's values.

use std::collections::BTreeMap;
use std::fmt;
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

/// Why the deployment files could not be written.
#[derive(Debug)]
pub enum DeployError {
    /// The command line is wrong; the text says how.
    Usage(String),
    /// A template uses a value the command line did not give.
    Missing {
        template: String,
        name: String,
    },
    /// A template does not parse or render.
    Template(minijinja::Error),
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl fmt::Display for DeployError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeployError::Usage(text) => f.write_str(text),
            DeployError::Missing { template, name } => write!(f, "{template}: no value for {{{{{name}}}}}"),
            DeployError::Template(e) => e.fmt(f),
            DeployError::Write { path, source } => write!(f, "cannot write {}: {source}", path.display()),
        }
    }
}

impl std::error::Error for DeployError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DeployError::Template(e) => Some(e),
            DeployError::Write { source, .. } => Some(source),
            DeployError::Usage(_) | DeployError::Missing { .. } => None,
        }
    }
}

/// Renders the template `name` (Jinja syntax: `{{NAME}}`); a placeholder
/// without a value is an error naming it, so no half-rendered unit is ever
/// written.
pub fn render(name: &str, template: &str, values: &BTreeMap<&str, String>) -> Result<String, DeployError> {
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    // Whatever the values hold goes into the files as given.
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    let syntax = minijinja::syntax::SyntaxConfig::builder()
        .keep_trailing_newline(true)
        .build()
        .map_err(DeployError::Template)?;
    env.set_syntax(syntax);
    env.add_template(name, template).map_err(DeployError::Template)?;
    let template = env.get_template(name).map_err(DeployError::Template)?;
    if let Some(missing) = template
        .undeclared_variables(false)
        .into_iter()
        .filter(|v| !values.contains_key(v.as_str()))
        .min()
    {
        return Err(DeployError::Missing {
            template: name.to_owned(),
            name: missing,
        });
    }
    template.render(values).map_err(DeployError::Template)
}

/// The values of a deployment, from `--key value` arguments.
pub fn values(args: &[String]) -> Result<(BTreeMap<&'static str, String>, PathBuf), DeployError> {
    let mut given: BTreeMap<String, String> = BTreeMap::new();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let key = flag
            .strip_prefix("--")
            .ok_or_else(|| DeployError::Usage(format!("expected --option, got {flag:?}")))?;
        let value = it
            .next()
            .ok_or_else(|| DeployError::Usage(format!("--{key} needs a value")))?;
        given.insert(key.to_owned(), value.clone());
    }
    let get = |k: &str| {
        given
            .get(k)
            .cloned()
            .ok_or_else(|| DeployError::Usage(format!("--{k} is required")))
    };
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
pub fn write_all(values: &BTreeMap<&str, String>, out: &Path) -> Result<Vec<PathBuf>, DeployError> {
    let written = |path: &Path| {
        let path = path.to_owned();
        move |source| DeployError::Write { path, source }
    };
    std::fs::create_dir_all(out).map_err(written(out))?;
    TEMPLATES
        .iter()
        .map(|(name, template)| {
            let path = out.join(name);
            let text = render(name, template, values)?;
            std::fs::write(&path, text).map_err(written(&path))?;
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
        let api = render(TEMPLATES[0].0, TEMPLATES[0].1, &values).unwrap();
        assert!(api.contains("\nUser=www-data\nGroup=pipeline\n"));
        assert!(api.contains("Environment=\"LOG_ROOT=/srv/pipeline/logs\""));
        assert!(api.contains("Environment=\"DATA_DIR=/srv/pipeline/data\""));
        assert!(api.contains("Environment=\"PORT=9000\""));
        assert!(api.contains("\nUMask=0002\n"));
        assert!(api.contains("\nExecStart=/srv/pipeline/bin/pipeline api\n"));
        assert!(api.contains("\nRestart=on-failure\n"));
        let worker = render(TEMPLATES[1].0, TEMPLATES[1].1, &values).unwrap();
        assert!(worker.contains("\nUser=builder\nGroup=pipeline\n"));
        assert!(worker.contains("\nExecStart=/srv/pipeline/bin/pipeline worker\n"));
        let nginx = render(TEMPLATES[2].0, TEMPLATES[2].1, &values).unwrap();
        assert!(nginx.contains("access_log /srv/pipeline/logs/access-nginx.log;"));
        assert!(nginx.contains("error_log /srv/pipeline/logs/error-nginx.log;"));
        assert!(nginx.contains("proxy_pass http://127.0.0.1:9000;"));
        let setup = render(TEMPLATES[3].0, TEMPLATES[3].1, &values).unwrap();
        assert!(setup.contains("dir=${1:-/srv/pipeline/logs}"));
        assert!(setup.contains("chmod 2770 \"$dir\""));
        for (name, t) in TEMPLATES {
            assert!(
                !render(name, t, &values).unwrap().contains("{{"),
                "{name} left a placeholder"
            );
        }
    }

    #[test]
    fn a_missing_value_is_named() {
        let err = render("unit", "User={{API_USER}}", &BTreeMap::new()).unwrap_err();
        assert_eq!(err.to_string(), "unit: no value for {{API_USER}}");
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
        let script = render(TEMPLATES[3].0, TEMPLATES[3].1, &values).unwrap();
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
