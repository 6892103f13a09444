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

/// Calls this check leaves alone: generated code (`::core::…`, `::std::…`,
/// `::logwire::__private::…`, the method's own body `__logwire_body()`),
/// clones, which return what they were given, and `from_context`, which
/// hands a service the logger of its context.
fn skipped(call: &syn::ExprCall) -> bool {
    let Expr::Path(p) = &*call.func else { return true };
    let names: Vec<String> = p.path.segments.iter().map(|s| s.ident.to_string()).collect();
    let generated = p.path.leading_colon.is_some()
        && match names.as_slice() {
            [krate, ..] if krate == "core" || krate == "std" || krate == "alloc" => true,
            [krate, private, ..] => krate == "logwire" && private == "__private",
            _ => false,
        };
    let last = names.last().map(String::as_str).unwrap_or_default();
    generated || last == "clone" || last == "from_context" || last.starts_with("__logwire_")
}

/// Macros whose arguments are expressions, separated by commas: the calls
/// in them are checked too (`vec![file_logger("a")]`). Others are left
/// alone, since their arguments may be patterns or other syntax.
const EXPRESSION_MACROS: [&str; 14] = [
    "vec",
    "format",
    "format_args",
    "print",
    "println",
    "eprint",
    "eprintln",
    "write",
    "writeln",
    "panic",
    "assert",
    "assert_eq",
    "assert_ne",
    "dbg",
];

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

    fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
        let name = mac
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        if !EXPRESSION_MACROS.contains(&name.as_str()) {
            return;
        }
        let parser = syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated;
        if let Ok(mut args) = mac.parse_body_with(parser) {
            for arg in args.iter_mut() {
                self.visit_expr_mut(arg);
            }
            mac.tokens = args.into_token_stream();
        }
    }

    // Items inside a body (nested fns, consts) are left as written.
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}
