//! Code generation only: every user error was reported by `valid`.

mod axum;
mod constructor;
mod context;
mod fields;
mod method;
mod probe;
pub(crate) mod worker_context;

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Generics, Ident, Type};

use crate::ast::{Impl, Struct};

/// Everything generated for a service struct.
pub(crate) fn structure(s: &Struct<'_>, logger_ty: &Type) -> TokenStream {
    let check = logger_check(&s.original.ident, &s.original.generics, &[logger_ty]);
    let glue = glue(s);
    quote!(#check #glue)
}

/// `new`, `FromContext` and the axum extractor: also emitted beside the
/// errors of a struct refused for its logger field, so that its uses
/// elsewhere do not fail too.
pub(crate) fn glue(s: &Struct<'_>) -> TokenStream {
    let constructor = if s.args.new {
        constructor::expand(s)
    } else {
        TokenStream::new()
    };
    let context = context::expand(s);
    let axum = axum::expand(s);
    quote!(#constructor #context #axum)
}

/// The impl block with every method wrapped.
pub(crate) fn implementation(imp: &Impl<'_>, logger_types: &[&Type]) -> TokenStream {
    let wrapped = probe::wrap_calls(method::expand(imp));
    let checks = if logger_types.is_empty() {
        TokenStream::new()
    } else {
        let self_ty = &imp.original.self_ty;
        let (impl_generics, _, where_clause) = imp.original.generics.split_for_impl();
        let checks = logger_types.iter().map(|ty| is_logger_check(ty));
        quote! {
            #[automatically_derived]
            impl #impl_generics #self_ty #where_clause {
                #[doc(hidden)]
                #[allow(dead_code)]
                fn __logwire_new_takes_a_logwire_logger() { #(#checks)* }
            }
        }
    };
    quote!(#wrapped #checks)
}

/// A call that compiles only when `ty` is logwire's `Logger`, spanned at
/// the user's type tokens so the error points at them. (A call, not a
/// `where` bound: a bound on a concrete type draws rustc's "see issue
/// #48214" note.)
fn is_logger_check(ty: &Type) -> TokenStream {
    quote_spanned!(ty.span()=> ::logwire::__private::is_logger::<#ty>();)
}

/// A hidden function whose where clause only holds when each type is
/// logwire's `Logger`: the compiler, not the macro, checks aliases and
/// imports.
fn logger_check(ident: &Ident, generics: &Generics, types: &[&Type]) -> TokenStream {
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let checks = types.iter().map(|ty| is_logger_check(ty));
    quote! {
        #[automatically_derived]
        impl #impl_generics #ident #ty_generics #where_clause {
            #[doc(hidden)]
            #[allow(dead_code)]
            fn __logwire_logger_is_a_logwire_logger() { #(#checks)* }
        }
    }
}
