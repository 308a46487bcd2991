//! Level names as written in calls, and suggestions for misspelled ones.

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

    /// The level named `name` in any case (`INFO`, `Info`), as other
    /// crates spell levels.
    pub fn named(name: &str) -> Option<Level> {
        Level::ALL
            .into_iter()
            .find(|l| l.name().eq_ignore_ascii_case(name))
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
pub fn edit_distance(a: &str, b: &str) -> usize {
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
