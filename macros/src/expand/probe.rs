//! Lets the compiler find loggers built in a service under any name.
//!
//! The macro sees `fl("api")` or `Log::capture("t")`, not that `fl` is
//! `logwire::file_logger`. So every call in the block is wrapped in a check
//! of its result's type: a call that returns a `Logger`, a `LoggerBuilder`
//! or a capturing logger is an error at that call. The call passes through
//! a generic identity function, so the type the code around it expects
//! still reaches it (`Ok(Box::new(closure))` coerced to a `Box<dyn Fn…>`,
//! `Default::default()` into a typed `let`), and the check, a closure,
//! is type-checked after the call. Temporaries live as long as before.

use proc_macro2::TokenStream;
use quote::{quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{Expr, ImplItem, ItemImpl};

/// Wraps the calls of every non-`const` method of `imp`.
pub(super) fn wrap_calls(tokens: TokenStream) -> TokenStream {
    // Only our own output is parsed here: an impl block, or a bug.
    let mut imp: ItemImpl = syn::parse_quote!(#tokens);
    for item in &mut imp.items {
        if let ImplItem::Fn(f) = item {
            if f.sig.constness.is_none() {
                Calls.visit_block_mut(&mut f.block);
            }
        }
    }
    imp.into_token_stream()
}

struct Calls;

/// Calls this check leaves alone: generated code (`::core::…`,
/// `::logwire::…`, the method's own body `__logwire_body()`) and clones,
/// which return what they were given.
fn skipped(call: &syn::ExprCall) -> bool {
    match &*call.func {
        Expr::Path(p) => {
            let last = p.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
            p.path.leading_colon.is_some() || last == "clone" || last.starts_with("__logwire_")
        }
        _ => true,
    }
}

impl VisitMut for Calls {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        syn::visit_mut::visit_expr_mut(self, e);
        let Expr::Call(call) = e else { return };
        if skipped(call) {
            return;
        }
        let span = call.span();
        let wrapped = quote_spanned! {span=>
            ::logwire::__private::checked(#call, |__logwire_value| {
                #[allow(unused_imports)]
                use ::logwire::__private::Verdict as _;
                ::logwire::__private::Probe::of(__logwire_value).verdict()
            })
        };
        *e = syn::parse_quote!(#wrapped);
    }

    // Items inside a body (nested fns, consts) are left as written.
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}
