//! A rolling file creates its directory when it is missing, at `build()`
//! and while logging. When it cannot (a file stands where the directory
//! should be), writing fails, is counted and returned by `sync`, never
//! panics; once the way is clear, the entries kept meanwhile and later ones
//! are written.

use std::fs;
use velo::{velo, Builder, ErrorKind, Format, Rolling};
use velo_tests::{parse_line, rolling_files, TempDir};

#[test]
fn a_missing_directory_is_created_and_a_blocked_one_is_a_build_error() {
    let dir = TempDir::new("rolling-nodir");
    let live = dir.path().join("absent/logs/app.log");
    let logger = Builder::new()
        .format(Format::Json)
        .rolling(Rolling::new(&live))
        .build()
        .unwrap();
    velo!(logger: &logger, info, "first");
    logger.sync().unwrap();
    let text = fs::read_to_string(&live).unwrap();
    assert_eq!(parse_line(text.trim_end())["msg"], "first");

    fs::write(dir.path().join("file"), "").unwrap();
    let err = Builder::new()
        .rolling(Rolling::new(dir.path().join("file/app.log")))
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::File);
}

#[test]
fn a_directory_removed_while_logging_is_created_again() {
    let dir = TempDir::new("rolling-recreated");
    let logs = dir.path().join("logs");
    let logger = Builder::new()
        .format(Format::Json)
        .rolling(Rolling::new(logs.join("app.log")).max_bytes(400))
        .build()
        .unwrap();
    velo!(logger: &logger, info, "before");
    logger.sync().unwrap();
    fs::remove_dir_all(&logs).unwrap();
    for seq in 0..20u64 {
        velo!(logger: &logger, info, "after", seq);
    }
    logger.sync().unwrap();
    logger.close();
    assert_eq!(logger.stats().write_errors, 0);
    // The first entries after the removal went to the deleted file (still
    // open) until the first rotation; from there on, all of them arrive.
    let seqs: Vec<u64> = rolling_files(&logs, "app.log")
        .iter()
        .flat_map(|(_, text)| text.lines().map(parse_line).collect::<Vec<_>>())
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert!(!seqs.is_empty());
    assert_eq!(seqs, (seqs[0]..20).collect::<Vec<_>>());
}

#[test]
fn a_directory_that_cannot_be_made_is_counted_then_recovers() {
    let dir = TempDir::new("rolling-errors");
    let logs = dir.path().join("logs");
    fs::create_dir(&logs).unwrap();
    let logger = Builder::new()
        .format(Format::Json)
        .rolling(Rolling::new(logs.join("app.log")).max_bytes(400))
        .build()
        .unwrap();
    for seq in 0..5u64 {
        velo!(logger: &logger, info, "before", seq);
    }
    logger.sync().unwrap();

    // A file where the directory was: it cannot be made again.
    fs::remove_dir_all(&logs).unwrap();
    fs::write(&logs, "").unwrap();
    for seq in 0..20u64 {
        velo!(logger: &logger, info, "while gone", seq);
    }
    let err = logger.sync().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Write);
    assert!(logger.stats().write_errors >= 1);

    fs::remove_file(&logs).unwrap();
    velo!(logger: &logger, info, "back");
    logger.sync().expect("writing works again");
    logger.close();

    // Entries up to the first rotation went to the deleted file; the rest
    // were kept and arrive, in order, whole.
    let files = rolling_files(&logs, "app.log");
    let entries: Vec<_> = files
        .iter()
        .flat_map(|(_, text)| text.lines())
        .map(parse_line)
        .collect();
    let msgs: Vec<&str> = entries.iter().map(|e| e["msg"].as_str().unwrap()).collect();
    assert_eq!(msgs.last(), Some(&"back"));
    let gone: Vec<u64> = entries
        .iter()
        .filter(|e| e["msg"] == "while gone")
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert!(!gone.is_empty());
    assert_eq!(gone, (gone[0]..20).collect::<Vec<_>>());
    for (name, text) in &files {
        assert!(
            text.len() <= 400 || text.lines().count() == 1,
            "{name} is too large"
        );
    }
}

#[test]
fn a_failed_rename_is_reported_and_entries_go_on_to_the_live_file() {
    let dir = TempDir::new("rolling-rename-fails");
    // A live name that fits, whose rotated names (23 bytes longer) do not:
    // every rename fails, whoever runs the test.
    let name = format!("{}.log", "a".repeat(240));
    let live = dir.path().join(&name);
    let logger = Builder::new()
        .format(Format::Json)
        .rolling(Rolling::new(&live).max_bytes(300))
        .build()
        .unwrap();
    let mut errors = Vec::new();
    for seq in 0..8u64 {
        velo!(logger: &logger, info, "entry", seq);
        if let Err(e) = logger.sync() {
            errors.push(format!("{e}: {}", e.io_error().unwrap()));
        }
    }
    logger.close();

    // Reported, naming the rename, and counted...
    assert!(!errors.is_empty());
    assert!(errors[0].contains("cannot rename log file"), "{errors:?}");
    assert!(logger.stats().write_errors >= 1);
    // ...while every entry went to the live file at once, in order.
    let text = fs::read_to_string(&live).unwrap();
    let seqs: Vec<u64> = text
        .lines()
        .map(|l| parse_line(l)["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, (0..8).collect::<Vec<_>>());
    assert_eq!(logger.stats().written, 8);
    let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 1, "only the live file");
}

#[test]
fn child_renames_fail_at_every_rotation() {
    if !velo_tests::is_child("child_renames_fail_at_every_rotation") {
        return;
    }
    let dir = TempDir::new("rolling-rename-fails-often");
    let live = dir.path().join(format!("{}.log", "b".repeat(240)));
    let logger = Builder::new()
        .format(Format::Json)
        .rolling(Rolling::new(&live).max_bytes(300))
        .build()
        .unwrap();
    for seq in 0..20u64 {
        velo!(logger: &logger, info, "entry", seq);
        let _ = logger.sync();
    }
    logger.close();
    assert!(logger.stats().write_errors >= 5);
}

/// A rename that fails at each rotation, with the live file written
/// fine in between, is one line on stderr, not one per rotation.
#[test]
fn a_rename_that_keeps_failing_is_reported_once() {
    let out = velo_tests::run_child("child_renames_fail_at_every_rotation", &[]);
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let reports = stderr
        .lines()
        .filter(|l| {
            l.starts_with("velo: writing log output failed: rolling file ")
                && l.contains(": cannot rename log file")
        })
        .count();
    assert_eq!(reports, 1, "{stderr}");
}
