//! The rules, LW001–LW006, over the parsed files of one crate.

use std::collections::{HashMap, HashSet};

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::visit::Visit;

use crate::finding::{Code, Finding};
use crate::names::Names;
use crate::walk::{is_cfg_test, Source};

fn is_test_fn(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        let last = a.path().segments.last().map(|s| s.ident.to_string());
        matches!(last.as_deref(), Some("test"))
    }) || is_cfg_test(attrs)
}

/// What the whole crate says: which types are services (a struct with a
/// logger field, annotated or not) and which functions are axum handlers.
#[derive(Default)]
pub(crate) struct CrateFacts {
    services: HashSet<String>,
    handlers: HashSet<String>,
    /// Types with a derived `Debug` and a secret-named field: type → field.
    secret_debug: HashMap<String, String>,
    /// Types with a hand-written `Debug` impl.
    own_debug: HashSet<String>,
}

/// Names that mark a secret, matched case-insensitively anywhere in a name:
/// the list `#[logwire::service]` and logwire's redaction use.
const SECRET_MARKERS: [&str; 6] = ["password", "secret", "token", "credential", "api_key", "authorization"];

fn is_secret(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SECRET_MARKERS.iter().any(|m| lower.contains(m))
}

/// Whether `#[derive(..)]` among `attrs` derives `Debug`.
fn derives_debug(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().filter(|a| a.path().is_ident("derive")).any(|a| {
        a.parse_args_with(syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated)
            .is_ok_and(|paths| {
                paths
                    .iter()
                    .any(|p| p.segments.last().is_some_and(|s| s.ident == "Debug"))
            })
    })
}

/// The first secret-named field of a struct or of an enum's variants.
fn secret_field<'f>(mut fields: impl Iterator<Item = &'f syn::Field>) -> Option<String> {
    fields.find_map(|f| f.ident.as_ref().map(|i| i.to_string()).filter(|n| is_secret(n)))
}

/// The arguments named in `#[log(record(a, b))]`.
fn recorded_args(attrs: &[syn::Attribute]) -> Vec<syn::Ident> {
    let mut out = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("log")) {
        let Ok(list) = attr.meta.require_list() else { continue };
        let mut tokens = list.tokens.clone().into_iter().peekable();
        while let Some(tt) = tokens.next() {
            let proc_macro2::TokenTree::Ident(i) = tt else { continue };
            if i != "record" {
                continue;
            }
            if let Some(proc_macro2::TokenTree::Group(g)) = tokens.peek() {
                out.extend(g.stream().into_iter().filter_map(|t| match t {
                    proc_macro2::TokenTree::Ident(i) => Some(i),
                    _ => None,
                }));
            }
        }
    }
    out
}

/// The type an argument has, behind references.
fn arg_type<'s>(sig: &'s syn::Signature, name: &syn::Ident) -> Option<&'s syn::Type> {
    sig.inputs.iter().find_map(|input| match input {
        syn::FnArg::Typed(t) => match &*t.pat {
            syn::Pat::Ident(p) if p.ident == *name => {
                let mut ty = &*t.ty;
                while let syn::Type::Reference(r) = ty {
                    ty = &r.elem;
                }
                Some(ty)
            }
            _ => None,
        },
        syn::FnArg::Receiver(_) => None,
    })
}

impl CrateFacts {
    pub(crate) fn of(files: &[(&Source, Names)]) -> CrateFacts {
        let mut facts = CrateFacts::default();
        for (source, names) in files {
            let mut collect = Facts {
                names,
                facts: &mut facts,
            };
            collect.visit_file(&source.ast);
        }
        facts
    }
}

struct Facts<'a> {
    names: &'a Names,
    facts: &'a mut CrateFacts,
}

fn has_logger_field(names: &Names, s: &syn::ItemStruct) -> bool {
    s.fields.iter().any(|f| names.is_logger_type(&f.ty))
}

/// The last identifier of a path expression (`get(handlers::list)` → `list`).
fn handler_name(e: &syn::Expr) -> Option<String> {
    match e {
        syn::Expr::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

const METHOD_ROUTERS: [&str; 9] = [
    "get", "post", "put", "delete", "patch", "head", "options", "trace", "any",
];

/// The handlers in a method router expression: `get(a)`, `get(a).post(b)`,
/// `axum::routing::post(b)`.
fn handlers_in(e: &syn::Expr, out: &mut HashSet<String>) {
    match e {
        syn::Expr::Call(c) => {
            if let syn::Expr::Path(p) = &*c.func {
                let last = p.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
                if METHOD_ROUTERS.contains(&last.as_str()) {
                    out.extend(c.args.first().and_then(handler_name));
                }
            }
        }
        syn::Expr::MethodCall(m) => {
            if METHOD_ROUTERS.contains(&m.method.to_string().as_str()) {
                out.extend(m.args.first().and_then(handler_name));
            }
            handlers_in(&m.receiver, out);
        }
        _ => {}
    }
}

impl<'ast> Visit<'ast> for Facts<'_> {
    fn visit_item_struct(&mut self, s: &'ast syn::ItemStruct) {
        if has_logger_field(self.names, s) {
            self.facts.services.insert(s.ident.to_string());
        }
        if derives_debug(&s.attrs) {
            if let Some(field) = secret_field(s.fields.iter()) {
                self.facts.secret_debug.insert(s.ident.to_string(), field);
            }
        }
    }

    fn visit_item_enum(&mut self, e: &'ast syn::ItemEnum) {
        if derives_debug(&e.attrs) {
            if let Some(field) = secret_field(e.variants.iter().flat_map(|v| v.fields.iter())) {
                self.facts.secret_debug.insert(e.ident.to_string(), field);
            }
        }
    }

    fn visit_item_impl(&mut self, i: &'ast syn::ItemImpl) {
        let is_debug = i
            .trait_
            .as_ref()
            .is_some_and(|(_, path, _)| path.segments.last().is_some_and(|s| s.ident == "Debug"));
        if is_debug {
            self.facts.own_debug.extend(type_name(&i.self_ty));
        }
        syn::visit::visit_item_impl(self, i);
    }

    fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
        if m.method == "route" || m.method == "route_service" {
            if let Some(router) = m.args.iter().nth(1) {
                handlers_in(router, &mut self.facts.handlers);
            }
        }
        syn::visit::visit_expr_method_call(self, m);
    }
}

/// The last identifier of a type path (`crate::services::BuildService` →
/// `BuildService`).
fn type_name(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

/// Checks one file.
pub(crate) fn check(source: &Source, names: &Names, facts: &CrateFacts, out: &mut Vec<Finding>) {
    let mut rules = Rules {
        source,
        names,
        facts,
        out,
        test_depth: usize::from(source.in_test),
        fn_stack: Vec::new(),
        service_impl: 0,
        mod_depth: 0,
    };
    rules.visit_file(&source.ast);
}

struct Rules<'a> {
    source: &'a Source,
    names: &'a Names,
    facts: &'a CrateFacts,
    out: &'a mut Vec<Finding>,
    /// Inside `#[cfg(test)]` or a `#[test]` function.
    test_depth: usize,
    /// Enclosing functions: (name, at the top level of a binary's root).
    fn_stack: Vec<(String, bool)>,
    /// Inside an impl block of a service type.
    service_impl: usize,
    mod_depth: usize,
}

impl Rules<'_> {
    fn push(&mut self, code: Code, at: Span, message: String, help: &str) {
        let start = at.start();
        let end = at.end();
        let width = if end.line == start.line && end.column > start.column {
            end.column - start.column
        } else {
            1
        };
        self.out.push(Finding {
            code,
            file: self.source.shown.clone(),
            line: start.line,
            column: start.column + 1,
            width,
            message,
            help: help.to_owned(),
            source_line: self
                .source
                .text
                .lines()
                .nth(start.line.saturating_sub(1))
                .unwrap_or("")
                .to_owned(),
        });
    }

    /// Where a logger may be built: `main`, a binary's top level, tests.
    fn may_build_logger(&self) -> bool {
        self.test_depth > 0 || self.fn_stack.iter().any(|(name, bin_top)| name == "main" || *bin_top)
    }

    fn in_handler(&self) -> bool {
        self.fn_stack
            .last()
            .is_some_and(|(name, _)| self.facts.handlers.contains(name))
    }

    fn call(&mut self, func: &syn::Expr) {
        let syn::Expr::Path(p) = func else { return };
        if self.names.is_builder(&p.path) && !self.may_build_logger() {
            let called = p
                .path
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect::<Vec<_>>()
                .join("::");
            self.push(
                Code::LW003,
                p.path.span(),
                format!("`{called}` builds a logger outside `main`"),
                "build loggers once in `main` (or a binary's top level) and pass them in; services receive theirs as their first constructor argument",
            );
        }
        let segs: Vec<&syn::PathSegment> = p.path.segments.iter().collect();
        if let [.., ty, new] = segs.as_slice() {
            if new.ident == "new" && self.in_handler() && self.facts.services.contains(&ty.ident.to_string()) {
                let handler = self.fn_stack.last().map(|(n, _)| n.clone()).unwrap_or_default();
                self.push(
                    Code::LW005,
                    new.ident.span(),
                    format!("handler `{handler}` builds `{}` with `new`", ty.ident),
                    "take the service as a handler argument (`builds: BuildService`): it is an extractor, built with the request's logger",
                );
            }
        }
    }

    /// LW006: `#[log(record(x))]` where the crate derives `Debug` for `x`'s
    /// type, which has a secret-named field.
    fn recorded_secrets(&mut self, f: &syn::ImplItemFn) {
        for arg in recorded_args(&f.attrs) {
            let Some(ty) = arg_type(&f.sig, &arg).and_then(type_name) else {
                continue;
            };
            if self.facts.own_debug.contains(&ty) {
                continue;
            }
            if let Some(field) = self.facts.secret_debug.get(&ty) {
                let message = format!(
                    "`record({arg})` writes `{ty}` with its derived `Debug`, and `{ty}` has a secret field `{field}`"
                );
                self.push(
                    Code::LW006,
                    arg.span(),
                    message,
                    "logwire writes secret-named fields as `***`, but a secret under another name is written as it is: implement `Debug` for the type to print only what is safe, or record the fields you need as arguments",
                );
            }
        }
    }

    /// Arguments of a macro call that parse as expressions are checked too.
    fn macro_args(&mut self, mac: &syn::Macro) {
        let last = mac
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        if self.service_impl > 0 && ["println", "eprintln", "print", "eprint", "dbg"].contains(&last.as_str()) {
            self.push(
                Code::LW004,
                mac.path.span(),
                format!("`{last}!` in a service method writes where no log is"),
                "log through `self.logger` instead (`logwire::info!(self.logger, \"EVENT\", key = value)`)",
            );
        }
        let parser = syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated;
        if let Ok(args) = mac.parse_body_with(parser) {
            for arg in &args {
                self.visit_expr(arg);
            }
        }
    }
}

impl<'ast> Visit<'ast> for Rules<'_> {
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        let test = is_cfg_test(&m.attrs);
        self.test_depth += usize::from(test);
        self.mod_depth += 1;
        syn::visit::visit_item_mod(self, m);
        self.mod_depth -= 1;
        self.test_depth -= usize::from(test);
    }

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        let test = is_test_fn(&f.attrs);
        self.test_depth += usize::from(test);
        let bin_top = self.source.bin_root && self.mod_depth == 0 && self.fn_stack.is_empty();
        self.fn_stack.push((f.sig.ident.to_string(), bin_top));
        syn::visit::visit_item_fn(self, f);
        self.fn_stack.pop();
        self.test_depth -= usize::from(test);
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        if self.service_impl > 0 {
            self.recorded_secrets(f);
        }
        let test = is_test_fn(&f.attrs);
        self.test_depth += usize::from(test);
        self.fn_stack.push((f.sig.ident.to_string(), false));
        syn::visit::visit_impl_item_fn(self, f);
        self.fn_stack.pop();
        self.test_depth -= usize::from(test);
    }

    fn visit_item_struct(&mut self, s: &'ast syn::ItemStruct) {
        let is_service = s
            .attrs
            .iter()
            .any(|a| self.names.is_service_attr(a) || self.names.derives_injectable(a));
        if has_logger_field(self.names, s) && !is_service {
            self.push(
                Code::LW001,
                s.ident.span(),
                format!("`{}` has a `logwire::Logger` field but is not a service", s.ident),
                "add `#[logwire::service]` (or `#[derive(logwire::Injectable)]`): the compiler then checks that `logger: Logger` comes first and generates `new` and the DI glue",
            );
        }
        syn::visit::visit_item_struct(self, s);
    }

    fn visit_item_impl(&mut self, i: &'ast syn::ItemImpl) {
        let service = type_name(&i.self_ty).is_some_and(|n| self.facts.services.contains(&n));
        if service && i.trait_.is_none() && !i.attrs.iter().any(|a| self.names.is_service_attr(a)) {
            let name = type_name(&i.self_ty).unwrap_or_default();
            self.push(
                Code::LW002,
                i.impl_token.span,
                format!("the methods of service `{name}` log nothing: this `impl` has no `#[logwire::service]`"),
                "add `#[logwire::service]` above the `impl`: each method then writes METHOD_END / METHOD_ERROR with its arguments recorded safely",
            );
        }
        self.service_impl += usize::from(service);
        syn::visit::visit_item_impl(self, i);
        self.service_impl -= usize::from(service);
    }

    fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
        self.call(&c.func);
        syn::visit::visit_expr_call(self, c);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        self.macro_args(m);
    }
}
