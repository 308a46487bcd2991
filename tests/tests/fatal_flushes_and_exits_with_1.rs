//! `velo!(fatal, ...)` writes its entry, flushes every logger and exits with
//! status 1.

use velo::{velo, Builder, Format};
use velo_tests::{is_child, json_lines, run_child};

#[test]
fn child_logs_fatal() {
    if !is_child("child_logs_fatal") {
        return;
    }
    let file = std::env::var("VELO_TEST_FILE").unwrap();
    let other = Builder::new()
        .format(Format::Json)
        .file(file)
        .build()
        .unwrap();
    for seq in 0..1000u32 {
        velo!(logger: &other, info, "queued in another logger", seq);
    }
    velo!(info, "last words");
    velo!(fatal, "cannot continue", code = 7);
    #[allow(unreachable_code, reason = "the point of the test")]
    {
        eprintln!("fatal returned");
    }
}

#[test]
fn fatal_writes_flushes_and_exits() {
    let dir = std::env::temp_dir().join(format!("velo-fatal-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("other.log");
    let out = run_child(
        "child_logs_fatal",
        &[("VELO_TEST_FILE", file.to_str().unwrap())],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let entries = json_lines(&out.stderr);
    let last = entries.last().expect("entries on stderr");
    assert_eq!(last["level"], "fatal");
    assert_eq!(last["msg"], "cannot continue");
    assert_eq!(last["code"], 7);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("fatal returned"));
    let other = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        other.lines().count(),
        1000,
        "the other logger was flushed too"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A `fatal` logged by an exit handler, while the process exits already.
#[cfg(unix)]
extern "C" fn fatal_at_exit() {
    velo!(fatal, "fatal at exit");
}

#[cfg(unix)]
fn register_fatal_at_exit() {
    // SAFETY: atexit(3) with an `extern "C" fn()` that takes nothing; it
    // does not unwind (`fatal` ends the process).
    assert_eq!(unsafe { libc::atexit(fatal_at_exit) }, 0);
}

#[test]
#[cfg(unix)]
fn child_logs_fatal_in_an_exit_handler_after_velos() {
    if !is_child("child_logs_fatal_in_an_exit_handler_after_velos") {
        return;
    }
    // Registered before velo's: it runs after velo's close at exit.
    register_fatal_at_exit();
    velo!(info, "started");
}

#[test]
#[cfg(unix)]
fn fatal_in_an_exit_handler_exits_with_1_and_does_not_abort() {
    // (One registered after velo's runs before it, where velo cannot tell
    // the process is exiting: see `fatal_exit`.)
    let out = run_child(
        "child_logs_fatal_in_an_exit_handler_after_velos",
        &[("VELO_FORMAT", "json")],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let entries = json_lines(&out.stderr);
    let fatal = entries
        .iter()
        .find(|e| e["msg"] == "fatal at exit")
        .unwrap_or_else(|| panic!("the entry is written: {out:?}"));
    assert_eq!(fatal["level"], "fatal");
}

#[test]
fn child_threads_fail_at_once() {
    if !is_child("child_threads_fail_at_once") {
        return;
    }
    Builder::new()
        .format(Format::Json)
        .stdout()
        .install()
        .unwrap();
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(3));
    let threads: Vec<_> = (0..3u32)
        .map(|t| {
            let barrier = std::sync::Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                velo!(fatal, "failing", t);
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
}

#[test]
fn every_thread_that_fails_at_once_says_so() {
    // The race is narrow: run it many times.
    for run in 0..20 {
        let out = velo_tests::run_child_within(
            "child_threads_fail_at_once",
            &[],
            velo_tests::CHILD_TIMEOUT,
        );
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        // The harness's `test ... ` starts the first line.
        let stdout = String::from_utf8_lossy(&out.stdout);
        let mut threads: Vec<u64> = stdout
            .lines()
            .filter_map(|line| line.find('{').map(|at| velo_tests::parse_line(&line[at..])))
            .filter(|e| e["level"] == "fatal")
            .map(|e| e["t"].as_u64().unwrap())
            .collect();
        threads.sort_unstable();
        assert_eq!(threads, [0, 1, 2], "run {run}: {out:?}");
    }
}

/// A value whose `Display` ends the program itself.
struct FailsToo;

impl std::fmt::Display for FailsToo {
    fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        velo!(fatal, "inner failure");
    }
}

#[test]
fn child_fatal_inside_a_fatal() {
    if !is_child("child_fatal_inside_a_fatal") {
        return;
    }
    velo!(fatal, "outer failure", detail = %FailsToo);
}

#[test]
fn a_fatal_inside_a_fatal_waits_for_no_one() {
    // The inner `fatal` waits for other threads' only: its own thread's
    // outer call, still on its way, is not one (that wait was 5 s).
    let out = velo_tests::run_child_within(
        "child_fatal_inside_a_fatal",
        &[("VELO_FORMAT", "json")],
        std::time::Duration::from_secs(3),
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let entries = json_lines(&out.stderr);
    assert!(
        entries.iter().any(|e| e["msg"] == "inner failure"),
        "{out:?}"
    );
}

#[test]
fn child_logs_fatal_under_a_filter_for_another_module() {
    if !is_child("child_logs_fatal_under_a_filter_for_another_module") {
        return;
    }
    velo!(error, "not this one: errors of this module are off");
    velo!(fatal, "bad config");
}

/// A filter that names one module leaves every other at `off`; the fatal
/// entry of such another module is still written, and only a filter that
/// passes nothing at all silences it.
#[test]
fn a_fatal_entry_passes_a_filter_for_another_module() {
    let name = "child_logs_fatal_under_a_filter_for_another_module";
    let out = run_child(
        name,
        &[("RUST_LOG", "hyper=debug"), ("VELO_FORMAT", "json")],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let entries = json_lines(&out.stderr);
    let msgs: Vec<_> = entries.iter().map(|e| e["msg"].clone()).collect();
    assert_eq!(msgs, ["bad config"], "{out:?}");
    assert_eq!(entries[0]["level"], "fatal");

    let out = run_child(name, &[("RUST_LOG", "off"), ("VELO_FORMAT", "json")]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(json_lines(&out.stderr).is_empty(), "{out:?}");
}
