//! Through `velo::bridge_tracing()`, the default logger's filter matches a
//! `tracing` event's target as a module path, and a target other than the
//! module path is written as `target`. Spans are filtered the same way: a
//! disabled span adds no fields.
#![cfg(feature = "tracing")]

use velo::{Builder, Format};
use velo_tests::{is_child, json_lines, run_child};

#[test]
fn child_targets() {
    if !is_child("child_targets") {
        return;
    }
    Builder::new()
        .format(Format::Json)
        .stderr()
        .filter("info,audit=debug,noisy=off,tracing_targets_are_filtered_as_module_paths=warn")
        .install()
        .unwrap();
    velo::bridge_tracing().unwrap();
    tracing::warn!("module path, warn");
    tracing::info!("module path, info: dropped");
    tracing::debug!(target: "audit", "audit debug");
    tracing::debug!(target: "audit::login", "audit child debug");
    tracing::trace!(target: "audit", "audit trace: dropped");
    tracing::error!(target: "noisy", "noisy error: dropped");
    tracing::info!(target: "auditor", "not a child of audit");
    tracing::debug!(target: "auditor", "auditor debug: dropped");
    let kept = tracing::debug_span!(target: "audit", "kept", kept = 1);
    let dropped = tracing::info_span!(target: "noisy", "dropped", dropped = 1);
    kept.in_scope(|| dropped.in_scope(|| tracing::warn!("in spans")));
    // A message filter: an event's message as formatted, whatever its type.
    velo::logger().set_filter("info/order 7").unwrap();
    for order in 6..9 {
        tracing::warn!(order, "order {order} shipped");
    }
    tracing::warn!(message = "order 7", first = true);
    tracing::warn!(message = "order 8", note = "order 7");
    velo::close();
}

#[test]
fn targets_are_filtered_as_module_paths() {
    let out = run_child("child_targets", &[]);
    assert!(out.status.success(), "{out:?}");
    let entries = json_lines(&out.stderr);
    let seen: Vec<_> = entries
        .iter()
        .map(|e| {
            (
                e["msg"].as_str().unwrap(),
                e.get("target").and_then(|t| t.as_str()),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("module path, warn", None),
            ("audit debug", Some("audit")),
            ("audit child debug", Some("audit::login")),
            ("not a child of audit", Some("auditor")),
            ("in spans", None),
            ("order 7 shipped", None),
            ("order 7", None),
        ]
    );
    let in_spans = &entries[4];
    assert_eq!(in_spans["kept"], 1);
    assert!(!in_spans.contains_key("dropped"), "{in_spans:?}");
}
