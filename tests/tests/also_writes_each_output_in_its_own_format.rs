//! `Builder::also`: one logger, several outputs, each in its own format and
//! with its own narrower filter; the first output gets everything the
//! logger takes. A further output that fails or panics holds up no other
//! output, and its error names it.

use std::io::{self, Write};
use velo::{velo, Builder, ErrorKind, Format, Level};
use velo_tests::{parse_line, text_keys, Capture};

#[test]
fn each_output_gets_what_its_filter_admits_in_its_format() {
    let (json, text, all) = (Capture::new(), Capture::new(), Capture::new());
    let logger = Builder::new()
        .level(Level::Debug)
        .format(Format::Json)
        .writer(json.clone())
        .also(
            Builder::new()
                .format(Format::Text)
                .writer(text.clone())
                .filter("warn,also_writes_each_output_in_its_own_format::db=debug"),
        )
        // No filter of its own: everything the logger takes.
        .also(Builder::new().format(Format::Json).writer(all.clone()))
        .build()
        .unwrap();
    for i in 0..50u32 {
        velo!(logger: &logger, trace, "never", i);
        velo!(logger: &logger, debug, "detail", i);
        velo!(logger: &logger, warn, "slow", i, ms = 1.5);
        velo!(logger: &logger, target: "also_writes_each_output_in_its_own_format::db", debug, "query", i);
    }
    logger.sync().unwrap();

    let json_msgs = json.msgs();
    assert_eq!(json_msgs.len(), 150, "{json_msgs:?}");
    assert_eq!(
        all.lines(),
        json.lines(),
        "the same lines, in the same order"
    );
    // Text: `warn` everywhere, and `debug` for the `db` target.
    let text_lines = text.lines();
    assert_eq!(text_lines.len(), 100, "{text_lines:?}");
    for (i, line) in text_lines.iter().enumerate() {
        assert!(!line.starts_with('{'), "text, not JSON: {line}");
        if i % 2 == 0 {
            assert!(line.contains("WARN  slow"), "{line}");
            assert_eq!(text_keys(line), ["i", "ms", "caller"], "{line}");
        } else {
            assert!(line.contains("DEBUG query"), "{line}");
        }
    }
    // In order, as in the first output.
    let seq: Vec<u64> = text_lines
        .iter()
        .step_by(2)
        .map(|l| {
            l.split("i=")
                .nth(1)
                .unwrap()
                .split(' ')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert_eq!(seq, (0..50).collect::<Vec<u64>>());
    let stats = logger.stats();
    assert_eq!(stats.written, 150, "the first output's: {stats:?}");
    assert_eq!(stats.dropped, 0);
}

#[test]
fn an_outputs_message_text_narrows_what_it_gets() {
    let (all, slow) = (Capture::new(), Capture::new());
    let logger = Builder::new()
        .format(Format::Json)
        .writer(all.clone())
        .also(
            Builder::new()
                .format(Format::Json)
                .writer(slow.clone())
                .filter("info/slow"),
        )
        .build()
        .unwrap();
    for ms in [5u32, 900, 12] {
        velo!(logger: &logger, info, "request done", ms);
        if ms > 100 {
            velo!(logger: &logger, warn, "slow request", ms);
        }
    }
    logger.sync().unwrap();
    assert_eq!(all.msgs().len(), 4);
    assert_eq!(slow.msgs(), ["slow request"]);
}

/// Two further outputs failing on the same entry, differently: the error
/// `sync` returns names both, not the first alone.
#[test]
fn two_further_outputs_failing_at_once_are_both_said() {
    let logger = Builder::new()
        .writer(io::sink())
        .also(Builder::new().writer(Failing))
        .also(Builder::new().writer(Panicking))
        .build()
        .unwrap();
    velo!(logger: &logger, info, "entry");
    let err = logger.sync().expect_err("both failed").to_string();
    assert!(err.contains("output 2, the writer: disk on fire"), "{err}");
    assert!(
        err.contains("output 3, the writer: the log writer panicked"),
        "{err}"
    );
    // The same errors again are said once each.
    velo!(logger: &logger, info, "entry");
    velo!(logger: &logger, info, "entry");
    let err = logger.sync().expect_err("still failing").to_string();
    assert_eq!(err.matches("disk on fire").count(), 1, "{err}");
}

/// Slow: 2 ms a write.
struct Slow;

impl Write for Slow {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        std::thread::sleep(std::time::Duration::from_millis(2));
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// velo's own entries (a drop warning) reach an output whose filter has a
/// message text, as they reach the logger's: they have no message of the
/// program's to match.
#[test]
fn velos_own_entries_pass_an_outputs_message_text() {
    let kept = Capture::new();
    let logger = Builder::new()
        .writer(Slow)
        .buffer_size(1)
        .overflow(velo::Overflow::Drop)
        .also(Builder::new().writer(kept.clone()).filter("info/request"))
        .build()
        .unwrap();
    for i in 0..200u32 {
        velo!(logger: &logger, info, "request", i);
    }
    logger.sync().unwrap();
    assert!(logger.stats().dropped > 0, "{:?}", logger.stats());
    let msgs = kept.msgs();
    assert!(
        msgs.iter().any(|m| m.starts_with("velo dropped entries")),
        "{msgs:?}"
    );
}

/// Fails every write with its own error.
struct FailsWith(&'static str);

impl Write for FailsWith {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::Error::other(self.0))
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Five further outputs failing, each its own way: every one is said.
#[test]
fn five_further_outputs_failing_are_all_said() {
    let mut builder = Builder::new().writer(io::sink());
    let errors = ["e1", "e2", "e3", "e4", "e5"];
    for e in errors {
        builder = builder.also(Builder::new().writer(FailsWith(e)));
    }
    let logger = builder.build().unwrap();
    velo!(logger: &logger, info, "entry");
    let err = logger.sync().expect_err("all failed").to_string();
    for (place, e) in (2..).zip(errors) {
        assert!(
            err.contains(&format!("output {place}, the writer: {e}")),
            "{err}"
        );
    }
    // Past the sixteen named, the rest are said to be there.
    let mut builder = Builder::new().writer(io::sink());
    for _ in 0..20 {
        builder = builder.also(Builder::new().writer(FailsWith("e")));
    }
    let logger = builder.build().unwrap();
    velo!(logger: &logger, info, "entry");
    let err = logger.sync().expect_err("all failed").to_string();
    assert!(err.contains("output 17, the writer: e"), "{err}");
    assert!(err.ends_with("; and other outputs' errors"), "{err}");
}

/// A writer that fails every write.
struct Failing;

impl Write for Failing {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::Error::other("disk on fire"))
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A writer that panics on every write.
struct Panicking;

impl Write for Panicking {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        panic!("writer bug")
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_failing_or_panicking_output_holds_up_no_other() {
    for (name, bad) in [
        ("failing", Box::new(Failing) as Box<dyn Write + Send>),
        ("panicking", Box::new(Panicking)),
    ] {
        let (first, last) = (Capture::new(), Capture::new());
        let logger = Builder::new()
            .format(Format::Json)
            .writer(first.clone())
            .also(Builder::new().writer(bad))
            .also(Builder::new().format(Format::Json).writer(last.clone()))
            .build()
            .unwrap();
        for i in 0..1_000u32 {
            velo!(logger: &logger, info, "entry", i);
        }
        let err = logger.sync().expect_err(name);
        assert_eq!(err.kind(), ErrorKind::Write, "{name}: {err}");
        assert!(
            err.to_string().contains("output 2, the writer"),
            "{name}: the output is named: {err}"
        );
        let firsts = first.entries();
        let lasts = last.entries();
        for entries in [&firsts, &lasts] {
            let seqs: Vec<u64> = entries
                .iter()
                .filter(|e| e["msg"] == "entry")
                .map(|e| e["i"].as_u64().unwrap())
                .collect();
            assert_eq!(seqs, (0..1_000).collect::<Vec<u64>>(), "{name}");
        }
        let stats = logger.stats();
        assert_eq!(
            (stats.written, stats.dropped),
            (1_000, 0),
            "{name}: {stats:?}"
        );
        assert!(stats.write_errors > 0, "{name}: {stats:?}");
    }
}

#[test]
fn an_output_of_an_output_is_refused() {
    let err = Builder::new()
        .writer(io::sink())
        .also(
            Builder::new()
                .writer(io::sink())
                .also(Builder::new().writer(io::sink())),
        )
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Output);
    let err = Builder::new()
        .writer(io::sink())
        .also(Builder::new().writer(io::sink()).filter("info,x=loud"))
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Filter);
}

#[test]
fn a_file_beside_a_writer_gets_every_line_after_close() {
    let dir = velo_tests::TempDir::new("also-file");
    let path = dir.path().join("app.log");
    let text = Capture::new();
    let logger = Builder::new()
        .format(Format::Text)
        .writer(text.clone())
        .also(Builder::new().file(&path).format(Format::Json))
        .build()
        .unwrap();
    let threads: Vec<_> = (0..4u32)
        .map(|t| {
            let logger = logger.clone();
            std::thread::spawn(move || {
                for i in 0..5_000u32 {
                    velo!(logger: &logger, info, "work", t, i);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    logger.close();
    let file = std::fs::read_to_string(&path).unwrap();
    let entries: Vec<_> = file.lines().map(parse_line).collect();
    assert_eq!(entries.len(), 20_000);
    assert_eq!(text.lines().len(), 20_000);
    for t in 0..4u64 {
        let seq: Vec<u64> = entries
            .iter()
            .filter(|e| e["t"] == t)
            .map(|e| e["i"].as_u64().unwrap())
            .collect();
        assert_eq!(seq, (0..5_000).collect::<Vec<u64>>(), "thread {t} in order");
    }
}

#[test]
fn each_output_shows_the_time_as_its_builder_says() {
    let (untimed, millis) = (Capture::new(), Capture::new());
    let logger = Builder::new()
        .format(Format::Json)
        .timestamp(velo::Timestamp::Off)
        .writer(untimed.clone())
        .also(
            Builder::new()
                .format(Format::Json)
                .timestamp(velo::Timestamp::Millis)
                .writer(millis.clone()),
        )
        .build()
        .unwrap();
    velo!(logger: &logger, info, "dated", x = 1u32);
    logger.sync().unwrap();
    let (plain, timed) = (&untimed.entries()[0], &millis.entries()[0]);
    assert!(!plain.contains_key("time"), "{plain:?}");
    let time = timed["time"].as_str().expect("a time");
    // 2026-12-02T05:30:00.123Z
    assert_eq!(time.len(), 24, "{time}");
}

#[test]
fn reopen_reports_its_own_errors_and_sync_the_writes() {
    let first = Capture::new();
    let logger = Builder::new()
        .writer(Failing)
        .also(Builder::new().format(Format::Json).writer(first.clone()))
        .also(Builder::new().writer(Failing))
        .build()
        .unwrap();
    velo!(logger: &logger, info, "one");
    assert!(logger.sync().is_err());
    velo!(logger: &logger, info, "two");
    // No file anywhere: nothing to reopen, and no write error from it.
    logger.reopen().expect("nothing to reopen");
    let err = logger.sync().expect_err("the writers still fail");
    assert_eq!(err.kind(), ErrorKind::Write, "{err}");
    assert_eq!(first.msgs(), ["one", "two"]);
}

/// A writer that fails every write, with its own words.
struct FailingToo;

impl Write for FailingToo {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::Error::other("socket gone"))
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// While the first output keeps failing, a further output's failure is
/// said too: each `sync` returns both, not the first's alone for ever.
#[test]
fn a_further_outputs_failure_is_said_while_the_first_fails_too() {
    let logger = Builder::new()
        .writer(Failing)
        .also(Builder::new().writer(FailingToo))
        .build()
        .unwrap();
    for round in 0..3 {
        for i in 0..10u32 {
            velo!(logger: &logger, info, "x", i);
        }
        let err = logger.sync().expect_err("both fail").to_string();
        assert!(err.contains("disk on fire"), "round {round}: {err}");
        assert!(err.contains("socket gone"), "round {round}: {err}");
        // The further output is named by its place and what it is.
        assert!(
            err.contains("output 2, the writer: socket gone"),
            "round {round}: {err}"
        );
    }
}

/// A further output whose own errors say what it is (a network output's)
/// is named once: `output 2, syslog tcp ...: ...`, not twice.
#[cfg(unix)]
#[test]
fn a_network_output_is_named_once() {
    // A port nothing listens on: connections are refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let logger = Builder::new()
        .writer(Capture::new())
        .also(Builder::new().syslog(velo::Syslog::tcp(&addr)))
        .build()
        .unwrap();
    velo!(logger: &logger, info, "x");
    let err = logger.sync().expect_err("refused").to_string();
    assert!(
        err.contains(&format!("output 2, syslog tcp {addr}")),
        "{err}"
    );
    assert_eq!(err.matches("syslog tcp").count(), 1, "{err}");
}
