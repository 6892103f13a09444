//! Which files make up a crate: its roots, then every file reached through
//! `mod` declarations (with `#[path]`), as the compiler finds them.

use std::path::{Path, PathBuf};

use crate::finding::ParseError;

/// One parsed file of the crate.
pub(crate) struct Source {
    /// As shown in reports: relative to the directory that was checked.
    pub(crate) shown: String,
    pub(crate) text: String,
    pub(crate) ast: syn::File,
    /// `main.rs` or a file of `bin/`: its top level may build loggers.
    pub(crate) bin_root: bool,
    /// Reached through a `#[cfg(test)]` module.
    pub(crate) in_test: bool,
}

/// The crate's root files: `src/lib.rs`, `src/main.rs`, `src/bin/*.rs` and
/// `src/bin/*/main.rs` (or the same directly in `dir` when it has no
/// `src/`).
fn roots(dir: &Path) -> Vec<(PathBuf, bool)> {
    let src = if dir.join("src").is_dir() {
        dir.join("src")
    } else {
        dir.to_path_buf()
    };
    let mut roots = Vec::new();
    for (name, bin) in [("lib.rs", false), ("main.rs", true)] {
        if src.join(name).is_file() {
            roots.push((src.join(name), bin));
        }
    }
    let mut bins: Vec<PathBuf> = std::fs::read_dir(src.join("bin"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter_map(|p| {
            if p.extension().is_some_and(|e| e == "rs") {
                Some(p)
            } else {
                Some(p.join("main.rs")).filter(|m| m.is_file())
            }
        })
        .collect();
    bins.sort();
    roots.extend(bins.into_iter().map(|p| (p, true)));
    roots
}

/// Reads and parses every file of the crate in `dir`.
pub(crate) fn crate_files(dir: &Path) -> std::io::Result<(Vec<Source>, Vec<ParseError>)> {
    let roots = roots(dir);
    if roots.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!(
                "{}: no src/lib.rs, src/main.rs or src/bin/ (nor lib.rs or main.rs)",
                dir.display()
            ),
        ));
    }
    let mut walk = Walk {
        dir: dir.to_path_buf(),
        sources: Vec::new(),
        errors: Vec::new(),
    };
    for (path, bin) in roots {
        let module_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        walk.file(&path, &module_dir, bin, false)?;
    }
    Ok((walk.sources, walk.errors))
}

struct Walk {
    dir: PathBuf,
    sources: Vec<Source>,
    errors: Vec<ParseError>,
}

impl Walk {
    fn shown(&self, path: &Path) -> String {
        path.strip_prefix(&self.dir).unwrap_or(path).display().to_string()
    }

    /// Parses `path`, whose own `mod x;` files live in `module_dir`.
    fn file(&mut self, path: &Path, module_dir: &Path, bin_root: bool, in_test: bool) -> std::io::Result<()> {
        if self.sources.iter().any(|s| s.shown == self.shown(path)) {
            return Ok(());
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        let ast = match syn::parse_file(&text) {
            Ok(ast) => ast,
            Err(e) => {
                let at = e.span().start();
                self.errors.push(ParseError {
                    file: self.shown(path),
                    line: at.line,
                    column: at.column + 1,
                    message: e.to_string(),
                });
                return Ok(());
            }
        };
        let items = ast.items.clone();
        self.sources.push(Source {
            shown: self.shown(path),
            text,
            ast,
            bin_root,
            in_test,
        });
        self.items(&items, path, module_dir, in_test)
    }

    fn items(&mut self, items: &[syn::Item], file: &Path, module_dir: &Path, in_test: bool) -> std::io::Result<()> {
        for item in items {
            let syn::Item::Mod(m) = item else { continue };
            let test = in_test || is_cfg_test(&m.attrs);
            let name = m.ident.to_string();
            if let Some((_, inline)) = &m.content {
                self.items(inline, file, &module_dir.join(&name), test)?;
                continue;
            }
            let explicit = m.attrs.iter().find_map(|a| match &a.meta {
                syn::Meta::NameValue(nv) if nv.path.is_ident("path") => match &nv.value {
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s), ..
                    }) => Some(s.value()),
                    _ => None,
                },
                _ => None,
            });
            let (path, child_dir) = match explicit {
                Some(p) => {
                    let base = file.parent().unwrap_or(Path::new("."));
                    let path = base.join(p);
                    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
                    (path, dir)
                }
                None => {
                    let flat = module_dir.join(format!("{name}.rs"));
                    if flat.is_file() {
                        (flat, module_dir.join(&name))
                    } else {
                        (module_dir.join(&name).join("mod.rs"), module_dir.join(&name))
                    }
                }
            };
            if path.is_file() {
                self.file(&path, &child_dir, false, test)?;
            }
        }
        Ok(())
    }
}

/// `#[cfg(test)]`.
pub(crate) fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs
        .iter()
        .any(|a| a.path().is_ident("cfg") && a.parse_args::<syn::Ident>().is_ok_and(|i| i == "test"))
}
