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
use syn::visit_mut::VisitMut;
use syn::{parse_quote, Expr, ExprAsync, ImplItem, ImplItemFn, ReturnType, Stmt, Type};

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
    Value(String, &'a Arg<'a>, How),
}

/// How an argument's value is taken.
#[derive(Clone, Copy, PartialEq, Eq)]
enum How {
    /// Spelled as a number, bool, char or string: as itself.
    Plain,
    /// Named in `#[log(record(..))]`: through `Debug`, secrets redacted.
    Debug,
    /// Any other type: the compiler decides (an alias of `u64`,
    /// `NonZeroU32`, `Option<&str>` are recorded; anything else is not).
    ByType,
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
            let how = if named(&log.record, name) {
                How::Debug
            } else if is_plain(arg.ty) {
                How::Plain
            } else {
                How::ByType
            };
            Some(Recorded::Value(key, arg, how))
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
    let output = &original.sig.output;
    let start = start_call(&name, level, may_fail(output), &fields);
    let finish = finish_call(&name, &fields);
    let stmts = &original.block.stmts;
    let block = if original.sig.asyncness.is_some() {
        let fake_return = fake_return(output);
        let body = typed_tail(stmts, output);
        async_block(&name, &start, &quote!(#fake_return #body), &finish)
    } else if let Some((before, inner)) = boxed_async_tail(stmts) {
        // `#[async_trait]` ran first: the work is the boxed async block.
        let inner_stmts = &inner.block.stmts;
        let capture = &inner.capture;
        let body = quote!(#(#inner_stmts)*);
        let instrumented = async_block(&name, &start, &body, &finish);
        quote!({ #(#before)* ::std::boxed::Box::pin(async #capture #instrumented) })
    } else if returns_impl_future(output) {
        future_block(&name, &start, &quote!(#(#stmts)*), &finish)
    } else {
        let body = quote!(#(#stmts)*);
        sync_block(&name, &start, &body, &finish, output)
    };
    let mut wrapped = original.clone();
    // Our own tokens: a failure here is a bug of this macro, and shows as one.
    wrapped.block = syn::parse_quote!(#block);
    wrapped
}

/// What the recorded arguments become: the values copied when the call
/// starts, and the fields of the line and of the span.
struct FieldTokens {
    /// The recorded arguments' keys, in order: the names of the span's
    /// fields and of the line's between `method` and `elapsed_ms`.
    keys: Vec<String>,
    captures: Vec<TokenStream>,
    line: Vec<TokenStream>,
    span: Vec<TokenStream>,
}

impl FieldTokens {
    fn of(recorded: &[Recorded<'_>]) -> FieldTokens {
        let private = quote!(::logwire::__private);
        let mut t = FieldTokens {
            keys: Vec::new(),
            captures: Vec::new(),
            line: Vec::new(),
            span: Vec::new(),
        };
        for r in recorded {
            match r {
                Recorded::Secret(key) => {
                    t.keys.push(key.clone());
                    let secret = quote!((#key, ::core::option::Option::Some(&"***" as &dyn #private::FieldValue)));
                    t.line.push(secret.clone());
                    t.span.push(secret);
                }
                Recorded::Value(key, arg, how) => {
                    t.keys.push(key.clone());
                    let ident = arg.name;
                    let index = syn::Index::from(t.captures.len());
                    let span = arg.original.span();
                    t.captures.push(match how {
                        How::Plain => {
                            quote_spanned!(span=> ::core::option::Option::Some(#private::value_of(&#ident)))
                        }
                        How::Debug => {
                            quote_spanned!(span=> ::core::option::Option::Some(#private::value_debug(&#ident)))
                        }
                        How::ByType => quote_spanned!(span=> (&&#private::Wrap(&#ident)).__logwire_arg()),
                    });
                    let field = quote! {
                        (#key, __logwire_args.#index.as_ref().map(|__logwire_v| __logwire_v as &dyn #private::FieldValue))
                    };
                    t.line.push(field.clone());
                    t.span.push(field);
                }
            }
        }
        t
    }
}

/// The declared return type, when a `let` can name it.
fn nameable(output: &ReturnType) -> Option<&Type> {
    match output {
        ReturnType::Type(_, ty) if !has_impl_trait(ty) && !matches!(**ty, Type::Never(_)) => Some(ty),
        _ => None,
    }
}

/// An async body whose tail and `return`s are checked against the declared
/// return type, as they are in an `async fn`: an async block has no
/// return type to coerce to (`Ok(Box::new(closure))` into a
/// `Box<dyn Fn…>`).
fn typed_tail(stmts: &[Stmt], output: &ReturnType) -> TokenStream {
    let Some(ty) = nameable(output) else {
        return quote!(#(#stmts)*);
    };
    struct Returns<'t>(&'t Type);
    impl VisitMut for Returns<'_> {
        fn visit_expr_return_mut(&mut self, r: &mut syn::ExprReturn) {
            if let Some(e) = r.expr.take() {
                let ty = self.0;
                r.expr = Some(Box::new(parse_quote!({ let __logwire_r: #ty = #e; __logwire_r })));
            }
        }
        // A `return` in these is not the method's.
        fn visit_expr_closure_mut(&mut self, _: &mut syn::ExprClosure) {}
        fn visit_expr_async_mut(&mut self, _: &mut syn::ExprAsync) {}
        fn visit_item_mut(&mut self, _: &mut syn::Item) {}
    }
    let mut stmts = stmts.to_vec();
    for stmt in &mut stmts {
        Returns(ty).visit_stmt_mut(stmt);
    }
    if let Some(Stmt::Expr(tail, None)) = stmts.last_mut() {
        *tail = parse_quote!({ let __logwire_r: #ty = #tail; __logwire_r });
    }
    quote!(#(#stmts)*)
}

/// The boxed async block `#[async_trait]` makes of an `async fn`
/// (`Box::pin(async move { … })` as the body's tail), and what precedes it;
/// tracing-attributes instruments the same block.
fn boxed_async_tail(stmts: &[Stmt]) -> Option<(&[Stmt], &ExprAsync)> {
    let (Stmt::Expr(Expr::Call(call), None), before) = stmts.split_last()? else {
        return None;
    };
    let Expr::Path(func) = &*call.func else { return None };
    let names: Vec<String> = func.path.segments.iter().map(|s| s.ident.to_string()).collect();
    if !names.ends_with(&["Box".to_owned(), "pin".to_owned()]) || call.args.len() != 1 {
        return None;
    }
    match call.args.first()? {
        Expr::Async(inner) => Some((before, inner)),
        _ => None,
    }
}

/// `-> impl Future<…>`: the work happens when the returned future runs.
fn returns_impl_future(output: &ReturnType) -> bool {
    let ReturnType::Type(_, ty) = output else { return false };
    let Type::ImplTrait(t) = &**ty else { return false };
    t.bounds.iter().any(|b| match b {
        syn::TypeParamBound::Trait(t) => t.path.segments.last().is_some_and(|s| s.ident == "Future"),
        _ => false,
    })
}

/// A return in the body gives it the method's return type before inference
/// looks at `?` (tracing-attributes' "fake return edge").
fn fake_return(output: &ReturnType) -> TokenStream {
    match nameable(output) {
        Some(ty) => quote! {
            #[allow(unreachable_code, clippy::diverging_sub_expression)]
            if false {
                let __logwire_fake_return: #ty = loop {};
                return __logwire_fake_return;
            }
        },
        _ => TokenStream::new(),
    }
}

/// The method's span, and its line: METHOD_END at its level, METHOD_ERROR at WARN.
fn sites(name: &str, level: Level, fields: &FieldTokens) -> TokenStream {
    let keys = &fields.keys;
    quote! {
        ::logwire::__site!(__LOGWIRE_SPAN, SPAN, #name, &[#(#keys),*], [#level]);
        ::logwire::__site!(
            __LOGWIRE_LINE,
            EVENT,
            "logwire line",
            &["message", "logger", "txid", "method", #(::logwire::__private::event_name(#keys),)* "elapsed_ms", "error"],
            [#level, ::logwire::__private::Level::WARN]
        );
    }
}

/// The call sites, and the call's state: `None` when neither the line nor a
/// span is wanted. The check is inline, so that the disabled path is a
/// compare and a branch; the rest (clock, logger clone, argument copies,
/// span) runs out of line.
fn start_call(name: &str, level: Level, may_fail: bool, fields: &FieldTokens) -> TokenStream {
    let private = quote!(::logwire::__private);
    let sites = sites(name, level, fields);
    let (captures, span_fields) = (&fields.captures, &fields.span);
    quote! {
        #sites
        let __logwire_state = if #private::MethodCall::wanted(&self.logger, #level, #may_fail) {
            #private::out_of_line(|| {
                #[allow(unused_imports)]
                use #private::{ArgPlain as _, ArgOther as _};
                let mut __logwire_call = #private::MethodCall::begin(&self.logger, #level);
                let __logwire_args = (#(#captures,)*);
                __logwire_call.open_span(&__LOGWIRE_SPAN.1, &[#(#span_fields),*]);
                ::core::option::Option::Some((__logwire_call, __logwire_args))
            })
        } else {
            ::core::option::Option::None
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
        __logwire_call.finish(&__LOGWIRE_LINE.1, #name, &[#(#line),*], __logwire_error);
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

/// A method returning `impl Future`: the body builds the future when called;
/// the line is written when that future completes. The returned future
/// holds only the body's future and owned values, never `self`, so a
/// `'static` future stays `'static`.
fn future_block(name: &str, start: &TokenStream, body: &TokenStream, finish: &TokenStream) -> TokenStream {
    let private = quote!(::logwire::__private);
    quote! {{
        #start
        let __logwire_future = #private::call_once_later(move || { #body })();
        async move {
            #[allow(clippy::let_unit_value)]
            let __logwire_ret = #private::InMethod::new(
                #name,
                __logwire_state.as_ref().and_then(|(__logwire_call, _)| __logwire_call.span()),
                __logwire_future,
            )
            .await;
            if let ::core::option::Option::Some((__logwire_call, __logwire_args)) = __logwire_state {
                #finish
            }
            __logwire_ret
        }
    }}
}

/// A sync method: two arms around one body, so that the disabled arm is the
/// body and nothing else (a guard whose store and restore nothing observes
/// costs nothing). The closure's return type is the method's, so the
/// body's tail coerces as it would in the method.
fn sync_block(
    name: &str,
    start: &TokenStream,
    body: &TokenStream,
    finish: &TokenStream,
    output: &ReturnType,
) -> TokenStream {
    let private = quote!(::logwire::__private);
    let fake_return = fake_return(output);
    let call = match nameable(output) {
        Some(ty) => quote!(#private::call_once_later::<#ty>),
        None => quote!(#private::call_once_later),
    };
    quote! {{
        #start
        let __logwire_body = #call(move || { #fake_return #body });
        match __logwire_state {
            ::core::option::Option::None => {
                let __logwire_guard = #private::MethodGuard::enter(#name);
                __logwire_body()
            }
            ::core::option::Option::Some((__logwire_call, __logwire_args)) => #private::out_of_line(move || {
                #[allow(clippy::let_unit_value)]
                let __logwire_ret = {
                    let __logwire_entered = __logwire_call.span().map(#private::Span::enter);
                    let __logwire_guard = #private::MethodGuard::enter(#name);
                    __logwire_body()
                };
                #finish
                __logwire_ret
            }),
        }
    }}
}
