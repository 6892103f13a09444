//! Every rule a service must follow, as an error on the user's code that
//! says the fix. Nothing here generates code.

use quote::ToTokens;
use syn::Type;

use crate::ast::{last_segment, Impl, Method, Struct};
use crate::ctxt::Errors;

/// Whether `ty` is spelled as logwire's logger type (`Logger`,
/// `logwire::Logger`); the compiler checks what it really is.
fn spelled_logger(ty: &Type) -> bool {
    matches!(ty, Type::Path(_)) && last_segment(ty).is_some_and(|i| i == "Logger")
}

/// Checks the struct; returns the logger field's type when it is spelled
/// right, for the compiler to check what it really is.
pub(crate) fn check_struct<'a>(s: &Struct<'a>, errors: &mut Errors) -> Option<&'a Type> {
    let position = s.fields.iter().position(|f| f.ident == "logger");
    match position {
        None => match s.fields.iter().find(|f| spelled_logger(f.ty)) {
            // `log: Logger`: the field is there, under another name.
            Some(f) => {
                errors.at(
                    f.ident,
                    format!(
                        "a logwire service's logger field must be called `logger`; rename `{}` to `logger` (and make it the first field)",
                        f.ident
                    ),
                );
                None
            }
            None => {
                let at = s.fields.first().map(|f| f.original.to_token_stream());
                errors.at(
                    at.unwrap_or_else(|| s.original.ident.to_token_stream()),
                    "a logwire service needs `logger: Logger` as its first field; add it at the top",
                );
                None
            }
        },
        Some(i) if i > 0 => {
            errors.at(
                s.fields[i].original,
                "the first field of a logwire service must be `logger: Logger`; move `logger` to the top",
            );
            None
        }
        Some(_) => {
            let logger = &s.fields[0];
            if let Some((_, span)) = logger.inject {
                errors.push(syn::Error::new(
                    span,
                    "the logger comes from the request or the worker context; remove `#[inject(..)]` from `logger`",
                ));
            }
            if spelled_logger(logger.ty) {
                Some(logger.ty)
            } else {
                errors.at(
                    logger.ty,
                    format!(
                        "`logger` must be a `logwire::Logger`, not `{}`",
                        logger.ty.to_token_stream().to_string().replace(' ', "")
                    ),
                );
                None
            }
        }
    }
}

/// Checks the impl block; returns the logger parameter types of `new` to
/// check through the compiler.
pub(crate) fn check_impl<'a>(imp: &Impl<'a>, errors: &mut Errors) -> Vec<&'a Type> {
    let mut logger_types = Vec::new();
    for method in &imp.fns {
        check_log_args(method, errors);
        if !method.has_self && method.name() == "new" {
            logger_types.extend(check_new(method, errors));
        }
    }
    logger_types
}

fn check_log_args(m: &Method<'_>, errors: &mut Errors) {
    let log = &m.log;
    let Some(attr) = &log.attr else { return };
    if !m.has_self {
        errors.at(
            attr,
            format!(
                "`#[log]` applies to methods that take `self`; `{}` has no `self`, so it is not logged",
                m.name()
            ),
        );
        return;
    }
    let names: Vec<_> = m.args.iter().filter_map(|a| a.name).collect();
    // `skip(self)`, as tracing users write it: `self` is never recorded anyway.
    let is_self = |n: &&syn::Ident| *n == "self";
    for name in log
        .skip
        .iter()
        .flatten()
        .filter(|n| !is_self(n))
        .chain(log.record.iter().flatten())
    {
        if !names.contains(&name) {
            errors.at(name, format!("`{name}` is not an argument of `{}`", m.name()));
        }
    }
    if let (Some(skip), Some(record)) = (&log.skip, &log.record) {
        for name in record.iter().filter(|n| skip.contains(n)) {
            errors.at(name, format!("`{name}` is both skipped and recorded; keep one"));
        }
    }
    if let Some(span) = log.skip_all {
        if log.skip.is_some() || log.record.is_some() {
            errors.push(syn::Error::new(
                span,
                "`skip_all` records no argument; drop `skip(..)` and `record(..)` beside it",
            ));
        }
    }
    if let Some(span) = log.off {
        if log.skip.is_some() || log.record.is_some() || log.skip_all.is_some() || log.level.is_some() {
            errors.push(syn::Error::new(
                span,
                "`off` turns logging off for this method; drop the other `log` arguments",
            ));
        }
    }
}

fn check_new<'a>(m: &Method<'a>, errors: &mut Errors) -> Option<&'a Type> {
    let sig = &m.original.sig;
    let message = "a logwire service's `new` must take `logger: Logger` as its first parameter";
    match sig.inputs.first() {
        None => {
            errors.at(&sig.ident, format!("{message}; add it"));
            None
        }
        Some(first) => match m.args.first() {
            Some(arg) if arg.name.is_some_and(|n| n == "logger") && spelled_logger(arg.ty) => Some(arg.ty),
            Some(arg)
                if arg.name.is_some_and(|n| n == "logger")
                    && matches!(arg.ty, Type::Reference(r) if spelled_logger(&r.elem)) =>
            {
                errors.at(
                    arg.ty,
                    "a logwire service's `new` takes its logger by value: write `logger: Logger` (callers clone theirs), not a reference",
                );
                None
            }
            _ => {
                let fix = if m.args.iter().any(|a| a.name.is_some_and(|n| n == "logger")) {
                    "move `logger` to the front"
                } else {
                    "add it at the front"
                };
                errors.at(first, format!("{message}; {fix}"));
                None
            }
        },
    }
}

/// The rules of `#[derive(Context)]`: a `logger` field, each provided type
/// once, no field whose type is one of the struct's own type parameters
/// (Rust's orphan rule forbids providing those).
pub(crate) fn check_context(c: &crate::ast::Context<'_>, errors: &mut Errors) {
    if !c.fields.iter().any(|f| f.ident == "logger") {
        errors.at(
            &c.original.ident,
            "a logwire context needs a `logger: Logger` field: services built from it take their logger from there",
        );
    }
    let mut seen: Vec<(String, &syn::Ident)> = Vec::new();
    for f in c.fields.iter().filter(|f| f.ident != "logger" && f.skip.is_none()) {
        let spelled = f.ty.to_token_stream().to_string();
        if let Some((_, first)) = seen.iter().find(|(t, _)| *t == spelled) {
            errors.at(
                f.ty,
                format!(
                    "`{first}` already provides `{spelled}`: a context provides each type once; mark one `#[context(skip)]`"
                ),
            );
        } else {
            seen.push((spelled, f.ident));
        }
        let is_param = matches!(f.ty, syn::Type::Path(p) if p.qself.is_none()
            && p.path.get_ident().is_some_and(|i| c.original.generics.type_params().any(|t| t.ident == *i)));
        if is_param {
            errors.at(
                f.ty,
                "a field whose type is a type parameter of the context cannot be provided (Rust's orphan rule); mark it `#[context(skip)]`",
            );
        }
    }
}
