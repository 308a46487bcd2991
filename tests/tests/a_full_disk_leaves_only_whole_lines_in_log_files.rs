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

/// A logger without a queue writing JSON lines to the file at `path`.
fn synchronous_json_file(path: &std::path::Path) -> Logger {
    Builder::new()
        .format(Format::Json)
        .file(path)
        .asynchronous(false)
        .build()
        .unwrap()
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

/// Logs `n` entries of about 3 KB while files are limited to 8 KiB, then
/// closes the logger with the disk still full: the line the last write
/// began is cut off the file, and `stats()` counts only the lines in it.
fn close_on_a_full_disk(builder: Builder, n: u64, read: impl Fn() -> String) {
    let logger = builder.format(Format::Json).build().unwrap();
    limit_file_size(Some(8 << 10));
    let pad = "x".repeat(3_000);
    for i in 0..n {
        velo!(logger: &logger, info, "entry", i, pad = pad.as_str());
    }
    logger.close();
    limit_file_size(None);
    let text = read();
    let ids = entries("app.log", &text);
    let stats = logger.stats();
    assert!(stats.dropped > 0, "the disk was full: {stats:?}");
    assert_eq!(ids.len() as u64 + stats.dropped, n, "{stats:?}");
    assert_eq!(stats.bytes, text.len() as u64, "bytes of whole lines only");
}

/// The next run appends to what the full disk left, whole lines apart.
fn restart(builder: Builder, read: impl Fn() -> String) {
    let before = entries("app.log", &read()).len();
    let logger = builder.format(Format::Json).build().unwrap();
    velo!(logger: &logger, info, "entry", i = 1_000_000u64, pad = "after");
    logger.close();
    let ids = entries("app.log", &read());
    assert_eq!(ids.len(), before + 1);
    assert_eq!(ids.last(), Some(&1_000_000));
}

#[test]
fn closed_full_child() {
    if !is_child("closed_full_child") {
        return;
    }
    for n in [3, 200] {
        let dir = TempDir::new("full-disk-close");
        let path = dir.path().join("app.log");
        let read = || std::fs::read_to_string(&path).unwrap();
        close_on_a_full_disk(Builder::new().file(&path), n, read);
        restart(Builder::new().file(&path), read);

        let dir = TempDir::new("full-disk-close-rolling");
        let path = dir.path().join("app.log");
        let read = || std::fs::read_to_string(&path).unwrap();
        let rolling = || Builder::new().rolling(Rolling::new(&path).max_bytes(1 << 20));
        close_on_a_full_disk(rolling(), n, read);
        restart(rolling(), read);
    }
}

#[test]
fn closing_on_a_full_disk_leaves_whole_lines_for_the_next_run() {
    assert_child_passed(&run_child_within("closed_full_child", &[], CHILD_TIMEOUT));
}

/// A log file that ends inside a line (a crash of the program before, or
/// another program's write cut short) is appended to on a line of its own.
#[test]
fn a_torn_file_from_before_is_not_glued_to() {
    let dir = TempDir::new("torn-before");
    let torn = "{\"msg\":\"whole\"}\n{\"msg\":\"tor";
    for rolling in [false, true] {
        let path = dir.path().join(format!("app-{rolling}.log"));
        std::fs::write(&path, torn).unwrap();
        let builder = Builder::new().format(Format::Json);
        let builder = if rolling {
            builder.rolling(Rolling::new(&path))
        } else {
            builder.file(&path)
        };
        let logger = builder.build().unwrap();
        velo!(logger: &logger, info, "after");
        logger.close();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert_eq!(lines[1], "{\"msg\":\"tor", "the torn line alone");
        assert_eq!(parse_line(lines[2])["msg"], "after");
        assert!(text.ends_with('\n'));
    }
}

/// Another writer appending whole lines to the file as the logger opens it
/// again (another process of a pre-fork server, a second instance of a
/// service): while one of its large writes is copied in, the file ends
/// inside that write's last line for a moment. The logger must not take
/// that for a torn line and start with a newline of its own, which leaves
/// an empty line once the write is done.
#[test]
fn reopening_while_another_writer_appends_leaves_no_empty_line() {
    use std::io::Write as _;
    use std::sync::atomic::{AtomicBool, Ordering};
    const REOPENS: u64 = 1500;
    let dir = TempDir::new("shared-append");
    let path = dir.path().join("app.log");
    let logger = Builder::new()
        .format(Format::Json)
        .file(&path)
        .build()
        .unwrap();
    let chunk: String = (0..4096)
        .map(|i| format!("{{\"other\":\"{i:05}\"}}\n"))
        .collect();
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut other = std::fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .unwrap();
            while !stop.load(Ordering::Relaxed) {
                other.write_all(chunk.as_bytes()).unwrap();
                std::thread::sleep(std::time::Duration::from_micros(200));
            }
        });
        for i in 0..REOPENS {
            logger.reopen().unwrap();
            velo!(logger: &logger, info, "mine", i);
            logger.sync().unwrap();
        }
        stop.store(true, Ordering::Relaxed);
    });
    logger.close();
    let text = std::fs::read_to_string(&path).unwrap();
    let empty = text.lines().filter(|l| l.is_empty()).count();
    assert_eq!(empty, 0, "empty lines among {} bytes", text.len());
    let mine: Vec<u64> = text
        .lines()
        .map(parse_line)
        .filter(|e| e.get("msg").is_some_and(|m| m == "mine"))
        .map(|e| e["i"].as_u64().unwrap())
        .collect();
    assert_eq!(mine, (0..REOPENS).collect::<Vec<_>>());
}

/// With no room at all, the entries of a rotation period are all dropped:
/// the empty live file is not rotated, so no empty file takes the place of
/// a real one among the `keep` newest.
#[test]
fn no_room_child() {
    if !is_child("no_room_child") {
        return;
    }
    let dir = TempDir::new("full-disk-keep");
    let old: Vec<String> = (1..=3)
        .map(|i| format!("app.log.20200101T000000.00000{i}"))
        .collect();
    for name in &old {
        std::fs::write(dir.path().join(name), "{\"msg\":\"precious\"}\n").unwrap();
    }
    let logger = Builder::new()
        .format(Format::Json)
        .rolling(
            Rolling::new(dir.path().join("app.log"))
                .max_bytes(2_000)
                .keep(3),
        )
        .build()
        .unwrap();
    limit_file_size(Some(0));
    // Every tenth entry larger than `max_bytes`, in a file of its own.
    let (pad, large) = ("y".repeat(300), "z".repeat(5_000));
    for i in 0..400u64 {
        let pad = if i % 10 == 0 { &large } else { &pad };
        velo!(logger: &logger, info, "entry", i, pad = pad.as_str());
        if i % 20 == 0 {
            let _ = logger.sync();
        }
    }
    logger.close();
    limit_file_size(None);
    let stats = logger.stats();
    assert_eq!(stats.dropped, 400, "{stats:?}");
    let files = rolling_files(dir.path(), "app.log");
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names[..3],
        old.iter().map(String::as_str).collect::<Vec<_>>()[..]
    );
    assert!(files[3..].iter().all(|(n, _)| n == "app.log"), "{names:?}");
}

#[test]
fn a_full_disk_rotates_no_empty_files_away_real_ones() {
    assert_child_passed(&run_child_within("no_room_child", &[], CHILD_TIMEOUT));
}

/// A file that ends inside a line on a disk still full when velo opens
/// it: the newline it is owed goes before the first entry written once
/// there is room.
#[test]
fn torn_and_full_child() {
    if !is_child("torn_and_full_child") {
        return;
    }
    let dir = TempDir::new("torn-and-full");
    let torn = "{\"msg\":\"whole\"}\n{\"msg\":\"tor";
    for rolling in [false, true] {
        let path = dir.path().join(format!("app-{rolling}.log"));
        std::fs::write(&path, torn).unwrap();
        limit_file_size(Some(torn.len() as u64));
        let builder = Builder::new().format(Format::Json);
        let builder = if rolling {
            builder.rolling(Rolling::new(&path))
        } else {
            builder.file(&path)
        };
        let logger = builder.build().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), torn, "no room yet");
        velo!(logger: &logger, info, "after");
        assert!(logger.sync().is_err(), "still full");
        limit_file_size(None);
        logger.sync().expect("room again");
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert_eq!(lines[1], "{\"msg\":\"tor", "the torn line alone");
        assert_eq!(parse_line(lines[2])["msg"], "after");
    }
}

/// A line of velo's cut short by a full disk, then another program's line
/// appended after it, then writes that take nothing: the buffer drops the
/// oldest lines, the cut-short one's rest among them. The other program's
/// line is not velo's to cut back: it stays, and velo's next line does not
/// start inside the torn one.
#[test]
fn cut_back_spares_another_programs_line_child() {
    if !is_child("cut_back_spares_another_programs_line_child") {
        return;
    }
    use std::io::Write as _;
    let dir = TempDir::new("cut-back-other");
    let path = dir.path().join("app.log");
    let logger = synchronous_json_file(&path);
    limit_file_size(Some(150));
    for i in 0..2 {
        velo!(logger: &logger, info, "entry", i, pad = "p".repeat(100).as_str());
    }
    let _ = logger.sync();
    limit_file_size(None);
    let mut other = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    other.write_all(b"OTHER\n").unwrap();
    let len = std::fs::metadata(&path).unwrap().len();
    limit_file_size(Some(len));
    for i in 2..5_000 {
        velo!(logger: &logger, info, "entry", i, pad = "p".repeat(100).as_str());
    }
    let _ = logger.sync();
    limit_file_size(None);
    for i in 5_000..5_005 {
        velo!(logger: &logger, info, "entry", i, pad = "p".repeat(100).as_str());
    }
    logger.sync().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("OTHER\n"), "{}", &text[..text.len().min(400)]);
    for line in text.lines().filter(|l| l.contains("\"msg\":\"entry\"")) {
        if line.ends_with('}') {
            parse_line(line);
        }
        assert!(!line[1..].contains("{\"time\""), "glued: {line:?}");
    }
    let last: Vec<u64> = text
        .lines()
        .rev()
        .map(parse_line)
        .filter(|e| e["msg"] == "entry")
        .take(5)
        .map(|e| e["i"].as_u64().unwrap())
        .collect();
    assert_eq!(last, [5_004, 5_003, 5_002, 5_001, 5_000]);
}

/// A line of velo's cut short twice by a full disk, another program's
/// line appended between the two parts, then the rest given up at
/// `close`: the line is in two pieces, so nothing is cut back (that would
/// take the other program's line and leave velo's first part); the torn
/// line ends with a newline instead.
#[test]
fn a_line_torn_around_another_programs_line_is_not_cut_back_child() {
    if !is_child("a_line_torn_around_another_programs_line_is_not_cut_back_child") {
        return;
    }
    use std::io::Write as _;
    let dir = TempDir::new("torn-around-other");
    let path = dir.path().join("app.log");
    std::fs::write(&path, "start\n").unwrap();
    let logger = synchronous_json_file(&path);
    limit_file_size(Some(100));
    velo!(logger: &logger, info, "big", pad = "p".repeat(10_000).as_str());
    assert!(logger.sync().is_err(), "the disk is full");
    limit_file_size(None);
    let mut other = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    other.write_all(b"OTHER LINE\n").unwrap();
    let len = std::fs::metadata(&path).unwrap().len();
    limit_file_size(Some(len + 4096));
    assert!(logger.sync().is_err(), "full again");
    assert_eq!(
        std::fs::metadata(&path).unwrap().len(),
        len + 4096,
        "the retry took more of the line"
    );
    logger.close();
    limit_file_size(None);
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.len() as u64, len + 4096, "nothing cut back");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{:?}", &text[..300]);
    assert_eq!(lines[0], "start");
    // The first part, the other program's line after it (it appended
    // after a torn line), then the second part.
    assert!(
        lines[1].starts_with("{\"time\"") && lines[1].ends_with("OTHER LINE"),
        "{:?}",
        lines[1]
    );
    assert_eq!(lines[2].len(), 4096);
    // The next logger of the file starts a line of its own.
    let logger = synchronous_json_file(&path);
    velo!(logger: &logger, info, "next");
    logger.close();
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(parse_line(text.lines().last().unwrap())["msg"], "next");
}

#[test]
fn a_line_torn_around_another_programs_line_is_not_cut_back() {
    assert_child_passed(&run_child_within(
        "a_line_torn_around_another_programs_line_is_not_cut_back_child",
        &[],
        CHILD_TIMEOUT,
    ));
}

#[test]
fn cut_back_spares_another_programs_line() {
    assert_child_passed(&run_child_within(
        "cut_back_spares_another_programs_line_child",
        &[],
        CHILD_TIMEOUT,
    ));
}

#[test]
fn a_torn_file_on_a_full_disk_is_not_glued_to_once_there_is_room() {
    assert_child_passed(&run_child_within("torn_and_full_child", &[], CHILD_TIMEOUT));
}
