//! Parsing of `#[service(..)]`, `#[inject(..)]` and `#[log(..)]`.
//!
//! Every argument is parsed even after an error, so that one build reports
//! every unknown or repeated argument.

use proc_macro2::{Span, TokenStream};
use quote::{quote, ToTokens};
use syn::meta::ParseNestedMeta;
use syn::{Attribute, Ident, LitStr};

use crate::ctxt::Errors;

/// A log level named in an attribute.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    fn parse(lit: &LitStr) -> Option<Level> {
        Some(match lit.value().to_ascii_lowercase().as_str() {
            "trace" => Level::Trace,
            "debug" => Level::Debug,
            "info" => Level::Info,
            "warn" => Level::Warn,
            "error" => Level::Error,
            _ => return None,
        })
    }
}

impl ToTokens for Level {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        let name = Ident::new(
            match self {
                Level::Trace => "TRACE",
                Level::Debug => "DEBUG",
                Level::Info => "INFO",
                Level::Warn => "WARN",
                Level::Error => "ERROR",
            },
            Span::call_site(),
        );
        tokens.extend(quote!(::logwire::__private::Level::#name));
    }
}

/// Sets `slot` once; a second time is an error on the repeated argument.
/// (One helper for every keyword, so no keyword's check can drift.)
fn set_once<T>(slot: &mut Option<T>, value: T, meta: &ParseNestedMeta<'_>, errors: &mut Errors) {
    if slot.is_some() {
        let name = meta.path.to_token_stream();
        errors.at(&meta.path, format!("duplicate `{name}` argument; give it once"));
    } else {
        *slot = Some(value);
    }
}

/// Parses `= "level"` after a `level` keyword.
fn level_value(meta: &ParseNestedMeta<'_>) -> syn::Result<Level> {
    // Any expression is read whole, so that `level = info` is one error.
    let value: syn::Expr = meta.value()?.parse()?;
    let lit = match value {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(lit), ..
        }) => lit,
        other => {
            return Err(syn::Error::new_spanned(
                &other,
                format!(
                    "`level` takes a string: write `level = \"{}\"`, one of \"trace\", \"debug\", \"info\", \"warn\", \"error\"",
                    match &other {
                        syn::Expr::Path(p) => p.to_token_stream().to_string().to_lowercase(),
                        _ => "debug".to_owned(),
                    }
                ),
            ))
        }
    };
    Level::parse(&lit).ok_or_else(|| {
        syn::Error::new_spanned(
            &lit,
            format!(
                "unknown level `{}`; expected one of \"trace\", \"debug\", \"info\", \"warn\", \"error\"",
                lit.value()
            ),
        )
    })
}

/// Calls `each` for every argument of every attribute called `name`,
/// collecting errors instead of stopping at the first.
fn for_each_arg(
    attrs: &[Attribute],
    name: &str,
    errors: &mut Errors,
    mut each: impl FnMut(&ParseNestedMeta<'_>, &mut Errors) -> syn::Result<()>,
) {
    for attr in attrs.iter().filter(|a| a.path().is_ident(name)) {
        if let syn::Meta::Path(path) = &attr.meta {
            errors.at(path, format!("`#[{name}]` needs arguments, as in `#[{name}(..)]`"));
            continue;
        }
        let result = attr.parse_nested_meta(|meta| {
            if let Err(e) = each(&meta, errors) {
                errors.push(e);
                // Skip this argument's value, if any, and go on with the next.
                if meta.input.peek(syn::Token![=]) {
                    let _: TokenStream = meta.value()?.parse()?;
                } else if meta.input.peek(syn::token::Paren) {
                    let _content;
                    syn::parenthesized!(_content in meta.input);
                }
            }
            Ok(())
        });
        if let Err(e) = result {
            errors.push(e);
        }
    }
}

/// `#[service(new = false)]` on a struct.
pub(crate) struct StructArgs {
    /// Whether `new(logger, ..)` is generated; `new = false` for a service
    /// that writes its own.
    pub(crate) new: bool,
}

impl Default for StructArgs {
    fn default() -> Self {
        StructArgs { new: true }
    }
}

impl StructArgs {
    pub(crate) fn parse(args: TokenStream, errors: &mut Errors) -> StructArgs {
        let mut new = None;
        if args.is_empty() {
            return StructArgs::default();
        }
        let parser = syn::meta::parser(|meta| {
            // #[service(new = false)]
            if meta.path.is_ident("new") {
                match meta.value()?.parse::<syn::Expr>()? {
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Bool(b), ..
                    }) => set_once(&mut new, b.value, &meta, errors),
                    other => errors.at(&other, "`new` takes `false` (write your own `new`) or `true`"),
                }
            } else if meta.path.is_ident("level") {
                errors.at(
                    &meta.path,
                    "`level` goes on the impl block: `#[logwire::service(level = \"…\")] impl …`",
                );
                let _: TokenStream = meta.value()?.parse()?;
            } else {
                errors.at(
                    &meta.path,
                    format!(
                        "unknown `service` argument `{}` on a struct; expected `new = false`",
                        meta.path.to_token_stream()
                    ),
                );
                if meta.input.peek(syn::Token![=]) {
                    let _: TokenStream = meta.value()?.parse()?;
                }
            }
            Ok(())
        });
        if let Err(e) = syn::parse::Parser::parse2(parser, args) {
            errors.push(e);
        }
        StructArgs {
            new: new.unwrap_or(true),
        }
    }
}

/// `#[service(level = "…")]` on an impl block.
#[derive(Default)]
pub(crate) struct ServiceArgs {
    pub(crate) level: Option<Level>,
}

impl ServiceArgs {
    pub(crate) fn parse(args: TokenStream, errors: &mut Errors) -> ServiceArgs {
        let mut out = ServiceArgs::default();
        if args.is_empty() {
            return out;
        }
        let parser = syn::meta::parser(|meta| {
            let r = if meta.path.is_ident("level") {
                level_value(&meta).map(|l| set_once(&mut out.level, l, &meta, errors))
            } else {
                Err(meta.error(format!(
                    "unknown `service` argument `{}`; expected `level = \"…\"`",
                    meta.path.to_token_stream()
                )))
            };
            if let Err(e) = r {
                errors.push(e);
                if meta.input.peek(syn::Token![=]) {
                    let _: TokenStream = meta.value()?.parse()?;
                }
            }
            Ok(())
        });
        if let Err(e) = syn::parse::Parser::parse2(parser, args) {
            errors.push(e);
        }
        out
    }
}

/// How a non-logger field of a service is provided.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Inject {
    /// `#[inject(from_ref)]`: axum's `FromRef<S>` of the state.
    FromRef,
    /// `#[inject(default)]`: `Default::default()`.
    Default,
}

/// `#[inject(from_ref)]` or `#[inject(default)]` on a field; the span is
/// the argument's, for errors.
pub(crate) fn inject(attrs: &[Attribute], errors: &mut Errors) -> Option<(Inject, Span)> {
    let mut found: Option<(Inject, Span)> = None;
    for_each_arg(attrs, "inject", errors, |meta, errors| {
        let kind = if meta.path.is_ident("from_ref") {
            Inject::FromRef
        } else if meta.path.is_ident("default") {
            Inject::Default
        } else {
            return Err(meta.error(format!(
                "unknown `inject` argument `{}`; expected `from_ref` or `default`",
                meta.path.to_token_stream()
            )));
        };
        if meta.input.peek(syn::Token![=]) {
            let value: TokenStream = meta.value()?.parse()?;
            let name = meta.path.to_token_stream();
            return Err(syn::Error::new_spanned(
                value,
                format!("`{name}` takes no value: write `#[inject({name})]`"),
            ));
        }
        match found {
            Some((k, _)) if k == kind => set_once(&mut found, (kind, Span::call_site()), meta, errors),
            Some(_) => errors.at(&meta.path, "`from_ref` and `default` exclude each other; keep one"),
            None => found = Some((kind, meta.path.get_ident().map_or_else(Span::call_site, Ident::span))),
        }
        Ok(())
    });
    found
}

/// `#[log(..)]` on a method.
#[derive(Default)]
pub(crate) struct LogArgs {
    /// The attribute itself, for errors about where it stands.
    pub(crate) attr: Option<Attribute>,
    pub(crate) skip: Option<Vec<Ident>>,
    pub(crate) skip_all: Option<Span>,
    pub(crate) record: Option<Vec<Ident>>,
    pub(crate) level: Option<Level>,
    pub(crate) off: Option<Span>,
}

fn ident_list(meta: &ParseNestedMeta<'_>, errors: &mut Errors) -> syn::Result<Vec<Ident>> {
    let mut names: Vec<Ident> = Vec::new();
    meta.parse_nested_meta(|inner| {
        match inner.path.get_ident() {
            Some(name) if names.contains(name) => errors.at(name, format!("`{name}` is named twice")),
            Some(name) => names.push(name.clone()),
            None => errors.at(&inner.path, "expected an argument name"),
        }
        Ok(())
    })?;
    Ok(names)
}

impl LogArgs {
    pub(crate) fn parse(attrs: &[Attribute], errors: &mut Errors) -> LogArgs {
        let mut out = LogArgs {
            attr: attrs.iter().find(|a| a.path().is_ident("log")).cloned(),
            ..LogArgs::default()
        };
        for_each_arg(attrs, "log", errors, |meta, errors| {
            let span = meta.path.get_ident().map_or_else(Span::call_site, Ident::span);
            if meta.path.is_ident("skip") {
                let names = ident_list(meta, errors)?;
                set_once(&mut out.skip, names, meta, errors);
            } else if meta.path.is_ident("record") {
                let names = ident_list(meta, errors)?;
                set_once(&mut out.record, names, meta, errors);
            } else if meta.path.is_ident("skip_all") {
                set_once(&mut out.skip_all, span, meta, errors);
            } else if meta.path.is_ident("off") {
                set_once(&mut out.off, span, meta, errors);
            } else if meta.path.is_ident("level") {
                let level = level_value(meta)?;
                set_once(&mut out.level, level, meta, errors);
            } else {
                return Err(meta.error(format!(
                    "unknown `log` argument `{}`; expected `skip(..)`, `skip_all`, `record(..)`, `level = \"…\"` or `off`",
                    meta.path.to_token_stream()
                )));
            }
            Ok(())
        });
        out
    }
}

/// `attrs` without the attributes only our macros understand.
pub(crate) fn strip(attrs: &[Attribute], names: &[&str]) -> Vec<Attribute> {
    attrs
        .iter()
        .filter(|a| !names.iter().any(|n| a.path().is_ident(n)))
        .cloned()
        .collect()
}

/// `#[context(skip)]` on a field of a `#[derive(Context)]` struct: its span.
pub(crate) fn context_skip(attrs: &[Attribute], errors: &mut Errors) -> Option<Span> {
    let mut skip = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("context")) {
        let parsed = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("skip") {
                set_once(&mut skip, syn::spanned::Spanned::span(&meta.path), &meta, errors);
                Ok(())
            } else {
                Err(meta.error("unknown `context` argument; the one accepted is `#[context(skip)]`"))
            }
        });
        if let Err(e) = parsed {
            errors.push(e);
        }
    }
    skip
}
