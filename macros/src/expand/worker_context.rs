//! `#[derive(Context)]`: a worker context that provides its logger
//! (`AsRef<Logger>`) and each other field (`FromContext<Ctx>`, a clone), as
//! axum's `#[derive(FromRef)]` provides state.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use crate::ast::Context;

pub(crate) fn expand(c: &Context<'_>) -> TokenStream {
    let private = quote!(::logwire::__private);
    let ident = &c.original.ident;
    let (impl_generics, ty_generics, where_clause) = c.original.generics.split_for_impl();
    let mut out = TokenStream::new();
    for f in &c.fields {
        let (name, ty) = (f.ident, f.ty);
        let cfgs: Vec<&syn::Attribute> = f.original.attrs.iter().filter(|a| a.path().is_ident("cfg")).collect();
        if f.ident == "logger" {
            // Through `IsLogger`, so that another type is one error at it.
            let logger = quote_spanned!(ty.span()=> <#ty as #private::IsLogger>::as_logger(&self.#name));
            out.extend(quote! {
                #(#cfgs)*
                #[automatically_derived]
                impl #impl_generics ::core::convert::AsRef<#private::Logger> for #ident #ty_generics #where_clause {
                    fn as_ref(&self) -> &#private::Logger {
                        #logger
                    }
                }
            });
        } else if f.skip.is_none() {
            let clone = quote_spanned!(ty.span()=> <#ty as ::core::clone::Clone>::clone(&__logwire_ctx.#name));
            out.extend(quote! {
                #(#cfgs)*
                #[automatically_derived]
                impl #impl_generics #private::FromContext<#ident #ty_generics> for #ty #where_clause {
                    fn from_context(__logwire_ctx: &#ident #ty_generics) -> Self {
                        #clone
                    }
                }
            });
        }
    }
    out
}
