//! A full disk cuts a write short, inside a line, and fails the next ones.
//! Log files must still hold only whole entries: when the rest of the cut
//! line is dropped (the disk stayed full past what the output keeps), the
//! line's start is cut off the file, never glued to a later entry or left
//! ending a rotated file. Every entry logged is in a file or counted
//! dropped.
//!
//! The disk is a file size limit (`RLIMIT_FSIZE`) set in a child process:
//! a write past it is cut short, the next fails with `EFBIG`.
#![cfg(unix)]

use velo::{velo, Builder, Format, Logger, Rolling};
use velo_tests::{
    assert_child_passed, is_child, parse_line, rolling_files, run_child_within, TempDir,
    CHILD_TIMEOUT,
};

/// Sets the size limit of every file this process writes; `None` lifts it.
fn limit_file_size(bytes: Option<u64>) {
    // SAFETY: signal(2) and setrlimit(2) with valid arguments; the limit
    // struct is read by the call only.
    unsafe {
        // A write past the limit fails with EFBIG instead of killing.
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        assert_eq!(libc::getrlimit(libc::RLIMIT_FSIZE, &mut lim), 0);
        lim.rlim_cur = bytes.unwrap_or(lim.rlim_max);
        assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &lim), 0);
    }
}

/// Logs `n` entries while files are limited to `limit` bytes, then `n`
/// more once the limit is lifted; returns the entries' `i`s counted
/// dropped.
fn log_through_a_full_disk(logger: &Logger, n: u64, limit: u64) -> u64 {
    limit_file_size(Some(limit));
    for i in 0..n {
        velo!(logger: logger, info, "entry", i, pad = "padding to make each line a hundred bytes or so");
    }
    assert!(logger.sync().is_err(), "the disk was full");
    limit_file_size(None);
    for i in n..2 * n {
        velo!(logger: logger, info, "entry", i, pad = "padding to make each line a hundred bytes or so");
    }
    logger.sync().expect("the disk has room again");
    let stats = logger.stats();
    assert!(
        stats.dropped > 0,
        "the disk stayed full long enough: {stats:?}"
    );
    stats.dropped
}

/// Every line of `text` an entry (or velo's warning of entries dropped);
/// returns the entries' `i`s.
fn entries(name: &str, text: &str) -> Vec<u64> {
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "{name} ends mid-line"
    );
    text.lines()
        .filter_map(|line| {
            let e = parse_line(line);
            if e["msg"] == "entry" {
                Some(e["i"].as_u64().unwrap())
            } else {
                assert_eq!(e["level"], "warn", "{name}: {e:?}");
                None
            }
        })
        .collect()
}

#[test]
fn file_child() {
    if !is_child("file_child") {
        return;
    }
    let dir = TempDir::new("full-disk-file");
    let path = dir.path().join("app.log");
    let logger = Builder::new()
        .format(Format::Json)
        .file(&path)
        .build()
        .unwrap();
    let dropped = log_through_a_full_disk(&logger, 5_000, 30_001);
    let text = std::fs::read_to_string(&path).unwrap();
    let ids = entries("app.log", &text);
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "in order, once each");
    assert_eq!(ids.len() as u64 + dropped, 10_000, "written or dropped");
    assert_eq!(logger.stats().bytes, text.len() as u64);
}

#[test]
fn a_file_holds_only_whole_entries() {
    assert_child_passed(&run_child_within("file_child", &[], CHILD_TIMEOUT));
}

#[test]
fn rolling_child() {
    if !is_child("rolling_child") {
        return;
    }
    let dir = TempDir::new("full-disk-rolling");
    let logger = Builder::new()
        .format(Format::Json)
        .rolling(Rolling::new(dir.path().join("app.log")).max_bytes(100_000))
        .build()
        .unwrap();
    let dropped = log_through_a_full_disk(&logger, 20_000, 30_001);
    let files = rolling_files(dir.path(), "app.log");
    assert!(files.len() > 2, "rotated: {}", files.len());
    let ids: Vec<u64> = files.iter().flat_map(|(n, t)| entries(n, t)).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "in order, once each");
    assert_eq!(ids.len() as u64 + dropped, 40_000, "written or dropped");
    let bytes: usize = files.iter().map(|(_, t)| t.len()).sum();
    assert_eq!(logger.stats().bytes, bytes as u64);
}

#[test]
fn rolling_files_hold_only_whole_entries() {
    assert_child_passed(&run_child_within("rolling_child", &[], CHILD_TIMEOUT));
}
