//! Code generation for checked calls.
//!
//! A call site becomes a `static` describing it (level, module path and the
//! pre-escaped bytes of its level, message and caller), one `const` per key
//! with the key's bytes for each format, and a guarded block that evaluates
//! the arguments once, borrowed, and copies constants and encodes values into
//! the entry. Generated code names the runtime only through `__velo`, which
//! the `velo!` wrapper binds to `velo::__private`.

use crate::escape;
use crate::parse::{Field, Sigil};
use crate::validate::{Checked, Level};
use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};

/// Where a call site is, for the `caller` field.
pub struct Caller {
    /// The source file, as `file!()` would name it.
    pub file: String,
}

/// Expands a checked `velo!` call.
pub fn velo(call: &Checked<'_>, caller: &Caller) -> TokenStream {
    let level = call.level;
    let level_variant = Ident::new(level.variant(), Span::call_site());
    let json_head = byte_lit(&format!(
        "\"level\":\"{}\",\"msg\":\"{}\"",
        level.name(),
        escape::json_str(&call.message)
    ));
    let text_msg = byte_lit(&escape::text_message(&call.message));
    let file_json = Literal::string(&escape::json_str(&caller.file));
    let file_raw = Literal::string(&caller.file);
    // `:` and digits never need quoting, so the file decides alone.
    let text_caller = if escape::text_needs_quotes(&caller.file) {
        let inner = Literal::string(&escape::json_str(&caller.file));
        quote!(__velo::concat!(" caller=\"", #inner, ":", __velo::line!(), "\""))
    } else {
        quote!(__velo::concat!(" caller=", #file_raw, ":", __velo::line!()))
    };

    let site = quote! {
        static __VELO_SITE: __velo::Callsite = __velo::Callsite::new(__velo::Site {
            level: __velo::Level::#level_variant,
            module_path: __velo::module_path!(),
            file: #file_raw,
            line: __velo::line!(),
            json_head: #json_head,
            text_msg: #text_msg,
            json_caller: __velo::concat!(",\"caller\":\"", #file_json, ":", __velo::line!(), "\"").as_bytes(),
            text_caller: #text_caller.as_bytes(),
        });
    };

    let entry = Ident::new("__velo_entry", Span::mixed_site());
    let (keys, bindings, exprs, writes) = fields(call.fields, &entry);
    let logger = Ident::new("__velo_logger", Span::mixed_site());
    let interest = Ident::new("__velo_interest", Span::mixed_site());

    let body = quote! {
        let mut #entry = __velo::Entry::new(#logger, &__VELO_SITE);
        #(#writes)*
        #entry.finish();
    };
    let body = if exprs.is_empty() {
        body
    } else {
        quote! {
            match (#(&(#exprs),)*) {
                (#(#bindings,)*) => { #body }
            }
        }
    };
    let guarded = match call.logger {
        Some(expr) => quote! {
            match __velo::as_logger(&(#expr)) {
                #logger => if #logger.accepts(&__VELO_SITE, #interest) { #body },
            }
        },
        None => quote! {
            let #logger = __velo::logger();
            if #logger.accepts(&__VELO_SITE, #interest) { #body }
        },
    };
    let exit = if level == Level::Fatal {
        quote!(__velo::fatal_exit();)
    } else {
        TokenStream::new()
    };
    quote! {
        {
            #site
            #(#keys)*
            if __velo::Level::#level_variant.is_statically_enabled() {
                let #interest = __VELO_SITE.interest();
                if #interest != 0 {
                    #guarded
                }
            }
            #exit
        }
    }
}

/// Expands a checked `fields!` call into a `velo::Fields` value.
pub fn fields_value(list: &[Field]) -> TokenStream {
    let builder = Ident::new("__velo_fields", Span::mixed_site());
    let (keys, bindings, exprs, writes) = fields(list, &builder);
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
            #(#keys)*
            let mut #builder = __velo::FieldsBuilder::new();
            #writes
            #builder.build()
        }
    }
}

/// Per field: the key constant, the binding of the borrowed value, the value
/// expression, and the call that writes it through `target`.
fn fields(
    list: &[Field],
    target: &Ident,
) -> (Vec<TokenStream>, Vec<Ident>, Vec<TokenStream>, Vec<TokenStream>) {
    let mut keys = Vec::new();
    let mut bindings = Vec::new();
    let mut exprs = Vec::new();
    let mut writes = Vec::new();
    for (i, field) in list.iter().enumerate() {
        let Some(value) = &field.value else { continue };
        let span = field.value_span();
        let key_const = format_ident!("__VELO_KEY_{}", i);
        let json = byte_lit(&format!(",\"{}\":", escape::json_str(&field.key.text)));
        let text = byte_lit(&escape::text_value(&field.key.text));
        keys.push(quote! {
            const #key_const: __velo::Key = __velo::Key::new(#json, #text);
        });
        // The binding carries the value's span so that a missing trait
        // implementation is reported on the user's expression.
        let binding = Ident::new(
            &format!("__velo_v{i}"),
            Span::mixed_site().located_at(span),
        );
        let method = match field.sigil {
            Sigil::Value => quote_spanned!(span=> value),
            Sigil::Display => quote_spanned!(span=> display),
            Sigil::Debug => quote_spanned!(span=> debug),
        };
        writes.push(quote_spanned! {span=>
            #target.#method(&#key_const, #binding);
        });
        bindings.push(binding);
        exprs.push(quote!(#value));
    }
    (keys, bindings, exprs, writes)
}

/// A byte-string literal with the given UTF-8 content.
fn byte_lit(s: &str) -> Literal {
    Literal::byte_string(s.as_bytes())
}

/// What a call with errors expands to: the errors, plus a never-run use of
/// every expression so that one mistake does not cascade into unused-variable
/// warnings or type-inference errors.
pub fn fallback(errors: Vec<syn::Error>, exprs: &[&syn::Expr]) -> TokenStream {
    let errors = errors.into_iter().map(|e| e.to_compile_error());
    quote! {
        {
            #(#errors)*
            if false {
                #( let _ = &(#exprs); )*
            }
        }
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
        velo(&checked, &Caller { file: "src/main.rs".into() }).to_string()
    }

    #[test]
    fn constants_are_pre_escaped() {
        let out = expand(quote!(info, "say \"hi\"\n", user_id = 1, "a\tb" = %x));
        assert!(out.contains(r#"b"\"level\":\"info\",\"msg\":\"say \\\"hi\\\"\\n\"""#), "{out}");
        assert!(out.contains(r#"b",\"user_id\":""#), "{out}");
        assert!(out.contains(r#"b",\"a\\tb\":""#), "{out}");
        assert!(out.contains(r#"b"\"a\\tb\"""#), "text key is quoted: {out}");
        assert!(out.contains(". display ("), "{out}");
    }

    #[test]
    fn fatal_exits_and_logger_is_used() {
        let out = expand(quote!(logger: &log, fatal, "bye"));
        assert!(out.contains("fatal_exit"), "{out}");
        assert!(out.contains("as_logger"), "{out}");
        assert!(!out.contains("__velo :: logger ()"), "{out}");
    }
}
