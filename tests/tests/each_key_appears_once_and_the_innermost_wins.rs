//! A key appears once per entry, across the parent logger's context, a
//! child's (`with`), the thread's scopes and the call's fields: the
//! innermost value wins and is written in the innermost place.

use velo::{velo, Builder, Format, Timestamp};
use velo_tests::{raw_keys, text_keys, Capture};

fn logger(format: Format) -> (velo::Logger, Capture) {
    let out = Capture::new();
    let l = Builder::new()
        .format(format)
        .timestamp(Timestamp::Off)
        .caller(false)
        .fields(velo::fields!(
            a = "builder",
            b = "builder",
            c = "builder",
            d = "builder",
            keep = 0
        ))
        .writer(out.clone())
        .build()
        .unwrap();
    (l, out)
}

/// Logs through every layer: `b` is set again by the child, `c` by the
/// scope, `d` by the call.
fn log_through_every_layer(l: &velo::Logger) {
    let child = l.with(velo::fields!(
        b = "child",
        c = "child",
        d = "child",
        own = 1
    ));
    let grandchild = child.with(velo::fields!(c = "grandchild"));
    velo::scope(velo::fields!(c = "outer scope", d = "outer scope"), || {
        velo::scope(velo::fields!(c = "scope"), || {
            velo!(logger: &grandchild, info, "layers", d = "call", e = "call");
        });
    });
}

#[test]
fn json() {
    let (l, out) = logger(Format::Json);
    log_through_every_layer(&l);
    l.sync().unwrap();
    let lines = out.lines();
    assert_eq!(
        raw_keys(&lines[0]),
        ["level", "msg", "a", "keep", "b", "own", "c", "d", "e"]
    );
    let e = velo_tests::parse_line(&lines[0]);
    assert_eq!(e["a"], "builder");
    assert_eq!(e["b"], "child");
    assert_eq!(e["c"], "scope");
    assert_eq!(e["d"], "call");
}

#[test]
fn text() {
    let (l, out) = logger(Format::Text);
    log_through_every_layer(&l);
    l.sync().unwrap();
    assert_eq!(
        out.lines(),
        ["INFO  layers a=builder keep=0 b=child own=1 c=scope d=call e=call"]
    );
    assert_eq!(
        text_keys(&out.lines()[0]),
        ["a", "keep", "b", "own", "c", "d", "e"]
    );
}

#[test]
fn with_merges_so_the_child_context_holds_each_key_once() {
    let parent = velo::fields!(a = 1, b = 2);
    let (l, out) = logger(Format::Json);
    let child = l
        .with(parent)
        .with(velo::fields!(a = 3))
        .with(velo::fields!(b = 4, a = 5));
    velo!(logger: &child, info, "merged");
    l.sync().unwrap();
    assert_eq!(
        out.lines(),
        [r#"{"level":"info","msg":"merged","c":"builder","d":"builder","keep":0,"b":4,"a":5}"#]
    );
}

/// `n` fields named `{prefix}{i}` for `i` in `from..from + n`, valued
/// `value`.
fn many_fields(prefix: &str, from: usize, n: usize, value: &str) -> velo::Fields {
    let names: Vec<&'static str> = (from..from + n)
        .map(|i| &*Box::leak(format!("{prefix}{i}").into_boxed_str()))
        .collect();
    let mut b = velo::__private::FieldsBuilder::new(Box::leak(names.into_boxed_slice()));
    for _ in 0..n {
        b.value(value);
    }
    b.build()
}

#[test]
fn a_large_context_and_a_large_scope_keep_each_key_once() {
    // Scopes past the size from which the worker indexes their keys, in
    // both formats: keys `k300..k599` are in both layers, the scope's win.
    for format in [Format::Json, Format::Text] {
        let (l, out) = logger(format);
        let child = l.with(many_fields("k", 0, 600, "context"));
        velo::scope(many_fields("k", 300, 600, "scope"), || {
            velo!(logger: &child, info, "big", k5 = "call");
        });
        l.sync().unwrap();
        let lines = out.lines();
        assert_eq!(lines.len(), 1);
        let keys = match format {
            Format::Json => raw_keys(&lines[0]),
            _ => text_keys(&lines[0]),
        };
        let distinct: std::collections::BTreeSet<&String> = keys.iter().collect();
        assert_eq!(distinct.len(), keys.len(), "a key twice");
        let count = |prefix: &str| lines[0].matches(prefix).count();
        // 0..300 from the context (one of them, k5, the call's), 300..900
        // from the scope.
        assert_eq!(count("context"), 299, "{format:?}");
        assert_eq!(count("scope"), 600, "{format:?}");
        assert_eq!(count("call"), 1, "{format:?}");
    }
}

/// Child loggers' contexts are formatted once and found again by the
/// worker: many children with the same keys and other values, their
/// entries interleaved (more than the worker's cache holds), each entry
/// with its own logger's values.
#[test]
fn interleaved_children_keep_their_own_context() {
    let (root, out) =
        velo_tests::json_logger(velo::Builder::new().fields(velo::fields!(service = "api")));
    let children: Vec<velo::Logger> = (0..150u64)
        .map(|n| root.with(velo::fields!(request_id = n, peer = %format!("10.0.0.{n}"))))
        .collect();
    let grandchildren: Vec<velo::Logger> = children
        .iter()
        .enumerate()
        .map(|(n, c)| c.with(velo::fields!(step = n as u64 * 2)))
        .collect();
    for round in 0..3u64 {
        for (n, (child, grandchild)) in children.iter().zip(&grandchildren).enumerate() {
            velo::velo!(logger: child, info, "child", round, n = n as u64);
            velo::velo!(logger: grandchild, info, "grandchild", round, n = n as u64);
        }
    }
    root.sync().unwrap();
    let entries = out.entries();
    assert_eq!(entries.len(), 3 * 150 * 2);
    for e in &entries {
        let n = e["n"].as_u64().unwrap();
        assert_eq!(e["service"], "api", "{e:?}");
        assert_eq!(e["request_id"], n, "{e:?}");
        assert_eq!(e["peer"], format!("10.0.0.{n}"), "{e:?}");
        if e["msg"] == "grandchild" {
            assert_eq!(e["step"], n * 2, "{e:?}");
        } else {
            assert!(!e.contains_key("step"), "{e:?}");
        }
    }
}
