//! Filter directives in the syntax of `RUST_LOG`.
//!
//! `warn,my_app=debug,my_app::db=trace`: a bare level sets the default, and
//! `path=level` sets the level for a module and its children. The most
//! specific path that matches a call site's module path wins; a bare path
//! means `trace`. With directives but no bare level, modules that no
//! directive names are off, as with `env_logger`. A level may also be
//! written as a digit, as `tracing`'s filters take it: `0` is `off`, then
//! `1` to `5` are `error`, `warn`, `info`, `debug` and `trace`.
//!
//! As with `env_logger`, `/text` after the directives keeps only entries
//! whose message holds `text`: `info,my_app=debug/timeout`. The text is
//! matched as written, not as a regular expression.

use crate::error::{Error, ErrorKind};
use crate::level::{Level, LevelFilter};
use std::fmt;
use std::str::FromStr;

/// A parsed set of filter directives.
///
/// # Examples
///
/// ```
/// use velo::{Filter, Level};
/// let f: Filter = "warn,my_app=debug,my_app::db=trace".parse().unwrap();
/// assert!(f.enabled(Level::Trace, "my_app::db::pool"));
/// assert!(f.enabled(Level::Debug, "my_app::http"));
/// assert!(!f.enabled(Level::Info, "hyper::client"));
/// assert!(!f.enabled(Level::Debug, "my_application")); // whole path segments only
/// ```
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Filter {
    default: LevelFilter,
    /// Module directives, most specific (longest) first.
    modules: Vec<(String, LevelFilter)>,
    /// Text a message must hold (`/text`), if any.
    message: Option<String>,
}

impl Filter {
    /// A filter passing `level` and above everywhere.
    ///
    /// # Examples
    ///
    /// ```
    /// use velo::{Filter, Level, LevelFilter};
    ///
    /// let filter = Filter::level(LevelFilter::Warn);
    /// assert!(filter.enabled(Level::Warn, "any::module"));
    /// assert!(!filter.enabled(Level::Info, "any::module"));
    /// ```
    #[must_use]
    pub fn level(level: LevelFilter) -> Filter {
        Filter {
            default: level,
            modules: Vec::new(),
            message: None,
        }
    }

    /// Whether an entry at `level` from `module_path` passes.
    ///
    /// A `fatal` entry passes wherever any entry passes: it is a program's
    /// last words before it exits, so a directive that narrows what one
    /// module writes (`hyper=debug` alone leaves every other module at
    /// `off`) does not silence it. Only a filter that passes nothing at
    /// all (`off`) does.
    ///
    /// # Examples
    ///
    /// ```
    /// use velo::{Filter, Level};
    ///
    /// let filter: Filter = "info,hyper=warn".parse()?;
    /// assert!(filter.enabled(Level::Info, "my_app"));
    /// assert!(!filter.enabled(Level::Info, "hyper::client"));
    ///
    /// let filter: Filter = "hyper=debug".parse()?;
    /// assert!(!filter.enabled(Level::Error, "my_app"));
    /// assert!(filter.enabled(Level::Fatal, "my_app"));
    /// assert!(!"off".parse::<Filter>()?.enabled(Level::Fatal, "my_app"));
    /// # Ok::<(), velo::Error>(())
    /// ```
    #[must_use]
    pub fn enabled(&self, level: Level, module_path: &str) -> bool {
        if level == Level::Fatal {
            return self.max_level().allows(level);
        }
        self.level_for(module_path).allows(level)
    }

    /// The filter level that applies to `module_path`.
    ///
    /// # Examples
    ///
    /// ```
    /// use velo::{Filter, LevelFilter};
    ///
    /// let filter: Filter = "warn,my_app=debug,my_app::db=off".parse()?;
    /// assert_eq!(filter.level_for("my_app::http"), LevelFilter::Debug);
    /// assert_eq!(filter.level_for("my_app::db::pool"), LevelFilter::Off);
    /// assert_eq!(filter.level_for("tokio"), LevelFilter::Warn);
    /// # Ok::<(), velo::Error>(())
    /// ```
    #[must_use]
    pub fn level_for(&self, module_path: &str) -> LevelFilter {
        self.modules
            .iter()
            .find(|(path, _)| {
                module_path.starts_with(path.as_str())
                    && (module_path.len() == path.len()
                        || module_path[path.len()..].starts_with("::"))
            })
            .map_or(self.default, |&(_, level)| level)
    }

    /// The most verbose level any directive allows.
    ///
    /// # Examples
    ///
    /// ```
    /// use velo::{Filter, LevelFilter};
    ///
    /// let filter: Filter = "warn,my_app::db=trace".parse()?;
    /// assert_eq!(filter.max_level(), LevelFilter::Trace);
    /// # Ok::<(), velo::Error>(())
    /// ```
    #[must_use]
    pub fn max_level(&self) -> LevelFilter {
        self.modules
            .iter()
            .map(|&(_, l)| l)
            .fold(self.default, LevelFilter::min)
    }

    /// Whether `message` holds the text the filter asks for (`/text`
    /// after its directives); `true` for a filter without one.
    ///
    /// [`Filter::enabled`] looks at the level and module path only: an
    /// entry passes when both say so. velo matches a call's message as
    /// written, placeholders and all (the site is decided once, at its
    /// first call), and a bridged `log` or `tracing` record's message as
    /// formatted. A `fatal` entry passes whatever its message, as it does
    /// the module directives.
    ///
    /// # Examples
    ///
    /// ```
    /// use velo::{Filter, Level};
    ///
    /// let filter: Filter = "info/timed out".parse()?;
    /// assert!(filter.enabled(Level::Info, "my_app"));
    /// assert!(filter.message_matches("request timed out"));
    /// assert!(!filter.message_matches("request done"));
    /// assert_eq!(filter.message(), Some("timed out"));
    /// assert!("info".parse::<Filter>()?.message_matches("anything"));
    /// # Ok::<(), velo::Error>(())
    /// ```
    #[must_use]
    pub fn message_matches(&self, message: &str) -> bool {
        self.message
            .as_deref()
            .is_none_or(|text| message.contains(text))
    }

    /// The text a message must hold (`/text`), if the filter asks for one.
    ///
    /// # Examples
    ///
    /// ```
    /// use velo::Filter;
    ///
    /// assert_eq!("warn,db=debug/slow".parse::<Filter>()?.message(), Some("slow"));
    /// assert_eq!("warn".parse::<Filter>()?.message(), None);
    /// # Ok::<(), velo::Error>(())
    /// ```
    #[must_use]
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// Whether an entry at `level` from `module_path` with `message`
    /// passes: [`Filter::enabled`], and for any level but `fatal`,
    /// [`Filter::message_matches`]. `None` is no message to match: a
    /// `velo::enabled!` query's call site, which asks whether a call of
    /// that level would be written, as `log_enabled!` answers under
    /// env_logger's text; and velo's own entries.
    pub(crate) fn passes(&self, level: Level, module_path: &str, message: Option<&str>) -> bool {
        self.enabled(level, module_path)
            && (level == Level::Fatal || message.is_none_or(|m| self.message_matches(m)))
    }

    /// Whether `spec` is a message text alone (`/slow`), with no directive:
    /// a program's default directives then apply, with that text.
    pub(crate) fn is_text_only(spec: &str) -> bool {
        let (directives, text) = split_message(spec);
        // A directive left out (`x[y]=debug`) is none.
        text.is_some()
            && directives
                .split(',')
                .map(str::trim)
                .all(|d| d.is_empty() || directive(d).is_err())
    }

    /// This filter with the message text `text` instead of its own.
    pub(crate) fn with_message(self, text: Option<&str>) -> Filter {
        Filter {
            message: text.map(str::to_owned),
            ..self
        }
    }
}

/// `spec`'s directives, and the text after its first `/` (`None` when
/// there is none or it is empty).
fn split_message(spec: &str) -> (&str, Option<&str>) {
    match spec.split_once('/') {
        Some((directives, text)) => (directives, Some(text).filter(|t| !t.is_empty())),
        None => (spec, None),
    }
}

impl Default for Filter {
    /// `info` everywhere.
    fn default() -> Filter {
        Filter::level(LevelFilter::Info)
    }
}

impl Filter {
    /// Parses `spec` keeping its valid directives: for filters from the
    /// environment, where one directive velo cannot read (a span filter
    /// written for another logger) should not cost the others. Returns the
    /// filter (`None` when no directive is valid) and an error for each
    /// directive left out.
    pub(crate) fn parse_lenient(spec: &str) -> (Option<Filter>, Vec<Error>) {
        let mut kept = Vec::new();
        let mut errors = Vec::new();
        let (directives, message) = split_message(spec);
        for part in directives
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            match directive(part) {
                Ok(_) => kept.push(part),
                // The reason, as `Builder::filter` would give it: a typo
                // and another logger's syntax are told apart.
                Err(why) => {
                    let err = bad_directive(part, spec, why);
                    errors.push(Error::new(ErrorKind::Filter, format!("{err}; left out")));
                }
            }
        }
        // `VELO_LOG=,` or a blank one: set, but with nothing to use. A
        // message filter alone (`/timeout`) keeps the default level.
        if kept.is_empty() && message.is_some() {
            kept.push("info");
        }
        if kept.is_empty() && errors.is_empty() && !spec.is_empty() {
            errors.push(Error::new(
                ErrorKind::Filter,
                format!("filter `{spec}` holds no directive; left out"),
            ));
        }
        let filter = Filter::parse(&kept.join(","), true).ok().map(|f| Filter {
            message: message.map(str::to_owned),
            ..f
        });
        // `VELO_LOG=inf` is a module named `inf`, and every other entry is
        // off: a typo that silences the program, so say so.
        for part in &kept {
            if let Some(level) = meant_level(part) {
                errors.push(Error::new(
                    ErrorKind::Filter,
                    format!(
                        "filter directive `{part}` in `{spec}` names a module, not a level \
                         (did you mean `{level}`?); kept as a module"
                    ),
                ));
            }
        }
        (filter, errors)
    }
}

/// The error for directive `part` of `spec`.
fn bad_directive(part: &str, spec: &str, why: &str) -> Error {
    Error::new(
        ErrorKind::Filter,
        format!("invalid filter directive `{part}` in `{spec}`: {why}"),
    )
}

/// One directive: the module path or target it names (`None` for the
/// default level) and its level, or why it is not one.
fn directive(part: &str) -> Result<(Option<&str>, LevelFilter), &'static str> {
    // Other loggers' syntax, named as such rather than misread
    // (`span{x=1}` is not a path followed by a level).
    if part.contains(['[', ']', '{', '}']) {
        return Err("span and field directives (`target[span{field=value}]=level`) are not supported; velo filters by level, module path and target");
    }
    let (path, level) = match part.split_once('=') {
        Some((path, level)) => {
            let level = directive_level(level.trim()).ok_or(
                "expected a level (trace, debug, info, warn, error, fatal, off, or 0 to 5) after `=`",
            )?;
            (Some(path.trim()), level)
        }
        None => match directive_level(part) {
            Some(level) => (None, level),
            // No module path is a number: a level out of range.
            None if part
                .trim_start_matches('-')
                .bytes()
                .all(|b| b.is_ascii_digit()) =>
            {
                return Err("a number is a level from 0 (off) to 5 (trace)");
            }
            None => (Some(part), LevelFilter::Trace),
        },
    };
    match path {
        Some(path) if !is_module_path(path) => Err(
            "expected a level, or a module path or target such as `my_app::db` or `audit.events`",
        ),
        _ => Ok((path, level)),
    }
}

/// The level a directive names: a level's name or `off` (any case), or a
/// digit as `tracing`'s filters read it (`0` off, `1` error ... `5` trace).
/// No module path is a digit alone, so the digit cannot mean one.
fn directive_level(word: &str) -> Option<LevelFilter> {
    const BY_DIGIT: [LevelFilter; 6] = [
        LevelFilter::Off,
        LevelFilter::Error,
        LevelFilter::Warn,
        LevelFilter::Info,
        LevelFilter::Debug,
        LevelFilter::Trace,
    ];
    match word.as_bytes() {
        &[digit @ b'0'..=b'5'] => Some(BY_DIGIT[usize::from(digit - b'0')]),
        _ => word.parse().ok(),
    }
}

/// The level a bare directive of three letters or more looks like a
/// misspelling of (a letter added, left out or swapped with the next, a
/// letter changed in a word of five or more, or the level cut short), if
/// it is not a level itself. A short word, or one changed letter in a
/// short one, is as likely a crate's name (`de`, `warp`).
fn meant_level(part: &str) -> Option<&'static str> {
    const LEVELS: [&str; 7] = ["trace", "debug", "info", "warn", "error", "fatal", "off"];
    let word = part.to_ascii_lowercase();
    if word.len() < 3 || part.contains(['=', ':']) || word.parse::<LevelFilter>().is_ok() {
        return None;
    }
    LEVELS.into_iter().find(|level| {
        level.starts_with(word.as_str())
            || match one_edit(&word, level) {
                Some(Edit::Changed) => word.len() >= 5,
                Some(Edit::Other) => true,
                None => false,
            }
    })
}

/// How two words one edit apart differ.
enum Edit {
    /// One letter changed.
    Changed,
    /// One letter added or left out, or two neighbours swapped.
    Other,
}

/// How `a` and `b` differ, if by one edit.
fn one_edit(a: &str, b: &str) -> Option<Edit> {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let common = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (a, b) = (&a[common..], &b[common..]);
    match (a.len(), b.len()) {
        (0, 0) => None,
        (x, y) if x == y && a[1..] == b[1..] => Some(Edit::Changed),
        (x, y) if x == y && x >= 2 && a[0] == b[1] && a[1] == b[0] && a[2..] == b[2..] => {
            Some(Edit::Other)
        }
        (x, y) if x + 1 == y && a == &b[1..] => Some(Edit::Other),
        (x, y) if y + 1 == x && &a[1..] == b => Some(Edit::Other),
        _ => None,
    }
}

impl FromStr for Filter {
    type Err = Error;

    /// Parses directives. In a filter with no default level, a bare word
    /// that looks like a misspelt level (`inf`, `wran`) is an error: read
    /// as a module, it would turn off everything else. A module of that
    /// name is written with its level (`inf=trace`).
    fn from_str(spec: &str) -> Result<Filter, Error> {
        Filter::parse(spec, false)
    }
}

impl Filter {
    /// Parses directives. A bare word that looks like a misspelt level is
    /// taken as the module it names when `lenient` (as `RUST_LOG` is read,
    /// see [`Filter::parse_lenient`]) or beside a default level; else it
    /// is an error (see `from_str`).
    fn parse(spec: &str, lenient: bool) -> Result<Filter, Error> {
        let mut default = None;
        // The first bare word that looks like a misspelt level, and that level.
        let mut misspelt: Option<(&str, &str)> = None;
        let mut modules: Vec<(String, LevelFilter)> = Vec::new();
        let (directives, message) = split_message(spec);
        for part in directives
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let (path, level) = directive(part).map_err(|why| bad_directive(part, spec, why))?;
            match path {
                None => default = Some(level),
                Some(path) => {
                    if !lenient && misspelt.is_none() && !part.contains('=') {
                        misspelt = meant_level(part).map(|level| (part, level));
                    }
                    modules.retain(|(p, _)| p != path);
                    modules.push((path.to_owned(), level));
                }
            }
        }
        if let (None, Some((part, level))) = (default, misspelt) {
            return Err(Error::new(
                ErrorKind::Filter,
                format!(
                    "invalid filter directive `{part}` in `{spec}`: a module, not a level, which \
                     would turn off everything else: did you mean `{level}`? (a module of that \
                     name is written with its level, `{part}=trace`)"
                ),
            ));
        }
        if default.is_none() && modules.is_empty() && message.is_none() {
            return Err(Error::new(
                ErrorKind::Filter,
                format!("empty filter `{spec}`: expected directives such as `info,my_app=debug`"),
            ));
        }
        // Longest first, so the first match is the most specific.
        modules.sort_by_key(|(path, _)| std::cmp::Reverse(path.len()));
        let default = default.unwrap_or(if modules.is_empty() {
            LevelFilter::Info
        } else {
            LevelFilter::Off
        });
        Ok(Filter {
            default,
            modules,
            message: message.map(str::to_owned),
        })
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.default.as_str())?;
        for (path, level) in self.modules.iter().rev() {
            write!(f, ",{path}={level}")?;
        }
        match &self.message {
            Some(text) => write!(f, "/{text}"),
            None => Ok(()),
        }
    }
}

fn is_module_path(path: &str) -> bool {
    // A module path, or any target a `log` or `tracing` record may name
    // (`my-dep::x`, `audit.events`), as the filters of those crates take
    // them; not what their directives mean by other syntax (`span[field]`),
    // which velo does not filter on. A `/` starts the message filter, so
    // it is never part of a directive.
    !path.is_empty()
        && !path.chars().any(|c| {
            c.is_whitespace()
                || c.is_control()
                || matches!(c, '/' | '[' | ']' | '{' | '}' | '"' | '\'')
        })
        && path
            .split("::")
            .all(|seg| !seg.is_empty() && !seg.contains(':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_misspelt_level_in_code_is_an_error() {
        for (spec, meant) in [
            ("inf", "info"),
            ("wrn", "warn"),
            ("my_app=debug,debg", "debug"),
            ("Eror", "error"),
            ("errors", "error"),
        ] {
            let err = spec.parse::<Filter>().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Filter);
            let said = err.to_string();
            assert!(said.contains(&format!("did you mean `{meant}`")), "{said}");
        }
        // A module named so, with its level, or beside a default level
        // (nothing else is turned off); words too short or too far from a
        // level to be one.
        for spec in [
            "inf=trace",
            "info,errors",
            "warn,tracer,my_app=debug",
            "de",
            "warp",
            "server",
            "info,my_app::inf=debug",
        ] {
            assert!(spec.parse::<Filter>().is_ok(), "{spec}");
        }
        let f: Filter = "inf=debug".parse().unwrap();
        assert!(f.enabled(Level::Debug, "inf::x"));
    }

    #[test]
    fn a_misspelt_level_from_the_environment_is_named() {
        for (spec, meant) in [
            ("inf", "info"),
            ("debg", "debug"),
            ("eror", "error"),
            ("warnn", "warn"),
            ("tarce", "trace"),
            ("Erorr,my_app=debug", "error"),
            ("server,my_app=debug", ""),
            ("my_app=debug,fatl", "fatal"),
        ] {
            let (filter, errors) = Filter::parse_lenient(spec);
            assert!(filter.is_some(), "{spec}: kept as a module");
            let said: Vec<String> = errors.iter().map(ToString::to_string).collect();
            if meant.is_empty() {
                assert!(said.is_empty(), "{spec}: {said:?}");
            } else {
                assert_eq!(said.len(), 1, "{spec}: {said:?}");
                assert!(
                    said[0].contains(&format!("did you mean `{meant}`")),
                    "{said:?}"
                );
            }
        }
        // Modules that look like no level, and levels, say nothing.
        for spec in [
            "my_app",
            "info",
            "warning,hyper=off",
            "app::db",
            "of=info",
            "x",
        ] {
            let (_, errors) = Filter::parse_lenient(spec);
            assert!(errors.is_empty(), "{spec}: {errors:?}");
        }
    }

    #[test]
    fn directive_table() {
        // (spec, module, level, expected)
        let cases = [
            ("info", "a", Level::Info, true),
            ("info", "a", Level::Debug, false),
            ("a=debug", "a", Level::Debug, true),
            ("a=debug", "b", Level::Error, false),
            ("a", "a::b", Level::Trace, true),
            ("warn,a=debug,a::b=trace", "a::b::c", Level::Trace, true),
            ("warn,a=debug,a::b=trace", "a::c", Level::Trace, false),
            ("warn,a=debug,a::b=trace", "a::c", Level::Debug, true),
            ("warn,a=debug,a::b=trace", "ab", Level::Info, false),
            ("a::b=trace,warn,a=debug", "a::b", Level::Trace, true),
            // A fatal entry passes wherever anything passes.
            ("a=off,info", "a::x", Level::Fatal, true),
            ("a=debug", "b", Level::Fatal, true),
            ("off", "a", Level::Fatal, false),
            (" debug , a = error ", "a", Level::Warn, false),
            ("a=info,a=error", "a", Level::Warn, false),
            // Digits, as `tracing`'s filters read them.
            ("3", "a", Level::Info, true),
            ("3", "a", Level::Debug, false),
            ("1", "a", Level::Fatal, true),
            ("1", "a", Level::Warn, false),
            ("0", "a", Level::Fatal, false),
            ("5", "a", Level::Trace, true),
            ("info,a=4", "a", Level::Debug, true),
            ("info,a=2", "a", Level::Info, false),
        ];
        for (spec, module, level, expected) in cases {
            let f: Filter = spec.parse().unwrap();
            assert_eq!(
                f.enabled(level, module),
                expected,
                "{spec} {module} {level}"
            );
        }
    }

    #[test]
    fn errors_name_the_bad_part() {
        for (spec, part) in [
            ("info,a=loud", "a=loud"),
            ("span[req]=debug", "span[req]=debug"),
            ("a::=info", "a::=info"),
            ("a:b=info", "a:b=info"),
            ("a:::b", "a:::b"),
            ("my app=info", "my app=info"),
        ] {
            let err = spec.parse::<Filter>().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Filter);
            assert!(err.to_string().contains(&format!("`{part}`")), "{err}");
        }
        assert!(",".parse::<Filter>().is_err());
    }

    #[test]
    fn span_directives_are_named_as_unsupported() {
        for spec in [
            "info,foo[span{x=1}]=trace",
            "[span]=debug",
            "foo[span]",
            "a{b}=info",
        ] {
            let err = spec.parse::<Filter>().unwrap_err().to_string();
            assert!(
                err.contains("span and field directives") && err.contains("not supported"),
                "{spec}: {err}"
            );
        }
    }

    #[test]
    fn text_after_a_slash_filters_messages() {
        // As `env_logger` reads it: one text for the whole filter, after
        // its first `/`, matched as written.
        let f: Filter = "warn,db=debug/timed out".parse().unwrap();
        assert!(f.enabled(Level::Debug, "db::pool"));
        assert!(!f.enabled(Level::Info, "http"));
        assert_eq!(f.message(), Some("timed out"));
        assert!(f.passes(Level::Debug, "db", Some("query timed out after 5s")));
        assert!(!f.passes(Level::Debug, "db", Some("query done")));
        assert!(
            !f.passes(Level::Info, "http", Some("timed out")),
            "levels still apply"
        );
        assert!(
            f.passes(Level::Fatal, "http", Some("disk gone")),
            "fatal passes"
        );
        assert!(
            !f.passes(Level::Debug, "db", Some("Timed Out")),
            "case matters"
        );
        // A slash inside the text is the text's; a path before it is a
        // module at `trace`.
        let f: Filter = "x/GET /api".parse().unwrap();
        assert!(f.enabled(Level::Trace, "x") && !f.enabled(Level::Error, "y"));
        assert_eq!(f.message(), Some("GET /api"));
        // The text alone keeps the default level; an empty one is none.
        let f: Filter = "/retry".parse().unwrap();
        assert!(f.enabled(Level::Info, "a") && !f.enabled(Level::Debug, "a"));
        assert_eq!("info/".parse::<Filter>().unwrap().message(), None);
        // It survives a round trip, and the environment's reading.
        for spec in ["warn,db=debug/timed out", "info/x", "trace"] {
            let f: Filter = spec.parse().unwrap();
            assert_eq!(f.to_string().parse::<Filter>().unwrap(), f, "{spec}");
            let (lenient, errors) = Filter::parse_lenient(spec);
            assert!(errors.is_empty(), "{spec}: {errors:?}");
            assert_eq!(lenient, Some(f), "{spec}");
        }
        // A bad directive before the text is left out from the
        // environment, the text kept.
        let (f, errors) = Filter::parse_lenient("debug,a[b]=trace/slow");
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(f.unwrap().to_string(), "debug/slow");
        let (f, errors) = Filter::parse_lenient("/slow");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(f.unwrap().to_string(), "info/slow");
    }

    #[test]
    fn targets_may_hold_hyphens_and_bad_directives_can_be_left_out() {
        let f: Filter = "warn,my-dep::x=trace".parse().unwrap();
        assert!(f.enabled(Level::Trace, "my-dep::x"));
        let f: Filter = "warn,audit.events=info".parse().unwrap();
        assert!(f.enabled(Level::Info, "audit.events"));
        assert!(!f.enabled(Level::Info, "audit"));
        let (f, errors) = Filter::parse_lenient("info,a[b]=trace,c=debug,=x");
        assert_eq!(f.map(|f| f.to_string()).as_deref(), Some("info,c=debug"));
        assert_eq!(errors.len(), 2, "{errors:?}");
        let (f, errors) = Filter::parse_lenient("a[b]");
        assert!(f.is_none() && errors.len() == 1);
        // Set, but with no directive: said, not ignored in silence.
        for blank in [",", " ", " , "] {
            let (f, errors) = Filter::parse_lenient(blank);
            assert!(f.is_none(), "{blank:?}");
            assert_eq!(errors.len(), 1, "{blank:?}");
            assert!(errors[0].to_string().contains("holds no directive"));
        }
        assert!(Filter::parse_lenient("").1.is_empty(), "empty is unset");
        // What was wrong is said, as in code: another logger's syntax is
        // not a typo.
        let (_, errors) = Filter::parse_lenient("warn,db[req]=debug,a=6");
        let said: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert!(said[0].contains("span and field directives"), "{said:?}");
        assert!(said[1].contains("expected a level"), "{said:?}");
        assert!(said.iter().all(|e| e.ends_with("left out")), "{said:?}");
        // Each names the whole value it came from.
        assert!(
            said.iter()
                .all(|e| e.contains("in `warn,db[req]=debug,a=6`")),
            "{said:?}"
        );
        // A number beyond the levels' is not a module: no module path is
        // a number, and taken as one it would turn off everything else.
        for spec in ["6", "10", "03", "-1", "info,7"] {
            let err = spec.parse::<Filter>().unwrap_err().to_string();
            assert!(
                err.contains("a number is a level from 0 (off) to 5 (trace)"),
                "{spec}: {err}"
            );
            let (filter, errors) = Filter::parse_lenient(spec);
            assert_eq!(errors.len(), 1, "{spec}: {errors:?}");
            assert_eq!(filter.is_some(), spec.starts_with("info"), "{spec}");
        }
    }

    #[test]
    fn display_round_trips() {
        let f: Filter = "warn,a=debug,a::b=trace".parse().unwrap();
        assert_eq!(f.to_string().parse::<Filter>().unwrap(), f);
        assert_eq!(f.max_level(), LevelFilter::Trace);
    }
}
