//! A rolling file whose directory disappears: writing fails, is counted
//! and returned by `sync`, never panics; once the directory is back, the
//! entries kept meanwhile and later ones are written.

use std::fs;
use velo::{velo, Builder, ErrorKind, Format, Rolling};
use velo_tests::{parse_line, rolling_files, TempDir};

#[test]
fn a_missing_directory_is_a_build_error() {
    let dir = TempDir::new("rolling-nodir");
    let err = Builder::new()
        .rolling(Rolling::new(dir.path().join("absent/app.log")))
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::File);
}

#[test]
fn a_directory_removed_while_logging_is_counted_then_recovers() {
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

    fs::remove_dir_all(&logs).unwrap();
    for seq in 0..20u64 {
        velo!(logger: &logger, info, "while gone", seq);
    }
    let err = logger.sync().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Write);
    assert!(logger.stats().write_errors >= 1);

    fs::create_dir(&logs).unwrap();
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
