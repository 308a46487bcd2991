//! With the `log` feature, `velo::bridge_log()` sends records of the `log`
//! facade through the default logger: same format, filter and pipeline.

use velo::{velo, Builder, Format};
use velo_tests::{is_child, json_lines, run_child};

#[test]
fn child_bridges_log() {
    if !is_child("child_bridges_log") {
        return;
    }
    let format = match std::env::var("CHILD_FORMAT").as_deref() {
        Ok("text") => Format::Text,
        _ => Format::Json,
    };
    Builder::new()
        .format(format)
        .filter("info")
        .stderr()
        .fields(velo::fields!(app = "demo"))
        .install()
        .unwrap();
    velo::bridge_log().unwrap();
    let again = velo::bridge_log().expect_err("a second bridge is refused");
    assert!(
        again.to_string().contains("velo's bridge is already"),
        "says it is velo's own: {again}"
    );
    velo!(info, "from velo");
    log::info!("from log {}", 42);
    log::debug!("filtered out");
    log::warn!(target: "custom_target", "with a target");
    log::error!("hostile \"quote\"\nnew line \u{1b}[31m");
    let err = std::io::Error::other("disk on fire");
    log::info!(
        user_id = 7u64, delta = -3i64, ratio = 0.25, ok = true, name = "ada", letter = 'x',
        err:err = err, debug:? = vec![1, 2];
        "with key-values"
    );
    // A record from a file whose path rustc was given with `dir/..` in it
    // (an example a crate's manifest lists as `../examples/x.rs`).
    log::logger().log(
        &log::Record::builder()
            .level(log::Level::Info)
            .target("x")
            .file(Some("velo/../examples/x.rs"))
            .line(Some(7))
            .args(format_args!("from a path with dots"))
            .build(),
    );
    // A file without a line: no made-up line 0.
    log::logger().log(
        &log::Record::builder()
            .level(log::Level::Info)
            .target("x")
            .file(Some("src/generated.rs"))
            .args(format_args!("without a line"))
            .build(),
    );
    velo::close();
}

#[test]
fn records_arrive_as_json_entries() {
    let out = run_child("child_bridges_log", &[]);
    assert!(out.status.success(), "{out:?}");
    let entries = json_lines(&out.stderr);
    let msgs: Vec<_> = entries.iter().map(|e| e["msg"].as_str().unwrap()).collect();
    assert_eq!(
        msgs,
        [
            "from velo",
            "from log 42",
            "with a target",
            "hostile \"quote\"\nnew line \u{1b}[31m",
            "with key-values",
            "from a path with dots",
            "without a line",
        ]
    );
    // Tidied as a `velo!` site's `file!()` is.
    assert_eq!(entries[5]["caller"], "examples/x.rs:7");
    assert_eq!(entries[6]["caller"], "src/generated.rs");
    let from_log = &entries[1];
    assert_eq!(
        velo_tests::keys(from_log),
        ["time", "level", "msg", "caller", "app"]
    );
    assert_eq!(from_log["level"], "info");
    let caller = from_log["caller"].as_str().unwrap();
    assert!(
        caller.starts_with("tests/tests/log_facade_records_flow_through_velo.rs:"),
        "{caller}"
    );
    assert_eq!(entries[2]["level"], "warn");
    assert_eq!(entries[2]["target"], "custom_target");
    assert_eq!(entries[3]["level"], "error");
}

#[test]
fn key_values_become_typed_fields() {
    let out = run_child("child_bridges_log", &[]);
    assert!(out.status.success(), "{out:?}");
    let entries = json_lines(&out.stderr);
    let kv = entries
        .iter()
        .find(|e| e["msg"] == "with key-values")
        .expect("the record with key-values");
    assert_eq!(
        velo_tests::keys(kv),
        [
            "time", "level", "msg", "caller", "app", "user_id", "delta", "ratio", "ok", "name",
            "letter", "err", "debug"
        ]
    );
    // Typed: numbers and bools as JSON numbers and bools, not strings.
    assert_eq!(kv["user_id"], 7);
    assert_eq!(kv["delta"], -3);
    assert_eq!(kv["ratio"], 0.25);
    assert_eq!(kv["ok"], true);
    assert_eq!(kv["name"], "ada");
    assert_eq!(kv["letter"], "x");
    assert_eq!(kv["err"], "disk on fire");
    assert_eq!(kv["debug"], "[1, 2]");
}

#[test]
fn records_arrive_as_text_lines() {
    let out = run_child("child_bridges_log", &[("CHILD_FORMAT", "text")]);
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.contains(" INFO  from log 42 app=demo caller=tests/tests/log_facade"))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(line.contains(".rs:"));
    assert!(
        stderr.lines().any(
            |l| l.contains(" INFO  without a line ") && l.ends_with(" caller=src/generated.rs")
        ),
        "{stderr}"
    );
    let hostile = stderr
        .lines()
        .find(|l| l.contains(" ERROR hostile"))
        .unwrap();
    assert!(
        hostile.contains(r#"hostile \"quote\"\nnew line \u001b[31m"#),
        "{hostile}"
    );
}

#[test]
fn child_follows_the_filter_with_the_facades_max_level() {
    if !is_child("child_follows_the_filter_with_the_facades_max_level") {
        return;
    }
    // Bridged before the default logger is made: everything reaches the
    // bridge until the first record makes it.
    velo::bridge_log().unwrap();
    assert_eq!(log::max_level(), log::LevelFilter::Trace);
    log::info!("makes the default logger");
    assert_eq!(log::max_level(), log::LevelFilter::Info);
    let logger = velo::logger();
    logger.set_filter("warn,noisy::db=debug").unwrap();
    assert_eq!(log::max_level(), log::LevelFilter::Debug);
    log::debug!(target: "noisy::db", "passes");
    log::debug!("filtered, by the facade now");
    logger.set_level(velo::Level::Error);
    assert_eq!(log::max_level(), log::LevelFilter::Error);
    logger.set_level(velo::LevelFilter::Off);
    assert_eq!(log::max_level(), log::LevelFilter::Off);
    // Another logger's filter leaves the facade alone.
    let other = Builder::new().filter("trace").build().unwrap();
    other.set_filter("trace").unwrap();
    assert_eq!(log::max_level(), log::LevelFilter::Off);
    logger.set_level(velo::Level::Info);
    // A message filter: a record's message is matched as formatted.
    logger.set_filter("info/order 7").unwrap();
    assert_eq!(log::max_level(), log::LevelFilter::Info);
    for order in 6..9 {
        log::info!("order {order} shipped");
    }
    log::info!("{}", "no order");
    logger.set_level(velo::Level::Info);
    log::info!("last");
    velo::close();
}

#[test]
fn the_facades_max_level_follows_the_default_loggers_filter() {
    let out = run_child("child_follows_the_filter_with_the_facades_max_level", &[]);
    assert!(out.status.success(), "{out:?}");
    let msgs: Vec<String> = json_lines(&out.stderr)
        .iter()
        .map(|e| e["msg"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        msgs,
        [
            "makes the default logger",
            "passes",
            "order 7 shipped",
            "last"
        ]
    );
}

#[test]
fn child_bridges_then_installs() {
    if !is_child("child_bridges_then_installs") {
        return;
    }
    velo::bridge_log().unwrap();
    assert_eq!(log::max_level(), log::LevelFilter::Trace);
    Builder::new()
        .stderr()
        .format(velo::Format::Json)
        .filter("info,app::db=debug")
        .install()
        .unwrap();
    // Follows the installed logger's filter at once, before any record.
    assert_eq!(log::max_level(), log::LevelFilter::Debug);
    log::trace!("filtered by the facade");
    log::debug!(target: "app::db", "passes");
    velo::close();
}

/// `bridge_log()` before `install()`: the facade's maximum follows the
/// installed logger's filter from the install on, so a disabled
/// `log::trace!` costs the facade's check alone from the start.
#[test]
fn bridging_before_install_follows_the_installed_filter_at_once() {
    let out = run_child("child_bridges_then_installs", &[]);
    assert!(out.status.success(), "{out:?}");
    let msgs: Vec<String> = json_lines(&out.stderr)
        .iter()
        .map(|e| e["msg"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(msgs, ["passes"]);
}

/// Panics when displayed.
struct Bad;

impl std::fmt::Display for Bad {
    fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        panic!("display bug")
    }
}

#[test]
fn child_panics_in_a_message_under_a_text() {
    if !is_child("child_panics_in_a_message_under_a_text") {
        return;
    }
    velo::bridge_log().unwrap();
    velo::logger().set_filter("info/order").unwrap();
    // The panic goes on out, as without a text.
    let caught = std::panic::catch_unwind(|| log::info!("order {}", Bad));
    assert!(caught.is_err());
    log::info!("order {}", 8);
    velo::sync().unwrap();
    println!("dropped {}", velo::logger().stats().dropped);
    velo::close();
}

/// Under a message text, a bridged record's message is formatted once: a
/// `Display` that panics panics once (on out to the caller, as without a
/// text), and its record is dropped, counted.
#[test]
fn a_message_that_panics_under_a_text_panics_once() {
    let out = run_child("child_panics_in_a_message_under_a_text", &[]);
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.matches("display bug").count(), 1, "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("dropped 1"), "{stdout}");
    assert!(stderr.contains("\"msg\":\"order 8\""), "{stderr}");
}
