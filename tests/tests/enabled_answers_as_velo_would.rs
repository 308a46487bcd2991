//! `velo::enabled!` says whether a `velo!` call of that level (and
//! target) in its place would be written, by the default logger or the one
//! named, and follows filter changes.

use velo::{enabled, velo, Builder, Format, Level};
use velo_tests::{assert_child_passed, is_child, json_lines, run_child_within, CHILD_TIMEOUT};

#[test]
fn default_child() {
    if !is_child("default_child") {
        return;
    }
    Builder::from_env()
        .format(Format::Json)
        .stderr()
        .install()
        .unwrap();
    // Each answer next to what the same call writes.
    let mut answers = Vec::new();
    for round in 0..2 {
        answers.push(enabled!(debug));
        velo!(debug, "debug", round);
        answers.push(enabled!(info));
        velo!(info, "info", round);
        answers.push(enabled!(target: "audit", debug));
        velo!(target: "audit", debug, "audit debug", round);
        answers.push(enabled!(target: "audit", trace));
        velo!(target: "audit", trace, "audit trace", round);
        velo::logger().set_filter("trace,audit=info").unwrap();
    }
    velo::sync().unwrap();
    let answers: Vec<String> = answers.iter().map(bool::to_string).collect();
    println!("\nanswers {}", answers.join(","));
    // Not an event: nothing of this file's `enabled!` is in the catalog.
    let listed = velo::catalog().filter(|s| s.file() == file!()).count();
    println!("listed {listed}");
}

#[test]
fn answers_follow_the_default_filter() {
    let out = run_child_within(
        "default_child",
        &[("VELO_LOG", "info,audit=debug")],
        CHILD_TIMEOUT,
    );
    assert_child_passed(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let answers = stdout
        .lines()
        // The harness may have begun the line (`test default_child ... `).
        .find_map(|l| l.split_once("answers ").map(|(_, a)| a))
        .expect("the child's answers");
    let answers: Vec<bool> = answers.split(',').map(|a| a == "true").collect();
    let written: Vec<(String, u64)> = json_lines(&out.stderr)
        .iter()
        .map(|e| {
            (
                e["msg"].as_str().unwrap().to_owned(),
                e["round"].as_u64().unwrap(),
            )
        })
        .collect();
    let calls = ["debug", "info", "audit debug", "audit trace"];
    let expected: Vec<bool> = (0..2u64)
        .flat_map(|round| calls.map(|msg| written.contains(&(msg.to_owned(), round))))
        .collect();
    assert_eq!(answers, expected, "{written:?}");
    assert_eq!(
        answers,
        [false, true, true, false, true, true, false, false],
        "before and after set_filter"
    );
    assert!(
        stdout.contains("listed 4"),
        "only the velo! calls: {stdout}"
    );
}

#[test]
fn a_named_logger_answers_for_itself() {
    let logger = Builder::new()
        .level(Level::Warn)
        .writer(std::io::sink())
        .build()
        .unwrap();
    assert!(!enabled!(logger: &logger, info));
    assert!(enabled!(logger: &logger, warn));
    assert!(enabled!(logger: logger.clone(), target: "anything", error));
    logger.set_level(Level::Debug);
    assert!(
        enabled!(logger: &logger, info),
        "the cache follows set_level"
    );
    assert!(!enabled!(logger: &logger, trace));
    let quiet = Builder::new()
        .level(Level::Error)
        .writer(std::io::sink())
        .build()
        .unwrap();
    // One call site, two loggers: each answers for itself.
    for (l, expected) in [(&logger, true), (&quiet, false), (&logger, true)] {
        assert_eq!(enabled!(logger: l, info), expected);
    }
}
