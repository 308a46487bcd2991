//! A log file given by a relative path is the one under the current
//! directory at `build()`: a program that changes directory later keeps
//! writing, rotating, deleting and reopening there, and never renames or
//! deletes a file of the same name under its new directory. `.file()`
//! creates a missing directory, as `.rolling()` does.
//!
//! The current directory is the process's: each scenario runs in a child.

use std::fs;
use std::path::Path;
use velo::{velo, Builder, Format, Rolling};
use velo_tests::{is_child, parse_line, rolling_files, run_child, TempDir};

const DIR: &str = "VELO_TEST_DIR";

fn entries_of(files: &[(String, String)]) -> Vec<(String, u64)> {
    files
        .iter()
        .flat_map(|(_, text)| text.lines().map(parse_line))
        .map(|e| {
            (
                e["msg"].as_str().unwrap().to_owned(),
                e["seq"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

#[test]
fn child_rolls_after_a_change_of_directory() {
    if !is_child("child_rolls_after_a_change_of_directory") {
        return;
    }
    let root = std::env::var(DIR).unwrap();
    std::env::set_current_dir(Path::new(&root).join("a")).unwrap();
    let logger = Builder::new()
        .format(Format::Json)
        .rolling(Rolling::new("logs/app.log").max_bytes(300).keep(1))
        .build()
        .unwrap();
    velo!(logger: &logger, info, "in a", seq = 0u64);
    logger.sync().unwrap();
    std::env::set_current_dir(Path::new(&root).join("b")).unwrap();
    for seq in 1..=8u64 {
        velo!(logger: &logger, info, "after chdir", seq);
        // One rotation per sync at most, so `keep(1)` leaves the last two
        // files and the test can tell which entries they hold.
        logger.sync().unwrap();
    }
    logger.close();
    assert_eq!(logger.stats().write_errors, 0);
}

#[test]
fn a_rolling_file_stays_in_the_directory_it_was_opened_in() {
    let root = TempDir::new("rolling-chdir");
    let (a, b) = (root.path().join("a"), root.path().join("b"));
    fs::create_dir_all(&a).unwrap();
    fs::create_dir_all(b.join("logs")).unwrap();
    fs::write(b.join("logs/app.log"), "the user's own file\n").unwrap();

    let out = run_child(
        "child_rolls_after_a_change_of_directory",
        &[(DIR, root.path().to_str().unwrap())],
    );
    assert!(out.status.success(), "{out:?}");

    // The file under the new directory is untouched, and nothing joined it.
    assert_eq!(
        fs::read_to_string(b.join("logs/app.log")).unwrap(),
        "the user's own file\n"
    );
    let beside: Vec<_> = fs::read_dir(b.join("logs"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(beside, ["app.log"]);

    // The logger's files are all under the first directory: the live file
    // and one rotated file (`keep(1)`), ending with the last entries.
    let files = rolling_files(&a.join("logs"), "app.log");
    assert_eq!(files.len(), 2, "{files:?}");
    let seqs: Vec<u64> = entries_of(&files).iter().map(|(_, s)| *s).collect();
    assert!(!seqs.is_empty());
    assert_eq!(seqs, (seqs[0]..=8).collect::<Vec<_>>());
}

#[test]
fn child_reopens_after_a_change_of_directory() {
    if !is_child("child_reopens_after_a_change_of_directory") {
        return;
    }
    let root = std::env::var(DIR).unwrap();
    let a = Path::new(&root).join("a");
    std::env::set_current_dir(&a).unwrap();
    let logger = Builder::new()
        .format(Format::Json)
        .file("app.log")
        .build()
        .unwrap();
    velo!(logger: &logger, info, "before", seq = 1u64);
    logger.sync().unwrap();
    std::env::set_current_dir(Path::new(&root).join("b")).unwrap();
    // logrotate moves the file aside, then the program reopens it.
    fs::rename(a.join("app.log"), a.join("app.log.1")).unwrap();
    logger.reopen().unwrap();
    velo!(logger: &logger, info, "after", seq = 2u64);
    logger.close();
}

#[test]
fn a_reopened_file_is_the_one_first_opened() {
    let root = TempDir::new("file-chdir");
    let (a, b) = (root.path().join("a"), root.path().join("b"));
    fs::create_dir_all(&a).unwrap();
    fs::create_dir_all(&b).unwrap();

    let out = run_child(
        "child_reopens_after_a_change_of_directory",
        &[(DIR, root.path().to_str().unwrap())],
    );
    assert!(out.status.success(), "{out:?}");

    let read = |path: &Path| {
        let files = [(String::new(), fs::read_to_string(path).unwrap())];
        entries_of(&files)
    };
    assert_eq!(read(&a.join("app.log.1")), [("before".to_owned(), 1)]);
    assert_eq!(read(&a.join("app.log")), [("after".to_owned(), 2)]);
    assert!(!b.join("app.log").exists());
}

#[test]
fn a_file_in_a_missing_directory_is_created_with_it() {
    let root = TempDir::new("file-mkdir");
    let path = root.path().join("new/logs/app.log");
    let logger = Builder::new()
        .format(Format::Json)
        .file(&path)
        .build()
        .expect("the directory is created");
    velo!(logger: &logger, info, "first");
    logger.close();
    let text = fs::read_to_string(&path).unwrap();
    assert_eq!(parse_line(text.trim_end())["msg"], "first");

    // A file where a directory should be is still a build error.
    fs::write(root.path().join("plain"), "").unwrap();
    let err = Builder::new()
        .file(root.path().join("plain/app.log"))
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), velo::ErrorKind::File);
}
