//! Severity levels and level filters, and the compile-time ceiling.
//!
//! Levels are ordered by severity: `Trace < Debug < Info < Warn < Error <
//! Fatal` (the reverse of the `log` crate's order, where `Error < Trace`).
//! A [`LevelFilter`] is the least severe level that passes, or `Off`.
//! [`STATIC_MAX_LEVEL`] is set by the `max_level_*` and `release_max_level_*`
//! cargo features; call sites above it expand to code that never runs.

use std::fmt;
use std::str::FromStr;

/// The severity of an entry. Levels compare by severity, `Trace` least
/// and `Fatal` most: the reverse of the `log` crate's `Level`.
///
/// # Examples
///
/// ```
/// use velo::Level;
/// assert!(Level::Warn > Level::Info);
/// assert_eq!("warn".parse::<Level>(), Ok(Level::Warn));
/// assert_eq!(Level::Error.as_str(), "error");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
#[repr(u8)]
pub enum Level {
    /// Very detailed tracing, usually off.
    Trace = 0,
    /// Information useful while debugging.
    Debug = 1,
    /// Normal operation worth recording.
    Info = 2,
    /// Something unexpected that the program handled.
    Warn = 3,
    /// A failure of an operation.
    Error = 4,
    /// A failure the program cannot continue after: `velo!(fatal, ...)`
    /// writes the entry, flushes every logger and exits with status 1.
    Fatal = 5,
}

impl Level {
    /// Every level, least severe first.
    ///
    /// # Examples
    ///
    /// ```
    /// use velo::Level;
    ///
    /// let names: Vec<&str> = Level::ALL.iter().map(|l| l.as_str()).collect();
    /// assert_eq!(names, ["trace", "debug", "info", "warn", "error", "fatal"]);
    /// assert!(Level::ALL.is_sorted());
    /// ```
    pub const ALL: [Level; 6] = [
        Level::Trace,
        Level::Debug,
        Level::Info,
        Level::Warn,
        Level::Error,
        Level::Fatal,
    ];

    /// The lowercase name, as written in calls and JSON output.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(velo::Level::Info.as_str(), "info");
    /// ```
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
            Level::Fatal => "fatal",
        }
    }

    /// Whether call sites of this level survive the compile-time ceiling
    /// ([`STATIC_MAX_LEVEL`]). Generated code tests this first, so a call
    /// site above the ceiling never runs anything.
    ///
    /// # Examples
    ///
    /// ```
    /// // Without `max_level_*` features every level is compiled in.
    /// assert!(velo::Level::Trace.is_statically_enabled());
    /// ```
    #[inline(always)]
    #[must_use]
    pub const fn is_statically_enabled(self) -> bool {
        STATIC_MAX_LEVEL.allows(self)
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// The error returned when a string names no level.
///
/// # Examples
///
/// ```
/// let err = "loud".parse::<velo::Level>().unwrap_err();
/// assert!(err.to_string().starts_with("unknown level `loud`"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseLevelError(pub(crate) String);

impl fmt::Display for ParseLevelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown level `{}`; expected trace, debug, info, warn, error, fatal or off",
            self.0
        )
    }
}

impl std::error::Error for ParseLevelError {}

impl FromStr for Level {
    type Err = ParseLevelError;

    /// Parses a level name, ignoring ASCII case; `warning` is accepted for `warn`.
    fn from_str(s: &str) -> Result<Level, ParseLevelError> {
        match LevelFilter::from_str(s)? {
            LevelFilter::Off => Err(ParseLevelError(s.to_owned())),
            filter => Ok(Level::ALL[filter as usize]),
        }
    }
}

/// The least severe level that passes a filter, or `Off`.
///
/// # Examples
///
/// ```
/// use velo::{Level, LevelFilter};
/// assert!(LevelFilter::Info.allows(Level::Warn));
/// assert!(!LevelFilter::Info.allows(Level::Debug));
/// assert!(!LevelFilter::Off.allows(Level::Fatal));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
#[repr(u8)]
pub enum LevelFilter {
    /// Everything passes.
    Trace = 0,
    /// `debug` and above.
    Debug = 1,
    /// `info` and above.
    Info = 2,
    /// `warn` and above.
    Warn = 3,
    /// `error` and above.
    Error = 4,
    /// Only `fatal`.
    Fatal = 5,
    /// Nothing passes.
    Off = 6,
}

impl LevelFilter {
    /// Whether `level` passes this filter.
    ///
    /// # Examples
    ///
    /// ```
    /// use velo::{Level, LevelFilter};
    ///
    /// assert!(LevelFilter::Warn.allows(Level::Error));
    /// assert!(!LevelFilter::Warn.allows(Level::Info));
    /// ```
    #[inline(always)]
    #[must_use]
    pub const fn allows(self, level: Level) -> bool {
        level as u8 >= self as u8
    }

    /// The lowercase name, as accepted by [`FromStr`].
    ///
    /// # Examples
    ///
    /// ```
    /// use velo::LevelFilter;
    ///
    /// assert_eq!(LevelFilter::Off.as_str(), "off");
    /// assert_eq!("off".parse::<LevelFilter>(), Ok(LevelFilter::Off));
    /// ```
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            LevelFilter::Off => "off",
            LevelFilter::Trace => "trace",
            LevelFilter::Debug => "debug",
            LevelFilter::Info => "info",
            LevelFilter::Warn => "warn",
            LevelFilter::Error => "error",
            LevelFilter::Fatal => "fatal",
        }
    }
}

impl From<Level> for LevelFilter {
    fn from(level: Level) -> LevelFilter {
        match level {
            Level::Trace => LevelFilter::Trace,
            Level::Debug => LevelFilter::Debug,
            Level::Info => LevelFilter::Info,
            Level::Warn => LevelFilter::Warn,
            Level::Error => LevelFilter::Error,
            Level::Fatal => LevelFilter::Fatal,
        }
    }
}

impl fmt::Display for LevelFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for LevelFilter {
    type Err = ParseLevelError;

    /// Parses a level name or `off`, ignoring ASCII case.
    fn from_str(s: &str) -> Result<LevelFilter, ParseLevelError> {
        let names = [
            ("trace", LevelFilter::Trace),
            ("debug", LevelFilter::Debug),
            ("info", LevelFilter::Info),
            ("warn", LevelFilter::Warn),
            ("warning", LevelFilter::Warn),
            ("error", LevelFilter::Error),
            ("fatal", LevelFilter::Fatal),
            ("off", LevelFilter::Off),
        ];
        names
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(s))
            .map(|&(_, filter)| filter)
            .ok_or_else(|| ParseLevelError(s.to_owned()))
    }
}

/// The most verbose level compiled in, chosen by cargo features.
///
/// With `release_max_level_*` the ceiling applies to builds without debug
/// assertions; `max_level_*` applies to all builds. When several are
/// enabled the most restrictive wins. Without any, every level is compiled.
///
/// # Examples
///
/// ```
/// use velo::{Level, LevelFilter, STATIC_MAX_LEVEL};
///
/// // Without `max_level_*` features every level is compiled in.
/// assert_eq!(STATIC_MAX_LEVEL, LevelFilter::Trace);
/// assert!(STATIC_MAX_LEVEL.allows(Level::Trace));
/// ```
pub const STATIC_MAX_LEVEL: LevelFilter = {
    let all = max_level_feature();
    let release = release_max_level_feature();
    if cfg!(debug_assertions) || (release as u8) < (all as u8) {
        all
    } else {
        release
    }
};

const fn max_level_feature() -> LevelFilter {
    if cfg!(feature = "max_level_off") {
        LevelFilter::Off
    } else if cfg!(feature = "max_level_error") {
        LevelFilter::Error
    } else if cfg!(feature = "max_level_warn") {
        LevelFilter::Warn
    } else if cfg!(feature = "max_level_info") {
        LevelFilter::Info
    } else if cfg!(feature = "max_level_debug") {
        LevelFilter::Debug
    } else {
        LevelFilter::Trace
    }
}

const fn release_max_level_feature() -> LevelFilter {
    if cfg!(feature = "release_max_level_off") {
        LevelFilter::Off
    } else if cfg!(feature = "release_max_level_error") {
        LevelFilter::Error
    } else if cfg!(feature = "release_max_level_warn") {
        LevelFilter::Warn
    } else if cfg!(feature = "release_max_level_info") {
        LevelFilter::Info
    } else if cfg!(feature = "release_max_level_debug") {
        LevelFilter::Debug
    } else {
        LevelFilter::Trace
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_table() {
        let cases = [
            ("trace", Ok(LevelFilter::Trace)),
            ("DEBUG", Ok(LevelFilter::Debug)),
            ("Info", Ok(LevelFilter::Info)),
            ("warning", Ok(LevelFilter::Warn)),
            ("error", Ok(LevelFilter::Error)),
            ("fatal", Ok(LevelFilter::Fatal)),
            ("off", Ok(LevelFilter::Off)),
            ("loud", Err(ParseLevelError("loud".into()))),
        ];
        for (input, expected) in cases {
            assert_eq!(input.parse::<LevelFilter>(), expected, "input {input}");
        }
        assert!("off".parse::<Level>().is_err());
        assert_eq!("WARN".parse::<Level>(), Ok(Level::Warn));
    }

    #[test]
    fn ordering() {
        for (i, level) in Level::ALL.into_iter().enumerate() {
            for (j, filter_level) in Level::ALL.into_iter().enumerate() {
                assert_eq!(LevelFilter::from(filter_level).allows(level), i >= j);
            }
            assert!(!LevelFilter::Off.allows(level));
        }
    }
}
