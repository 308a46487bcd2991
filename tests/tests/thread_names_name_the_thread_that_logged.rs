//! `Builder::thread_names(true)`: every entry names the thread that logged
//! it, after the caller (and target) and before the fields, whatever the
//! kind of call site (no fields, values alone, a `%` field, `every:`, a
//! bridged `log` record, a child logger's context); a field of the call
//! named `thread` goes beside it as `fields.thread`. Off by default.

use serde_json::{Map, Value as Json};
use std::thread;
use velo::{velo, Schema};
use velo_tests::{in_child, json_logger, keys, text_keys, text_logger, Capture};

/// Installs a JSON logger with thread names into a fresh capture (in a
/// child process: the default logger is set once).
fn install_named() -> Capture {
    let out = Capture::new();
    velo::Builder::new()
        .format(velo::Format::Json)
        .thread_names(true)
        .writer(out.clone())
        .install()
        .expect("installed");
    out
}

fn entries(logger: &velo::Logger, out: &Capture) -> Vec<Map<String, Json>> {
    logger.sync().expect("synced");
    out.entries()
}

/// Runs `f` on a thread named `name` (`None`: unnamed) and waits for it.
fn on_thread(name: Option<&str>, f: impl FnOnce() + Send) {
    thread::scope(|s| {
        let mut b = thread::Builder::new();
        if let Some(name) = name {
            b = b.name(name.to_owned());
        }
        b.spawn_scoped(s, f).expect("spawned").join().expect("ran");
    });
}

#[test]
fn every_kind_of_call_site_names_its_thread() {
    let (logger, out) = json_logger(velo::Builder::new().thread_names(true));
    let child = logger.with(velo::fields!(request_id = 7));
    let logger = &logger;
    for name in ["ingest-1", "ingest-2"] {
        on_thread(Some(name), || {
            for i in 0..3u64 {
                velo!(logger: logger, info, "no fields");
                velo!(logger: logger, info, "values", n = i, path = "/a", ok = true);
                velo!(logger: logger, info, "shown", peer = %"10.0.0.1", n = i);
                velo!(logger: &child, warn, "context", n = i);
                velo!(logger: logger, every: 1h, info, "limited", n = i);
            }
        });
    }
    let entries = entries(logger, &out);
    // Per thread, four sites three times; the limited site once in all
    // (`every:` is per process), from the first thread.
    assert_eq!(entries.len(), 2 * 4 * 3 + 1, "{entries:#?}");
    for (i, e) in entries.iter().enumerate() {
        let expected = if i < 4 * 3 + 1 {
            "ingest-1"
        } else {
            "ingest-2"
        };
        assert_eq!(e["thread"], expected, "{e:?}");
        // Right after the caller, before the context and the call's fields.
        assert_eq!(keys(e)[..5], ["time", "level", "msg", "caller", "thread"]);
    }
    let with_context = entries.iter().find(|e| e["msg"] == "context").unwrap();
    assert_eq!(keys(with_context)[4..], ["thread", "request_id", "n"]);
}

#[test]
fn an_unnamed_thread_is_unnamed_and_the_default_writes_no_name() {
    let (named, out) = json_logger(velo::Builder::new().thread_names(true));
    let (plain, plain_out) = json_logger(velo::Builder::new());
    on_thread(None, || {
        velo!(logger: &named, info, "from an unnamed thread", n = 1);
        velo!(logger: &plain, info, "no name asked for", n = 1);
    });
    // This test's own thread: whatever name the harness gave it.
    velo!(logger: &named, info, "from the test's thread");
    let entries = entries(&named, &out);
    assert_eq!(entries[0]["thread"], "<unnamed>");
    let own = thread::current().name().unwrap_or("<unnamed>").to_owned();
    assert_eq!(entries[1]["thread"], own.as_str());
    let plain_entries = entries_of(&plain, &plain_out);
    assert_eq!(plain_entries.len(), 1);
    assert!(
        !plain_entries[0].contains_key("thread"),
        "{plain_entries:?}"
    );
}

fn entries_of(logger: &velo::Logger, out: &Capture) -> Vec<Map<String, Json>> {
    entries(logger, out)
}

#[test]
fn a_field_named_thread_goes_beside_the_name() {
    let (logger, out) = json_logger(velo::Builder::new().thread_names(true));
    on_thread(Some("worker"), || {
        velo!(logger: &logger, info, "pool", thread = 3);
    });
    let entries = entries(&logger, &out);
    let e = &entries[0];
    assert_eq!(e["thread"], "worker");
    assert_eq!(e["fields.thread"], 3);
    let raw = out.lines();
    assert_eq!(
        velo_tests::raw_keys(&raw[0])
            .iter()
            .filter(|k| *k == "thread")
            .count(),
        1,
        "{raw:?}"
    );
}

#[test]
fn text_and_schemas_name_the_thread_under_their_own_keys() {
    let (text, text_out) = text_logger(velo::Builder::new().thread_names(true));
    let (ecs, ecs_out) = json_logger(velo::Builder::new().thread_names(true).schema(Schema::Ecs));
    on_thread(Some("db \"pool\""), || {
        velo!(logger: &text, info, "checked out", conn = 4);
        velo!(logger: &ecs, info, "checked out", conn = 4);
    });
    text.sync().expect("synced");
    let line = &text_out.lines()[0];
    assert_eq!(text_keys(line), ["thread", "conn", "caller"], "{line}");
    assert!(line.contains(r#"thread="db \"pool\"""#), "{line}");
    let e = &entries(&ecs, &ecs_out)[0];
    assert_eq!(e["process.thread.name"], "db \"pool\"");
    assert!(!e.contains_key("thread"), "{e:?}");
}

#[test]
fn bridged_log_records_name_their_thread() {
    in_child("bridged_log_records_name_their_thread", || {
        let out = install_named();
        velo::bridge_log().expect("bridged");
        on_thread(Some("legacy"), || log::info!(n = 5; "from log"));
        velo::sync().expect("synced");
        let entries = out.entries();
        assert_eq!(entries.len(), 1, "{entries:?}");
        assert_eq!(entries[0]["thread"], "legacy");
        assert_eq!(entries[0]["n"], 5);
    });
}

#[test]
fn a_thread_local_destructor_logs_with_its_thread_name() {
    in_child(
        "a_thread_local_destructor_logs_with_its_thread_name",
        || {
            let out = install_named();
            struct LogsOnDrop;
            impl Drop for LogsOnDrop {
                fn drop(&mut self) {
                    velo!(info, "thread-local dropped", n = 1);
                }
            }
            thread_local! {
                static GUARD: LogsOnDrop = const { LogsOnDrop };
            }
            on_thread(Some("short-lived"), || {
                GUARD.with(|_| {});
            });
            velo::sync().expect("synced");
            let entries = out.entries();
            assert_eq!(entries.len(), 1, "{entries:?}");
            assert_eq!(entries[0]["msg"], "thread-local dropped");
            // The name std still has for the thread, or `<unnamed>` if it no
            // longer knows it: never a panic or a lost entry.
            let name = entries[0]["thread"].as_str().expect("a name");
            assert!(name == "short-lived" || name == "<unnamed>", "{name}");
        },
    );
}

#[test]
fn the_panic_hook_names_the_thread_once() {
    in_child("the_panic_hook_names_the_thread_once", || {
        let out = install_named();
        let joined = thread::Builder::new()
            .name("panicker".into())
            .spawn(|| panic!("oh no"))
            .expect("spawned")
            .join();
        assert!(joined.is_err());
        velo::sync().expect("synced");
        let lines = out.lines();
        assert_eq!(lines.len(), 1, "{lines:?}");
        let keys = velo_tests::raw_keys(&lines[0]);
        assert_eq!(
            keys.iter().filter(|k| k.contains("thread")).count(),
            1,
            "{keys:?}"
        );
        let e = velo_tests::parse_line(&lines[0]);
        assert_eq!(e["thread"], "panicker");
        assert_eq!(e["panic"], "oh no");
    });
}
