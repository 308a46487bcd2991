//! `target: "name"` makes filters match the call site by that name instead
//! of its module path, and the line carries `"target"` right after
//! `caller` (text: `target=` after the message).

use velo::{velo, Builder, LevelFilter, Timestamp};
use velo_tests::{json_logger, keys};

const MODULE: &str = "target_replaces_the_module_path_for_filtering";

fn log_all(l: &velo::Logger) {
    velo!(logger: l, target: "audit", info, "audit info");
    velo!(logger: l, target: "audit", debug, "audit debug");
    velo!(logger: l, target: "audit::login", info, "audit login info");
    velo!(logger: l, info, "module info");
    velo!(logger: l, warn, "module warn");
}

fn written(filter: &str) -> Vec<String> {
    let (l, out) = json_logger(Builder::new().filter(filter).timestamp(Timestamp::Off));
    log_all(&l);
    l.sync().unwrap();
    out.msgs()
}

#[test]
fn filters_match_the_target_not_the_module() {
    assert_eq!(
        written("audit=info,warn"),
        ["audit info", "audit login info", "module warn"]
    );
    assert_eq!(
        written("audit=debug,audit::login=off,warn"),
        ["audit info", "audit debug", "module warn"]
    );
    // The module's directive no longer reaches sites with a target.
    assert_eq!(
        written(&format!("{MODULE}=trace,off")),
        ["module info", "module warn"]
    );
    assert_eq!(
        written("audit"),
        ["audit info", "audit debug", "audit login info"]
    );
}

#[test]
fn a_filter_change_at_run_time_reaches_target_sites() {
    let (l, out) = json_logger(Builder::new().filter("warn").timestamp(Timestamp::Off));
    log_all(&l);
    l.set_filter("warn,audit=debug").unwrap();
    log_all(&l);
    l.set_level(LevelFilter::Error);
    log_all(&l);
    l.sync().unwrap();
    assert_eq!(
        out.msgs(),
        [
            "module warn",
            "audit info",
            "audit debug",
            "audit login info",
            "module warn"
        ]
    );
}

#[test]
fn the_target_is_written_after_caller() {
    let (l, out) = json_logger(Builder::new().timestamp(Timestamp::Off));
    let child = l.with(velo::fields!(service = "api"));
    velo!(logger: &child, target: "audit", info, "login", user = 7);
    velo!(logger: &child, info, "no target");
    l.sync().unwrap();
    let e = out.entries();
    assert_eq!(
        keys(&e[0]),
        ["level", "msg", "caller", "target", "service", "user"]
    );
    assert_eq!(e[0]["target"], "audit");
    assert_eq!(keys(&e[1]), ["level", "msg", "caller", "service"]);

    let (t, text) = velo_tests::text_logger(Builder::new().timestamp(Timestamp::Off).caller(false));
    velo!(logger: &t, target: "audit", info, "login", user = 7);
    t.sync().unwrap();
    assert_eq!(text.lines(), ["INFO  login target=audit user=7"]);
}

#[test]
fn targets_named_as_log_and_tracing_name_them_are_filtered_too() {
    let logged = |filter: &str| {
        let (l, out) = json_logger(Builder::new().filter(filter).timestamp(Timestamp::Off));
        velo!(logger: &l, target: "audit.events", info, "dotted");
        velo!(logger: &l, target: "my-dep::x", debug, "hyphenated");
        velo!(logger: &l, info, "module");
        l.sync().unwrap();
        out.msgs()
    };
    assert_eq!(
        logged("warn,audit.events=info,my-dep=debug"),
        ["dotted", "hyphenated"]
    );
    assert_eq!(logged("info,audit.events=off"), ["module"]);
    let (l, out) = json_logger(Builder::new().timestamp(Timestamp::Off));
    velo!(logger: &l, target: "audit.events", info, "dotted");
    l.sync().unwrap();
    assert_eq!(out.entries()[0]["target"], "audit.events");
}

/// `Builder::targets(true)`: every line carries its target, the module
/// path when the call names none, where a `target:` goes; a field of that
/// name, the call's or a context's, goes beside it as `fields.target`.
#[test]
fn targets_writes_the_module_path_of_calls_without_a_target() {
    let (l, out) = json_logger(Builder::new().targets(true).timestamp(Timestamp::Off));
    let child = l.with(velo::fields!(service = "api", target = "ctx"));
    // Twice each: a site's first line and the lines after it, whose head
    // comes from the worker's cache, take different paths.
    for user in [7, 8] {
        velo!(logger: &l, info, "plain", user);
        velo!(logger: &l, target: "audit", info, "named", user);
        velo!(logger: &l, info, "own field", target = "db", user);
        velo!(logger: &child, info, "child", user);
    }
    l.sync().unwrap();
    let e = out.entries();
    assert_eq!(e.len(), 8);
    for (round, user) in e.chunks(4).zip([7, 8]) {
        assert!(round.iter().all(|e| e["user"] == user));
        assert_eq!(
            keys(&round[0]),
            ["level", "msg", "caller", "target", "user"]
        );
        assert_eq!(round[0]["target"], MODULE);
        assert_eq!(
            keys(&round[1]),
            ["level", "msg", "caller", "target", "user"]
        );
        assert_eq!(round[1]["target"], "audit");
        assert_eq!(
            keys(&round[2]),
            ["level", "msg", "caller", "target", "fields.target", "user"]
        );
        assert_eq!(round[2]["target"], MODULE);
        assert_eq!(round[2]["fields.target"], "db");
        assert_eq!(
            keys(&round[3]),
            [
                "level",
                "msg",
                "caller",
                "target",
                "service",
                "fields.target",
                "user"
            ]
        );
        assert_eq!(round[3]["target"], MODULE);
        assert_eq!(round[3]["fields.target"], "ctx");
    }

    let (t, text) = velo_tests::text_logger(
        Builder::new()
            .targets(true)
            .timestamp(Timestamp::Off)
            .caller(false),
    );
    velo!(logger: &t, info, "login", user = 7);
    velo!(logger: &t, target: "audit", info, "login", user = 7);
    t.sync().unwrap();
    assert_eq!(
        text.lines(),
        [
            format!("INFO  login target={MODULE} user=7"),
            "INFO  login target=audit user=7".to_owned()
        ]
    );

    // Off (the default): only a target that is not the module path.
    let (l, out) = json_logger(Builder::new().timestamp(Timestamp::Off));
    velo!(logger: &l, info, "plain", target = "db");
    l.sync().unwrap();
    assert_eq!(
        keys(&out.entries()[0]),
        ["level", "msg", "caller", "target"]
    );
    assert_eq!(out.entries()[0]["target"], "db");
}
