//! `velo!` inside a `macro_rules!` of the user's, whose value expressions
//! mix tokens of the macro's definition with tokens its caller passed in
//! (`v = $x + 1`): the call compiles (hygiene keeps no binding apart from
//! its use) and logs the values the expressions give.

use velo::{velo, Builder, Logger};
use velo_tests::json_logger;

macro_rules! log_around {
    ($logger:expr, $x:ident) => {
        velo!(logger: $logger, info, "around", plus = $x + 1, minus = 1 - $x as i64, shown = %$x * 2, debugged = ?($x, 3), with_every = 0);
    };
}

macro_rules! log_every {
    ($logger:expr, $x:expr) => {
        velo!(logger: $logger, every: 1h, warn, "rare", v = $x * 10, w = 10 * $x);
    };
}

macro_rules! log_many {
    ($logger:expr, $x:ident) => {
        velo!(logger: $logger, info, "many", a = $x + 1, b = $x + 2, c = $x + 3, d = $x + 4, e = $x + 5, f = $x + 6, g = $x + 7, h = $x + 8, i = $x + 9, j = $x + 10, k = $x + 11, l = $x + 12, m = $x + 13);
    };
}

fn log_all(logger: &Logger, x: u32) {
    log_around!(logger, x);
    log_every!(logger, x);
    log_many!(logger, x);
}

#[test]
fn values_mixing_the_macros_tokens_and_the_callers_are_logged() {
    let (logger, out) = json_logger(Builder::new());
    log_all(&logger, 5);
    logger.sync().unwrap();
    let entries = out.entries();
    assert_eq!(entries.len(), 3, "{entries:?}");
    let around = &entries[0];
    assert_eq!(around["plus"], 6);
    assert_eq!(around["minus"], -4);
    assert_eq!(around["shown"], "10");
    assert_eq!(around["debugged"], "(5, 3)");
    assert_eq!(around["with_every"], 0);
    assert_eq!(
        (&entries[1]["v"], &entries[1]["w"]),
        (&50.into(), &50.into())
    );
    for (i, key) in "abcdefghijklm".chars().enumerate() {
        assert_eq!(
            entries[2][key.to_string().as_str()],
            5 + 1 + i as u32,
            "{key}"
        );
    }
}
