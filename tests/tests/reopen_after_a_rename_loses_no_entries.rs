//! logrotate's move, then `reopen`: while threads log, the live file is
//! renamed and the logger reopens its path. Entries written before the
//! reopen are in the moved file, later ones in the new file at the path,
//! each exactly once and whole, for `.file()` and `.rolling()` alike.

use serde_json::{Map, Value};
use std::fs;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use velo::{velo, Builder, Format, Rolling};
use velo_tests::{is_rotated_name, parse_line, TempDir};

const THREADS: usize = 3;

type Entries = Vec<Map<String, Value>>;

/// Logs from several threads, renames `app.log` to `app.log.moved` and
/// reopens while they run; returns every file of `dir` with its entries,
/// sorted by name, and how many entries each thread logged.
fn move_and_reopen(dir: &std::path::Path, builder: Builder) -> (Vec<(String, Entries)>, Vec<u64>) {
    let logger = builder.format(Format::Json).build().unwrap();
    let logged: [AtomicU64; THREADS] = Default::default();
    let stop = AtomicBool::new(false);
    // Until every thread has logged `more` entries after `since`.
    let wait_for_more = |since: &[u64], more: u64| {
        while logged
            .iter()
            .zip(since)
            .any(|(n, &s)| n.load(Ordering::Relaxed) < s + more)
        {
            std::thread::yield_now();
        }
    };
    let counts = || {
        logged
            .iter()
            .map(|n| n.load(Ordering::Relaxed))
            .collect::<Vec<_>>()
    };
    std::thread::scope(|s| {
        for (thread, count) in logged.iter().enumerate() {
            let (logger, stop) = (&logger, &stop);
            s.spawn(move || {
                let mut seq = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    velo!(logger: logger, info, "entry", thread, seq);
                    seq += 1;
                    count.store(seq, Ordering::Relaxed);
                    if seq.is_multiple_of(4) {
                        // Leave the two cores of a CI machine to the main
                        // thread and the worker now and then.
                        std::thread::sleep(std::time::Duration::from_micros(100));
                    }
                }
            });
        }
        wait_for_more(&[0; THREADS], 500);
        velo!(logger: &logger, info, "before");
        logger.sync().unwrap();
        fs::rename(dir.join("app.log"), dir.join("app.log.moved")).unwrap();
        logger.reopen().unwrap();
        velo!(logger: &logger, info, "after");
        wait_for_more(&counts(), 500);
        stop.store(true, Ordering::Relaxed);
    });
    logger.close();
    assert_eq!(logger.stats().write_errors, 0);
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    let files = names
        .into_iter()
        .map(|name| {
            let text = fs::read_to_string(dir.join(&name)).unwrap();
            assert!(text.ends_with('\n'), "{name} is empty or ends mid-entry");
            let entries = text.lines().map(parse_line).collect();
            (name, entries)
        })
        .collect();
    (files, counts())
}

/// The (thread, seq) of each "entry" of `entries`.
fn ids(entries: &Entries) -> impl Iterator<Item = (usize, u64)> + '_ {
    entries.iter().filter(|e| e["msg"] == "entry").map(|e| {
        let thread = e["thread"].as_u64().unwrap() as usize;
        (thread, e["seq"].as_u64().unwrap())
    })
}

/// The messages other than "entry".
fn markers(entries: &Entries) -> Vec<&str> {
    let msgs = entries.iter().filter_map(|e| e["msg"].as_str());
    msgs.filter(|m| *m != "entry").collect()
}

/// `moved` then `live` hold every thread's entries once each, in order,
/// and each holds some: the rename happened while the threads logged.
fn assert_split_once_in_order(moved: &(String, Entries), live: &(String, Entries), logged: &[u64]) {
    assert_eq!(markers(&moved.1), ["before"]);
    assert_eq!(markers(&live.1), ["after"]);
    assert!(ids(&moved.1).count() >= THREADS * 500);
    assert!(ids(&live.1).count() >= THREADS * 500);
    let mut next = vec![0u64; THREADS];
    for (name, entries) in [moved, live] {
        for (thread, seq) in ids(entries) {
            assert_eq!(seq, next[thread], "thread {thread} in {name}");
            next[thread] += 1;
        }
    }
    assert_eq!(next, logged);
}

#[test]
fn a_file_output_follows_its_path() {
    let dir = TempDir::new("reopen-file");
    let builder = Builder::new().file(dir.path().join("app.log"));
    let (files, logged) = move_and_reopen(dir.path(), builder);
    let names: Vec<&str> = files.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(names, ["app.log", "app.log.moved"]);
    assert_split_once_in_order(&files[1], &files[0], &logged);
}

#[test]
fn a_rolling_output_follows_its_path() {
    let dir = TempDir::new("reopen-rolling");
    let builder = Builder::new().rolling(Rolling::new(dir.path().join("app.log")));
    let (files, logged) = move_and_reopen(dir.path(), builder);
    let names: Vec<&str> = files.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(names, ["app.log", "app.log.moved"]);
    assert_split_once_in_order(&files[1], &files[0], &logged);
}

#[test]
fn a_rolling_output_that_also_rotates_loses_nothing() {
    let dir = TempDir::new("reopen-rotating");
    let rolling = Rolling::new(dir.path().join("app.log")).max_bytes(4 << 10);
    let (files, logged) = move_and_reopen(dir.path(), Builder::new().rolling(rolling));
    let rotated = files
        .iter()
        .filter(|f| is_rotated_name(&f.0, "app.log"))
        .count();
    assert!(rotated >= 10, "only {rotated} rotations");
    assert_eq!(
        files.len(),
        rotated + 2,
        "app.log and app.log.moved besides"
    );
    // The moved file sits among the rotated ones in time, so only the
    // count of each entry is checked, not the order across files.
    let mut seen: Vec<Vec<u32>> = logged.iter().map(|&n| vec![0; n as usize]).collect();
    for (_, entries) in &files {
        for (thread, seq) in ids(entries) {
            seen[thread][seq as usize] += 1;
        }
    }
    assert!(
        seen.iter().flatten().all(|&n| n == 1),
        "an entry is missing or repeated"
    );
}
