//! Through `velo::bridge_tracing()`, a `tracing` event keeps its level, its
//! message (formatted), its file and line as the caller, and every field
//! with its type: integers, floats, booleans and strings as JSON values,
//! errors with their source chain, `%` and `?` values as their text.
#![cfg(feature = "tracing")]

use std::fmt;
use velo::{Builder, Format};
use velo_tests::{is_child, json_lines, keys, run_child};

#[derive(Debug)]
struct Outer(Inner);

#[derive(Debug)]
struct Inner;

impl fmt::Display for Outer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("request failed")
    }
}

impl fmt::Display for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection \"reset\"")
    }
}

impl std::error::Error for Outer {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

impl std::error::Error for Inner {}

#[derive(Debug)]
#[allow(dead_code, reason = "read through Debug")]
struct Point {
    x: i32,
    y: i32,
}

#[test]
fn child_typed_fields() {
    if !is_child("child_typed_fields") {
        return;
    }
    Builder::new()
        .format(Format::Json)
        .stderr()
        .filter("trace")
        .install()
        .unwrap();
    velo::bridge_tracing().unwrap();
    let err = Outer(Inner);
    let user = "ada";
    tracing::info!(
        unsigned = 7u64,
        signed = -3i64,
        float = 1.5,
        yes = true,
        text = "a \"quoted\"\nline",
        big = u128::MAX,
        display = %user,
        debug = ?Point { x: 1, y: 2 },
        error = &err as &(dyn std::error::Error + 'static),
        "user {} has {} items",
        user,
        3
    );
    tracing::trace!("t");
    tracing::debug!("d");
    tracing::info!("i");
    tracing::warn!("w");
    tracing::error!("e");
    tracing::info!(message = "a message field", extra = 1);
    tracing::info!(no_message = 1);
    tracing::info!(message = 5, extra = 2);
    tracing::info!(message = true);
    velo::close();
}

#[test]
fn fields_keep_their_types() {
    let out = run_child("child_typed_fields", &[]);
    assert!(out.status.success(), "{out:?}");
    let entries = json_lines(&out.stderr);
    let e = &entries[0];
    assert_eq!(
        keys(e),
        [
            "time", "level", "msg", "caller", "unsigned", "signed", "float", "yes", "text", "big",
            "display", "debug", "error"
        ]
    );
    assert_eq!(e["level"], "info");
    assert_eq!(e["msg"], "user ada has 3 items");
    let caller = e["caller"].as_str().unwrap();
    assert!(
        caller.starts_with("tests/tests/tracing_fields_keep_their_types.rs:"),
        "{caller}"
    );
    assert_eq!(e["unsigned"], 7);
    assert_eq!(e["signed"], -3);
    assert_eq!(e["float"], 1.5);
    assert_eq!(e["yes"], true);
    assert_eq!(e["text"], "a \"quoted\"\nline");
    // serde_json reads a number this large as a float: check the line.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(",\"big\":{},", u128::MAX)),
        "{stderr}"
    );
    assert_eq!(e["display"], "ada");
    assert_eq!(e["debug"], "Point { x: 1, y: 2 }");
    assert_eq!(e["error"], "request failed: connection \"reset\"");
}

#[test]
fn levels_map_one_to_one() {
    let out = run_child("child_typed_fields", &[]);
    assert!(out.status.success(), "{out:?}");
    let entries = json_lines(&out.stderr);
    let levels: Vec<_> = entries[1..6]
        .iter()
        .map(|e| (e["msg"].as_str().unwrap(), e["level"].as_str().unwrap()))
        .collect();
    assert_eq!(
        levels,
        [
            ("t", "trace"),
            ("d", "debug"),
            ("i", "info"),
            ("w", "warn"),
            ("e", "error")
        ]
    );
    assert_eq!(entries[6]["msg"], "a message field");
    assert_eq!(entries[6]["extra"], 1);
    assert!(!entries[6].contains_key("message"));
    assert_eq!(entries[7]["msg"], "");
    assert_eq!(entries[7]["no_message"], 1);
    // A message of another type is the message too, as its text.
    assert_eq!(entries[8]["msg"], "5");
    assert_eq!(entries[8]["extra"], 2);
    assert!(!entries[8].contains_key("message"));
    assert_eq!(entries[9]["msg"], "true");
}
