//! With the `tracing` feature, `velo::bridge_tracing()` makes velo the
//! global `tracing` subscriber: an event carries the fields of the spans it
//! is inside after the logger's context, outermost span first, each key
//! once (the innermost value wins), and nothing of a span after it is
//! exited or closed. Run with `cargo test -p velo-tests --features tracing`.
#![cfg(feature = "tracing")]

use serde_json::{Map, Value};
use velo::{Builder, ErrorKind, Format};
use velo_tests::{is_child, json_lines, keys, run_child};

#[test]
fn child_spans() {
    if !is_child("child_spans") {
        return;
    }
    Builder::new()
        .format(Format::Json)
        .stderr()
        .filter("trace")
        .fields(velo::fields!(app = "demo", shared = "context"))
        .install()
        .unwrap();
    velo::bridge_tracing().unwrap();
    velo::bridge_log().unwrap();
    let again = velo::bridge_tracing().unwrap_err();
    assert_eq!(again.kind(), ErrorKind::AlreadyInstalled);

    tracing::info!("before any span");
    {
        let outer = tracing::info_span!(
            "outer",
            a = 1,
            shared = "outer",
            b = "outer",
            late = tracing::field::Empty
        );
        let _o = outer.enter();
        tracing::info!("in outer");
        velo::velo!(info, "velo in outer", x = 1);
        log::info!("log in outer");
        {
            let inner = tracing::debug_span!("inner", c = 3, shared = "inner");
            let _i = inner.enter();
            tracing::info!(b = "event", d = true, "in both");
            outer.record("late", 9);
            tracing::info!("after a record");
            velo::velo!(info, "velo in both");
        }
        tracing::info!("back in outer");
    }
    tracing::info!("after both");
    velo::velo!(info, "velo after both");

    // A span created here and entered on another thread brings its parent.
    let task = {
        let request = tracing::info_span!("request", request_id = 7);
        let _r = request.enter();
        tracing::info_span!("task", step = 1)
    };
    std::thread::spawn(move || task.in_scope(|| tracing::info!("on another thread")))
        .join()
        .unwrap();
    // `Span::current` sees what the bridge sees.
    let current = tracing::info_span!("current", e = 5);
    current.in_scope(|| {
        assert_eq!(tracing::Span::current().id(), current.id());
    });
    assert!(tracing::Span::current().is_none());
    velo::close();
}

fn entries() -> Vec<Map<String, Value>> {
    let out = run_child("child_spans", &[]);
    assert!(out.status.success(), "{out:?}");
    json_lines(&out.stderr)
}

fn by_msg<'a>(entries: &'a [Map<String, Value>], msg: &str) -> &'a Map<String, Value> {
    entries
        .iter()
        .find(|e| e["msg"] == msg)
        .unwrap_or_else(|| panic!("no entry {msg:?} in {entries:?}"))
}

#[test]
fn an_event_in_two_spans_carries_both_outermost_first() {
    let entries = entries();
    let e = by_msg(&entries, "in both");
    assert_eq!(
        keys(e),
        ["time", "level", "msg", "caller", "app", "a", "c", "shared", "b", "d"]
    );
    assert_eq!(e["app"], "demo");
    assert_eq!(e["a"], 1);
    assert_eq!(e["c"], 3);
    assert_eq!(
        e["shared"], "inner",
        "the inner span wins over outer and context"
    );
    assert_eq!(e["b"], "event", "the event wins over the span");
    assert_eq!(e["d"], true);

    let outer = by_msg(&entries, "in outer");
    assert_eq!(
        keys(outer),
        ["time", "level", "msg", "caller", "app", "a", "shared", "b"]
    );
    assert_eq!(outer["shared"], "outer");
}

#[test]
fn velo_and_log_entries_carry_the_fields_of_the_spans_they_are_in() {
    let entries = entries();
    for msg in ["velo in outer", "log in outer"] {
        let e = by_msg(&entries, msg);
        assert_eq!((&e["a"], &e["b"]), (&1.into(), &"outer".into()), "{e:?}");
        assert_eq!(e["shared"], "outer", "the span wins over the context");
        assert!(!e.contains_key("c"), "{e:?}");
    }
    assert_eq!(by_msg(&entries, "velo in outer")["x"], 1);
    let both = by_msg(&entries, "velo in both");
    assert_eq!((&both["a"], &both["c"]), (&1.into(), &3.into()), "{both:?}");
    assert_eq!(both["shared"], "inner");
    assert_eq!(both["late"], 9, "recorded after the span was entered");
    let after = by_msg(&entries, "velo after both");
    assert_eq!(
        keys(after),
        ["time", "level", "msg", "caller", "app", "shared"]
    );
}

#[test]
fn a_recorded_field_reaches_later_events() {
    let entries = entries();
    assert!(!by_msg(&entries, "in both").contains_key("late"));
    let e = by_msg(&entries, "after a record");
    assert_eq!(e["late"], 9);
    assert_eq!(e["c"], 3);
    assert_eq!(by_msg(&entries, "back in outer")["late"], 9);
}

#[test]
fn nothing_of_a_span_is_seen_after_it_is_exited() {
    let entries = entries();
    let back = by_msg(&entries, "back in outer");
    assert!(!back.contains_key("c"), "{back:?}");
    assert_eq!(back["shared"], "outer");
    for msg in ["before any span", "after both"] {
        let e = by_msg(&entries, msg);
        assert_eq!(keys(e), ["time", "level", "msg", "caller", "app", "shared"]);
        assert_eq!(e["shared"], "context");
    }
}

#[test]
fn a_span_entered_on_another_thread_brings_its_parents() {
    let entries = entries();
    let e = by_msg(&entries, "on another thread");
    assert_eq!(e["request_id"], 7);
    assert_eq!(e["step"], 1);
    assert_eq!(
        keys(e),
        [
            "time",
            "level",
            "msg",
            "caller",
            "app",
            "shared",
            "request_id",
            "step"
        ]
    );
}

#[test]
fn child_deep_spans() {
    if !is_child("child_deep_spans") {
        return;
    }
    Builder::new()
        .format(Format::Json)
        .stderr()
        .install()
        .unwrap();
    velo::bridge_tracing().unwrap();
    // On a thread with a small stack: a span's scope, recomputed after a
    // `record`, is its parent's and so on up, 20,000 spans deep.
    std::thread::Builder::new()
        .stack_size(256 << 10)
        .spawn(|| {
            let outer = tracing::info_span!("outer", late = tracing::field::Empty);
            let _o = outer.enter();
            let mut spans = Vec::new();
            for depth in 0..20_000u32 {
                spans.push(tracing::info_span!("level", depth).entered());
            }
            outer.record("late", 1);
            tracing::info!("deep inside");
            drop(spans);
        })
        .unwrap()
        .join()
        .unwrap();
    velo::sync().unwrap();
}

#[test]
fn spans_nested_deep_neither_overflow_the_stack_nor_lose_fields() {
    let out = run_child("child_deep_spans", &[]);
    assert!(out.status.success(), "{out:?}");
    let lines = json_lines(&out.stderr);
    let event = lines
        .iter()
        .find(|e| e["msg"] == "deep inside")
        .expect("the event is written");
    assert_eq!(event["late"], 1, "the record reached the innermost scope");
    assert_eq!(event["depth"], 19_999, "the innermost value wins");
}
