//! `new(logger, <other fields in order>)`.

use proc_macro2::TokenStream;
use quote::quote;

use crate::ast::Struct;

pub(super) fn expand(s: &Struct<'_>) -> TokenStream {
    let ident = &s.original.ident;
    let vis = &s.original.vis;
    let (impl_generics, ty_generics, where_clause) = s.original.generics.split_for_impl();
    let params = s.fields.iter().map(|f| {
        let (name, ty, cfgs) = (f.ident, f.ty, super::fields::cfgs(f));
        quote!(#(#cfgs)* #name: #ty)
    });
    let names = s.fields.iter().map(|f| {
        let (name, cfgs) = (f.ident, super::fields::cfgs(f));
        quote!(#(#cfgs)* #name)
    });
    let doc = format!("Builds a `{ident}` from its logger and its dependencies, in field order.");
    quote! {
        #[automatically_derived]
        impl #impl_generics #ident #ty_generics #where_clause {
            #[doc = #doc]
            #[allow(clippy::too_many_arguments)]
            #[must_use]
            #vis fn new(#(#params),*) -> Self {
                Self { #(#names),* }
            }
        }
    }
}
