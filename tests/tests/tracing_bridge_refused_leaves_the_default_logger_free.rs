//! `velo::bridge_tracing()` when another global `tracing` subscriber is
//! already set: an error, and nothing changed, so the program can still
//! install its logger.
#![cfg(feature = "tracing")]

use velo::{velo, Builder, ErrorKind, Format};
use velo_tests::{assert_child_passed, is_child, json_lines, run_child};

#[test]
fn refused_child() {
    if !is_child("refused_child") {
        return;
    }
    tracing::subscriber::set_global_default(tracing::subscriber::NoSubscriber::default()).unwrap();
    let err = velo::bridge_tracing().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyInstalled);
    assert!(err.to_string().contains("tracing"), "{err}");
    Builder::new()
        .format(Format::Json)
        .stderr()
        .install()
        .expect("the default logger is still free");
    velo!(info, "installed after a refused bridge");
    velo::close();
}

#[test]
fn a_refused_bridge_leaves_install_free() {
    let out = run_child("refused_child", &[]);
    assert_child_passed(&out);
    let entries = json_lines(&out.stderr);
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["msg"], "installed after a refused bridge");
}

/// A scoped subscriber (`with_default`, as tests use) is no global one:
/// the bridge is set after it, and events reach velo.
#[test]
fn scoped_before_child() {
    if !is_child("scoped_before_child") {
        return;
    }
    let scoped = tracing::subscriber::NoSubscriber::default();
    tracing::subscriber::with_default(scoped, || tracing::info!("to nobody"));
    Builder::new()
        .format(Format::Json)
        .stderr()
        .install()
        .unwrap();
    velo::bridge_tracing().expect("no global subscriber is set");
    tracing::info!(n = 1, "through the bridge");
    velo::close();
}

#[test]
fn a_scoped_subscriber_before_leaves_the_bridge_free() {
    let out = run_child("scoped_before_child", &[]);
    assert_child_passed(&out);
    let entries = json_lines(&out.stderr);
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["msg"], "through the bridge");
    assert_eq!(entries[0]["n"], 1);
}
