//! What the names of one file mean: which local names stand for
//! `logwire::Logger`, the logger builders and logwire's macros, through any
//! `use` (renamed, grouped, glob) or type alias.

use std::collections::HashSet;

use syn::visit::Visit;

/// The names of one file that lead to logwire.
#[derive(Default)]
pub(crate) struct Names {
    /// Names of the `logwire` crate itself (`logwire`, or `use logwire as lw`).
    crates: HashSet<String>,
    logger: HashSet<String>,
    builders: HashSet<String>,
    service: HashSet<String>,
    injectable: HashSet<String>,
    context: HashSet<String>,
}

impl Names {
    pub(crate) fn of(file: &syn::File) -> Names {
        let mut names = Names {
            crates: HashSet::from(["logwire".to_owned()]),
            ..Names::default()
        };
        let mut collect = Collect(&mut names);
        collect.visit_file(file);
        // Aliases may name aliases: `type A = Logger; type B = A;`.
        for _ in 0..3 {
            let mut aliases = Aliases(&mut names, false);
            aliases.visit_file(file);
            if !aliases.1 {
                break;
            }
        }
        names
    }

    fn is_crate(&self, seg: &syn::Ident) -> bool {
        self.crates.contains(&seg.to_string())
    }

    fn segments(path: &syn::Path) -> Vec<&syn::Ident> {
        path.segments.iter().map(|s| &s.ident).collect()
    }

    /// Whether a type path names `logwire::Logger`.
    pub(crate) fn is_logger_path(&self, path: &syn::Path) -> bool {
        match Names::segments(path).as_slice() {
            [one] => self.logger.contains(&one.to_string()),
            [krate, last] => self.is_crate(krate) && *last == "Logger",
            _ => false,
        }
    }

    pub(crate) fn is_logger_type(&self, ty: &syn::Type) -> bool {
        match ty {
            syn::Type::Path(p) if p.qself.is_none() => self.is_logger_path(&p.path),
            _ => false,
        }
    }

    /// Whether a called path builds a logger: `file_logger`,
    /// `console_logger`, `Logger::builder`, `Logger::capture`.
    pub(crate) fn is_builder(&self, path: &syn::Path) -> bool {
        let segs = Names::segments(path);
        let builder_fn = |i: &syn::Ident| *i == "file_logger" || *i == "console_logger";
        let logger_fn = |i: &syn::Ident| *i == "builder" || *i == "capture";
        match segs.as_slice() {
            [one] => self.builders.contains(&one.to_string()),
            [krate, f] if self.is_crate(krate) => builder_fn(f),
            [ty, f] => self.logger.contains(&ty.to_string()) && logger_fn(f),
            [krate, ty, f] => self.is_crate(krate) && *ty == "Logger" && logger_fn(f),
            _ => false,
        }
    }

    /// Whether an attribute is `#[logwire::service]` (or `#[service]` imported from it).
    pub(crate) fn is_service_attr(&self, attr: &syn::Attribute) -> bool {
        match Names::segments(attr.path()).as_slice() {
            [one] => self.service.contains(&one.to_string()),
            [krate, last] => self.is_crate(krate) && *last == "service",
            _ => false,
        }
    }

    /// Whether a struct derives `logwire::Injectable` or `logwire::Context`
    /// (a worker context: it holds the logger its services are built with).
    pub(crate) fn derives_injectable(&self, attr: &syn::Attribute) -> bool {
        if !attr.path().is_ident("derive") {
            return false;
        }
        let Ok(paths) =
            attr.parse_args_with(syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated)
        else {
            return false;
        };
        paths.iter().any(|p| match Names::segments(p).as_slice() {
            [one] => self.injectable.contains(&one.to_string()) || self.context.contains(&one.to_string()),
            [krate, last] => self.is_crate(krate) && (*last == "Injectable" || *last == "Context"),
            _ => false,
        })
    }
}

struct Collect<'a>(&'a mut Names);

impl Collect<'_> {
    fn tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => self.bind(prefix, &n.ident.to_string(), &n.ident.to_string()),
            syn::UseTree::Rename(r) => self.bind(prefix, &r.ident.to_string(), &r.rename.to_string()),
            syn::UseTree::Glob(_) => {
                if prefix.len() == 1 && self.0.crates.contains(&prefix[0]) {
                    for name in ["Logger", "file_logger", "console_logger", "service", "Injectable"] {
                        self.bind(prefix, name, name);
                    }
                }
            }
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.tree(prefix, t);
                }
            }
        }
    }

    /// `use {prefix}::{name} as {local}`.
    fn bind(&mut self, prefix: &[String], name: &str, local: &str) {
        let names = &mut *self.0;
        let from_logwire = prefix.len() == 1 && names.crates.contains(&prefix[0]);
        if prefix.is_empty() && names.crates.contains(name) {
            names.crates.insert(local.to_owned()); // use logwire as lw;
            return;
        }
        if !from_logwire {
            return;
        }
        let set = match name {
            "Logger" => &mut names.logger,
            "file_logger" | "console_logger" => &mut names.builders,
            "service" => &mut names.service,
            "Injectable" => &mut names.injectable,
            "Context" => &mut names.context,
            _ => return,
        };
        set.insert(local.to_owned());
    }
}

impl<'ast> Visit<'ast> for Collect<'_> {
    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        let mut prefix = Vec::new();
        if u.leading_colon.is_some() {
            prefix.clear();
        }
        self.tree(&mut prefix, &u.tree);
    }
}

/// `type L = logwire::Logger;` makes `L` a name of the logger type.
struct Aliases<'a>(&'a mut Names, bool);

impl<'ast> Visit<'ast> for Aliases<'_> {
    fn visit_item_type(&mut self, t: &'ast syn::ItemType) {
        let name = t.ident.to_string();
        if self.0.is_logger_type(&t.ty) && self.0.logger.insert(name) {
            self.1 = true;
        }
    }
}
