//! `Builder::appender`: an output of the user's own receives each entry as
//! a `Record` (level, message, caller, target, time, typed fields with
//! each key once), on the worker; its errors and panics are counted and
//! returned by `sync` without stopping the logging; it takes the place of
//! any output, beside others (`also`), drop warnings included.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use velo::appender::{Map, Seq};
use velo::{velo, Builder, FieldValue, Level, Overflow, Record, Timestamp};
use velo_tests::Capture;

/// A record as a test keeps it: everything owned.
#[derive(Clone, Debug, PartialEq)]
struct Kept {
    level: Level,
    message: String,
    target: String,
    module_path: String,
    file: Option<String>,
    line: Option<u32>,
    time: Option<SystemTime>,
    thread: Option<String>,
    /// Each field's key, its value's `Debug` and its `Display`.
    fields: Vec<(String, String, String)>,
}

impl Kept {
    fn of(record: &Record<'_>) -> Kept {
        Kept {
            level: record.level(),
            message: record.message().to_owned(),
            target: record.target().to_owned(),
            module_path: record.module_path().to_owned(),
            file: record.file().map(str::to_owned),
            line: record.line(),
            time: record.time(),
            thread: record.thread_name().map(str::to_owned),
            fields: record
                .fields()
                .map(|(k, v)| (k.to_owned(), format!("{v:?}"), v.to_string()))
                .collect(),
        }
    }

    fn field(&self, key: &str) -> (&str, &str) {
        let (_, debug, display) = self
            .fields
            .iter()
            .find(|(k, ..)| k == key)
            .unwrap_or_else(|| panic!("no field {key} in {self:?}"));
        (debug, display)
    }

    fn keys(&self) -> Vec<&str> {
        self.fields.iter().map(|(k, ..)| k.as_str()).collect()
    }
}

/// An appender that keeps every record, and the records it kept.
fn keeping() -> (impl velo::Appender, Arc<Mutex<Vec<Kept>>>) {
    let kept = Arc::new(Mutex::new(Vec::new()));
    let into = Arc::clone(&kept);
    let appender = move |record: &Record<'_>| {
        into.lock().unwrap().push(Kept::of(record));
        Ok(())
    };
    (appender, kept)
}

#[test]
fn fields_keep_their_types() {
    let (appender, kept) = keeping();
    let logger = Builder::new().appender(appender).build().unwrap();
    let before_epoch = UNIX_EPOCH - Duration::from_millis(1_500);
    let later = UNIX_EPOCH + Duration::new(1_800_000_000, 123_456_789);
    let addr: std::net::IpAddr = "10.0.0.7".parse().unwrap();
    let (user, n, neg, ratio, small) = (42_u64, u128::MAX, -7_i64, 0.1 + 0.2, 0.1_f32);
    velo!(
        logger: &logger,
        warn,
        "user {user} from {addr}",
        user,
        addr = %addr,
        n,
        neg,
        ratio,
        small,
        big = i128::MIN,
        ok = true,
        none = None::<u8>,
        nan = f64::NAN,
        quoted = "a \"b\"\n",
        debug = ?("x", 1),
        took = Duration::from_micros(1_500),
        before_epoch,
        later,
        list = [1_u8, 2, 3],
        nested = [["a", "b"], ["c", "d"]],
    );
    let line = line!() - 1;
    logger.sync().unwrap();

    let kept = kept.lock().unwrap();
    assert_eq!(kept.len(), 1);
    let r = &kept[0];
    assert_eq!(r.level, Level::Warn);
    assert_eq!(r.message, "user 42 from 10.0.0.7");
    assert_eq!(r.module_path, module_path!());
    assert_eq!(r.target, module_path!());
    assert!(r
        .file
        .as_deref()
        .unwrap()
        .ends_with("appenders_receive_typed_records.rs"));
    // The line of the macro's last token or its first: either is the call's.
    let at = r.line.unwrap();
    assert!(
        (line - 25..=line).contains(&at),
        "line {at} outside the call"
    );
    let age = SystemTime::now().duration_since(r.time.unwrap()).unwrap();
    assert!(age < Duration::from_secs(60));
    assert_eq!(r.thread, None, "no thread names unless asked for");
    assert_eq!(
        r.keys(),
        [
            "user",
            "addr",
            "n",
            "neg",
            "ratio",
            "small",
            "big",
            "ok",
            "none",
            "nan",
            "quoted",
            "debug",
            "took",
            "before_epoch",
            "later",
            "list",
            "nested"
        ]
    );
    assert_eq!(r.field("user"), ("U64(42)", "42"));
    assert_eq!(r.field("addr"), ("Str(\"10.0.0.7\")", "10.0.0.7"));
    assert_eq!(r.field("n").1, u128::MAX.to_string());
    assert!(r.field("n").0.starts_with("U128("));
    assert_eq!(r.field("neg"), ("I64(-7)", "-7"));
    assert_eq!(
        r.field("ratio"),
        ("F64(0.30000000000000004)", "0.30000000000000004")
    );
    assert_eq!(r.field("small"), ("F32(0.1)", "0.1"));
    assert_eq!(r.field("big").1, i128::MIN.to_string());
    assert_eq!(r.field("ok"), ("Bool(true)", "true"));
    assert_eq!(r.field("none"), ("Null", "null"));
    assert_eq!(r.field("nan"), ("F64(NaN)", "NaN"));
    // Strings as they are: escaping is the line's business, not a record's.
    assert_eq!(r.field("quoted"), ("Str(\"a \\\"b\\\"\\n\")", "a \"b\"\n"));
    assert_eq!(r.field("debug").1, "(\"x\", 1)");
    assert_eq!(r.field("took").1, "1.5ms");
    assert_eq!(
        r.field("before_epoch"),
        (
            "Time(SystemTime { tv_sec: -2, tv_nsec: 500000000 })",
            "1969-12-31T23:59:58.500000000Z"
        )
    );
    assert_eq!(r.field("later").1, "2027-01-15T08:00:00.123456789Z");
    assert_eq!(
        r.field("list"),
        ("Seq([U64(1), U64(2), U64(3)])", "[1,2,3]")
    );
    assert_eq!(r.field("nested").1, "[[\"a\",\"b\"],[\"c\",\"d\"]]");
}

#[test]
fn values_can_be_taken_apart() {
    let seen = Arc::new(Mutex::new(None));
    let into = Arc::clone(&seen);
    let logger = Builder::new()
        .appender(move |record: &Record<'_>| {
            let (Some(FieldValue::Seq(list)), Some(FieldValue::Time(at))) =
                (record.field("list"), record.field("at"))
            else {
                panic!("not the types logged: {record:?}");
            };
            let list: Seq<'_> = list;
            let items: Vec<String> = list.iter().map(|v| v.to_string()).collect();
            let inner: Vec<Vec<String>> = match record.field("nested") {
                // A map would be `velo::appender::Map`; a sequence here.
                Some(FieldValue::Map(m)) => panic!("a map: {:?}", m as Map<'_>),
                Some(FieldValue::Seq(outer)) => outer
                    .iter()
                    .map(|v| match v {
                        FieldValue::Seq(s) => s.iter().map(|v| v.to_string()).collect(),
                        other => panic!("{other:?}"),
                    })
                    .collect(),
                other => panic!("{other:?}"),
            };
            *into.lock().unwrap() = Some((items, at, inner));
            Ok(())
        })
        .build()
        .unwrap();
    let at = UNIX_EPOCH + Duration::new(1_000, 5);
    velo!(logger: &logger, info, "parts", list = ["x", "y\n"], at, nested = [[1_i8, -1]]);
    logger.sync().unwrap();
    let (items, time, inner) = seen.lock().unwrap().take().expect("appended");
    assert_eq!(items, ["x", "y\n"]);
    assert_eq!(time, at);
    assert_eq!(inner, [["1", "-1"]]);
}

#[test]
fn each_key_once_innermost_wins_in_the_lines_order() {
    let (appender, kept) = keeping();
    let logger = Builder::new()
        .appender(appender)
        .fields(velo::fields!(service = "api", b = "logger"))
        .thread_names(true)
        .build()
        .unwrap();
    let child = logger.with(velo::fields!(b = "child", c = "child", d = 1));
    velo::scope(velo::fields!(c = "scope", e = "scope"), || {
        velo!(logger: &child, target: "audit", error, "login", e = "call", f = 2);
    });
    logger.sync().unwrap();

    let kept = kept.lock().unwrap();
    let r = &kept[0];
    // The context's keys the scope or the call set are left out of it;
    // the scope's come next, then the call's.
    assert_eq!(r.keys(), ["service", "b", "d", "c", "e", "f"]);
    let values: Vec<&str> = r.fields.iter().map(|(_, _, v)| v.as_str()).collect();
    assert_eq!(values, ["api", "child", "1", "scope", "call", "2"]);
    assert_eq!(r.target, "audit");
    assert_eq!(r.module_path, module_path!());
    assert_eq!(r.level, Level::Error);
    assert_eq!(
        r.thread.as_deref(),
        std::thread::current().name(),
        "the test's thread, by name"
    );
}

#[test]
fn without_timestamps_records_carry_no_time() {
    let (appender, kept) = keeping();
    let logger = Builder::new()
        .appender(appender)
        .timestamp(Timestamp::Off)
        .build()
        .unwrap();
    velo!(logger: &logger, info, "untimed");
    logger.sync().unwrap();
    assert_eq!(kept.lock().unwrap()[0].time, None);
}

#[test]
fn errors_and_panics_are_counted_and_logging_goes_on() {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let into = Arc::clone(&calls);
    let logger = Builder::new()
        .appender(move |record: &Record<'_>| {
            into.lock().unwrap().push(record.message().to_owned());
            match record.message() {
                "fails" => Err(std::io::Error::other("the service is away")),
                "panics" => panic!("an appender's bug"),
                _ => Ok(()),
            }
        })
        .build()
        .unwrap();
    velo!(logger: &logger, info, "fails");
    let err = logger.sync().expect_err("the appender's error comes back");
    assert!(err.to_string().contains("the service is away"), "{err}");
    velo!(logger: &logger, info, "panics");
    let err = logger.sync().expect_err("a panic comes back as an error");
    assert!(err.to_string().contains("panicked"), "{err}");
    for i in 0..3 {
        velo!(logger: &logger, info, "fine", i);
    }
    logger.sync().unwrap();
    assert_eq!(
        *calls.lock().unwrap(),
        ["fails", "panics", "fine", "fine", "fine"]
    );
    let stats = logger.stats();
    assert_eq!(stats.write_errors, 2);
    assert_eq!(
        stats.written, 3,
        "an entry refused is a write error, not written"
    );
    assert_eq!(stats.dropped, 0);
    assert_eq!(stats.bytes, 0, "an appender writes no bytes of velo's");
}

#[test]
fn flush_runs_at_sync() {
    struct Batching {
        pending: Vec<String>,
        out: Arc<Mutex<Vec<String>>>,
    }
    impl velo::Appender for Batching {
        fn append(&mut self, record: &Record<'_>) -> std::io::Result<()> {
            self.pending.push(record.message().to_owned());
            Ok(())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            self.out.lock().unwrap().append(&mut self.pending);
            Ok(())
        }
    }
    let out = Arc::new(Mutex::new(Vec::new()));
    let logger = Builder::new()
        .appender(Batching {
            pending: Vec::new(),
            out: Arc::clone(&out),
        })
        .build()
        .unwrap();
    for _ in 0..10 {
        velo!(logger: &logger, info, "batched");
    }
    logger.sync().unwrap();
    assert_eq!(out.lock().unwrap().len(), 10);
}

#[test]
fn beside_a_writer_both_get_every_entry_they_admit() {
    let (appender, kept) = keeping();
    let lines = Capture::new();
    let logger = Builder::new()
        .level(Level::Debug)
        .writer(lines.clone())
        .also(Builder::new().level(Level::Warn).appender(appender))
        .build()
        .unwrap();
    velo!(logger: &logger, debug, "detail", n = 1);
    velo!(logger: &logger, error, "broken", n = 2);
    logger.sync().unwrap();
    assert_eq!(lines.msgs(), ["detail", "broken"]);
    let kept = kept.lock().unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(
        (kept[0].message.as_str(), kept[0].field("n").1),
        ("broken", "2")
    );
    assert!(logger.stats().bytes > 0, "the writer's lines are counted");
}

#[test]
fn drop_warnings_reach_the_appender_and_counts_add_up() {
    let kept = Arc::new(Mutex::new(Vec::new()));
    let into = Arc::clone(&kept);
    let logger = Builder::new()
        .appender(move |record: &Record<'_>| {
            std::thread::sleep(Duration::from_micros(200));
            into.lock().unwrap().push(Kept::of(record));
            Ok(())
        })
        .buffer_size(8)
        .overflow(Overflow::Drop)
        .build()
        .unwrap();
    const LOGGED: u64 = 2_000;
    for seq in 0..LOGGED {
        velo!(logger: &logger, info, "burst", seq);
    }
    logger.sync().unwrap();

    let kept = kept.lock().unwrap();
    let (warnings, regular): (Vec<_>, Vec<_>) = kept.iter().partition(|r| r.level == Level::Warn);
    let stats = logger.stats();
    assert!(
        stats.dropped > 0,
        "a slow appender and a queue of 8 must drop"
    );
    assert_eq!(regular.len() as u64 + stats.dropped, LOGGED);
    assert!(!warnings.is_empty(), "the drop warning is appended");
    let announced: u64 = warnings
        .iter()
        .map(|w| w.field("dropped").1.parse::<u64>().unwrap())
        .sum();
    assert_eq!(announced, stats.dropped, "warnings announce every drop");
    assert_eq!(
        stats.written,
        kept.len() as u64,
        "every record handed over counts as written, warnings included"
    );
    assert_eq!(warnings[0].file, None, "velo's own entry has no caller");
}

#[test]
fn a_slow_appender_that_failed_once_is_not_taken_for_stuck() {
    // Slower in all than the 5 s a wait gives an output without progress;
    // each entry handed over is progress, even after a failure.
    let count = Arc::new(Mutex::new(0_u32));
    let into = Arc::clone(&count);
    let logger = Builder::new()
        .appender(move |_: &Record<'_>| {
            std::thread::sleep(Duration::from_millis(3));
            let mut n = into.lock().unwrap();
            *n += 1;
            if *n == 2 {
                return Err(std::io::Error::other("a hiccup"));
            }
            Ok(())
        })
        .build()
        .unwrap();
    for i in 0..2_000_u32 {
        velo!(logger: &logger, info, "slow", i);
    }
    let err = logger.sync().expect_err("the hiccup comes back");
    assert_eq!(err.kind(), velo::ErrorKind::Write, "{err}");
    assert_eq!(*count.lock().unwrap(), 2_000);
    let stats = logger.stats();
    assert_eq!(
        (stats.written, stats.write_errors, stats.dropped),
        (1_999, 1, 0)
    );
}

#[test]
fn a_synchronous_logger_whose_appender_logs_to_it_leaves_nothing_pending() {
    let slot: Arc<std::sync::OnceLock<velo::Logger>> = Arc::new(std::sync::OnceLock::new());
    let appended = Arc::new(Mutex::new(Vec::new()));
    let (into, seen) = (Arc::clone(&slot), Arc::clone(&appended));
    let logger = Builder::new()
        .asynchronous(false)
        .appender(move |r: &Record<'_>| {
            seen.lock().unwrap().push(r.message().to_owned());
            // Reports on each entry of the program's, from inside its own
            // append: two levels deep, so that a report is written in the
            // round after the one it was logged in.
            if let Some(logger) = into.get() {
                match r.message() {
                    "first" | "second" => velo!(logger: logger, info, "report"),
                    "report" => velo!(logger: logger, info, "report of a report"),
                    _ => {}
                }
            }
            Ok(())
        })
        .build()
        .unwrap();
    slot.set(logger.clone()).unwrap();
    velo!(logger: &logger, info, "first");
    logger.sync().unwrap();
    assert_eq!(
        *appended.lock().unwrap(),
        ["first", "report", "report of a report"],
        "each after the entry whose append logged it"
    );
    velo!(logger: &logger, info, "second");
    logger.sync().unwrap();
    logger.sync().unwrap();
    assert_eq!(appended.lock().unwrap().len(), 6);
    let stats = logger.stats();
    assert_eq!((stats.written, stats.dropped), (6, 0), "{stats:?}");
}
