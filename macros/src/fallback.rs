//! What is emitted beside the errors, so that one mistake does not cascade
//! into a page of unrelated ones (thiserror's `fallback.rs`): the user's
//! item, and for a struct a constructor in field order.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{DeriveInput, ImplItem, ItemImpl};

use crate::attr;

/// The struct as written minus our field attributes (when the attribute
/// macro owns the item), plus a `new` so its callers still compile.
pub(crate) fn structure(input: &DeriveInput, emit_item: bool) -> TokenStream {
    let item = if emit_item {
        strip_inject(input)
    } else {
        TokenStream::new()
    };
    let syn::Data::Struct(data) = &input.data else {
        return item;
    };
    let syn::Fields::Named(named) = &data.fields else {
        return item;
    };
    let ident = &input.ident;
    let vis = &input.vis;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let params = named.named.iter().map(|f| {
        let (name, ty) = (&f.ident, &f.ty);
        quote!(#name: #ty)
    });
    let names = named.named.iter().map(|f| &f.ident);
    quote! {
        #item
        impl #impl_generics #ident #ty_generics #where_clause {
            #[allow(clippy::too_many_arguments, dead_code)]
            #vis fn new(#(#params),*) -> Self {
                Self { #(#names),* }
            }
        }
    }
}

/// The struct with `#[inject(..)]` removed from its fields.
pub(crate) fn strip_inject(input: &DeriveInput) -> TokenStream {
    let mut item = input.clone();
    if let syn::Data::Struct(data) = &mut item.data {
        for field in data.fields.iter_mut() {
            field.attrs = attr::strip(&field.attrs, &["inject"]);
        }
    }
    quote!(#item)
}

/// The impl block as written, minus `#[log(..)]`, with no method wrapped.
pub(crate) fn implementation(original: &ItemImpl) -> TokenStream {
    let mut item = original.clone();
    for it in &mut item.items {
        if let ImplItem::Fn(f) = it {
            f.attrs = attr::strip(&f.attrs, &["log"]);
        }
    }
    quote!(#item)
}
