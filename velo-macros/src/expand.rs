//! Code generation for checked calls.
//!
//! A call site becomes a `static` describing it (level, module path, and the
//! pre-escaped bytes of its message, keys and caller for each format),
//! listed in the event catalog, and a guarded block that evaluates the
//! arguments once, borrowed, and records each value into the entry. The
//! worker formats the line from the static and the values. Generated code names the runtime only through `__velo`, which
//! the `velo!` wrapper binds to `velo::__private`.

use crate::escape;
use crate::level::Level;
use crate::parse::{Field, Sigil};
use crate::validate::{Checked, Segment};
use proc_macro2::{Delimiter, Group, Ident, Literal, Span, TokenStream};
use quote::{quote, quote_spanned};

/// Expands a checked `velo!` call.
pub fn velo(call: &Checked<'_>) -> TokenStream {
    let level = call.level;
    let level_variant = Ident::new(level.variant(), Span::call_site());
    let site = Ident::new("__velo_site", Span::mixed_site());
    let Some(site_def) = site_definition(call, &site, false) else {
        return quote! {
            ::core::compile_error!("velo: a call site's message and keys must fit in 64 KiB as velo stores them: escaped for the line (a `\"` takes two bytes, a control character up to six), and also as written where that differs")
        };
    };

    let entry = Ident::new("__velo_entry", Span::mixed_site());
    let FieldCode {
        bindings,
        exprs,
        writes,
        args,
    } = fields(&call.fields, &entry, "Entry");
    let logger = Ident::new("__velo_logger", Span::mixed_site());
    let interest = Ident::new("__velo_interest", Span::mixed_site());
    let suppressed = Ident::new("__velo_suppressed", Span::mixed_site());

    // A `%` or `?` field runs the user's code, which cannot run while a
    // record is written in place in the thread's ring: such a site's
    // record starts in the thread's buffer.
    let formats = call
        .fields
        .iter()
        .any(|f| f.value.is_some() && f.sigil != Sigil::Value);
    let body = if call.every.is_none() && exprs.is_empty() {
        // No fields: one call.
        quote!(__velo::Entry::emit(#logger, #site);)
    } else if call.every.is_none() && args.len() <= LOG_N_MAX {
        // Up to twelve fields: one call too. A site with a `%` or `?` field
        // starts in the thread's buffer, as `Entry::buffered` does: moving
        // the values written in place before it there costs more than
        // writing them there (callgrind, W10: 938 -> 1,013 instructions).
        let log = if formats { "buffered" } else { "log" };
        let log = Ident::new(&format!("{log}{}", args.len()), Span::call_site());
        quote!(__velo::Entry::#log(#logger, #site, #(#args),*);)
    } else {
        let start = if call.every.is_some() {
            quote!(__velo::Entry::with_suppressed(#logger, #site, #suppressed))
        } else if formats {
            quote!(__velo::Entry::buffered(#logger, #site))
        } else {
            quote!(__velo::Entry::new(#logger, #site))
        };
        // Paths, not method calls: a trait of the user's with a method of
        // the same name taking `self` would be picked first.
        quote! {
            let mut #entry = #start;
            #(#writes)*
            __velo::Entry::finish(&mut #entry);
            // Finished, it holds nothing: its drop would be one more call.
            #[allow(clippy::mem_forget)]
            __velo::forget(#entry);
        }
    };
    // The values, evaluated once and borrowed.
    let body = if exprs.is_empty() {
        body
    } else {
        quote! {
            match (#(&(#exprs),)*) {
                (#(#bindings,)*) => { #body }
            }
        }
    };
    // Limits run after the filter and before any argument is evaluated.
    let body = match call.every {
        Some(nanos) => {
            let every = Ident::new("__velo_every", Span::mixed_site());
            quote! {
                let #every: &'static __velo::Every = {
                    static __VELO_EVERY: __velo::Every = __velo::Every::new(#nanos);
                    &__VELO_EVERY
                };
                if let __velo::Option::Some(#suppressed) = #every.take() { #body }
            }
        }
        None => body,
    };
    let body = match call.sample {
        Some(n) => {
            let sample = Ident::new("__velo_sample", Span::mixed_site());
            quote! {
                let #sample: &'static __velo::Sample = {
                    static __VELO_SAMPLE: __velo::Sample = __velo::Sample::new(#n);
                    &__VELO_SAMPLE
                };
                if #sample.take() { #body }
            }
        }
        None => body,
    };
    let guarded = match call.logger {
        Some(expr) => {
            let as_logger = as_logger(expr);
            quote! {
                match #as_logger {
                    #logger => if #logger.accepts(#site, #interest) { #body },
                }
            }
        }
        None => quote! {
            let #logger = __velo::logger();
            if #logger.accepts(#site, #interest) { #body }
        },
    };
    // Without a semicolon: a `fatal` call is an expression of type `!`, so
    // it can end a match arm or a function that returns a value.
    // A `fatal` call says so before its entry, so that another thread's
    // `fatal` waits for the entry before it exits the process.
    let (fatal, exit) = if level == Level::Fatal {
        let pending = Ident::new("__velo_fatal", Span::mixed_site());
        (
            quote!(let #pending = __velo::fatal_begins();),
            quote!(__velo::fatal_exit(#pending)),
        )
    } else {
        (TokenStream::new(), TokenStream::new())
    };
    quote! {
        {
            #fatal
            #site_def
            if __velo::Level::#level_variant.is_statically_enabled() {
                let #interest = #site.interest();
                if #interest != 0 {
                    #guarded
                }
            }
            #exit
        }
    }
}

/// Expands a checked `enabled!` call: whether a `velo!` call of that
/// level (and target) here would be written by the logger, from the same
/// cached interest word, through a call site of its own that is not in
/// the catalog (it logs nothing).
pub fn enabled(call: &Checked<'_>) -> TokenStream {
    let level_variant = Ident::new(call.level.variant(), Span::call_site());
    let site = Ident::new("__velo_site", Span::mixed_site());
    let interest = Ident::new("__velo_interest", Span::mixed_site());
    let logger = Ident::new("__velo_logger", Span::mixed_site());
    let site_def = site_definition(call, &site, true).expect("no message or keys");
    let accepts = match call.logger {
        Some(expr) => {
            let as_logger = as_logger(expr);
            quote! {
                match #as_logger {
                    #logger => #logger.accepts(#site, #interest),
                }
            }
        }
        None => quote!(__velo::logger().accepts(#site, #interest)),
    };
    quote! {
        {
            #site_def
            __velo::Level::#level_variant.is_statically_enabled() && {
                let #interest = #site.interest();
                #interest != 0 && #accepts
            }
        }
    }
}

/// `let SITE: &'static CallSite = ...;`, the static describing `call`:
/// listed in the catalog, or, for a `query` (`enabled!`, which logs
/// nothing), marked as one and not listed; `None` when its strings pass
/// the 64 KiB a site's offsets reach.
fn site_definition(call: &Checked<'_>, site: &Ident, query: bool) -> Option<TokenStream> {
    let level_variant = Ident::new(call.level.variant(), Span::call_site());
    let (strs, pieces) = site_strs(call);
    if strs.text.len() >= usize::from(NONE) || pieces >= usize::from(NONE) {
        return None;
    }
    let strs_text = Literal::string(&strs.text);
    // The module path starts where the strings end.
    let module = strs.text.len() as u16;
    let parts = strs.parts.iter().map(|p| match *p {
        Some([start, end]) => quote!([#start, #end]),
        None => quote!([#module, #NONE]),
    });
    let pieces = pieces as u16;
    let names = call.fields.iter().map(|f| Literal::string(&f.key.text));
    let (listing, query) = if query {
        (TokenStream::new(), quote!(.query()))
    } else {
        let listing = quote! {
            // Listed in `velo::catalog()` at link time.
            #[__velo::linkme::distributed_slice(__velo::CATALOG)]
            #[linkme(crate = __velo::linkme)]
            static __VELO_LISTED: &'static __velo::CallSite = &__VELO_SITE;
        };
        (listing, TokenStream::new())
    };
    // The statics live in a block of their own: an item declared next to
    // the user's expressions would shadow a user variable of the same name.
    Some(quote! {
        let #site: &'static __velo::CallSite = {
            static __VELO_SITE: __velo::CallSite = __velo::CallSite::new(__velo::Site::new(
                __velo::Level::#level_variant,
                __velo::line!(),
                __velo::file!(),
                #pieces,
                __velo::concat!(#strs_text, __velo::module_path!()),
                &[#(#parts),*],
                &[#(#names),*],
            )#query);
            #listing
            &__VELO_SITE
        };
    })
}

/// Expands a checked `fields!` call into a `velo::Fields` value.
pub fn fields_value(list: &[Field]) -> TokenStream {
    let builder = Ident::new("__velo_fields", Span::mixed_site());
    let FieldCode {
        bindings,
        exprs,
        writes,
        ..
    } = fields(list, &builder, "FieldsBuilder");
    let names = list.iter().map(|f| Literal::string(&f.key.text));
    let writes = if exprs.is_empty() {
        TokenStream::new()
    } else {
        quote! {
            match (#(&(#exprs),)*) {
                (#(#bindings,)*) => { #(#writes)* }
            }
        }
    };
    quote! {
        {
            let mut #builder = __velo::FieldsBuilder::new(&[#(#names),*]);
            #writes
            #builder.build()
        }
    }
}

/// What a call's fields generate, per field with a value.
struct FieldCode {
    /// The binding of the borrowed value.
    bindings: Vec<Ident>,
    /// The value expression.
    exprs: Vec<TokenStream>,
    /// The call that writes the value through the builder, one method per
    /// sigil (`value`, `display`, `debug`).
    writes: Vec<TokenStream>,
    /// The value as an argument of `Entry::logN`: `loggable(&*binding)`,
    /// or `&shown(&*binding)` for a `%` field and `&debugged(&*binding)`
    /// for a `?` one.
    args: Vec<TokenStream>,
}

/// The most values `Entry::logN` takes (`Entry::log12`).
const LOG_N_MAX: usize = 12;

/// The code of `list`'s fields, written through `target`, of type
/// `__velo::{ty}` (see [`FieldCode`]).
fn fields(list: &[Field], target: &Ident, ty: &str) -> FieldCode {
    let mut code = FieldCode {
        bindings: Vec::new(),
        exprs: Vec::new(),
        writes: Vec::new(),
        args: Vec::new(),
    };
    for (i, field) in list.iter().enumerate() {
        let Some(value) = &field.value else { continue };
        let (span, last) = first_last_spans(value);
        // The binding has call-site hygiene and the value's spans, so that
        // a missing trait implementation is reported on the user's
        // expression (with `mixed_site` rustc blames the whole call). It
        // cannot capture anything: the user's expressions are all in the
        // scrutinee, outside the arm that binds it.
        //
        // rustc underlines the argument `&*binding` from its first token to
        // its last: `&` takes the span of the expression's first token and
        // the binding that of its last, so all of the expression is
        // underlined (`Span::join` is unstable; see `as_logger`). The
        // callee path spans the same range, which keeps rustc from adding
        // a second label on part of it; so does the call of `logN`'s
        // argument, whose bound (the same as the call's own, at the same
        // span) rustc then reports once. The use of the binding resolves
        // as the binding does (`resolved_at`): when the first and the last
        // token come from different macros (a `macro_rules!` of the user's
        // that writes `v = $x + 1`), hygiene would keep them apart.
        let binding = Ident::new(&format!("__velo_v{i}"), span);
        let (method, wrap, by_ref) = match field.sigil {
            Sigil::Value => ("value", "loggable", TokenStream::new()),
            Sigil::Display => ("display", "shown", quote_spanned!(span=> &)),
            Sigil::Debug => ("debug", "debugged", quote_spanned!(span=> &)),
        };
        let callee_root = Ident::new("__velo", span);
        let ty = Ident::new(ty, span);
        let method = Ident::new(method, last);
        let arg = Ident::new(&format!("__velo_v{i}"), last.resolved_at(span));
        code.writes.push(quote_spanned! {span=>
            #callee_root::#ty::#method(&mut #target, &*#arg);
        });
        let wrap = Ident::new(wrap, last);
        let mut wrapped = Group::new(Delimiter::Parenthesis, quote_spanned!(span=> &*#arg));
        wrapped.set_span(last);
        code.args
            .push(quote_spanned!(span=> #by_ref #callee_root::#wrap #wrapped));
        code.bindings.push(binding);
        code.exprs.push(quote!(#value));
    }
    code
}

/// `__velo::as_logger(&(expr))`, spanned so that rustc underlines `expr`,
/// not the whole call, when it is not a logger.
///
/// `Span::join` is unstable, so the `&` takes the span of the expression's
/// first token and the parentheses that of its last: rustc measures the
/// argument from one to the other (the trick of `syn::Error::new_spanned`).
fn as_logger(expr: &syn::Expr) -> TokenStream {
    let (first, last) = first_last_spans(expr);
    let mut arg = Group::new(Delimiter::Parenthesis, quote!(#expr));
    arg.set_span(last);
    let mut args = Group::new(Delimiter::Parenthesis, quote_spanned!(first=> &#arg));
    args.set_span(first);
    quote_spanned!(first=> __velo::as_logger #args)
}

/// The spans of the first and the last token of `expr`.
fn first_last_spans(expr: &syn::Expr) -> (Span, Span) {
    let mut tokens = quote!(#expr).into_iter();
    let first = tokens.next().map_or_else(Span::call_site, |t| t.span());
    let last = tokens.last().map_or(first, |t| t.span());
    (first, last)
}

/// What a call with errors expands to: the errors, plus a never-run use of
/// every expression so that one mistake does not cascade into unused-variable
/// warnings or type-inference errors, then `tail`, a value of the type the
/// macro has (`()` for `velo!`, `Fields` for `fields!`).
pub fn fallback(errors: Vec<syn::Error>, exprs: &[&syn::Expr], tail: TokenStream) -> TokenStream {
    let errors = errors.into_iter().map(|e| e.to_compile_error());
    quote! {
        {
            #(#errors)*
            if false {
                #( let _ = &(#exprs); )*
            }
            #tail
        }
    }
}

/// A call site's strings and where each part is, in the layout `velo`'s
/// `callsite::Site` documents; and the number of pieces of its template
/// (0 for a plain message).
fn site_strs(call: &Checked<'_>) -> (Strs, usize) {
    let mut strs = Strs::default();
    strs.add(&call.message);
    match &call.target {
        Some(t) => strs.add(t),
        None => strs.none(0),
    }
    strs.module();
    for f in &call.fields {
        strs.add(&format!(",\"{}\":", escape::json_str(&f.key.text)));
        strs.add(&escape::text_value(&f.key.text));
    }
    let pieces = match &call.template {
        None => {
            strs.add(&escape::json_str(&call.message));
            strs.add(&escape::text_message(&call.message));
            0
        }
        Some(segments) => {
            for segment in segments {
                match segment {
                    Segment::Lit(lit) => {
                        strs.add(&escape::json_str(lit));
                        strs.add(&escape::text_message(lit));
                    }
                    Segment::Field(i) => {
                        strs.none(*i);
                        strs.none(*i);
                    }
                }
            }
            segments.len()
        }
    };
    (strs, pieces)
}

/// A bound of a part that is not an offset (`velo`'s `callsite::part::NONE`).
const NONE: u16 = u16::MAX;

/// A call site's strings, each stored once, and the `[start, end)` of each
/// part in them.
#[derive(Default)]
struct Strs {
    text: String,
    /// `None` for the module path, which starts where the strings end (the
    /// generated `concat!` appends it).
    parts: Vec<Option<[u16; 2]>>,
}

impl Strs {
    /// Adds a part, found in the strings so far when they contain it.
    fn add(&mut self, part: &str) {
        let start = match self.text.find(part) {
            _ if part.is_empty() => 0,
            Some(at) => at,
            None => {
                self.text.push_str(part);
                self.text.len() - part.len()
            }
        };
        let bound = |n: usize| u16::try_from(n).unwrap_or(NONE);
        self.parts
            .push(Some([bound(start), bound(start + part.len())]));
    }

    /// Adds a part that is not a string: `[NONE, value]`.
    fn none(&mut self, value: usize) {
        self.parts
            .push(Some([NONE, u16::try_from(value).unwrap_or(NONE)]));
    }

    /// Adds the module path's part.
    fn module(&mut self) {
        self.parts.push(None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::Invocation;
    use crate::validate;

    fn expand(input: TokenStream) -> String {
        let inv = Invocation::parse(input);
        let checked = validate::invocation(&inv).unwrap_or_else(|e| panic!("{}", e[0]));
        velo(&checked).to_string()
    }

    #[test]
    fn constants_are_pre_escaped_and_stored_once() {
        let input = quote!(info, "say \"hi\"\n", user_id = 1, "a\tb" = %x);
        let inv = Invocation::parse(input.clone());
        let checked = validate::invocation(&inv).unwrap_or_else(|e| panic!("{}", e[0]));
        let (strs, pieces) = site_strs(&checked);
        assert_eq!(pieces, 0);
        let part = |i: usize| match strs.parts[i] {
            Some([NONE, _]) => "<none>",
            Some([a, b]) => &strs.text[usize::from(a)..usize::from(b)],
            None => "<module>",
        };
        let parts: Vec<&str> = (0..strs.parts.len()).map(part).collect();
        assert_eq!(
            parts,
            [
                "say \"hi\"\n",
                "<none>",
                "<module>",
                ",\"user_id\":",
                "user_id",
                ",\"a\\tb\":",
                "\"a\\tb\"",
                "say \\\"hi\\\"\\n",
                "say \\\"hi\\\"\\n",
            ]
        );
        // The message's two escaped forms are the same bytes, stored once.
        assert_eq!(strs.parts[7], strs.parts[8]);
        // `user_id` is found inside `,"user_id":`.
        assert_eq!(strs.text.matches("user_id").count(), 1, "{}", strs.text);
        let out = expand(input);
        // One call, in the thread's buffer (a field is written through
        // `Display`), the `%` field through `shown`.
        assert!(out.contains("Entry :: buffered2 ("), "{out}");
        assert!(out.contains(":: shown ("), "{out}");
        assert!(out.contains("module_path"), "{out}");
        assert!(
            out.contains(":: file ! ()") && out.contains(":: line ! ()"),
            "{out}"
        );
    }

    #[test]
    fn one_call_per_site_up_to_twelve_fields() {
        let out = expand(quote!(info, "m", a = ?x, b = 1));
        assert!(out.contains("Entry :: buffered2 ("), "{out}");
        assert!(out.contains(":: debugged (") && out.contains(":: loggable ("));
        // `info, "m", f0 = 0, f1 = 1, ...`: `n` fields.
        let with_fields = |n: usize| {
            let fields = (0..n).map(|i| {
                let key = Ident::new(&format!("f{i}"), Span::call_site());
                quote!(, #key = #i)
            });
            expand(quote!(info, "m" #(#fields)*))
        };
        let out = with_fields(12);
        assert!(out.contains("Entry :: log12 ("), "{out}");
        let out = with_fields(13);
        assert!(
            !out.contains("Entry :: log") && out.contains("Entry :: value ("),
            "{out}"
        );
        let out = expand(quote!(every: 1s, info, "m", a = 1));
        assert!(out.contains("Entry :: with_suppressed ("), "{out}");
        let out = expand(quote!(info, "m"));
        assert!(out.contains("Entry :: emit ("), "{out}");
    }

    /// The 64 KiB limit counts the message as stored, escaped and as
    /// written: 20,000 quotes (40,000 bytes escaped, 60,000 in all) fit,
    /// 22,000 (66,000) do not, and the error says why.
    #[test]
    fn the_size_limit_counts_escaped_bytes() {
        let message = |quotes: usize| Literal::string(&"\"".repeat(quotes));
        let fits = message(20_000);
        assert!(!expand(quote!(info, #fits)).contains("compile_error"));
        let over = message(22_000);
        let out = expand(quote!(info, #over));
        assert!(
            out.contains("compile_error") && out.contains("64 KiB as velo stores them"),
            "{}",
            &out[..out.len().min(300)]
        );
    }

    #[test]
    fn fatal_exits_and_logger_is_used() {
        let out = expand(quote!(logger: &log, fatal, "bye"));
        assert!(out.contains("fatal_exit"), "{out}");
        assert!(out.contains("as_logger"), "{out}");
        assert!(!out.contains("__velo :: logger ()"), "{out}");
    }
}
