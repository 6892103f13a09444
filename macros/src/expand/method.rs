//! Wraps each method that takes `self` so that it writes exactly one line
//! when it returns: `METHOD_END` at the method's level, or `METHOD_ERROR`
//! at WARN when it returns `Err`.
//!
//! When neither line can be written, the wrapper reads no clock and copies
//! no argument: it checks the level and calls the body.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{ImplItem, ImplItemFn, ReturnType, Type};

use crate::ast::{last_segment, Arg, Impl, Method};
use crate::attr::{self, Level};

/// The keys of `METHOD_END` / `METHOD_ERROR` that logwire writes itself; an
/// argument of the same name is written as `arg.<name>`.
const LINE_KEYS: [&str; 3] = ["method", "elapsed_ms", "error"];

/// Names that mark an argument as secret, whatever its type.
const SECRET_MARKERS: [&str; 6] = ["password", "secret", "token", "credential", "api_key", "authorization"];

/// Types recorded by default: numbers, bools, chars and strings.
const PLAIN_TYPES: [&str; 18] = [
    "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize", "f32", "f64", "bool",
    "char", "str", "String",
];

pub(super) fn expand(imp: &Impl<'_>) -> TokenStream {
    let mut out = imp.original.clone();
    let mut methods = imp.fns.iter();
    for item in &mut out.items {
        if let ImplItem::Fn(f) = item {
            let Some(method) = methods.next() else { break };
            *f = if wraps(method) { wrap(imp, method) } else { f.clone() };
            f.attrs = attr::strip(&f.attrs, &["log"]);
        }
    }
    out.into_token_stream()
}

fn wraps(m: &Method<'_>) -> bool {
    // A const fn cannot read the clock; it is left as written.
    m.has_self && m.log.off.is_none() && m.original.sig.constness.is_none()
}

fn is_secret(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SECRET_MARKERS.iter().any(|m| lower.contains(m))
}

fn is_plain(ty: &Type) -> bool {
    let path_is_plain = |t: &Type| match t {
        Type::Path(p) => p.path.segments.last().is_some_and(|s| s.arguments.is_empty()),
        _ => true,
    };
    let mut t = ty;
    while let Type::Reference(r) = t {
        t = &r.elem;
    }
    path_is_plain(t) && last_segment(t).is_some_and(|i| PLAIN_TYPES.iter().any(|p| i == p))
}

/// Whether the method may return an error: anything but nothing, a plain
/// value or a reference to one. Deciding wrongly costs only a clock read.
fn may_fail(output: &ReturnType) -> bool {
    match output {
        ReturnType::Default => false,
        ReturnType::Type(_, ty) => match &**ty {
            Type::Tuple(t) if t.elems.is_empty() => false,
            ty => !is_plain(ty),
        },
    }
}

/// What is written for one argument.
enum Recorded<'a> {
    Secret(String),
    Value(String, &'a Arg<'a>, bool /* through Debug */),
}

fn recorded<'a>(m: &'a Method<'a>) -> Vec<Recorded<'a>> {
    let log = &m.log;
    if log.skip_all.is_some() {
        return Vec::new();
    }
    let named = |list: &Option<Vec<syn::Ident>>, n: &syn::Ident| list.as_ref().is_some_and(|l| l.contains(n));
    m.args
        .iter()
        .filter_map(|arg| {
            let name = arg.name?;
            if named(&log.skip, name) {
                return None;
            }
            let mut key = name.to_string().trim_start_matches("r#").to_owned();
            if LINE_KEYS.contains(&key.as_str()) {
                key = format!("arg.{key}");
            }
            if is_secret(&key) {
                return Some(Recorded::Secret(key));
            }
            let plain = is_plain(arg.ty);
            if plain || named(&log.record, name) {
                return Some(Recorded::Value(key, arg, !plain));
            }
            None
        })
        .collect()
}

/// True when `ty` holds `impl Trait` (a type a `let` cannot name).
fn has_impl_trait(ty: &Type) -> bool {
    struct Finder(bool);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_type_impl_trait(&mut self, _: &'ast syn::TypeImplTrait) {
            self.0 = true;
        }
    }
    let mut f = Finder(false);
    f.visit_type(ty);
    f.0
}

fn wrap(imp: &Impl<'_>, m: &Method<'_>) -> ImplItemFn {
    let original = m.original;
    let name = format!("{}::{}", imp.type_name, m.name());
    let level = m.log.level.or(imp.args.level).unwrap_or(Level::Debug);
    let fields = FieldTokens::of(&recorded(m));
    let start = start_call(&name, level, may_fail(&original.sig.output), &fields);
    let finish = finish_call(&name, &fields);
    let fake_return = fake_return(&original.sig.output);
    let stmts = &original.block.stmts;
    let body = quote! {
        #fake_return
        #(#stmts)*
    };
    let block = if original.sig.asyncness.is_some() {
        async_block(&name, &start, &body, &finish)
    } else {
        sync_block(&name, &start, &body, &finish)
    };
    let mut wrapped = original.clone();
    // Our own tokens: a failure here is a bug of this macro, and shows as one.
    wrapped.block = syn::parse_quote!(#block);
    wrapped
}

/// What the recorded arguments become: the values copied when the call
/// starts, and the fields of the line and of the span.
struct FieldTokens {
    captures: Vec<TokenStream>,
    line: Vec<TokenStream>,
    span: Vec<TokenStream>,
}

impl FieldTokens {
    fn of(recorded: &[Recorded<'_>]) -> FieldTokens {
        let private = quote!(::logwire::__private);
        let mut t = FieldTokens {
            captures: Vec::new(),
            line: Vec::new(),
            span: Vec::new(),
        };
        for r in recorded {
            match r {
                Recorded::Secret(key) => {
                    t.line.push(quote!((#key, &"***" as &dyn #private::FieldValue)));
                    t.span.push(quote!((#key, &"***" as &dyn #private::FieldValue)));
                }
                Recorded::Value(key, arg, debug) => {
                    let ident = arg.name;
                    let index = syn::Index::from(t.captures.len());
                    let span = arg.original.span();
                    if *debug {
                        t.captures.push(quote_spanned!(span=> #private::value_debug(&#ident)));
                        t.span.push(
                            quote_spanned!(span=> (#key, &#private::DebugValue(&#ident) as &dyn #private::FieldValue)),
                        );
                    } else {
                        t.captures.push(quote_spanned!(span=> #private::value_of(&#ident)));
                        t.span
                            .push(quote_spanned!(span=> (#key, &#ident as &dyn #private::FieldValue)));
                    }
                    t.line
                        .push(quote!((#key, &__logwire_args.#index as &dyn #private::FieldValue)));
                }
            }
        }
        t
    }
}

/// A return in the body gives it the method's return type before inference
/// looks at `?` (tracing-attributes' "fake return edge").
fn fake_return(output: &ReturnType) -> TokenStream {
    match output {
        ReturnType::Type(_, ty) if !has_impl_trait(ty) && !matches!(**ty, Type::Never(_)) => quote! {
            #[allow(unreachable_code, clippy::diverging_sub_expression)]
            if false {
                let __logwire_fake_return: #ty = loop {};
                return __logwire_fake_return;
            }
        },
        _ => TokenStream::new(),
    }
}

/// The call sites, and the call's state: `None` when neither the line nor a
/// span is wanted, so that the disabled path is a compare and a branch.
fn start_call(name: &str, level: Level, may_fail: bool, fields: &FieldTokens) -> TokenStream {
    let private = quote!(::logwire::__private);
    let (captures, span_fields) = (&fields.captures, &fields.span);
    quote! {
        static __LOGWIRE_SPAN: #private::Site = #private::Site::new(::core::file!(), ::core::line!(), ::core::module_path!());
        static __LOGWIRE_LINE: #private::Site = #private::Site::new(::core::file!(), ::core::line!(), ::core::module_path!());
        let __logwire_state = match #private::MethodCall::start(&self.logger, #level, #may_fail) {
            ::core::option::Option::Some(mut __logwire_call) => {
                __logwire_call.open_span(&__LOGWIRE_SPAN, #name, &[#(#span_fields),*]);
                ::core::option::Option::Some((__logwire_call, (#(#captures,)*)))
            }
            ::core::option::Option::None => ::core::option::Option::None,
        };
    }
}

/// Writes the line, inside the method (its span is entered by `finish`).
fn finish_call(name: &str, fields: &FieldTokens) -> TokenStream {
    let private = quote!(::logwire::__private);
    let line = &fields.line;
    quote! {
        let __logwire_guard = #private::MethodGuard::enter(#name);
        #[allow(unused_imports)]
        use #private::{OutcomeDebug as _, OutcomeDisplay as _, OutcomeOther as _};
        let __logwire_error = (&&#private::Wrap(&__logwire_ret)).__logwire_outcome();
        __logwire_call.finish(&__LOGWIRE_LINE, #name, &[#(#line),*], __logwire_error);
    }
}

/// An async method: the span is entered on every poll of the body.
fn async_block(name: &str, start: &TokenStream, body: &TokenStream, finish: &TokenStream) -> TokenStream {
    let private = quote!(::logwire::__private);
    quote! {{
        #start
        #[allow(clippy::let_unit_value)]
        let __logwire_ret = #private::InMethod::new(
            #name,
            __logwire_state.as_ref().and_then(|(__logwire_call, _)| __logwire_call.span()),
            async move { #body },
        )
        .await;
        if let ::core::option::Option::Some((__logwire_call, __logwire_args)) = __logwire_state {
            #finish
        }
        __logwire_ret
    }}
}

/// A sync method: two arms around one body, so that the disabled arm is the
/// body and nothing else (a guard whose store and restore nothing observes
/// costs nothing).
fn sync_block(name: &str, start: &TokenStream, body: &TokenStream, finish: &TokenStream) -> TokenStream {
    let private = quote!(::logwire::__private);
    quote! {{
        #start
        let __logwire_body = #private::call_once_later(move || { #body });
        match __logwire_state {
            ::core::option::Option::None => {
                let __logwire_guard = #private::MethodGuard::enter(#name);
                __logwire_body()
            }
            ::core::option::Option::Some((__logwire_call, __logwire_args)) => {
                #[allow(clippy::let_unit_value)]
                let __logwire_ret = {
                    let __logwire_entered = __logwire_call.span().map(#private::Span::enter);
                    let __logwire_guard = #private::MethodGuard::enter(#name);
                    __logwire_body()
                };
                #finish
                __logwire_ret
            }
        }
    }}
}
