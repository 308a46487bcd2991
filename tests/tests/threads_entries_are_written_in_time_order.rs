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
