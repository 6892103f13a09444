//! What is emitted beside the errors, so that one mistake does not cascade
//! into a page of unrelated ones (thiserror's `fallback.rs`): the user's
//! item as written, minus the attributes only our macros understand. (A
//! struct refused for its fields still gets the real `new` and glue from
//! `expand`.)

use proc_macro2::TokenStream;
use quote::quote;
use syn::{DeriveInput, ImplItem, ItemImpl};

use crate::attr;

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
