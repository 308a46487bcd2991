//! Parsing of `velo!` and `fields!` input into velo's own syntax tree.
//!
//! The parser recovers from mistakes: each one is recorded in
//! [`Invocation::errors`] and parsing resumes at the next top-level comma, so
//! a call with several mistakes reports all of them at once. Semantic checks
//! (level names, reserved and duplicate keys) belong to `validate`.

use crate::level::{edit_distance, suggest_level, Level};
use proc_macro2::{Span, TokenStream, TokenTree};
use syn::ext::IdentExt as _;
use syn::parse::{discouraged::Speculative as _, ParseStream, Parser as _};
use syn::{Expr, Ident, LitStr, Token};

/// A parsed `velo!` call.
pub struct Invocation {
    /// The expression after `logger:`, if given.
    pub logger: Option<Expr>,
    /// `every:`, `sample:` and `target:`, unchecked.
    pub options: Options,
    /// The level identifier, unchecked; `None` when it is missing.
    pub level: Option<Ident>,
    /// The message; anything but a string literal is reported by `validate`.
    pub message: Option<Expr>,
    /// The fields, in call order.
    pub fields: Vec<Field>,
    /// Every syntax error met while parsing.
    pub errors: Vec<syn::Error>,
}

/// The options written before the level, besides `logger:`.
#[derive(Default)]
pub struct Options {
    pub every: Option<Expr>,
    pub sample: Option<Expr>,
    pub target: Option<Expr>,
}

/// One `key = value` pair, or a shorthand `key`.
#[derive(Clone)]
pub struct Field {
    pub key: Key,
    pub sigil: Sigil,
    /// The value expression; for a shorthand, the key read as an expression.
    /// `None` when the value is missing (already reported).
    pub value: Option<Expr>,
}

/// A field key as written.
#[derive(Clone)]
pub struct Key {
    /// The key text: dotted identifiers joined by `.`, raw prefixes removed,
    /// or the string literal's value.
    pub text: String,
    /// The key's tokens, so that diagnostics can underline all of it.
    pub tokens: TokenStream,
    /// Whether the key was written as a string literal.
    pub literal: bool,
    /// Whether the field is a variable a message placeholder captures
    /// (its tokens are then the message's).
    pub placeholder: bool,
}

/// How a value is encoded.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Sigil {
    /// Through `velo::Value`.
    Value,
    /// `%expr`: through `Display`.
    Display,
    /// `?expr`: through `Debug`.
    Debug,
}

impl Sigil {
    /// How it is written before a value: `%`, `?`, or nothing.
    pub fn as_str(self) -> &'static str {
        match self {
            Sigil::Value => "",
            Sigil::Display => "%",
            Sigil::Debug => "?",
        }
    }
}

impl Invocation {
    /// Parses a `velo!` invocation. Never fails: errors are collected.
    pub fn parse(tokens: TokenStream) -> Invocation {
        let mut inv = Invocation {
            logger: None,
            options: Options::default(),
            level: None,
            message: None,
            fields: Vec::new(),
            errors: Vec::new(),
        };
        let parser = |input: ParseStream<'_>| {
            parse_invocation(input, &mut inv);
            Ok(())
        };
        if let Err(e) = parser.parse2(tokens) {
            inv.errors.push(e);
        }
        inv
    }
}

/// Parses the input of `fields!`: a comma-separated field list.
pub fn parse_fields(tokens: TokenStream) -> (Vec<Field>, Vec<syn::Error>) {
    let mut fields = Vec::new();
    let mut errors = Vec::new();
    let parser = |input: ParseStream<'_>| {
        parse_field_list(input, &mut fields, &mut errors, true);
        Ok(())
    };
    if let Err(e) = parser.parse2(tokens) {
        errors.push(e);
    }
    (fields, errors)
}

/// A parsed `enabled!` call: `[logger: EXPR,] [target: "name",] LEVEL`.
pub struct Enabled {
    pub logger: Option<Expr>,
    pub target: Option<Expr>,
    pub level: Option<Ident>,
    pub errors: Vec<syn::Error>,
}

impl Enabled {
    /// Parses an `enabled!` invocation. Never fails: errors are collected.
    pub fn parse(tokens: TokenStream) -> Enabled {
        let mut call = Enabled {
            logger: None,
            target: None,
            level: None,
            errors: Vec::new(),
        };
        let parser = |input: ParseStream<'_>| {
            parse_enabled(input, &mut call);
            Ok(())
        };
        if let Err(e) = parser.parse2(tokens) {
            call.errors.push(e);
        }
        call
    }
}

fn parse_enabled(input: ParseStream<'_>, call: &mut Enabled) {
    const EXPECTED: &str =
        "expected a level, e.g. `velo::enabled!(debug)` or `velo::enabled!(logger: &log, target: \"audit\", debug)`";
    let go_on = parse_options(input, &mut call.errors, |kw, expr, errors| {
        let slot = match kw.to_string().as_str() {
            "logger" => &mut call.logger,
            "target" => &mut call.target,
            _ => {
                return errors.push(syn::Error::new(
                    kw.span(),
                    format!("`enabled!` takes `logger:` and `target:`, not `{kw}:`"),
                ))
            }
        };
        set_once(slot, kw, expr, errors);
    });
    if !go_on {
        return;
    }
    if let Some((kw, expr)) = option_without_colon(input, &mut call.errors) {
        // `enabled!(logger &log, debug)`: one error, and read on.
        match (kw.to_string().as_str(), expr) {
            ("logger", Some(expr)) => set_once(&mut call.logger, &kw, expr, &mut call.errors),
            ("target", Some(expr)) => set_once(&mut call.target, &kw, expr, &mut call.errors),
            _ => {}
        }
        if comma_after_option(input, &mut call.errors, &kw) {
            parse_enabled(input, call);
        }
        return;
    }
    if input.peek(Ident::peek_any) && input.peek2(Token![::]) {
        call.level = level_path(input, &mut call.errors, |level| {
            format!("velo::enabled!({level})")
        });
    } else {
        match input.call(Ident::parse_any) {
            Ok(level) => call.level = Some(level),
            Err(_) => {
                call.errors.push(syn::Error::new(input.span(), EXPECTED));
                return;
            }
        }
    }
    let _ = input.parse::<Option<Token![,]>>();
    if !input.is_empty() {
        call.errors.push(syn::Error::new(
            input.span(),
            "`enabled!` takes no message or fields: only options and a level",
        ));
        let _ = input.parse::<TokenStream>();
    }
}

fn parse_invocation(input: ParseStream<'_>, inv: &mut Invocation) {
    if input.is_empty() {
        inv.errors.push(syn::Error::new(
            Span::call_site(),
            "expected a level and a message, e.g. `velo!(info, \"server started\")`",
        ));
        return;
    }
    // `logger:`, `every:`, `sample:`, `target:`, in any order.
    let go_on = parse_options(input, &mut inv.errors, |kw, expr, errors| {
        let slot = match kw.to_string().as_str() {
            "logger" => &mut inv.logger,
            "every" => &mut inv.options.every,
            "sample" => &mut inv.options.sample,
            "target" => &mut inv.options.target,
            _ => return errors.push(unknown_option(kw)),
        };
        set_once(slot, kw, expr, errors);
    });
    if !go_on {
        return;
    }

    // The level.
    if let Some(level) = peek_quoted_level(input) {
        // `velo!("info", "message")`: one error, and the call read on.
        let lit: LitStr = input.parse().expect("peeked");
        inv.errors.push(syn::Error::new(
            lit.span(),
            format!(
                "the level is a word, not a string: write `{}`, e.g. `velo!({}, \"message\")`",
                level.name(),
                level.name()
            ),
        ));
        inv.level = Some(Ident::new(level.name(), lit.span()));
    } else if input.peek(LitStr) {
        let lit: LitStr = input.parse().expect("peeked");
        // `velo!("message", info)`: take a level written second, so that it
        // is not read as a shorthand field and reported a second time.
        let fork = input.fork();
        if fork.parse::<Token![,]>().is_ok() {
            if let Ok(level) = fork.call(Ident::parse_any) {
                if (fork.is_empty() || fork.peek(Token![,]))
                    && suggest_level(&level.to_string()).is_some()
                {
                    let _: Token![,] = input.parse().expect("forked");
                    let _ = input.call(Ident::parse_any);
                    inv.level = Some(level);
                }
            }
        }
        let example = inv
            .level
            .as_ref()
            .and_then(|l| suggest_level(&l.to_string()))
            .map_or("info", Level::name);
        inv.errors.push(syn::Error::new(
            lit.span(),
            format!("expected a level before the message, e.g. `velo!({example}, \"message\")`"),
        ));
        inv.message = Some(Expr::Lit(syn::ExprLit {
            attrs: Vec::new(),
            lit: syn::Lit::Str(lit),
        }));
        parse_field_list(input, &mut inv.fields, &mut inv.errors, false);
        return;
    }
    if inv.level.is_some() {
        // Read from a string above.
    } else if let Some(kw) = peek_option_with_eq(input) {
        // `velo!(logger = &log, info, ...)`: one error, and read on.
        let _: Ident = input.call(Ident::parse_any).expect("peeked");
        let _: Token![=] = input.parse().expect("peeked");
        inv.errors.push(syn::Error::new(
            kw.span(),
            format!("write `{kw}:`, not `{kw} =`: options take a colon"),
        ));
        if let Ok(expr) = input.parse::<Expr>() {
            inv.set_option(&kw, expr);
        }
        if expect_comma(input, &mut inv.errors, &format!("after `{kw}:`")) {
            parse_invocation(input, inv);
        }
        return;
    } else if let Some((kw, expr)) = option_without_colon(input, &mut inv.errors) {
        // `velo!(logger &log, info, ...)`: one error, and read on.
        if let Some(expr) = expr {
            inv.set_option(&kw, expr);
        }
        if comma_after_option(input, &mut inv.errors, &kw) {
            parse_invocation(input, inv);
        }
        return;
    } else if input.peek(Ident::peek_any) && input.peek2(Token![::]) {
        // `velo!(Level::INFO, ...)`, as `tracing::event!` takes it.
        inv.level = level_path(input, &mut inv.errors, |level| {
            format!("velo!({level}, \"message\")")
        });
    } else {
        match input.call(Ident::parse_any) {
            Ok(level) => inv.level = Some(level),
            Err(_) => {
                let span = input.span();
                inv.errors.push(syn::Error::new(
                    span,
                    "expected a level: `trace`, `debug`, `info`, `warn`, `error` or `fatal`",
                ));
                skip_to_comma(input);
            }
        }
    }
    if input.peek(LitStr) {
        // `velo!(info "message")`: report the comma and read the message.
        inv.errors.push(syn::Error::new(
            input.span(),
            "expected `,` after the level",
        ));
    } else if !input.is_empty() && !expect_comma(input, &mut inv.errors, "after the level") {
        return;
    }

    // The message.
    loop {
        if input.is_empty() {
            let Some(level) = &inv.level else {
                // No level either, which was reported.
                return;
            };
            inv.errors.push(syn::Error::new(
                level.span(),
                "expected a message after the level, e.g. `velo!(info, \"message\")`",
            ));
            return;
        }
        if input.peek(Token![,]) {
            // `velo!(info,, "message")`.
            let comma: Token![,] = input.parse().expect("peeked");
            inv.errors.push(syn::Error::new(
                comma.span,
                "expected the message after the level, found a second `,`",
            ));
            continue;
        }
        if let Some(second) = peek_second_level(input) {
            // `velo!(info, warn, "message")`: not a shorthand field named
            // `warn`.
            let _: Token![,] = input.parse().expect("peeked");
            let first = inv.level.as_ref().map(ToString::to_string);
            inv.errors.push(syn::Error::new(
                second.span(),
                match first {
                    Some(first) => format!(
                        "a call has one level: `{first}` is given already, so `{second}` is one too many"
                    ),
                    None => format!("a call has one level: `{second}` is one too many"),
                },
            ));
            continue;
        }
        let Some(kw) = peek_option(input) else {
            break;
        };
        // `velo!(info, logger: &log, "message")`: report it, keep the
        // expression (so it is still type-checked) and go on.
        let _: Ident = input.call(Ident::parse_any).expect("peeked");
        let _: Token![:] = input.parse().expect("peeked");
        inv.errors.push(misplaced_option(&kw));
        match input.parse::<Expr>() {
            Ok(expr) if kw == "logger" && inv.logger.is_none() => inv.logger = Some(expr),
            Ok(_) => {}
            Err(_) => skip_to_comma(input),
        }
        if !expect_comma(input, &mut inv.errors, &format!("after `{kw}:`")) {
            return;
        }
    }
    if peek_fields_first(input) {
        // `velo!(info, a = 1, "message")`: read everything as fields, so that
        // their mistakes are reported too, taking a bare string literal among
        // them as the misplaced message.
        let first = input.span();
        let at = inv.errors.len();
        let mut message = None;
        parse_field_list_with(
            input,
            &mut inv.fields,
            &mut inv.errors,
            true,
            Some(&mut message),
            true,
        );
        let error = match &message {
            Some(lit) => syn::Error::new(
                lit.span(),
                "the message must come right after the level, e.g. `velo!(info, \"message\", key = value)`",
            ),
            None => syn::Error::new(
                first,
                "expected a message before the fields, e.g. `velo!(info, \"message\", key = value)`",
            ),
        };
        inv.errors.insert(at, error);
        inv.message = message.map(|lit| {
            Expr::Lit(syn::ExprLit {
                attrs: Vec::new(),
                lit: syn::Lit::Str(lit),
            })
        });
        return;
    }
    match input.parse::<Expr>() {
        Ok(expr) => inv.message = Some(expr),
        Err(e) => {
            inv.errors.push(e);
            skip_to_comma(input);
        }
    }
    // slog's `info!(log, "msg"; "key" => value)`: say how velo writes it.
    let after = if input.peek(Token![;]) {
        "after the message; fields follow a comma, as `key = value` (`velo!(info, \"message\", key = value)`)"
    } else {
        "after the message"
    };
    if input.is_empty() || !expect_comma(input, &mut inv.errors, after) {
        return;
    }
    parse_field_list_with(input, &mut inv.fields, &mut inv.errors, true, None, true);
}

/// Whether the input, at the message's place, holds fields instead: it
/// starts like a field (`key =`, `%key`, `?key`), or a bare string literal
/// (the message) follows later.
fn peek_fields_first(input: ParseStream<'_>) -> bool {
    if input.peek(Token![%]) || input.peek(Token![?]) {
        return true;
    }
    if input.peek(Ident::peek_any)
        && input.peek2(Token![=])
        && !input.peek2(Token![==])
        && !input.peek2(Token![=>])
    {
        return true;
    }
    if input.peek(LitStr) {
        return false;
    }
    // Look for `, "literal" ,` or `, "literal"` at the end, at top level.
    let fork = input.fork();
    skip_to_comma(&fork);
    while fork.parse::<Token![,]>().is_ok() {
        if fork.peek(LitStr) {
            let _: LitStr = fork.parse().expect("peeked");
            if fork.is_empty() || fork.peek(Token![,]) {
                return true;
            }
        }
        skip_to_comma(&fork);
    }
    false
}

/// The options a call takes before its level.
const OPTIONS: [&str; 4] = ["logger", "every", "sample", "target"];

/// `logger :`, `every :`, `sample :` or `target :` (but not `logger ::`).
fn peek_option(input: ParseStream<'_>) -> Option<Ident> {
    peek_any_option(input).and_then(|(id, known)| known.then_some(id))
}

/// `ident :` (but not `ident ::`), and whether `ident` is an option.
fn peek_any_option(input: ParseStream<'_>) -> Option<(Ident, bool)> {
    let fork = input.fork();
    let id = fork.call(Ident::parse_any).ok()?;
    if !fork.peek(Token![:]) || fork.peek(Token![::]) {
        return None;
    }
    let known = OPTIONS.iter().any(|k| id == k);
    Some((id, known))
}

/// An option written as a field (`logger = ...`) where the level goes.
fn peek_option_with_eq(input: ParseStream<'_>) -> Option<Ident> {
    let fork = input.fork();
    let id = fork.call(Ident::parse_any).ok()?;
    let eq = fork.peek(Token![=]) && !fork.peek(Token![==]) && !fork.peek(Token![=>]);
    (eq && OPTIONS.iter().any(|k| id == k)).then_some(id)
}

/// An option whose colon is missing (`logger &log`, `every 1s`) where the
/// level goes: its name followed by what can only be its value (no
/// level is followed by anything but a comma, and no option is a level).
/// Takes the name and the value, reporting the missing colon; `None`, with
/// nothing taken, for anything else.
fn option_without_colon(
    input: ParseStream<'_>,
    errors: &mut Vec<syn::Error>,
) -> Option<(Ident, Option<Expr>)> {
    let fork = input.fork();
    let id = fork.call(Ident::parse_any).ok()?;
    let value_follows =
        !fork.is_empty() && !fork.peek(Token![,]) && !fork.peek(Token![:]) && !fork.peek(Token![=]);
    if !value_follows || !OPTIONS.iter().any(|k| id == k) {
        return None;
    }
    let kw: Ident = input.call(Ident::parse_any).expect("forked");
    errors.push(syn::Error::new(
        kw.span(),
        format!("expected `:` after `{kw}`: options take a colon, e.g. `{kw}: ...`"),
    ));
    let expr = match input.parse::<Expr>() {
        Ok(expr) => Some(expr),
        Err(_) => {
            skip_to_comma(input);
            None
        }
    };
    Some((kw, expr))
}

/// The comma after option `kw`'s value; whether to read on. A missing
/// comma before a level is reported and the level read, as in
/// [`parse_options`].
fn comma_after_option(input: ParseStream<'_>, errors: &mut Vec<syn::Error>, kw: &Ident) -> bool {
    if !input.peek(Token![,]) && peek_level_word(input) {
        errors.push(syn::Error::new(
            input.span(),
            format!("expected `,` after `{kw}:`"),
        ));
        return true;
    }
    expect_comma(input, errors, &format!("after `{kw}:`"))
}

/// The error for `kw:` before the level, where `kw` is no option.
fn unknown_option(kw: &Ident) -> syn::Error {
    let name = kw.to_string();
    let near = OPTIONS
        .iter()
        .find(|k| edit_distance(&name.to_ascii_lowercase(), k) <= 2);
    let message = match near {
        Some(k) => format!("unknown option `{name}:`; did you mean `{k}:`?"),
        None => format!(
            "unknown option `{name}:`; before the level, `velo!` takes `logger:`, `every:`, `sample:` and `target:`"
        ),
    };
    syn::Error::new(kw.span(), message)
}

/// The error for option `kw:` after the level.
fn misplaced_option(kw: &Ident) -> syn::Error {
    syn::Error::new(
        kw.span(),
        if kw == "logger" {
            "`logger:` must come first, e.g. `velo!(logger: &log, info, \"message\")`".to_owned()
        } else {
            format!(
                "`{kw}:` must come before the level, e.g. `velo!({kw}: ..., info, \"message\")`"
            )
        },
    )
}

/// A level written as a string (`"info"`) where the level goes, with the
/// message after it: the level it names.
fn peek_quoted_level(input: ParseStream<'_>) -> Option<Level> {
    let fork = input.fork();
    let lit: LitStr = fork.parse().ok()?;
    let value = lit.value();
    let level = Level::named(&value)?;
    (fork.parse::<Token![,]>().is_ok() && fork.peek(LitStr)).then_some(level)
}

/// Reads a level written as a path (`Level::INFO`, `velo::Level::Info`):
/// one error saying how to write it (with `example`, the call written
/// right for a level's name), and the level it names, if any.
fn level_path(
    input: ParseStream<'_>,
    errors: &mut Vec<syn::Error>,
    example: fn(&str) -> String,
) -> Option<Ident> {
    let path = match input.call(syn::Path::parse_mod_style) {
        Ok(path) => path,
        Err(e) => {
            errors.push(e);
            skip_to_comma(input);
            return None;
        }
    };
    let written = quote::quote!(#path).to_string().replace(' ', "");
    let last = &path.segments.last().expect("a path has a segment").ident;
    let level = Level::named(&last.to_string());
    let message = match level {
        Some(level) => format!(
            "write the level as `{}`, not `{written}`, e.g. `{}`",
            level.name(),
            example(level.name())
        ),
        None => format!(
            "expected a level: `trace`, `debug`, `info`, `warn`, `error` or `fatal`; found `{written}`"
        ),
    };
    errors.push(syn::Error::new_spanned(&path, message));
    level.map(|l| Ident::new(l.name(), last.span()))
}

impl Invocation {
    /// Records an option, or an error when it was given already.
    fn set_option(&mut self, kw: &Ident, expr: Expr) {
        let slot = match kw.to_string().as_str() {
            "logger" => &mut self.logger,
            "every" => &mut self.options.every,
            "sample" => &mut self.options.sample,
            _ => &mut self.options.target,
        };
        set_once(slot, kw, expr, &mut self.errors);
    }
}

/// Parses the options written before the level, `name: EXPR,` each, in
/// any order, handing each name and value to `set` (which reports a name
/// its macro does not take); returns whether parsing can go on.
fn parse_options(
    input: ParseStream<'_>,
    errors: &mut Vec<syn::Error>,
    mut set: impl FnMut(&Ident, Expr, &mut Vec<syn::Error>),
) -> bool {
    while let Some((kw, _)) = peek_any_option(input) {
        let _: Ident = input.call(Ident::parse_any).expect("peeked");
        let _: Token![:] = input.parse().expect("peeked");
        match input.parse::<Expr>() {
            Ok(expr) => set(&kw, expr, errors),
            Err(_) => {
                errors.push(syn::Error::new(
                    kw.span(),
                    format!("expected a value after `{kw}:`"),
                ));
                // Reported: the rest is read on from the next comma, if any.
                skip_to_comma(input);
                if input.parse::<Token![,]>().is_err() {
                    return false;
                }
                continue;
            }
        }
        // `velo!(every: 1s info, ...)`: the comma is missing, and the
        // level is read as it is.
        let level_follows = !input.peek(Token![,]) && peek_level_word(input);
        if !comma_after_option(input, errors, &kw) {
            return false;
        }
        if level_follows {
            return true;
        }
    }
    true
}

/// Whether a level's name comes next.
fn peek_level_word(input: ParseStream<'_>) -> bool {
    level_word(&input.fork()).is_some()
}

/// A level's name, taken; `None` (with something taken or not) for
/// anything else.
fn level_word(input: ParseStream<'_>) -> Option<Ident> {
    let word = input.call(Ident::parse_any).ok()?;
    Level::named(&word.to_string()).map(|_| word)
}

/// Sets option `kw`'s value in `slot`, or reports it given twice.
fn set_once(slot: &mut Option<Expr>, kw: &Ident, expr: Expr, errors: &mut Vec<syn::Error>) {
    if slot.is_some() {
        errors.push(syn::Error::new(
            kw.span(),
            format!("`{kw}:` given twice; keep one"),
        ));
    } else {
        *slot = Some(expr);
    }
}

/// Consumes a `,`; on anything else records an error, skips to the next comma
/// and returns whether parsing can go on.
fn expect_comma(input: ParseStream<'_>, errors: &mut Vec<syn::Error>, context: &str) -> bool {
    if input.parse::<Token![,]>().is_ok() {
        return true;
    }
    errors.push(syn::Error::new(
        input.span(),
        format!("expected `,` {context}"),
    ));
    skip_to_comma(input);
    input.parse::<Token![,]>().is_ok()
}

/// A level word followed by a comma, taken (the word; the comma is left):
/// a second level where the message belongs.
fn peek_second_level(input: ParseStream<'_>) -> Option<Ident> {
    let fork = input.fork();
    let word = level_word(&fork).filter(|_| fork.peek(Token![,]))?;
    input.advance_to(&fork);
    Some(word)
}

/// The span of the last token before the next top-level comma (or the
/// end): where a value that starts here ends, as far as a comma tells.
fn value_end(input: ParseStream<'_>) -> Option<Span> {
    past_value(&input.fork())
}

/// `e`, from parsing the value of `key`, pointed at `end` (the value's
/// last token) when it is syn's error for input that ended too soon: syn
/// gives that one the span of the whole call.
fn incomplete_value(e: syn::Error, key: &str, end: Span) -> syn::Error {
    match e.to_string().strip_prefix("unexpected end of input, ") {
        Some(expected) => syn::Error::new(
            end,
            format!("the value of `{key}` is incomplete: {expected}"),
        ),
        None => e,
    }
}

/// Skips token trees up to (not including) the next top-level comma.
fn skip_to_comma(input: ParseStream<'_>) {
    past_value(input);
}

/// Steps over token trees up to (not including) the next top-level comma;
/// the span of the last one passed.
fn past_value(input: ParseStream<'_>) -> Option<Span> {
    input
        .step(|cursor| {
            let (mut rest, mut last) = (*cursor, None);
            while let Some((tt, next)) = rest.token_tree() {
                if matches!(&tt, TokenTree::Punct(p) if p.as_char() == ',') {
                    break;
                }
                last = Some(tt.span());
                rest = next;
            }
            Ok((last, rest))
        })
        .unwrap_or(None)
}

/// Parses `[, FIELD]* [,]`; when `first` is set the list does not start
/// with a comma (as in `fields!`).
fn parse_field_list(
    input: ParseStream<'_>,
    fields: &mut Vec<Field>,
    errors: &mut Vec<syn::Error>,
    first: bool,
) {
    parse_field_list_with(input, fields, errors, first, None, false);
}

/// [`parse_field_list`]; with `message`, the first bare string literal in
/// the list is taken as a misplaced message instead of a field; with
/// `options` (a `velo!` call's fields), `logger:` and the other options
/// are reported as misplaced rather than as fields missing their `=`.
fn parse_field_list_with(
    input: ParseStream<'_>,
    fields: &mut Vec<Field>,
    errors: &mut Vec<syn::Error>,
    mut first: bool,
    mut message: Option<&mut Option<LitStr>>,
    options: bool,
) {
    loop {
        if input.is_empty() {
            return;
        }
        if !first {
            if !expect_comma(input, errors, "between fields") {
                return;
            }
            if input.is_empty() {
                return; // trailing comma
            }
        }
        first = false;
        if let Some(message) = message.as_deref_mut().filter(|m| m.is_none()) {
            let fork = input.fork();
            if let Ok(lit) = fork.parse::<LitStr>() {
                if fork.is_empty() || fork.peek(Token![,]) {
                    input.advance_to(&fork);
                    *message = Some(lit);
                    continue;
                }
            }
        }
        if let Some(kw) = peek_option(input).filter(|_| options) {
            errors.push(misplaced_option(&kw));
            skip_to_comma(input);
            continue;
        }
        if let Some(field) = parse_field(input, errors) {
            fields.push(field);
        } else {
            skip_to_comma(input);
        }
    }
}

fn parse_sigil(input: ParseStream<'_>) -> (Sigil, Option<Span>) {
    if input.peek(Token![%]) {
        let t: Token![%] = input.parse().expect("peeked");
        (Sigil::Display, Some(t.span))
    } else if input.peek(Token![?]) {
        let t: Token![?] = input.parse().expect("peeked");
        (Sigil::Debug, Some(t.span))
    } else {
        (Sigil::Value, None)
    }
}

fn parse_field(input: ParseStream<'_>, errors: &mut Vec<syn::Error>) -> Option<Field> {
    // `%key` / `?key`: shorthand written through Display / Debug.
    let (prefix, prefix_span) = parse_sigil(input);
    if let Some(span) = prefix_span {
        if input.is_empty() || input.peek(Token![,]) {
            let sigil = prefix.as_str();
            errors.push(syn::Error::new(
                span,
                format!(
                    "expected a variable after `{sigil}`, e.g. `{sigil}name`; a value of another \
                     name is written `key = {sigil}value`"
                ),
            ));
            return None;
        }
    }
    let (key, idents) = parse_key(input, errors, prefix.as_str())?;

    if input.peek(Token![=]) && !input.peek(Token![==]) && !input.peek(Token![=>]) {
        let eq: Token![=] = input.parse().expect("peeked");
        if let Some(span) = prefix_span {
            errors.push(syn::Error::new(
                span,
                format!(
                    "put the sigil before the value, e.g. `{} = {}value`",
                    key.text,
                    prefix.as_str()
                ),
            ));
        }
        let (sigil, sigil_span) = parse_sigil(input);
        if input.is_empty() || input.peek(Token![,]) {
            errors.push(syn::Error::new(
                sigil_span.unwrap_or(eq.span),
                format!("missing value after `=` for key `{}`", key.text),
            ));
            return Some(Field {
                key,
                sigil,
                value: None,
            });
        }
        let end = value_end(input);
        return match input.parse::<Expr>() {
            Ok(value) => Some(Field {
                key,
                sigil,
                value: Some(value),
            }),
            Err(e) => {
                errors.push(incomplete_value(e, &key.text, end.unwrap_or(eq.span)));
                None
            }
        };
    }
    if input.peek(Token![=>]) || (input.peek(Token![:]) && !input.peek(Token![::])) {
        errors.push(syn::Error::new(
            input.span(),
            format!(
                "expected `=` between key and value, e.g. `{} = value`",
                key.text
            ),
        ));
        return None;
    }
    if !(input.is_empty() || input.peek(Token![,])) {
        errors.push(syn::Error::new(
            input.span(),
            format!(
                "expected `=`, `,` or the end of the call after key `{}`; an expression needs a key, e.g. `{} = ...`",
                key.text,
                key.text.rsplit('.').next().unwrap_or(&key.text)
            ),
        ));
        return None;
    }

    // Shorthand: the key is also the value, read as a place expression.
    if key.literal {
        errors.push(key.error(format!(
            "a string-literal key needs a value, e.g. `\"{}\" = value`",
            key.text.escape_default()
        )));
        return None;
    }
    if let Some(kw) = idents.iter().find(|id| is_keyword(id)) {
        errors.push(syn::Error::new(
            kw.span(),
            format!(
                "`{kw}` is a keyword, not a variable; write `{} = value`",
                key.text
            ),
        ));
        return None;
    }
    let mut tokens = TokenStream::new();
    for (i, id) in idents.iter().enumerate() {
        if i > 0 {
            tokens.extend(quote::quote_spanned!(id.span()=> .));
        }
        tokens.extend(quote::quote!(#id));
    }
    match syn::parse2::<Expr>(tokens) {
        Ok(value) => Some(Field {
            key,
            sigil: prefix,
            value: Some(value),
        }),
        Err(e) => {
            errors.push(e);
            None
        }
    }
}

/// Parses a key: `ident(.ident)*` or a string literal; `sigil` is the `%`
/// or `?` written before a shorthand field, for the messages' examples.
fn parse_key(
    input: ParseStream<'_>,
    errors: &mut Vec<syn::Error>,
    sigil: &str,
) -> Option<(Key, Vec<Ident>)> {
    if input.peek(LitStr) {
        let lit: LitStr = input.parse().expect("peeked");
        return Some((
            Key {
                text: lit.value(),
                tokens: quote::quote!(#lit),
                literal: true,
                placeholder: false,
            },
            Vec::new(),
        ));
    }
    if !input.peek(Ident::peek_any) {
        let span = input.span();
        let what = match input.cursor().literal() {
            Some((lit, rest)) if !matches!(rest.punct(), Some((p, _)) if p.as_char() == '=') => {
                // `velo!(info, "x {}", 5)`, as `format!` takes it.
                format!(
                    "a value needs a key, e.g. `name = {lit}`: fields are not positional (a message names a field with `{{name}}`)"
                )
            }
            Some((lit, _)) => {
                let lit = lit.to_string();
                let quoted = if lit
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '.' || c == '_')
                {
                    format!(" (`\"{lit}\"`)")
                } else {
                    String::new()
                };
                format!(
                    "invalid key `{lit}`; a key is an identifier, dotted identifiers (`http.status`) or a string literal{quoted}"
                )
            }
            None => "expected a field: `key = value`, `key = %value`, `key = ?value` or `key`"
                .to_owned(),
        };
        errors.push(syn::Error::new(span, what));
        return None;
    }
    let first = input.call(Ident::parse_any).expect("peeked");
    let mut tokens = quote::quote!(#first);
    let mut text = first.unraw().to_string();
    let mut idents = vec![first];
    while input.peek(Token![.]) && !input.peek(Token![..]) {
        let dot: Token![.] = input.parse().expect("peeked");
        match input.call(Ident::parse_any) {
            Ok(id) => {
                text.push('.');
                text.push_str(&id.unraw().to_string());
                tokens.extend(quote::quote!(#dot #id));
                idents.push(id);
            }
            Err(_) if input.peek(syn::LitInt) || input.peek(syn::LitFloat) => {
                let index: TokenTree = input.parse().expect("peeked");
                let message = if input.peek(Token![=]) {
                    // `a.0 = 5`: a key with a number for a part.
                    format!(
                        "malformed key `{text}.{index}`: a key's parts are names, e.g. `{text}_{index}`"
                    )
                } else {
                    // `w.0`, `self.0`: a tuple field, as a shorthand field.
                    format!(
                        "`{text}.{index}` has no name to be its key: write `key = {sigil}{text}.{index}`"
                    )
                };
                errors.push(syn::Error::new(index.span(), message));
                return None;
            }
            Err(_) => {
                errors.push(syn::Error::new(
                    dot.span,
                    format!("malformed key `{text}.`; expected an identifier after `.`"),
                ));
                return None;
            }
        }
    }
    if input.peek(Token![..]) {
        let dots: Token![..] = input.parse().expect("peeked");
        errors.push(syn::Error::new_spanned(
            dots,
            format!("malformed key `{text}..`; use a single `.` between identifiers"),
        ));
        return None;
    }
    Some((
        Key {
            text,
            tokens,
            literal: false,
            placeholder: false,
        },
        idents,
    ))
}

/// Whether `id` is a keyword that cannot name a variable (`type`, `match`);
/// raw identifiers (`r#type`) and `self` can.
fn is_keyword(id: &Ident) -> bool {
    id != "self" && syn::parse2::<Ident>(quote::quote!(#id)).is_err()
}

impl Key {
    /// An error underlining the whole key.
    pub fn error(&self, message: impl std::fmt::Display) -> syn::Error {
        syn::Error::new_spanned(&self.tokens, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn errors(inv: &Invocation) -> Vec<String> {
        inv.errors.iter().map(ToString::to_string).collect()
    }

    /// Each input with its syntax errors (a call may report several) and
    /// whether recovery still found the message.
    #[test]
    fn recovery() {
        let cases: Vec<(TokenStream, &[&str], bool)> = vec![
            (quote!(info, "m", a = 1, b), &[], true),
            (quote!(info, m), &[], true),
            (
                quote!("m", info),
                &["expected a level before the message, e.g. `velo!(info, \"message\")`"],
                true,
            ),
            (
                quote!("m", warning, a = 1),
                &["expected a level before the message, e.g. `velo!(warn, \"message\")`"],
                true,
            ),
            (
                quote!("m", error),
                &["expected a level before the message, e.g. `velo!(error, \"message\")`"],
                true,
            ),
            (
                quote!(info, a = 1, "m"),
                &["the message must come right after the level, e.g. `velo!(info, \"message\", key = value)`"],
                true,
            ),
            (
                quote!(info, a, %b, "m", c = 2),
                &["the message must come right after the level, e.g. `velo!(info, \"message\", key = value)`"],
                true,
            ),
            (
                quote!(info, a = 1),
                &["expected a message before the fields, e.g. `velo!(info, \"message\", key = value)`"],
                false,
            ),
            (
                quote!(info, logger: &l, "m"),
                &["`logger:` must come first, e.g. `velo!(logger: &log, info, \"message\")`"],
                true,
            ),
            (
                quote!(info),
                &["expected a message after the level, e.g. `velo!(info, \"message\")`"],
                false,
            ),
            (
                quote!(info,),
                &["expected a message after the level, e.g. `velo!(info, \"message\")`"],
                false,
            ),
            (quote!(info, "m",), &[], true),
            (
                quote!(info "m"),
                &["expected `,` after the level"],
                true,
            ),
            (
                quote!(info, "m" a = 1, b = 2 c = 3),
                &["expected `,` after the message", "expected `,` between fields"],
                true,
            ),
            (
                quote!(info; "m"),
                &["expected `,` after the level"],
                false,
            ),
            (
                quote!(info, "m"; "a" => 1),
                &["expected `,` after the message; fields follow a comma, as `key = value` (`velo!(info, \"message\", key = value)`)"],
                true,
            ),
            (
                quote!(info, "m", %, ?),
                &[
                    "expected a variable after `%`, e.g. `%name`; a value of another name is written `key = %value`",
                    "expected a variable after `?`, e.g. `?name`; a value of another name is written `key = ?value`",
                ],
                true,
            ),
            (
                quote!(info, "m", a =, b = ),
                &["missing value after `=` for key `a`", "missing value after `=` for key `b`"],
                true,
            ),
            (
                quote!(info, "m", a: 1, 5 = x, type),
                &[
                    "expected `=` between key and value, e.g. `a = value`",
                    "invalid key `5`; a key is an identifier, dotted identifiers (`http.status`) or a string literal (`\"5\"`)",
                    "`type` is a keyword, not a variable; write `type = value`",
                ],
                true,
            ),
            (
                quote!(info, "m", a. = 1, a..b = 2),
                &[
                    "malformed key `a.`; expected an identifier after `.`",
                    "malformed key `a..`; use a single `.` between identifiers",
                ],
                true,
            ),
        ];
        for (input, expected, has_message) in cases {
            let text = input.to_string();
            let inv = Invocation::parse(input);
            assert_eq!(errors(&inv), expected, "input `{text}`");
            assert_eq!(inv.message.is_some(), has_message, "message of `{text}`");
        }
    }

    #[test]
    fn misplaced_parts_are_kept() {
        let inv = Invocation::parse(quote!("m", warn, a = 1));
        assert_eq!(inv.level.map(|l| l.to_string()).as_deref(), Some("warn"));
        assert_eq!(inv.fields.len(), 1);

        let inv = Invocation::parse(quote!(info, logger: &l, "m", a = 1));
        assert!(inv.logger.is_some());
        assert_eq!(inv.fields.len(), 1);

        let inv = Invocation::parse(quote!(info, a = 1, "m", b = 2));
        let keys: Vec<&str> = inv.fields.iter().map(|f| f.key.text.as_str()).collect();
        assert_eq!(keys, ["a", "b"]);
    }

    #[test]
    fn keys() {
        let inv = Invocation::parse(quote!(info, "m", http.status = 1, r#type = 2, "a b" = 3, c));
        let keys: Vec<(&str, bool)> = inv
            .fields
            .iter()
            .map(|f| (f.key.text.as_str(), f.key.literal))
            .collect();
        assert_eq!(
            keys,
            [
                ("http.status", false),
                ("type", false),
                ("a b", true),
                ("c", false)
            ]
        );
        assert!(inv.errors.is_empty());
    }
}
