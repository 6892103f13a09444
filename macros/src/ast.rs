//! Borrowed views of the user's item. Each keeps `original` so that errors
//! point at the user's code.

use proc_macro2::Span;
use syn::{DeriveInput, FnArg, Ident, ImplItem, ImplItemFn, ItemImpl, Pat, PatType, Type};

use crate::attr::{self, Inject, LogArgs, ServiceArgs, StructArgs};
use crate::ctxt::Errors;

/// A struct under `#[service]` or `#[derive(Injectable)]`.
pub(crate) struct Struct<'a> {
    pub(crate) original: &'a DeriveInput,
    pub(crate) fields: Vec<Field<'a>>,
    pub(crate) args: StructArgs,
}

pub(crate) struct Field<'a> {
    pub(crate) original: &'a syn::Field,
    pub(crate) ident: &'a Ident,
    pub(crate) ty: &'a Type,
    pub(crate) inject: Option<(Inject, Span)>,
}

impl<'a> Struct<'a> {
    /// `None` (with the error recorded) when the item is not a struct with
    /// named fields.
    pub(crate) fn from_syn(input: &'a DeriveInput, errors: &mut Errors) -> Option<Struct<'a>> {
        let named = match &input.data {
            syn::Data::Struct(s) => match &s.fields {
                syn::Fields::Named(named) => named,
                syn::Fields::Unnamed(_) => {
                    errors.at(
                        &input.ident,
                        "a logwire service needs named fields: `struct Name { logger: Logger, .. }`, not a tuple struct",
                    );
                    return None;
                }
                syn::Fields::Unit => {
                    errors.at(
                        &input.ident,
                        "a logwire service needs a logger: write `struct Name { logger: Logger }`, not a unit struct",
                    );
                    return None;
                }
            },
            syn::Data::Enum(e) => {
                errors.at(
                    e.enum_token,
                    "a logwire service must be a struct with named fields (`struct Name { logger: Logger, .. }`), not an enum",
                );
                return None;
            }
            syn::Data::Union(u) => {
                errors.at(
                    u.union_token,
                    "a logwire service must be a struct with named fields (`struct Name { logger: Logger, .. }`), not a union",
                );
                return None;
            }
        };
        let fields = named
            .named
            .iter()
            .filter_map(|f| {
                Some(Field {
                    original: f,
                    ident: f.ident.as_ref()?,
                    ty: &f.ty,
                    inject: attr::inject(&f.attrs, errors),
                })
            })
            .collect();
        Some(Struct {
            original: input,
            fields,
            args: StructArgs::default(),
        })
    }
}

/// An impl block under `#[service]`.
pub(crate) struct Impl<'a> {
    pub(crate) original: &'a ItemImpl,
    /// `BuildService`, for `BuildService::method` names.
    pub(crate) type_name: String,
    pub(crate) args: ServiceArgs,
    pub(crate) fns: Vec<Method<'a>>,
}

pub(crate) struct Method<'a> {
    pub(crate) original: &'a ImplItemFn,
    pub(crate) log: LogArgs,
    pub(crate) has_self: bool,
    pub(crate) args: Vec<Arg<'a>>,
}

/// A typed parameter; `name` is `None` for patterns such as `(a, b): (u8, u8)`.
pub(crate) struct Arg<'a> {
    pub(crate) original: &'a PatType,
    pub(crate) name: Option<&'a Ident>,
    pub(crate) ty: &'a Type,
}

impl<'a> Impl<'a> {
    pub(crate) fn from_syn(original: &'a ItemImpl, args: ServiceArgs, errors: &mut Errors) -> Impl<'a> {
        let type_name = match &*original.self_ty {
            Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
            _ => None,
        }
        .unwrap_or_else(|| "Self".to_owned());
        let fns = original
            .items
            .iter()
            .filter_map(|item| match item {
                ImplItem::Fn(f) => Some(Method::from_syn(f, errors)),
                _ => None,
            })
            .collect();
        Impl {
            original,
            type_name,
            args,
            fns,
        }
    }
}

impl<'a> Method<'a> {
    fn from_syn(original: &'a ImplItemFn, errors: &mut Errors) -> Method<'a> {
        let mut has_self = false;
        let mut args = Vec::new();
        for input in &original.sig.inputs {
            match input {
                FnArg::Receiver(_) => has_self = true,
                FnArg::Typed(pt) => args.push(Arg {
                    original: pt,
                    name: match &*pt.pat {
                        Pat::Ident(p) => Some(&p.ident),
                        _ => None,
                    },
                    ty: &pt.ty,
                }),
            }
        }
        Method {
            original,
            log: LogArgs::parse(&original.attrs, errors),
            has_self,
            args,
        }
    }

    pub(crate) fn name(&self) -> &'a Ident {
        &self.original.sig.ident
    }
}

/// The last path segment of a type, through references: `Logger` for
/// `logwire::Logger` or `&Logger`.
pub(crate) fn last_segment(ty: &Type) -> Option<&Ident> {
    match ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last().map(|s| &s.ident),
        Type::Reference(r) => last_segment(&r.elem),
        Type::Group(g) => last_segment(&g.elem),
        Type::Paren(p) => last_segment(&p.elem),
        _ => None,
    }
}

/// A struct under `#[derive(Context)]`: a worker context.
pub(crate) struct Context<'a> {
    pub(crate) original: &'a DeriveInput,
    pub(crate) fields: Vec<ContextField<'a>>,
}

pub(crate) struct ContextField<'a> {
    pub(crate) original: &'a syn::Field,
    pub(crate) ident: &'a Ident,
    pub(crate) ty: &'a Type,
    /// `#[context(skip)]`: not provided to services.
    pub(crate) skip: Option<Span>,
}

impl<'a> Context<'a> {
    /// `None` (with the error recorded) when the item is not a struct with
    /// named fields.
    pub(crate) fn from_syn(input: &'a DeriveInput, errors: &mut Errors) -> Option<Context<'a>> {
        let syn::Data::Struct(syn::DataStruct {
            fields: syn::Fields::Named(named),
            ..
        }) = &input.data
        else {
            errors.at(
                &input.ident,
                "a logwire context is a struct with named fields: `struct WorkerCtx { logger: Logger, db: Db }`",
            );
            return None;
        };
        let fields = named
            .named
            .iter()
            .filter_map(|f| {
                Some(ContextField {
                    original: f,
                    ident: f.ident.as_ref()?,
                    ty: &f.ty,
                    skip: attr::context_skip(&f.attrs, errors),
                })
            })
            .collect();
        Some(Context {
            original: input,
            fields,
        })
    }
}
