//! `FromContext<C>` for worker code: each field from the context.

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
    let mut generics = s.original.generics.clone();
    generics.params.push(parse_quote!(__LogwireCtx: ?::core::marker::Sized));
    let where_clause = generics.make_where_clause();
    let mut values = Vec::new();
    for f in s
        .fields
        .iter()
        .zip(&variant.present)
        .filter(|(_, p)| **p)
        .map(|(f, _)| f)
    {
        let (name, ty, cfgs) = (f.ident, f.ty, super::fields::cfgs(f));
        if matches!(super::fields::injected(f), Some(Inject::Default)) {
            let value = super::fields::default_value(ty, &s.original.generics, where_clause);
            values.push(quote!(#(#cfgs)* #name: #value));
        } else {
            where_clause
                .predicates
                .push(parse_quote!(#ty: ::logwire::__private::FromContext<__LogwireCtx>));
            values.push(quote! {
                #(#cfgs)* #name: <#ty as ::logwire::__private::FromContext<__LogwireCtx>>::from_context(__logwire_ctx)
            });
        }
    }
    let (impl_generics, _, where_clause) = generics.split_for_impl();
    let (_, ty_generics, _) = s.original.generics.split_for_impl();
    let cfg = &variant.cfg;
    quote! {
        #cfg
        #[automatically_derived]
        impl #impl_generics ::logwire::__private::FromContext<__LogwireCtx> for #ident #ty_generics #where_clause {
            fn from_context(__logwire_ctx: &__LogwireCtx) -> Self {
                Self { #(#values),* }
            }
        }
    }
}
