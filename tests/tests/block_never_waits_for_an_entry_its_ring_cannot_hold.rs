//! Under `Overflow::Block`, an entry larger than the thread's ring, which
//! the ring may not grow to hold because other live threads have spent the
//! logger's growth budget, is written on the calling thread (and counted as
//! a sync fallback) rather than waited for: no room for it would ever
//! appear.

use std::sync::{Arc, Barrier};
use velo::{velo, Builder, Format, Overflow};
use velo_tests::{is_child, run_child_within, Capture, CHILD_TIMEOUT};

/// Threads whose rings grow to the largest size: as many as the growth
/// budget allows (`GROWN_RINGS` in `queue.rs`).
const GROWN: usize = 8;

#[test]
fn child_logs_a_large_entry_after_the_budget_is_spent() {
    if !is_child("child_logs_a_large_entry_after_the_budget_is_spent") {
        return;
    }
    let out = Capture::new();
    // 8192 entries: rings start at 16 KiB and may grow to 1 MiB.
    let logger = Builder::new()
        .format(Format::Json)
        .buffer_size(8192)
        .overflow(Overflow::Block)
        .writer(out.clone())
        .build()
        .unwrap();
    // Each of these threads logs an entry that only a 1 MiB ring holds, so
    // its ring grows to 1 MiB; they stay alive (and keep their rings) until
    // the end.
    let huge = "h".repeat(600 * 1024);
    let logged = Arc::new(Barrier::new(GROWN + 1));
    let end = Arc::new(Barrier::new(GROWN + 1));
    let threads: Vec<_> = (0..GROWN)
        .map(|_| {
            let (logger, huge) = (logger.clone(), huge.clone());
            let (logged, end) = (Arc::clone(&logged), Arc::clone(&end));
            std::thread::spawn(move || {
                velo!(logger: &logger, info, "grows its ring", pad = huge.as_str());
                logged.wait();
                end.wait();
            })
        })
        .collect();
    logged.wait();
    logger.sync().unwrap();
    // Larger than this thread's 16 KiB ring, well within 1 MiB.
    let large = "l".repeat(100 * 1024);
    velo!(logger: &logger, info, "larger than its ring", pad = large.as_str());
    logger.sync().unwrap();
    end.wait();
    for thread in threads {
        thread.join().unwrap();
    }
    let lengths: Vec<String> = out
        .entries()
        .iter()
        .map(|e| {
            format!(
                "{}={}",
                e["msg"].as_str().unwrap(),
                e["pad"].as_str().unwrap().len()
            )
        })
        .collect();
    println!("entries: {}", lengths.join(","));
    let stats = logger.stats();
    println!(
        "stats: written {}, dropped {}, sync_fallbacks {}",
        stats.written, stats.dropped, stats.sync_fallbacks
    );
}

#[test]
fn a_large_entry_is_written_once_the_growth_budget_is_spent() {
    let out = run_child_within(
        "child_logs_a_large_entry_after_the_budget_is_spent",
        &[],
        CHILD_TIMEOUT,
    );
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let grown = vec![format!("grows its ring={}", 600 * 1024); GROWN].join(",");
    assert!(
        stdout.contains(&format!(
            "entries: {grown},larger than its ring={}\n",
            100 * 1024
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("stats: written 9, dropped 0, sync_fallbacks 1\n"),
        "{stdout}"
    );
}
