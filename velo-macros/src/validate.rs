//! Semantic checks on a parsed call: the options (`every:`, `sample:`,
//! `target:`), the level name, the message and its placeholders, and every
//! key (empty, reserved, duplicate). Each check records its error and goes
//! on, so a call reports all of its mistakes at once.

use crate::level::{suggest_level, Level};
use crate::parse::{Enabled, Field, Invocation, Key, Sigil};
use proc_macro2::Span;
use syn::{Expr, Ident, Lit, LitStr};

/// Keys that velo writes itself.
pub const RESERVED_KEYS: [&str; 4] = ["time", "level", "msg", "caller"];

/// A call that passed every check.
pub struct Checked<'a> {
    pub level: Level,
    pub message: String,
    /// The message's pieces, when it has placeholders.
    pub template: Option<Vec<Segment>>,
    pub logger: Option<&'a Expr>,
    /// `every:`, in nanoseconds.
    pub every: Option<u64>,
    /// `sample:`.
    pub sample: Option<u64>,
    /// `target:`.
    pub target: Option<String>,
    /// The call's fields, then the variables its placeholders capture.
    pub fields: Vec<Field>,
}

/// A piece of a message template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    /// Literal text (`{{` and `}}` already turned into braces).
    Lit(String),
    /// The value of the field at this index.
    Field(usize),
}

/// Checks a parsed call; on failure returns every error, syntax errors first.
pub fn invocation(inv: &Invocation) -> Result<Checked<'_>, Vec<syn::Error>> {
    let mut errors = Vec::new();
    let level = inv.level.as_ref().and_then(|id| match level(id) {
        Ok(level) => Some(level),
        Err(e) => {
            errors.push(e);
            None
        }
    });
    let every = inv
        .options
        .every
        .as_ref()
        .and_then(|e| keep(duration(e), &mut errors));
    let sample = inv
        .options
        .sample
        .as_ref()
        .and_then(|e| keep(sample(e), &mut errors));
    let target = inv
        .options
        .target
        .as_ref()
        .and_then(|e| keep(target(e), &mut errors));
    let mut all_fields: Vec<Field> = inv.fields.clone();
    let (message, template) = match inv.message.as_ref().map(message) {
        Some(Ok(lit)) => {
            let text = lit.value();
            let names: Vec<&str> = inv.fields.iter().map(|f| f.key.text.as_str()).collect();
            let template = match placeholders(&text, &names) {
                Ok(pieces) if pieces.iter().any(|p| matches!(p, Piece::Name(_))) => {
                    resolve(&pieces, &lit, &mut all_fields, &mut errors)
                }
                // `{{` or `}}` but no placeholder: one literal piece, with
                // the braces collapsed.
                Ok(pieces) if text.contains("{{") || text.contains("}}") => Some(
                    pieces
                        .into_iter()
                        .map(|p| match p {
                            Piece::Lit(s) | Piece::Name(s) => Segment::Lit(s),
                        })
                        .collect(),
                ),
                Ok(_) => None,
                Err(why) => {
                    errors.push(syn::Error::new(lit.span(), why));
                    None
                }
            };
            (Some(text), template)
        }
        Some(Err(e)) => {
            errors.push(e);
            (None, None)
        }
        None => (None, None),
    };
    fields(&all_fields, &mut errors);
    let reserved_by_options = [
        (target.is_some(), "target", "`target:`"),
        (every.is_some(), "suppressed", "`every:`"),
    ];
    for field in &all_fields {
        for (given, key, option) in reserved_by_options {
            if given && field.key.text == key {
                errors.push(field.key.error(format!(
                    "reserved key `{key}`{}; with {option} velo writes `{key}` itself, so choose another name{}",
                    captured_by(&field.key),
                    rename_hint(&field.key),
                )));
            }
        }
    }
    if !inv.errors.is_empty() || !errors.is_empty() {
        let mut all: Vec<syn::Error> = inv.errors.clone();
        all.extend(errors);
        return Err(all);
    }
    match (level, message) {
        (Some(level), Some(message)) => Ok(Checked {
            level,
            message,
            template,
            logger: inv.logger.as_ref(),
            every,
            sample,
            target,
            fields: all_fields,
        }),
        // Unreachable in practice: a missing level or message is a parse error.
        _ => Err(vec![syn::Error::new(
            Span::call_site(),
            "expected a level and a message",
        )]),
    }
}

/// Checks a parsed `enabled!` call: as a `velo!` call without a message
/// or fields.
pub fn enabled(call: &Enabled) -> Result<Checked<'_>, Vec<syn::Error>> {
    let mut errors = call.errors.clone();
    let level = call
        .level
        .as_ref()
        .and_then(|id| keep(level(id), &mut errors));
    let target = call
        .target
        .as_ref()
        .and_then(|e| keep(target(e), &mut errors));
    match level {
        Some(level) if errors.is_empty() => Ok(Checked {
            level,
            message: String::new(),
            template: None,
            logger: call.logger.as_ref(),
            every: None,
            sample: None,
            target,
            fields: Vec::new(),
        }),
        _ => Err(errors),
    }
}

fn keep<T>(result: Result<T, syn::Error>, errors: &mut Vec<syn::Error>) -> Option<T> {
    result.map_err(|e| errors.push(e)).ok()
}

/// `every:`'s duration in nanoseconds: an integer literal with a unit
/// suffix, `ms`, `s`, `m` or `h`.
pub fn duration(expr: &Expr) -> Result<u64, syn::Error> {
    let hint = "`every:` takes a duration literal: an integer with a unit, `ms`, `s`, `m` or `h`, e.g. `every: 10s`";
    let Expr::Lit(syn::ExprLit {
        lit: Lit::Int(int), ..
    }) = ungroup(expr)
    else {
        return Err(syn::Error::new_spanned(expr, hint));
    };
    let unit: u64 = match int.suffix() {
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        "" => {
            return Err(syn::Error::new(
                int.span(),
                format!(
                    "missing unit in `every: {}`; use `ms`, `s`, `m` or `h`, e.g. `every: {}s`",
                    int.base10_digits(),
                    int.base10_digits()
                ),
            ))
        }
        other => {
            return Err(syn::Error::new(
                int.span(),
                format!(
                "unknown unit `{other}` in `every:`; use `ms`, `s`, `m` or `h`, e.g. `every: 10s`"
            ),
            ))
        }
    };
    // The literal is digits: one that does not parse is too large.
    let too_long = || {
        syn::Error::new(
            int.span(),
            "`every:` period too long; at most about 584 years",
        )
    };
    let value: u64 = int.base10_parse().map_err(|_| too_long())?;
    if value == 0 {
        return Err(syn::Error::new(
            int.span(),
            "`every:` needs a period longer than zero, e.g. `every: 10s`",
        ));
    }
    value.checked_mul(unit).ok_or_else(too_long)
}

/// `sample:`'s N: an integer literal of at least 1.
pub fn sample(expr: &Expr) -> Result<u64, syn::Error> {
    let hint = "`sample:` takes an integer literal N and writes one call in N, e.g. `sample: 100`";
    let Expr::Lit(syn::ExprLit {
        lit: Lit::Int(int), ..
    }) = ungroup(expr)
    else {
        return Err(syn::Error::new_spanned(expr, hint));
    };
    // Any integer suffix (`100u32`): the value is what counts, if it is
    // one of the suffix's type (as rustc's `overflowing_literals` has it).
    let max = match int.suffix() {
        "u8" => u64::from(u8::MAX),
        "i8" => i8::MAX as u64,
        "u16" => u64::from(u16::MAX),
        "i16" => i16::MAX as u64,
        "u32" => u64::from(u32::MAX),
        "i32" => i32::MAX as u64,
        "i64" | "isize" => i64::MAX as u64,
        "" | "u64" | "usize" | "u128" | "i128" => u64::MAX,
        other => {
            return Err(syn::Error::new(
                int.span(),
                format!("`sample:` takes an integer, not a `{other}`; {hint}"),
            ))
        }
    };
    match int.base10_parse::<u64>() {
        Ok(0) => Err(syn::Error::new(
            int.span(),
            "`sample: 0` would never write; use `sample: 1` to write every call, or remove the call",
        )),
        Ok(n) if n <= max => Ok(n),
        _ => Err(syn::Error::new(
            int.span(),
            format!(
                "`sample: {int}` is out of range for its type; N is at most {max}"
            ),
        )),
    }
}

/// `target:`'s name: a string literal a filter directive can name: a module
/// path, or a target as `log` and `tracing` name them (`my-dep::x`,
/// `audit.events`). The rule is the runtime filter's (`filter.rs`,
/// `is_module_path`), plus no `,` or `=`, which end a directive's target.
pub fn target(expr: &Expr) -> Result<String, syn::Error> {
    match ungroup(expr) {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(s), ..
        }) if !s.value().is_empty() => {
            let name = s.value();
            if is_target(&name) {
                Ok(name)
            } else {
                Err(syn::Error::new(
                    s.span(),
                    format!(
                        "`target: {:?}` is not a target that filter directives can name; use a path such as `\"audit\"`, `\"my_app::audit\"` or `\"audit.events\"`, without spaces, quotes, brackets, braces, `/`, `,` or `=`",
                        name
                    ),
                ))
            }
        }
        _ => Err(syn::Error::new_spanned(
            expr,
            "`target:` takes a non-empty string literal, e.g. `target: \"audit\"`",
        )),
    }
}

/// Whether a filter directive can name `target` (see [`target`]).
fn is_target(target: &str) -> bool {
    !target.chars().any(|c| {
        c.is_whitespace()
            || c.is_control()
            || matches!(c, '/' | '[' | ']' | '{' | '}' | '"' | '\'' | ',' | '=')
    }) && target
        .split("::")
        .all(|seg| !seg.is_empty() && !seg.contains(':'))
}

/// A Rust-like identifier: a letter or `_`, then letters, digits or `_`.
fn is_identifier(part: &str) -> bool {
    let mut chars = part.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
}

/// `message` with each empty placeholder `{}` filled with the next of
/// `names` (the call's fields, in order), if every placeholder is empty
/// and there are as many names.
fn named_in_order(message: &str, names: &[&str]) -> Option<String> {
    let mut out = String::with_capacity(message.len());
    let mut names = names.iter();
    let mut chars = message.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        match (c, chars.peek()) {
            ('{', Some('{')) | ('}', Some('}')) => out.push(chars.next()?),
            ('{', Some('}')) => out.push_str(names.next()?),
            // A named placeholder: which field each `{}` means is unclear.
            ('{', _) => return None,
            _ => {}
        }
    }
    Some(out)
}

/// A piece of a message as written.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece {
    Lit(String),
    Name(String),
}

/// Splits a message into literal text and `{name}` placeholders; `{{` and
/// `}}` are braces. An error names the first bad placeholder; for `{}`
/// as `log` writes it, with the values after, it shows the message with
/// `names` (the call's fields) in place.
pub fn placeholders(message: &str, names: &[&str]) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut lit = String::new();
    let mut chars = message.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '{' if chars.peek().is_some_and(|&(_, n)| n == '{') => {
                chars.next();
                lit.push('{');
            }
            '}' if chars.peek().is_some_and(|&(_, n)| n == '}') => {
                chars.next();
                lit.push('}');
            }
            '{' => {
                let rest = &message[i + 1..];
                let Some(end) = rest.find('}') else {
                    return Err(format!(
                        "unclosed placeholder `{}` in the message; close it with `}}`, or write `{{{{` for a brace",
                        &message[i..]
                    ));
                };
                let name = &rest[..end];
                if name.is_empty() {
                    return Err(match named_in_order(message, names) {
                        Some(named) => format!(
                            "empty placeholder `{{}}` in the message; name the field or variable: {named:?}"
                        ),
                        None => "empty placeholder `{}` in the message; name a field or a variable, e.g. `{user_id}`".to_owned(),
                    });
                }
                if !is_key_path(name) {
                    return Err(format!(
                        "malformed placeholder `{{{name}}}` in the message; a placeholder names a field or a variable, e.g. `{{user_id}}` (no format specs; write `{{{{` for a brace)"
                    ));
                }
                if !lit.is_empty() {
                    pieces.push(Piece::Lit(std::mem::take(&mut lit)));
                }
                pieces.push(Piece::Name(name.to_owned()));
                for _ in 0..=name.chars().count() {
                    chars.next();
                }
            }
            '}' => {
                return Err("unmatched `}` in the message; write `}}` for a brace".to_owned());
            }
            c => lit.push(c),
        }
    }
    if !lit.is_empty() {
        pieces.push(Piece::Lit(lit));
    }
    Ok(pieces)
}

/// `ident(.ident)*`, each part one identifier token to Rust's lexer (so
/// that it can be made into an `Ident` without a panic).
fn is_key_path(name: &str) -> bool {
    name.split('.').all(|part| {
        is_identifier(part)
            && part
                .parse::<proc_macro2::TokenStream>()
                .is_ok_and(|tokens| {
                    let mut tokens = tokens.into_iter();
                    matches!(
                        (tokens.next(), tokens.next()),
                        (Some(proc_macro2::TokenTree::Ident(_)), None)
                    )
                })
    })
}

/// Turns placeholders into field indexes, adding a shorthand field for
/// each name that is not a field of the call (a captured variable).
fn resolve(
    pieces: &[Piece],
    lit: &LitStr,
    fields: &mut Vec<Field>,
    errors: &mut Vec<syn::Error>,
) -> Option<Vec<Segment>> {
    let mut segments = Vec::new();
    let mut ok = true;
    for piece in pieces {
        match piece {
            Piece::Lit(text) => segments.push(Segment::Lit(text.clone())),
            Piece::Name(name) => {
                if let Some(i) = fields.iter().position(|f| f.key.text == *name) {
                    segments.push(Segment::Field(i));
                    continue;
                }
                if name.contains('.') {
                    errors.push(syn::Error::new(
                        lit.span(),
                        format!("placeholder `{{{name}}}` names no field of the call; add the field: `{name}` (the value at that path), or `{name} = value`"),
                    ));
                    ok = false;
                    continue;
                }
                let ident = Ident::new_raw_or_plain(name, lit.span());
                let Some(ident) = ident else {
                    errors.push(syn::Error::new(
                        lit.span(),
                        format!("placeholder `{{{name}}}` is a keyword, not a variable; add a field, e.g. `{name} = value`"),
                    ));
                    ok = false;
                    continue;
                };
                fields.push(Field {
                    key: Key {
                        text: name.clone(),
                        tokens: quote::quote!(#lit),
                        literal: false,
                        placeholder: true,
                    },
                    sigil: Sigil::Value,
                    value: Some(syn::parse_quote!(#ident)),
                });
                segments.push(Segment::Field(fields.len() - 1));
            }
        }
    }
    ok.then_some(segments)
}

trait NewIdent {
    fn new_raw_or_plain(name: &str, span: Span) -> Option<Ident>;
}

impl NewIdent for Ident {
    /// An identifier for a captured variable; `None` for a keyword.
    fn new_raw_or_plain(name: &str, span: Span) -> Option<Ident> {
        let ident = Ident::new(name, span);
        if name == "self" {
            // `format!("{self}")` captures it: so does a template.
            return Some(ident);
        }
        syn::parse2::<Ident>(quote::quote!(#ident)).ok()
    }
}

/// Resolves a level name, suggesting the nearest one on a mistake.
pub fn level(ident: &Ident) -> Result<Level, syn::Error> {
    let name = ident.to_string();
    if let Some(level) = Level::ALL.into_iter().find(|l| l.name() == name) {
        return Ok(level);
    }
    let message = match suggest_level(&name) {
        Some(level) => format!("unknown level `{name}`; did you mean `{}`?", level.name()),
        None => format!(
            "unknown level `{name}`; expected `trace`, `debug`, `info`, `warn`, `error` or `fatal`: \
             a level is fixed at compile time (for one chosen at run time, a `match` with a `velo!` per arm)"
        ),
    };
    Err(syn::Error::new(ident.span(), message))
}

/// `expr` without the invisible groups around a fragment a `macro_rules!`
/// macro passed on (`$msg:literal`, `$msg:expr`).
fn ungroup(mut expr: &Expr) -> &Expr {
    while let Expr::Group(g) = expr {
        expr = &g.expr;
    }
    expr
}

/// The message; it must be a string literal.
pub fn message(expr: &Expr) -> Result<LitStr, syn::Error> {
    if let Expr::Lit(lit) = ungroup(expr) {
        if let Lit::Str(s) = &lit.lit {
            return Ok(s.clone());
        }
    }
    let hint = if matches!(expr, Expr::Macro(m) if m.mac.path.is_ident("format")) {
        "the message must be a string literal, not `format!`; name fields in it instead, e.g. `velo!(info, \"user {id} logged in\", id)`"
    } else {
        "the message must be a string literal; put dynamic data in fields, e.g. `velo!(info, \"message\", key = value)`"
    };
    Err(syn::Error::new_spanned(expr, hint))
}

/// ` (captured by the placeholder `{name}`)` for a key a placeholder
/// made, whose error underlines the whole message.
fn captured_by(key: &Key) -> String {
    if key.placeholder {
        format!(" (captured by the placeholder `{{{}}}`)", key.text)
    } else {
        String::new()
    }
}

/// How to rename a captured variable's field, e.g. `, e.g. `{level_}` with
/// `level_ = level``.
fn rename_hint(key: &Key) -> String {
    if key.placeholder {
        format!(", e.g. `{{{0}_}}` with `{0}_ = {0}`", key.text)
    } else {
        String::new()
    }
}

/// Checks every key: not empty, not reserved, not used twice.
pub fn fields(fields: &[Field], errors: &mut Vec<syn::Error>) {
    for (i, field) in fields.iter().enumerate() {
        let key = &field.key;
        if key.text.is_empty() {
            errors.push(key.error("empty key; a key needs at least one character"));
            continue;
        }
        if RESERVED_KEYS.contains(&key.text.as_str()) {
            errors.push(key.error(format!(
                "reserved key `{}`{}; velo writes `time`, `level`, `msg` and `caller` itself, so choose another name{}",
                key.text,
                captured_by(key),
                rename_hint(key),
            )));
            continue;
        }
        if fields[..i].iter().any(|f| f.key.text == key.text) {
            errors.push(key.error(format!(
                "duplicate key `{}`; each key may appear once per entry",
                key.text
            )));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_placeholders_are_named_after_the_calls_fields_in_order() {
        assert_eq!(
            named_in_order("user {} from {}", &["id", "peer"]).as_deref(),
            Some("user {id} from {peer}")
        );
        assert_eq!(
            named_in_order("{{literal}} {}", &["a"]).as_deref(),
            Some("{{literal}} {a}")
        );
        // Fewer fields than placeholders, or a named one among them: no
        // guess.
        assert_eq!(named_in_order("{} {}", &["a"]), None);
        assert_eq!(named_in_order("{a} {}", &["a", "b"]), None);
    }

    #[test]
    fn placeholder_table() {
        use Piece::{Lit, Name};
        let ok = [
            ("plain", vec![Lit("plain".into())]),
            (
                "a {b} c",
                vec![Lit("a ".into()), Name("b".into()), Lit(" c".into())],
            ),
            ("{{x}} {y}", vec![Lit("{x} ".into()), Name("y".into())]),
            ("{http.status}", vec![Name("http.status".into())]),
            ("", vec![]),
        ];
        for (input, expected) in ok {
            assert_eq!(placeholders(input, &[]), Ok(expected), "input {input:?}");
        }
        for (input, error) in [
            ("{}", "empty placeholder"),
            ("a {b", "unclosed placeholder `{b`"),
            ("a } b", "unmatched `}`"),
            ("{x:?}", "malformed placeholder `{x:?}`"),
            ("{1}", "malformed placeholder `{1}`"),
            ("{ x }", "malformed placeholder `{ x }`"),
            ("{r#type}", "malformed placeholder `{r#type}`"),
            ("{a.}", "malformed placeholder `{a.}`"),
            ("{\u{2e2f}}", "malformed placeholder"),
        ] {
            let e = placeholders(input, &[]).unwrap_err();
            assert!(e.starts_with(error), "{input:?}: {e}");
        }
    }
}
