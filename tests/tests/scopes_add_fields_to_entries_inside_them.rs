//! `velo::scope(fields, f)` adds its fields to every entry the thread logs
//! inside `f`, to any logger, after the logger's context and before the
//! call's fields. Scopes nest, outer first; they stay on their thread and
//! end with their closure, also when it panics.

use velo::{velo, Builder, Format, Timestamp};
use velo_tests::{json_logger, keys, Capture};

fn logger() -> (velo::Logger, Capture) {
    json_logger(Builder::new().timestamp(Timestamp::Off).caller(false))
}

#[test]
fn scopes_nest_outer_first_between_context_and_call_fields() {
    let (l, out) = logger();
    let child = l.with(velo::fields!(service = "api"));
    let got = velo::scope(velo::fields!(trace_id = "t1"), || {
        velo!(logger: &child, info, "outer", status = 200);
        velo::scope(velo::fields!(span = 2, user = "ada"), || {
            velo!(logger: &child, info, "inner", status = 201);
        });
        velo!(logger: &child, info, "outer again");
        42
    });
    assert_eq!(got, 42, "scope returns the closure's value");
    velo!(logger: &child, info, "after");
    l.sync().unwrap();
    let e = out.entries();
    assert_eq!(
        keys(&e[0]),
        ["level", "msg", "service", "trace_id", "status"]
    );
    assert_eq!(
        keys(&e[1]),
        ["level", "msg", "service", "trace_id", "span", "user", "status"]
    );
    assert_eq!(e[1]["trace_id"], "t1");
    assert_eq!(e[1]["span"], 2);
    assert_eq!(keys(&e[2]), ["level", "msg", "service", "trace_id"]);
    assert_eq!(keys(&e[3]), ["level", "msg", "service"]);
}

#[test]
fn scopes_apply_to_every_logger() {
    let (a, out_a) = logger();
    let (b, out_b) = velo_tests::text_logger(
        Builder::new()
            .timestamp(Timestamp::Off)
            .caller(false)
            .asynchronous(false),
    );
    velo::scope(velo::fields!(request_id = 7), || {
        velo!(logger: &a, info, "to a");
        velo!(logger: &b.with(velo::fields!(part = "b")), warn, "to b");
    });
    a.sync().unwrap();
    assert_eq!(
        out_a.lines(),
        [r#"{"level":"info","msg":"to a","request_id":7}"#]
    );
    assert_eq!(out_b.lines(), ["WARN  to b part=b request_id=7"]);
}

#[test]
fn scopes_stay_on_their_thread() {
    let (l, out) = logger();
    velo::scope(velo::fields!(mine = true), || {
        std::thread::scope(|s| {
            s.spawn(|| velo!(logger: &l, info, "other thread"));
        });
        velo!(logger: &l, info, "this thread");
    });
    l.sync().unwrap();
    let mut lines = out.lines();
    lines.sort();
    assert_eq!(
        lines,
        [
            r#"{"level":"info","msg":"other thread"}"#,
            r#"{"level":"info","msg":"this thread","mine":true}"#,
        ]
    );
}

#[test]
fn a_scope_ends_when_its_closure_panics() {
    let (l, out) = logger();
    velo::scope(velo::fields!(outer = 1), || {
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            velo::scope(velo::fields!(inner = 2), || {
                velo!(logger: &l, info, "before the panic");
                panic!("handler failed");
            })
        }));
        assert!(caught.is_err());
        velo!(logger: &l, info, "caught");
    });
    velo!(logger: &l, info, "outside");
    l.sync().unwrap();
    assert_eq!(
        out.lines(),
        [
            r#"{"level":"info","msg":"before the panic","outer":1,"inner":2}"#,
            r#"{"level":"info","msg":"caught","outer":1}"#,
            r#"{"level":"info","msg":"outside"}"#,
        ]
    );
}

#[test]
fn the_default_logger_and_bridged_records_carry_them_too() {
    let out = Capture::new();
    Builder::new()
        .format(Format::Json)
        .timestamp(Timestamp::Off)
        .caller(false)
        .writer(out.clone())
        .install()
        .unwrap();
    velo::bridge_log().unwrap();
    velo::scope(velo::fields!(job = "nightly"), || {
        velo!(info, "from velo", n = 1);
        log::info!(n = 2; "from log");
    });
    velo::sync().unwrap();
    assert_eq!(
        out.lines(),
        [
            r#"{"level":"info","msg":"from velo","job":"nightly","n":1}"#,
            r#"{"level":"info","msg":"from log","job":"nightly","n":2}"#,
        ]
    );
}

/// A thread's scope fields are formatted once per scope and found again
/// by the worker: scopes entered and left in turn, nested, with the same
/// keys and other values (more than the worker's cache holds), each entry
/// with the fields of the scope it was logged in.
#[test]
fn each_entry_has_the_scope_it_was_logged_in() {
    let (logger, out) = velo_tests::json_logger(velo::Builder::new());
    for i in 0..200u64 {
        velo::scope(
            velo::fields!(req = i, peer = %format!("10.0.0.{i}")),
            || {
                velo::velo!(logger: &logger, info, "outer", i);
                velo::scope(velo::fields!(step = i * 2), || {
                    velo::velo!(logger: &logger, info, "inner", i);
                });
                velo::velo!(logger: &logger, info, "outer again", i);
            },
        );
        velo::velo!(logger: &logger, info, "outside", i);
    }
    logger.sync().unwrap();
    let entries = out.entries();
    assert_eq!(entries.len(), 800);
    for e in &entries {
        let i = e["i"].as_u64().unwrap();
        if e["msg"] == "outside" {
            assert!(!e.contains_key("req"), "{e:?}");
            continue;
        }
        assert_eq!(e["req"], i, "{e:?}");
        assert_eq!(e["peer"], format!("10.0.0.{i}"), "{e:?}");
        assert_eq!(e.contains_key("step"), e["msg"] == "inner", "{e:?}");
        if e["msg"] == "inner" {
            assert_eq!(e["step"], i * 2, "{e:?}");
        }
    }
}
