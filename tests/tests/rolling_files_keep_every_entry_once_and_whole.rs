//! Rotation by size with a tiny limit, from several threads: every entry
//! is in exactly one file, whole, each thread's entries in order across the
//! files sorted by name; every file stays within the limit but the one
//! holding a single larger entry. Plain entries and entries with a
//! context (the worker's two ways of writing a line) mix.

use velo::{velo, Builder, Format, Rolling};
use velo_tests::{parse_line, rolling_files, TempDir};

const MAX_BYTES: u64 = 1024;
const THREADS: usize = 4;
const PER_THREAD: u64 = 400;

#[test]
fn size_rotation_keeps_every_entry_exactly_once_and_whole() {
    let dir = TempDir::new("rolling-size");
    let logger = Builder::new()
        .format(Format::Json)
        .rolling(Rolling::new(dir.path().join("app.log")).max_bytes(MAX_BYTES))
        .build()
        .expect("the log file opens");
    // Half the threads through a child logger: entries with a context
    // take the worker's general path, the others its run of plain lines
    // into the buffer, and both must keep the limit.
    let child = logger.with(velo::fields!(via = "child"));
    std::thread::scope(|s| {
        for thread in 0..THREADS {
            let logger = if thread % 2 == 0 { &logger } else { &child };
            s.spawn(move || {
                for seq in 0..PER_THREAD {
                    // Entries of varying length, so cuts fall anywhere.
                    let pad = "x".repeat((seq * 37 % 200) as usize);
                    velo!(logger: logger, info, "entry", thread, seq, pad = pad.as_str());
                }
            });
        }
    });
    let big = "y".repeat(3 * MAX_BYTES as usize);
    velo!(logger: &logger, info, "oversized", big = big.as_str());
    velo!(logger: &logger, info, "last");
    logger.sync().expect("no write error");
    logger.close();

    let files = rolling_files(dir.path(), "app.log");
    assert!(files.len() >= 100, "only {} files", files.len());
    assert_eq!(files.last().map(|f| f.0.as_str()), Some("app.log"));
    let mut next = [0u64; THREADS];
    let mut oversized_files = 0;
    let mut msgs_after_entries = Vec::new();
    for (name, text) in &files {
        assert!(text.ends_with('\n'), "{name} is empty or ends mid-entry");
        let lines: Vec<&str> = text.lines().collect();
        if text.len() as u64 > MAX_BYTES {
            assert_eq!(
                lines.len(),
                1,
                "{name} passes max_bytes with several entries"
            );
            oversized_files += 1;
        }
        for line in lines {
            let entry = parse_line(line);
            match entry["msg"].as_str() {
                Some("entry") => {
                    let thread = entry["thread"].as_u64().unwrap() as usize;
                    let seq = entry["seq"].as_u64().unwrap();
                    assert_eq!(seq, next[thread], "thread {thread} in {name}");
                    next[thread] += 1;
                }
                Some(msg) => msgs_after_entries.push(msg.to_owned()),
                None => panic!("an entry without msg in {name}: {line}"),
            }
        }
    }
    assert_eq!(next, [PER_THREAD; THREADS]);
    assert_eq!(msgs_after_entries, ["oversized", "last"]);
    assert_eq!(oversized_files, 1);
    let stats = logger.stats();
    assert_eq!(stats.written, THREADS as u64 * PER_THREAD + 2);
    assert_eq!(stats.write_errors, 0);
}

/// A live file left ending inside a line (a crash) gets a newline before
/// the first entry, and that newline counts towards `max_bytes`: no file
/// passes the limit by it.
#[test]
fn the_newline_a_torn_file_is_owed_counts_towards_the_limit() {
    let dir = TempDir::new("rolling-torn");
    let live = dir.path().join("app.log");
    std::fs::write(&live, "torn").unwrap();
    let logger = Builder::new()
        .format(Format::Json)
        .timestamp(velo::Timestamp::Off)
        .caller(false)
        .rolling(Rolling::new(&live).max_bytes(120))
        .build()
        .expect("the log file opens");
    // Each line 116 bytes: "torn", the newline and one line are 121.
    let pad = "x".repeat(68);
    for seq in 0..6u32 {
        velo!(logger: &logger, info, "entry", seq, pad = pad.as_str());
    }
    logger.close();
    let files = rolling_files(dir.path(), "app.log");
    assert_eq!(files[0].1.lines().next(), Some("torn"), "{files:?}");
    for (name, text) in &files {
        assert!(text.len() <= 120, "{name}: {} bytes: {text:?}", text.len());
    }
    let seqs: Vec<u64> = files
        .iter()
        .flat_map(|(_, text)| text.lines())
        .filter(|l| *l != "torn")
        .map(|l| parse_line(l)["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, [0, 1, 2, 3, 4, 5]);
}
