//! Semantic checks on a parsed call: the level name, the message, and every
//! key (empty, reserved, duplicate). Each check records its error and goes
//! on, so a call reports all of its mistakes at once.

use crate::parse::{Field, Invocation};
use syn::{Expr, Ident, Lit};

/// A severity level, as named in a call.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    Fatal,
}

impl Level {
    pub const ALL: [Level; 6] = [
        Level::Trace,
        Level::Debug,
        Level::Info,
        Level::Warn,
        Level::Error,
        Level::Fatal,
    ];

    /// The level's name as written in calls and in JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
            Level::Fatal => "fatal",
        }
    }

    /// The `velo::Level` variant.
    pub fn variant(self) -> &'static str {
        match self {
            Level::Trace => "Trace",
            Level::Debug => "Debug",
            Level::Info => "Info",
            Level::Warn => "Warn",
            Level::Error => "Error",
            Level::Fatal => "Fatal",
        }
    }
}

/// Keys that velo writes itself.
pub const RESERVED_KEYS: [&str; 4] = ["time", "level", "msg", "caller"];

/// A call that passed every check.
pub struct Checked<'a> {
    pub level: Level,
    pub message: String,
    pub logger: Option<&'a Expr>,
    pub fields: &'a [Field],
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
    let message = inv.message.as_ref().and_then(|expr| match message(expr) {
        Ok(message) => Some(message),
        Err(e) => {
            errors.push(e);
            None
        }
    });
    fields(&inv.fields, &mut errors);
    if !inv.errors.is_empty() || !errors.is_empty() {
        let mut all: Vec<syn::Error> = inv.errors.clone();
        all.extend(errors);
        return Err(all);
    }
    match (level, message) {
        (Some(level), Some(message)) => Ok(Checked {
            level,
            message,
            logger: inv.logger.as_ref(),
            fields: &inv.fields,
        }),
        // Unreachable in practice: a missing level or message is a parse error.
        _ => Err(vec![syn::Error::new(
            proc_macro2::Span::call_site(),
            "expected a level and a message",
        )]),
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
            "unknown level `{name}`; expected `trace`, `debug`, `info`, `warn`, `error` or `fatal`"
        ),
    };
    Err(syn::Error::new(ident.span(), message))
}

/// The level a misspelled or foreign level name most likely meant.
pub fn suggest_level(name: &str) -> Option<Level> {
    let lower = name.to_ascii_lowercase();
    let alias = match lower.as_str() {
        "warning" | "wrn" => Some(Level::Warn),
        "err" | "fail" | "failure" => Some(Level::Error),
        "information" | "informational" | "notice" | "inf" => Some(Level::Info),
        "dbg" | "verbose" => Some(Level::Debug),
        "trc" | "all" => Some(Level::Trace),
        "critical" | "crit" | "panic" | "emergency" | "emerg" | "alert" => Some(Level::Fatal),
        _ => None,
    };
    alias.or_else(|| {
        Level::ALL
            .into_iter()
            .map(|l| (edit_distance(&lower, l.name()), l))
            .filter(|&(d, _)| d <= 2)
            .min_by_key(|&(d, _)| d)
            .map(|(_, l)| l)
    })
}

/// Levenshtein distance between two short ASCII-ish strings.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// The message's text; it must be a string literal.
pub fn message(expr: &Expr) -> Result<String, syn::Error> {
    if let Expr::Lit(lit) = expr {
        if let Lit::Str(s) = &lit.lit {
            return Ok(s.value());
        }
    }
    let hint = if matches!(expr, Expr::Macro(m) if m.mac.path.is_ident("format")) {
        "the message must be a string literal, not `format!`; put dynamic data in fields, e.g. `velo!(info, \"message\", key = value)`"
    } else {
        "the message must be a string literal; put dynamic data in fields, e.g. `velo!(info, \"message\", key = value)`"
    };
    Err(syn::Error::new_spanned(expr, hint))
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
                "reserved key `{}`; velo writes `time`, `level`, `msg` and `caller` itself, so choose another name",
                key.text
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
    fn suggestions() {
        let cases = [
            ("warning", Some(Level::Warn)),
            ("Info", Some(Level::Info)),
            ("INFO", Some(Level::Info)),
            ("infp", Some(Level::Info)),
            ("erorr", Some(Level::Error)),
            ("critical", Some(Level::Fatal)),
            ("debg", Some(Level::Debug)),
            ("tracee", Some(Level::Trace)),
            ("banana", None),
        ];
        for (name, expected) in cases {
            assert_eq!(suggest_level(name), expected, "name {name}");
        }
    }

    #[test]
    fn distance() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("warn", "warn"), 0);
    }
}
