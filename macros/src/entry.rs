//! The three macros from their input tokens to their output: parse,
//! validate, expand (or the fallback when there were errors).

use proc_macro2::TokenStream as TokenStream2;
use quote::quote;
use syn::{DeriveInput, Item, ItemImpl};

use crate::ctxt::Errors;
use crate::{ast, attr, expand, fallback, valid};

/// `#[service]` on a struct or an impl block.
pub(crate) fn service(args: TokenStream2, input: TokenStream2) -> TokenStream2 {
    // Input that is not valid Rust goes back untouched, so that rustc
    // reports the real error.
    let Ok(item) = syn::parse2::<Item>(input.clone()) else {
        return input;
    };
    match item {
        Item::Impl(imp) => service_impl(args, &imp),
        Item::Struct(_) | Item::Enum(_) | Item::Union(_) => {
            let Ok(derive) = syn::parse2::<DeriveInput>(input.clone()) else {
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
                return quote!(#input #error);
            }
            let mut errors = Errors::default();
            let struct_args = attr::StructArgs::parse(args, &mut errors);
            service_struct(&derive, errors, Owner::Attribute(struct_args))
        }
        other => {
            let error = syn::Error::new_spanned(
                &other,
                "`#[service]` goes on a struct (`struct Name { logger: Logger, .. }`) or on its impl block",
            );
            let error = error.to_compile_error();
            quote!(#other #error)
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

/// `#[derive(Injectable)]`.
pub(crate) fn derive_injectable(input: TokenStream2) -> TokenStream2 {
    match syn::parse2::<DeriveInput>(input) {
        Ok(derive) => service_struct(&derive, Errors::default(), Owner::Derive),
        Err(e) => e.to_compile_error(),
    }
}

/// `#[derive(Context)]`.
pub(crate) fn derive_context(input: TokenStream2) -> TokenStream2 {
    let derive = match syn::parse2::<DeriveInput>(input) {
        Ok(derive) => derive,
        Err(e) => return e.to_compile_error(),
    };
    let mut errors = Errors::default();
    let Some(context) = ast::Context::from_syn(&derive, &mut errors) else {
        return errors.finish().map(|e| e.to_compile_error()).unwrap_or_default();
    };
    valid::check_context(&context, &mut errors);
    match errors.finish() {
        None => expand::worker_context::expand(&context),
        Some(error) => error.to_compile_error(),
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
