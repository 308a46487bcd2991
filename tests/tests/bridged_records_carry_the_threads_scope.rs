//! A `log` record bridged into velo inside `velo::scope` carries the
//! scope's fields after the logger's context and before its own key-values,
//! as an entry of `velo!` does; outside the scope it carries none.

use velo::{Builder, Format};
use velo_tests::{is_child, json_lines, keys, run_child};

#[test]
fn child_bridges_log_in_a_scope() {
    if !is_child("child_bridges_log_in_a_scope") {
        return;
    }
    Builder::new()
        .format(Format::Json)
        .stderr()
        .caller(false)
        .fields(velo::fields!(app = "demo"))
        .install()
        .unwrap();
    velo::bridge_log().unwrap();
    velo::scope(velo::fields!(trace_id = "t1", step = 1), || {
        velo::scope(velo::fields!(step = 2), || {
            log::info!(k = 7; "inside");
        });
    });
    log::info!("outside");
    velo::close();
}

#[test]
fn scope_fields_reach_bridged_records() {
    let out = run_child("child_bridges_log_in_a_scope", &[]);
    assert!(out.status.success(), "{out:?}");
    let entries = json_lines(&out.stderr);
    assert_eq!(entries.len(), 2, "{entries:?}");
    let inside = &entries[0];
    assert_eq!(
        keys(inside),
        ["time", "level", "msg", "app", "trace_id", "step", "k"]
    );
    assert_eq!(inside["trace_id"], "t1");
    assert_eq!(inside["step"], 2, "the inner scope wins");
    assert_eq!(inside["k"], 7);
    assert_eq!(keys(&entries[1]), ["time", "level", "msg", "app"]);
}
