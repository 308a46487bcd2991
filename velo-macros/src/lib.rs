//! Procedural macros of the [velo](https://docs.rs/velo) logger.
//!
//! This crate is an implementation detail of `velo`: depend on `velo` and use
//! `velo::velo!` and `velo::fields!`, which forward here. Nothing in this
//! crate is a stable interface.
//!
//! Each macro runs three stages: `parse` builds velo's syntax tree and
//! collects syntax errors, `validate` checks options, levels, messages and
//! keys, `expand` generates code. Every error of a call is reported at
//! once. `level` (level names) and `escape` (compile-time escaping) are
//! leaves the stages share; imports point one way: lib -> expand ->
//! validate -> parse -> level.

#![forbid(unsafe_code)]

mod escape;
mod expand;
mod level;
mod parse;
mod validate;

use proc_macro::TokenStream;

/// Implementation of `velo::velo!`; use that macro instead.
#[doc(hidden)]
#[proc_macro]
pub fn velo_impl(input: TokenStream) -> TokenStream {
    let inv = parse::Invocation::parse(input.into());
    match validate::invocation(&inv) {
        Ok(checked) => expand::velo(&checked).into(),
        Err(errors) => {
            let exprs: Vec<&syn::Expr> = inv
                .logger
                .iter()
                .chain(inv.message.iter())
                .chain(inv.fields.iter().filter_map(|f| f.value.as_ref()))
                .collect();
            expand::fallback(errors, &exprs, quote::quote!(())).into()
        }
    }
}

/// Implementation of `velo::enabled!`; use that macro instead.
#[doc(hidden)]
#[proc_macro]
pub fn enabled_impl(input: TokenStream) -> TokenStream {
    let call = parse::Enabled::parse(input.into());
    match validate::enabled(&call) {
        Ok(checked) => expand::enabled(&checked).into(),
        Err(errors) => {
            let exprs: Vec<&syn::Expr> = call.logger.iter().collect();
            expand::fallback(errors, &exprs, quote::quote!(false)).into()
        }
    }
}

/// Implementation of `velo::fields!`; use that macro instead.
#[doc(hidden)]
#[proc_macro]
pub fn fields_impl(input: TokenStream) -> TokenStream {
    let (fields, mut errors) = parse::parse_fields(input.into());
    validate::fields(&fields, &mut errors);
    if errors.is_empty() {
        expand::fields_value(&fields).into()
    } else {
        let exprs: Vec<&syn::Expr> = fields.iter().filter_map(|f| f.value.as_ref()).collect();
        expand::fallback(errors, &exprs, quote::quote!(__velo::Fields::new())).into()
    }
}
