//! `install()` makes a logger the default and chains a panic hook that logs
//! the panic; installing after the default is in use is an error.

use velo::{velo, Builder, ErrorKind, Format};
use velo_tests::{is_child, json_lines, run_child};

#[test]
fn child_installs_then_panics() {
    if !is_child("child_installs_then_panics") {
        return;
    }
    Builder::new()
        .format(Format::Json)
        .stderr()
        .fields(velo::fields!(
            app = "demo",
            thread = "ctx-thread",
            location = "ctx-location"
        ))
        .install()
        .unwrap();
    velo!(info, "before the panic");
    let _ = std::thread::Builder::new()
        .name("worker-7".into())
        .spawn(|| {
            velo::scope(velo::fields!(panic = "scope-panic"), || {
                panic!("boom {}", 42)
            })
        })
        .unwrap()
        .join();
    velo!(info, "after the panic");
    velo::close();
}

#[test]
fn a_panic_is_logged_with_location_and_thread() {
    let out = run_child("child_installs_then_panics", &[]);
    assert!(out.status.success(), "{out:?}");
    let entries = json_lines(&out.stderr);
    let msgs: Vec<_> = entries.iter().map(|e| e["msg"].as_str().unwrap()).collect();
    assert_eq!(msgs, ["before the panic", "panic", "after the panic"]);
    let panic = &entries[1];
    assert_eq!(panic["level"], "error");
    assert_eq!(panic["panic"], "boom 42");
    assert_eq!(panic["thread"], "worker-7");
    assert_eq!(
        panic["app"], "demo",
        "context fields of the installed logger"
    );
    // The hook's keys are velo's in that entry: the user's fields of the
    // same names keep their values under `fields.KEY`.
    assert_eq!(panic["fields.thread"], "ctx-thread", "{panic:?}");
    assert_eq!(panic["fields.location"], "ctx-location", "{panic:?}");
    assert_eq!(panic["fields.panic"], "scope-panic", "{panic:?}");
    let after = &entries[2];
    assert_eq!(
        (&after["thread"], &after["location"]),
        (
            &serde_json::json!("ctx-thread"),
            &serde_json::json!("ctx-location")
        ),
        "elsewhere they are fields like any other: {after:?}"
    );
    let location = panic["location"].as_str().unwrap();
    assert!(
        location.starts_with("tests/tests/install_sets_the_default_and_a_panic_hook.rs:"),
        "{location}"
    );
    // The previous hook still ran: the standard panic message is there.
    assert!(String::from_utf8_lossy(&out.stderr).contains("panicked at"));
}

/// The line of the first `velo!` in `child_installs_after_first_use`.
const FIRST_USE: u32 = 83;

#[test]
fn child_installs_after_first_use() {
    if !is_child("child_installs_after_first_use") {
        return;
    }
    // The first use, at the line `FIRST_USE` names.
    velo!(info, "default logger in use");
    assert_eq!(line!() - 1, FIRST_USE, "`FIRST_USE` names the line above");
    let err = Builder::new().install().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyInstalled);
    // The entry above reaches stderr first: `eprintln!` writes its pieces
    // one by one, and the worker's line could land between them.
    velo::sync().unwrap();
    eprintln!("install error: {err}");
    velo::close();
}

#[test]
fn install_after_first_use_is_an_error() {
    let out = run_child("child_installs_after_first_use", &[]);
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("install error: a default logger is already in use"),
        "{stderr}"
    );
    // It names the call that made it.
    let at = format!(
        "made from the environment by the first use, at tests/tests/install_sets_the_default_and_a_panic_hook.rs:{FIRST_USE}:"
    );
    assert!(stderr.contains(&at), "{at}\n{stderr}");
}

#[test]
fn child_installs_twice() {
    if !is_child("child_installs_twice") {
        return;
    }
    Builder::new().install().unwrap();
    let err = Builder::new().install().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyInstalled);
    eprintln!("install error: {err}");
    // A refused install opens nothing.
    let dir = std::env::temp_dir().join(format!("velo-refused-install-{}", std::process::id()));
    let path = dir.join("x.log");
    let err = Builder::new().file(&path).install().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyInstalled);
    assert!(!path.exists() && !dir.exists(), "{path:?} was created");
    velo::close();
}

#[test]
fn a_second_install_says_so() {
    let out = run_child("child_installs_twice", &[]);
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("install error: a default logger is already installed;"),
        "{stderr}"
    );
}
