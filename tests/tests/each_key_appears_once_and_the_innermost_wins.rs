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
