//! Entries of different threads are written in the order they were
//! logged, not thread by thread: the worker writes the records of a pass
//! by their times, and dates each as it enters the queue.
//!
//! Two threads take turns (each logs only after the other's entry is in
//! the queue), so the order they logged in is known exactly.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;
use velo::{velo, Builder, Logger};
use velo_tests::{Capture, Held};

/// Threads `a` and `b` log `turns` entries each, strictly in turn, with
/// `pause` between turns; returns the `(thread, k)` of every `turn` entry
/// in the order written.
fn take_turns(logger: &Logger, out: &Capture, turns: u64, pause: Duration) -> Vec<(String, u64)> {
    let turn = Arc::new((Mutex::new(0u64), Condvar::new()));
    let threads: Vec<_> = ["a", "b"]
        .into_iter()
        .enumerate()
        .map(|(me, name)| {
            let (logger, turn) = (logger.clone(), Arc::clone(&turn));
            std::thread::spawn(move || {
                let (lock, cv) = &*turn;
                for k in 0..turns {
                    let mut t = lock.lock().unwrap();
                    while *t % 2 != me as u64 {
                        t = cv.wait(t).unwrap();
                    }
                    velo!(logger: &logger, info, "turn", thread = name, k);
                    *t += 1;
                    drop(t);
                    cv.notify_all();
                    std::thread::sleep(pause);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    logger.sync().unwrap();
    out.entries()
        .into_iter()
        .filter(|e| e["msg"] == "turn")
        .map(|e| {
            (
                e["thread"].as_str().unwrap().to_owned(),
                e["k"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// Asserts that `written` is `a 0, b 0, a 1, b 1, ...`, naming the first
/// entry out of turn.
fn assert_in_turn(written: &[(String, u64)], turns: u64) {
    let expected: Vec<(String, u64)> = (0..turns)
        .flat_map(|k| [("a".to_owned(), k), ("b".to_owned(), k)])
        .collect();
    if let Some(i) = (0..expected.len()).find(|&i| written.get(i) != expected.get(i)) {
        let around = &written[i.saturating_sub(2)..(i + 3).min(written.len())];
        panic!(
            "entry {i} of {} is {:?}, expected {:?}; around it: {around:?}",
            written.len(),
            written.get(i),
            expected[i]
        );
    }
    assert_eq!(written.len(), expected.len());
}

#[test]
fn entries_queued_for_one_pass_come_out_in_the_order_logged() {
    let out = Capture::new();
    // Holds the first write until opened, so the entries logged meanwhile
    // pile up for one pass.
    let gate = Held::new(out.clone());
    let logger = Builder::new()
        .writer(gate.clone())
        .buffer_size(4096)
        .build()
        .unwrap();
    // The worker writes this and waits at the gate: what follows is queued
    // for its next pass.
    velo!(logger: &logger, info, "first");
    gate.wait_entered();
    let opener = {
        let gate = gate.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            gate.open();
        })
    };
    let written = take_turns(&logger, &out, 300, Duration::ZERO);
    opener.join().unwrap();
    assert_in_turn(&written, 300);
    assert_eq!(out.msgs()[0], "first");
}

#[test]
fn entries_over_many_passes_come_out_in_the_order_logged() {
    let (logger, out) = velo_tests::json_logger(Builder::new());
    let written = take_turns(&logger, &out, 300, Duration::from_micros(200));
    assert_in_turn(&written, 300);
}

/// With `Timestamp::Off` the lines show no time, but entries are dated all
/// the same: a thread's entry logged (and joined) between two of another
/// thread's comes out between them.
#[test]
fn entries_without_a_shown_time_keep_their_order_across_threads() {
    let (logger, out) = velo_tests::json_logger(
        velo::Builder::new()
            .timestamp(velo::Timestamp::Off)
            .caller(false),
    );
    let mut misordered = Vec::new();
    for round in 0..100u64 {
        velo::velo!(logger: &logger, info, "before", round);
        let other = logger.clone();
        std::thread::spawn(move || velo::velo!(logger: &other, info, "joined", round))
            .join()
            .unwrap();
        velo::velo!(logger: &logger, info, "after", round);
    }
    logger.sync().unwrap();
    let entries = out.entries();
    assert!(
        entries.iter().all(|e| !e.contains_key("time")),
        "no time shown"
    );
    for (round, three) in entries.chunks(3).enumerate() {
        let msgs: Vec<&str> = three.iter().map(|e| e["msg"].as_str().unwrap()).collect();
        if msgs != ["before", "joined", "after"] {
            misordered.push((round, msgs));
        }
    }
    assert!(misordered.is_empty(), "{misordered:?}");
}

/// For each line, how many lines written after it are dated more than
/// `by` nanoseconds before it; the most of any line, and that line.
///
/// An entry dated late (a caller's own write under a full queue, dated
/// after its drain) has many such lines after it: every entry other
/// threads logged during the drain. An entry dated early (its thread
/// preempted between the clock and the queue) makes one such line for
/// each line before it: a count of 1 each, not a large one.
fn most_later_lines_dated_before(times: &[u64], by: u64) -> (usize, usize) {
    // A Fenwick tree over the times' ranks, filled from the end.
    let mut sorted = times.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut tree = vec![0usize; sorted.len() + 1];
    let mut most = (0, 0);
    for (i, &t) in times.iter().enumerate().rev() {
        // Lines after this one dated before `t - by`.
        let below = sorted.partition_point(|&s| s + by < t);
        let mut n = 0;
        let mut k = below;
        while k > 0 {
            n += tree[k];
            k &= k - 1;
        }
        if n > most.0 {
            most = (n, i);
        }
        let mut k = sorted.partition_point(|&s| s < t) + 1;
        while k < tree.len() {
            tree[k] += 1;
            k += k & k.wrapping_neg();
        }
    }
    most
}

/// Four threads log 50,000 entries each, as fast as they can, through a
/// writer that makes a system call per write (a whole queue then takes a
/// while to write, and the threads log into the room it frees meanwhile);
/// returns the times of every line, in the order written, and the
/// logger's statistics.
fn log_flat_out(overflow: velo::Overflow) -> (Vec<u64>, velo::Stats) {
    const THREADS: u64 = 4;
    const EACH: u64 = 50_000;
    let out = velo_tests::Capture::new();
    let logger = Builder::new()
        .format(velo::Format::Json)
        .overflow(overflow)
        .timestamp(velo::Timestamp::UnixNanos)
        .caller(false)
        .writer(velo_tests::Slow::new(Duration::ZERO, out.clone()))
        .build()
        .unwrap();
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let logger = logger.clone();
            std::thread::spawn(move || {
                for i in 0..EACH {
                    velo!(logger: &logger, info, "o", t, i);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    logger.sync().unwrap();
    let stats = logger.stats();
    let times: Vec<u64> = out
        .entries()
        .iter()
        .map(|e| e["time"].as_u64().expect("UnixNanos is a number"))
        .collect();
    assert_eq!(times.len() as u64, stats.written);
    (times, stats)
}

/// Under `Overflow::Sync`, a caller whose queue is full drains the queue
/// and writes its entry itself. The entry is dated before the drain takes
/// its cut, so the entries other threads log while it drains (written
/// after it) are dated after it too; dated after the drain, it showed a
/// time milliseconds later than thousands of lines after it.
#[test]
fn a_callers_own_write_under_a_full_queue_is_dated_before_what_follows_it() {
    let (times, stats) = log_flat_out(velo::Overflow::Sync);
    assert!(stats.sync_fallbacks > 0, "no queue was full: {stats:?}");
    assert_eq!(stats.written, 200_000);
    let (most, line) = most_later_lines_dated_before(&times, 1_000_000);
    assert!(
        most < 100,
        "line {line} is dated more than 1 ms after {most} lines written after it: {stats:?}"
    );
}

/// Under `Overflow::Drop`, the warning a pass writes after its entries is
/// dated at the pass's cut: after the entries it drained, before those
/// the threads logged while it wrote them (which the next pass writes).
#[test]
fn a_drop_warning_is_dated_before_what_follows_it() {
    let (times, stats) = log_flat_out(velo::Overflow::Drop);
    assert!(stats.dropped > 0, "nothing was dropped: {stats:?}");
    let (most, line) = most_later_lines_dated_before(&times, 1_000_000);
    assert!(
        most < 100,
        "line {line} is dated more than 1 ms after {most} lines written after it: {stats:?}"
    );
}
