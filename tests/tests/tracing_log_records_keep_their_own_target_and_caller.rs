//! A program that keeps `tracing-log`'s `LogTracer` (as a `tracing`
//! program's setup often does) gets its `log` records as `tracing` events
//! whose target is `log` and whose real target, module, file and line ride
//! in `log.*` fields. Through `velo::bridge_tracing()` (and
//! `velo::TracingLayer`) such an entry is the one `velo::bridge_log()`
//! would write: the record's own target, filtered and written as such, its
//! file and line as the caller, and no `log.*` fields.
#![cfg(feature = "tracing")]

use serde_json::Value;
use velo::{Builder, Format};
use velo_tests::{is_child, json_lines, run_child};

/// A dependency that logs through `log`.
mod dep {
    pub fn work() {
        log::info!(target: "dep_target", "targeted at line {}", line!());
        log::warn!("plain at line {}", line!());
        log::debug!(target: "dep_target", "debug at line {}", line!());
    }
}

fn builder() -> Builder {
    let filter = std::env::var("TEST_FILTER").expect("the parent sets the filter");
    Builder::new().format(Format::Json).stderr().filter(&filter)
}

#[test]
fn child_bridge() {
    if !is_child("child_bridge") {
        return;
    }
    builder().install().unwrap();
    velo::bridge_tracing().unwrap();
    tracing_log::LogTracer::init().unwrap();
    dep::work();
    velo::close();
}

#[cfg(feature = "layer")]
#[test]
fn child_layer() {
    use tracing_subscriber::layer::SubscriberExt;
    if !is_child("child_layer") {
        return;
    }
    let logger = builder().build().unwrap();
    let subscriber =
        tracing_subscriber::registry().with(velo::TracingLayer::new().logger(logger.clone()));
    tracing::subscriber::set_global_default(subscriber).unwrap();
    tracing_log::LogTracer::init().unwrap();
    dep::work();
    logger.close();
}

/// The entries the child `child` wrote with `filter`, as (message, target).
fn entries(child: &str, filter: &str) -> Vec<(String, Option<String>)> {
    let out = run_child(child, &[("TEST_FILTER", filter)]);
    assert!(out.status.success(), "{out:?}");
    let lines = json_lines(&out.stderr);
    for line in &lines {
        let msg = line["msg"].as_str().expect("a message");
        let keys: Vec<&String> = line.keys().collect();
        assert!(
            keys.iter().all(|k| !k.starts_with("log.")),
            "the log record's metadata is not written as fields: {line:?}"
        );
        // The caller is the `log!` call: its file, and the line the
        // message names.
        let at = msg.rsplit(' ').next().unwrap();
        let caller = line["caller"]
            .as_str()
            .unwrap_or_else(|| panic!("no caller: {line:?}"));
        assert!(
            caller.ends_with(&format!(
                "tracing_log_records_keep_their_own_target_and_caller.rs:{at}"
            )),
            "{line:?}"
        );
    }
    lines
        .iter()
        .map(|l| {
            let msg = l["msg"].as_str().unwrap();
            let words: Vec<&str> = msg.split(' ').collect();
            (
                words[0].to_owned(),
                l.get("target").and_then(Value::as_str).map(str::to_owned),
            )
        })
        .collect()
}

fn check(child: &str) {
    let target = Some("dep_target".to_owned());
    assert_eq!(
        entries(child, "info"),
        [
            ("targeted".to_owned(), target.clone()),
            ("plain".to_owned(), None)
        ],
        "the module path is not written as a target; the record's own target is"
    );
    assert_eq!(
        entries(child, "info,dep_target=debug"),
        [
            ("targeted".to_owned(), target.clone()),
            ("plain".to_owned(), None),
            ("debug".to_owned(), target.clone()),
        ]
    );
    assert_eq!(
        entries(child, "info,dep_target=warn"),
        [("plain".to_owned(), None)],
        "filtered by the record's own target"
    );
    assert_eq!(
        entries(child, "info,log=off"),
        [("targeted".to_owned(), target), ("plain".to_owned(), None)],
        "`log` is not the target of these entries"
    );
}

#[test]
fn log_records_through_log_tracer_keep_their_metadata() {
    check("child_bridge");
}

#[cfg(feature = "layer")]
#[test]
fn log_records_through_log_tracer_and_the_layer_keep_their_metadata() {
    check("child_layer");
}
