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
mod entry;
mod expand;
mod fallback;
mod valid;

use proc_macro::TokenStream;

/// See `logwire::service`.
#[proc_macro_attribute]
pub fn service(args: TokenStream, input: TokenStream) -> TokenStream {
    entry::service(args.into(), input.into()).into()
}

/// See `logwire::Injectable`.
#[proc_macro_derive(Injectable, attributes(inject))]
pub fn derive_injectable(input: TokenStream) -> TokenStream {
    entry::derive_injectable(input.into()).into()
}

/// See `logwire::Context`.
#[proc_macro_derive(Context, attributes(context))]
pub fn derive_context(input: TokenStream) -> TokenStream {
    entry::derive_context(input.into()).into()
}
