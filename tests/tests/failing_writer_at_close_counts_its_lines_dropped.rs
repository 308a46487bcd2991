//! A writer that still fails at `close`: the lines waiting in the output's
//! buffer are given up, counted as dropped rather than written, and named
//! once on stderr; what was already written stays counted as written.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use velo::{velo, Builder, Format};
use velo_tests::{assert_child_passed, is_child, run_child_within, Capture, Switch};

fn scenario(asynchronous: bool) {
    let out = Capture::new();
    let broken = Arc::new(AtomicBool::new(false));
    let logger = Builder::new()
        .format(Format::Json)
        .asynchronous(asynchronous)
        .writer(Switch {
            broken: Arc::clone(&broken),
            out: out.clone(),
        })
        .build()
        .unwrap();
    for i in 0..5u32 {
        velo!(logger: &logger, info, "before", i);
    }
    logger.sync().expect("the writer works");
    broken.store(true, Ordering::SeqCst);
    for i in 0..7u32 {
        velo!(logger: &logger, info, "during", i);
    }
    assert!(logger.sync().is_err(), "the writer fails");
    logger.close();
    let stats = logger.stats();
    let written = out.entries();
    assert_eq!(written.len(), 5, "{written:?}");
    assert_eq!((stats.written, stats.dropped), (5, 7), "{stats:?}");
    // Closed twice (here and at exit): named once.
    logger.close();
    assert_eq!(logger.stats().dropped, 7, "{:?}", logger.stats());
}

fn check(name: &str) {
    let out = run_child_within(name, &[], Duration::from_secs(60));
    assert_child_passed(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let said = "velo: 7 entries were never written: the writer kept failing";
    assert_eq!(stderr.matches(said).count(), 1, "{stderr}");
}

#[test]
fn asynchronous_logger() {
    if is_child("asynchronous_logger") {
        return scenario(true);
    }
    check("asynchronous_logger");
}

#[test]
fn synchronous_logger() {
    if is_child("synchronous_logger") {
        return scenario(false);
    }
    check("synchronous_logger");
}

/// A further output (`also`) that still fails at `close` is named by its
/// place and what it is in that message.
#[test]
fn a_further_output_is_named() {
    if is_child("a_further_output_is_named") {
        let broken = Arc::new(AtomicBool::new(false));
        let logger = Builder::new()
            .writer(Capture::new())
            .also(Builder::new().writer(Switch {
                broken: Arc::clone(&broken),
                out: Capture::new(),
            }))
            .build()
            .unwrap();
        velo!(logger: &logger, info, "before");
        logger.sync().expect("both work");
        broken.store(true, Ordering::SeqCst);
        for i in 0..3u32 {
            velo!(logger: &logger, info, "during", i);
        }
        assert!(logger.sync().is_err(), "the further output fails");
        logger.close();
        return;
    }
    let out = run_child_within("a_further_output_is_named", &[], Duration::from_secs(60));
    assert_child_passed(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let said = "velo: 3 entries were never written: output 2, the writer kept failing";
    assert_eq!(stderr.matches(said).count(), 1, "{stderr}");
}
