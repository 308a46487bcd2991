//! The panic hook `install()` sets logs the panic as an error entry, like
//! any other: where the filter passes no error at all (`off`, or `fatal`
//! only) nothing is written, and the previous hook still runs.

use velo::{Builder, Format};
use velo_tests::{is_child, json_lines, run_child};

#[test]
fn child_panics_under_a_filter() {
    if !is_child("child_panics_under_a_filter") {
        return;
    }
    let filter = std::env::var("VELO_TEST_FILTER").unwrap();
    Builder::new()
        .format(Format::Json)
        .stderr()
        .filter(&filter)
        .install()
        .unwrap();
    let caught = std::panic::catch_unwind(|| panic!("out of invoices"));
    assert!(caught.is_err());
    velo::sync().unwrap();
}

#[test]
fn the_panic_entry_follows_the_filter() {
    for (filter, logged) in [
        ("error", true),
        ("my_app=debug,warn", true),
        ("fatal", false),
        ("off", false),
    ] {
        let out = run_child(
            "child_panics_under_a_filter",
            &[("VELO_TEST_FILTER", filter)],
        );
        assert!(out.status.success(), "{filter}: {out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let panics = json_lines(&out.stderr)
            .iter()
            .filter(|e| e["msg"] == "panic" && e["panic"] == "out of invoices")
            .count();
        assert_eq!(panics, usize::from(logged), "{filter}: {stderr}");
        assert!(
            stderr.contains("out of invoices"),
            "the previous hook ran too: {stderr}"
        );
    }
}
