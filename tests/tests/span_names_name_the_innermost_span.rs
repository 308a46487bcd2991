//! `Builder::span_names(true)`: an entry inside `tracing` spans carries the
//! innermost span's name as `span.name`, beside the spans' fields, through
//! the bridge and through `TracingLayer`; without it, spans give their
//! fields only. Run with `cargo test -p velo-tests --features layer`
//! (the bridge alone: `--features tracing`).
#![cfg(feature = "tracing")]

use serde_json::{Map, Value};
use velo::{Builder, Format};
use velo_tests::{is_child, json_lines, run_child};

/// Logs inside two spans, and outside them, through whatever subscriber
/// is set.
fn log_in_spans() {
    tracing::info!("outside");
    let outer = tracing::info_span!("request", id = 7);
    let _o = outer.enter();
    tracing::info!("in request");
    velo::velo!(info, "velo in request");
    let inner = tracing::info_span!("db_query", table = "users");
    inner.in_scope(|| tracing::info!("in query"));
    // A span whose field is itself named so: the innermost key wins.
    tracing::info_span!("named", span.name = "by hand").in_scope(|| tracing::info!("by hand"));
}

#[test]
fn child_bridge() {
    if !is_child("child_bridge") {
        return;
    }
    let on = std::env::var("SPAN_NAMES").is_ok();
    Builder::new()
        .format(Format::Json)
        .stderr()
        .span_names(on)
        .install()
        .unwrap();
    velo::bridge_tracing().unwrap();
    log_in_spans();
    velo::close();
}

#[cfg(feature = "layer")]
#[test]
fn child_layer() {
    if !is_child("child_layer") {
        return;
    }
    use tracing_subscriber::layer::SubscriberExt;
    Builder::new()
        .format(Format::Json)
        .stderr()
        .span_names(true)
        .install()
        .unwrap();
    let subscriber = tracing_subscriber::registry().with(velo::TracingLayer::new());
    tracing::subscriber::set_global_default(subscriber).unwrap();
    log_in_spans();
    velo::close();
}

fn entries(child: &str, envs: &[(&str, &str)]) -> Vec<Map<String, Value>> {
    let out = run_child(child, envs);
    assert!(out.status.success(), "{out:?}");
    json_lines(&out.stderr)
}

/// Each entry's message and its `span.name`, if any.
fn names(entries: &[Map<String, Value>]) -> Vec<(&str, Option<&str>)> {
    entries
        .iter()
        .map(|e| {
            (
                e["msg"].as_str().unwrap(),
                e.get("span.name").and_then(Value::as_str),
            )
        })
        .collect()
}

const EXPECTED: [(&str, Option<&str>); 5] = [
    ("outside", None),
    ("in request", Some("request")),
    ("velo in request", Some("request")),
    ("in query", Some("db_query")),
    ("by hand", Some("by hand")),
];

#[test]
fn the_bridge_writes_the_innermost_spans_name() {
    let out = run_child("child_bridge", &[("SPAN_NAMES", "1")]);
    assert!(out.status.success(), "{out:?}");
    let entries = json_lines(&out.stderr);
    assert_eq!(names(&entries), EXPECTED);
    // Beside the spans' fields, each key once.
    let query = &entries[3];
    assert_eq!(
        (&query["id"], &query["table"]),
        (&Value::from(7), &Value::from("users"))
    );
    for line in String::from_utf8_lossy(&out.stderr).lines() {
        assert!(line.matches("\"span.name\"").count() <= 1, "{line}");
    }
}

#[test]
fn without_span_names_spans_give_their_fields_only() {
    let entries = entries("child_bridge", &[]);
    let seen = names(&entries);
    assert_eq!(seen[1], ("in request", None));
    assert_eq!(seen[3], ("in query", None));
    assert_eq!(entries[3]["table"], "users");
}

#[cfg(feature = "layer")]
#[test]
fn the_layer_writes_the_innermost_spans_name() {
    assert_eq!(names(&entries("child_layer", &[])), EXPECTED);
}
