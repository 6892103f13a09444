//! What the generated impls of a struct share about its fields: their
//! `#[cfg]`s, how each is injected, and `#[inject(default)]` values.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Generics, Ident, Type};

use crate::ast::Struct;

/// The `#[cfg(..)]` attributes of a field, repeated on everything generated
/// for it, so that a field compiled out is left out of `new` and the glue.
pub(super) fn cfgs<'a>(f: &crate::ast::Field<'a>) -> Vec<&'a syn::Attribute> {
    f.original.attrs.iter().filter(|a| a.path().is_ident("cfg")).collect()
}

/// The `cfg` predicate of a field: `all(..)` of its `#[cfg(..)]`s, or
/// `None` for a field that is always compiled.
fn cfg_predicate(f: &crate::ast::Field<'_>) -> Option<TokenStream> {
    let preds: Vec<TokenStream> = cfgs(f)
        .iter()
        .filter_map(|a| a.meta.require_list().ok().map(|l| l.tokens.clone()))
        .collect();
    (!preds.is_empty()).then(|| quote!(all(#(#preds),*)))
}

/// Which fields one generated impl has, and the `#[cfg]` it carries.
pub(crate) struct Variant {
    /// `#[cfg(..)]` for the impl, empty when no field is gated.
    pub(crate) cfg: TokenStream,
    /// Per field: compiled in this variant.
    pub(crate) present: Vec<bool>,
}

/// One impl per combination of the gated fields (at most 16): a `where`
/// bound cannot carry `#[cfg]` on stable Rust, and the bound of a field
/// compiled out may name a type that does not exist.
pub(crate) fn variants(s: &Struct<'_>) -> Vec<Variant> {
    const MAX_GATED: usize = 4;
    let preds: Vec<Option<TokenStream>> = s.fields.iter().map(cfg_predicate).collect();
    let gated: Vec<usize> = (0..preds.len()).filter(|&i| preds[i].is_some()).collect();
    if gated.is_empty() || gated.len() > MAX_GATED {
        // More gated fields than impls we would write: their bounds stay
        // unconditional, their values keep their `#[cfg]`.
        return vec![Variant {
            cfg: TokenStream::new(),
            present: vec![true; preds.len()],
        }];
    }
    (0..1u32 << gated.len())
        .map(|mask| {
            let mut present = vec![true; preds.len()];
            let mut conds = Vec::new();
            for (bit, &i) in gated.iter().enumerate() {
                let pred = preds[i].as_ref().expect("gated");
                if mask & (1 << bit) == 0 {
                    present[i] = false;
                    conds.push(quote!(not(#pred)));
                } else {
                    conds.push(pred.clone());
                }
            }
            Variant {
                cfg: quote!(#[cfg(all(#(#conds),*))]),
                present,
            }
        })
        .collect()
}

/// How a field is provided: the logger never by `#[inject]` (an error
/// already says so; the glue must not add another).
pub(super) fn injected(f: &crate::ast::Field<'_>) -> Option<crate::attr::Inject> {
    f.inject.filter(|_| f.ident != "logger").map(|(kind, _)| kind)
}

/// The value of an `#[inject(default)]` field, spanned at its type so that
/// a type without `Default` is an error there; its bound goes in `where`
/// only when the type names the struct's generics.
pub(super) fn default_value(ty: &Type, generics: &Generics, where_clause: &mut syn::WhereClause) -> TokenStream {
    if mentions_generics(ty, generics) {
        where_clause
            .predicates
            .push(syn::parse_quote!(#ty: ::logwire::__private::InjectDefault));
    }
    quote_spanned!(ty.span()=> <#ty as ::logwire::__private::InjectDefault>::inject_default())
}

/// Whether `ty` names one of the struct's generic parameters (then its
/// bounds go in the `where` clause; on a concrete type they would be
/// rustc's "trivial bounds", with a note about an unstable feature).
fn mentions_generics(ty: &Type, generics: &Generics) -> bool {
    use syn::visit::Visit;
    struct Find<'g>(&'g Generics, bool);
    impl<'ast> Visit<'ast> for Find<'_> {
        fn visit_ident(&mut self, i: &'ast Ident) {
            self.1 |= self.0.type_params().any(|p| p.ident == *i);
        }
        fn visit_lifetime(&mut self, l: &'ast syn::Lifetime) {
            self.1 |= self.0.lifetimes().any(|p| p.lifetime == *l);
        }
    }
    let mut find = Find(generics, false);
    find.visit_type(ty);
    find.1
}
