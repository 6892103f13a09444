//! Procedural macros of [logwire](https://docs.rs/logwire): `#[service]`,
//! `#[derive(Injectable)]` and `#[derive(Context)]`. Use them through the `logwire` crate, which
//! re-exports them and documents them.
//!
//! Each macro runs in four stages: `ast` (borrowed views of the input),
//! `attr` (attribute arguments), `valid` (every rule, as errors on the
//! user's code) and `expand` (code generation only), with `fallback`
//! emitting the user's item when there were errors.

#![forbid(unsafe_code)]

mod ast;
mod attr;
mod ctxt;
mod expand;
mod fallback;
mod valid;

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::quote;
use syn::{DeriveInput, Item, ItemImpl};

use crate::ctxt::Errors;

/// See `logwire::service`.
#[proc_macro_attribute]
pub fn service(args: TokenStream, input: TokenStream) -> TokenStream {
    // Input that is not valid Rust goes back untouched, so that rustc
    // reports the real error.
    let Ok(item) = syn::parse::<Item>(input.clone()) else {
        return input;
    };
    let args = TokenStream2::from(args);
    match item {
        Item::Impl(imp) => service_impl(args, &imp).into(),
        Item::Struct(_) | Item::Enum(_) | Item::Union(_) => {
            let Ok(derive) = syn::parse::<DeriveInput>(input.clone()) else {
                return input;
            };
            // Both would generate the same items: say so once, and let the
            // derive generate them.
            if let Some(derive_path) = injectable_derive(&derive.attrs) {
                let error = syn::Error::new_spanned(
                    derive_path,
                    "`#[logwire::service]` and `#[derive(logwire::Injectable)]` generate the same on a struct; keep one",
                )
                .to_compile_error();
                let input = TokenStream2::from(input);
                return quote!(#input #error).into();
            }
            let mut errors = Errors::default();
            let struct_args = attr::StructArgs::parse(args, &mut errors);
            service_struct(&derive, errors, Owner::Attribute(struct_args)).into()
        }
        other => {
            let error = syn::Error::new_spanned(
                &other,
                "`#[service]` goes on a struct (`struct Name { logger: Logger, .. }`) or on its impl block",
            );
            let error = error.to_compile_error();
            quote!(#other #error).into()
        }
    }
}

/// The `Injectable` in a `#[derive(..)]` of `attrs`, if any.
fn injectable_derive(attrs: &[syn::Attribute]) -> Option<syn::Path> {
    attrs.iter().filter(|a| a.path().is_ident("derive")).find_map(|a| {
        let paths = a
            .parse_args_with(syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated)
            .ok()?;
        paths
            .into_iter()
            .find(|p| p.segments.last().is_some_and(|s| s.ident == "Injectable"))
    })
}

/// See `logwire::Injectable`.
#[proc_macro_derive(Injectable, attributes(inject))]
pub fn derive_injectable(input: TokenStream) -> TokenStream {
    match syn::parse::<DeriveInput>(input) {
        Ok(derive) => service_struct(&derive, Errors::default(), Owner::Derive).into(),
        Err(e) => e.to_compile_error().into(),
    }
}

/// See `logwire::Context`.
#[proc_macro_derive(Context, attributes(context))]
pub fn derive_context(input: TokenStream) -> TokenStream {
    let derive = match syn::parse::<DeriveInput>(input) {
        Ok(derive) => derive,
        Err(e) => return e.to_compile_error().into(),
    };
    let mut errors = Errors::default();
    let Some(context) = ast::Context::from_syn(&derive, &mut errors) else {
        return errors.finish().map(|e| e.to_compile_error()).unwrap_or_default().into();
    };
    valid::check_context(&context, &mut errors);
    match errors.finish() {
        None => expand::worker_context::expand(&context).into(),
        Some(error) => error.to_compile_error().into(),
    }
}

/// Who emits the struct itself: an attribute replaces the item, a derive
/// only adds to it.
enum Owner {
    /// `#[service(..)]`, with its arguments.
    Attribute(attr::StructArgs),
    Derive,
}

/// One implementation for `#[service]` and `#[derive(Injectable)]` on a
/// struct.
fn service_struct(input: &DeriveInput, mut errors: Errors, owner: Owner) -> TokenStream2 {
    // The struct as written minus our field attributes, when we own it.
    let (item, args) = match owner {
        Owner::Attribute(args) => (fallback::strip_inject(input), args),
        Owner::Derive => (TokenStream2::new(), attr::StructArgs::default()),
    };
    let parsed = ast::Struct::from_syn(input, &mut errors).map(|s| ast::Struct { args, ..s });
    let logger_ty = parsed.as_ref().and_then(|s| valid::check_struct(s, &mut errors));
    let error = errors.finish().map(|e| e.to_compile_error());
    let generated = match (&parsed, logger_ty, &error) {
        (Some(s), Some(logger_ty), None) => expand::structure(s, logger_ty),
        // Refused for its logger field: still `new` and the glue, so that
        // its uses elsewhere compile.
        (Some(s), _, _) => expand::glue(s),
        // Not a struct with named fields: there is nothing to build.
        (None, _, _) => TokenStream2::new(),
    };
    quote!(#item #generated #error)
}

fn service_impl(args: TokenStream2, original: &ItemImpl) -> TokenStream2 {
    let mut errors = Errors::default();
    let service_args = attr::ServiceArgs::parse(args, &mut errors);
    let imp = ast::Impl::from_syn(original, service_args, &mut errors);
    let logger_types = valid::check_impl(&imp, &mut errors);
    match errors.finish() {
        None => expand::implementation(&imp, &logger_types),
        Some(error) => {
            let error = error.to_compile_error();
            let item = fallback::implementation(original);
            quote!(#item #error)
        }
    }
}
