//! axum's `FromRequestParts<S>`: the logger from the request (put there by
//! the API layer), each other field by its own extractor, `FromRef<S>`
//! (`#[inject(from_ref)]`) or `Default` (`#[inject(default)]`).
//!
//! Emitted through `logwire::__private::axum_glue!`, which drops it when
//! logwire's `axum` feature is off: a proc macro cannot see features.

use proc_macro2::TokenStream;
use quote::quote;
use syn::parse_quote;

use crate::ast::Struct;
use crate::attr::Inject;

pub(super) fn expand(s: &Struct<'_>) -> TokenStream {
    super::fields::variants(s)
        .iter()
        .map(|v| expand_variant(s, v))
        .collect()
}

fn expand_variant(s: &Struct<'_>, variant: &super::fields::Variant) -> TokenStream {
    let ident = &s.original.ident;
    let axum = quote!(::logwire::__private::axum);
    let mut generics = s.original.generics.clone();
    generics.params.push(parse_quote!(__LogwireState));
    let where_clause = generics.make_where_clause();
    where_clause
        .predicates
        .push(parse_quote!(__LogwireState: ::core::marker::Send + ::core::marker::Sync));

    let mut values = Vec::new();
    for (i, f) in s.fields.iter().enumerate().filter(|(i, _)| variant.present[*i]) {
        let (name, ty, cfgs) = (f.ident, f.ty, super::fields::cfgs(f));
        if i == 0 && f.ident == "logger" && super::fields::injected(f).is_none() {
            // Not awaited: the future must not depend on this type, which
            // may be one the user has yet to import.
            where_clause
                .predicates
                .push(parse_quote!(#ty: ::logwire::__private::LoggerFromParts<__LogwireState>));
            values.push(quote! {
                #(#cfgs)* #name: <#ty as ::logwire::__private::LoggerFromParts<__LogwireState>>::logger_from_parts(
                    __logwire_parts,
                )
                .map_err(#axum::response::IntoResponse::into_response)?
            });
            continue;
        }
        match super::fields::injected(f) {
            Some(Inject::Default) => {
                let value = super::fields::default_value(ty, &s.original.generics, where_clause);
                values.push(quote!(#(#cfgs)* #name: #value));
            }
            Some(Inject::FromRef) => {
                where_clause
                    .predicates
                    .push(parse_quote!(#ty: #axum::extract::FromRef<__LogwireState>));
                values.push(
                    quote!(#(#cfgs)* #name: <#ty as #axum::extract::FromRef<__LogwireState>>::from_ref(__logwire_state)),
                );
            }
            None => {
                where_clause
                    .predicates
                    .push(parse_quote!(#ty: #axum::extract::FromRequestParts<__LogwireState>));
                values.push(quote! {
                    #(#cfgs)* #name: <#ty as #axum::extract::FromRequestParts<__LogwireState>>::from_request_parts(
                        __logwire_parts,
                        __logwire_state,
                    )
                    .await
                    .map_err(#axum::response::IntoResponse::into_response)?
                });
            }
        }
    }
    let (impl_generics, _, where_clause) = generics.split_for_impl();
    let (_, ty_generics, _) = s.original.generics.split_for_impl();
    let cfg = &variant.cfg;
    quote! {
        ::logwire::__private::axum_glue! {
            #cfg
            #[automatically_derived]
            impl #impl_generics #axum::extract::FromRequestParts<__LogwireState> for #ident #ty_generics #where_clause {
                type Rejection = #axum::response::Response;

                async fn from_request_parts(
                    __logwire_parts: &mut #axum::http::request::Parts,
                    __logwire_state: &__LogwireState,
                ) -> ::core::result::Result<Self, Self::Rejection> {
                    ::core::result::Result::Ok(Self { #(#values),* })
                }
            }
        }
    }
}
