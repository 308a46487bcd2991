//! A JSON entry's keys come in one order: time, level, msg, caller, the
//! context fields (builder fields, then each `with` in turn), then the call's
//! fields. Each of time and caller can be turned off, and each timestamp
//! mode has its own width.

use serde_json::{json, Map, Value as Json};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use velo::{velo, Timestamp};
use velo_tests::{is_child, json_lines, json_logger, keys, run_child, Capture};

const FILE: &str = "tests/tests/entries_have_fixed_key_order.rs";

fn entries(logger: &velo::Logger, out: &Capture) -> Vec<Map<String, Json>> {
    logger.sync().unwrap();
    out.entries()
}

#[test]
fn time_level_msg_caller_context_then_fields() {
    let (root, out) =
        json_logger(velo::Builder::new().fields(velo::fields!(service = "api", version = 3)));
    let child = root.with(velo::fields!(request_id = 7));
    let grandchild = child.with(velo::fields!(user = "ada", "peer.addr" = %"10.0.0.1"));
    let line = line!() + 1;
    velo!(logger: &grandchild, info, "handled", status = 200, took = 1.5, path = "/");
    velo!(logger: &root, warn, "no context of its own");
    velo!(logger: &child, error, "no call fields");
    let entries = entries(&root, &out);
    assert_eq!(entries.len(), 3);

    let e = &entries[0];
    assert_eq!(
        keys(e),
        [
            "time",
            "level",
            "msg",
            "caller",
            "service",
            "version",
            "request_id",
            "user",
            "peer.addr",
            "status",
            "took",
            "path"
        ]
    );
    assert!(e["time"].is_string());
    assert_eq!(e["level"], "info");
    assert_eq!(e["msg"], "handled");
    assert_eq!(e["caller"], format!("{FILE}:{line}"));
    let tail: Vec<&Json> = e.values().skip(4).collect();
    assert_eq!(
        tail,
        [
            &json!("api"),
            &json!(3),
            &json!(7),
            &json!("ada"),
            &json!("10.0.0.1"),
            &json!(200),
            &json!(1.5),
            &json!("/")
        ]
    );

    assert_eq!(
        keys(&entries[1]),
        ["time", "level", "msg", "caller", "service", "version"]
    );
    assert_eq!(
        keys(&entries[2]),
        [
            "time",
            "level",
            "msg",
            "caller",
            "service",
            "version",
            "request_id"
        ]
    );
}

#[test]
fn sibling_children_do_not_share_context() {
    let (root, out) = json_logger(velo::Builder::new().timestamp(Timestamp::Off).caller(false));
    let a = root.with(velo::fields!(a = 1));
    let b = root.with(velo::fields!(b = 2));
    velo!(logger: &a, info, "m", x = 0);
    velo!(logger: &b, info, "m", x = 0);
    velo!(logger: &root, info, "m", x = 0);
    let entries = entries(&root, &out);
    assert_eq!(keys(&entries[0]), ["level", "msg", "a", "x"]);
    assert_eq!(keys(&entries[1]), ["level", "msg", "b", "x"]);
    assert_eq!(keys(&entries[2]), ["level", "msg", "x"]);
}

#[test]
fn levels_are_lowercase() {
    let (l, out) = json_logger(velo::Builder::new().level(velo::LevelFilter::Trace));
    velo!(logger: &l, trace, "m");
    velo!(logger: &l, debug, "m");
    velo!(logger: &l, info, "m");
    velo!(logger: &l, warn, "m");
    velo!(logger: &l, error, "m");
    let levels: Vec<Json> = entries(&l, &out)
        .iter()
        .map(|e| e["level"].clone())
        .collect();
    assert_eq!(levels, ["trace", "debug", "info", "warn", "error"]);
}

#[test]
fn child_logs_fatal_to_stderr() {
    if !is_child("child_logs_fatal_to_stderr") {
        return;
    }
    let l = velo::Builder::new()
        .format(velo::Format::Json)
        .stderr()
        .build()
        .unwrap();
    velo!(logger: &l, fatal, "the end", code = 9);
}

#[test]
fn fatal_is_lowercase_with_the_same_key_order() {
    // `fatal` exits the process, so it runs in a child.
    let output = run_child("child_logs_fatal_to_stderr", &[]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let entries = json_lines(&output.stderr);
    assert_eq!(entries.len(), 1, "{output:?}");
    assert_eq!(
        keys(&entries[0]),
        ["time", "level", "msg", "caller", "code"]
    );
    assert_eq!(entries[0]["level"], "fatal");
}

#[test]
fn a_wrapper_macro_of_the_users_names_its_own_call_site() {
    let (l, out) = json_logger(velo::Builder::new());
    let line = line!() + 1;
    velo_tests::audit!(&l, "through a wrapper", n = 1);
    let entries = entries(&l, &out);
    assert_eq!(entries[0]["caller"], json!(format!("{FILE}:{line}")));
    let site = velo::catalog()
        .find(|s| s.message() == "through a wrapper")
        .unwrap();
    assert_eq!((site.file(), site.line()), (FILE, line));
}

#[test]
fn caller_is_the_line_of_the_velo_token() {
    let (l, out) = json_logger(velo::Builder::new());
    let one_line = line!() + 1;
    velo!(logger: &l, info, "one line", a = 1);
    let spread = line!() + 1;
    velo!(
        logger: &l,
        info,
        "spread over lines",
        a = 1,
        b = 2,
    );
    let in_closure = line!() + 1;
    let log = |n: i32| velo!(logger: &l, info, "in a closure", n);
    log(1);
    log(2);
    let entries = entries(&l, &out);
    let callers: Vec<&Json> = entries.iter().map(|e| &e["caller"]).collect();
    assert_eq!(
        callers,
        [
            &json!(format!("{FILE}:{one_line}")),
            &json!(format!("{FILE}:{spread}")),
            &json!(format!("{FILE}:{in_closure}")),
            &json!(format!("{FILE}:{in_closure}")),
        ]
    );
}

#[test]
fn timestamp_off_removes_time() {
    let (l, out) = json_logger(
        velo::Builder::new()
            .timestamp(Timestamp::Off)
            .fields(velo::fields!(c = 1)),
    );
    velo!(logger: &l, info, "m", f = 2);
    assert_eq!(
        keys(&entries(&l, &out)[0]),
        ["level", "msg", "caller", "c", "f"]
    );
}

#[test]
fn caller_false_removes_caller() {
    let (l, out) = json_logger(
        velo::Builder::new()
            .caller(false)
            .fields(velo::fields!(c = 1)),
    );
    velo!(logger: &l, info, "m", f = 2);
    assert_eq!(
        keys(&entries(&l, &out)[0]),
        ["time", "level", "msg", "c", "f"]
    );
}

#[test]
fn no_time_no_caller_no_fields_is_level_and_msg() {
    let (l, out) = json_logger(velo::Builder::new().timestamp(Timestamp::Off).caller(false));
    velo!(logger: &l, info, "bare");
    l.sync().unwrap();
    assert_eq!(out.lines(), [r#"{"level":"info","msg":"bare"}"#]);
}

/// Seconds and nanoseconds since the epoch of an RFC 3339 UTC timestamp
/// with a fraction of 1 to 9 digits, such as `2026-11-27T17:03:12.123Z`.
fn parse_rfc3339(s: &str) -> Duration {
    let b = s.as_bytes();
    assert!(s.len() >= 20, "{s}");
    // Whole seconds (`Timestamp::Secs`) have no `.` and no fraction.
    let point = if s.len() == 20 { b'Z' } else { b'.' };
    assert_eq!(
        (b[4], b[7], b[10], b[13], b[16], b[19], b[s.len() - 1]),
        (b'-', b'-', b'T', b':', b':', point, b'Z'),
        "{s}"
    );
    let num = |range: std::ops::Range<usize>| -> u64 { s[range].parse().unwrap() };
    let (y, m, d) = (num(0..4), num(5..7), num(8..10));
    // Days from civil (Howard Hinnant's algorithm), for years after 1970.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + num(11..13) * 3600 + num(14..16) * 60 + num(17..19);
    let frac = s.get(20..s.len() - 1).unwrap_or("");
    let nanos: u32 = format!("{frac:0<9}").parse().unwrap();
    Duration::new(secs, nanos)
}

fn since_epoch(t: SystemTime) -> Duration {
    t.duration_since(UNIX_EPOCH).unwrap()
}

/// How far velo's clock may be from `SystemTime::now`: it reads the CPU's
/// time-stamp counter anchored to the system clock every second, which
/// keeps it within tens of microseconds.
const CLOCK_TOLERANCE: Duration = Duration::from_millis(1);

/// Asserts `t` lies in `[before, after]`, allowing for the truncation to
/// the mode's precision and for the clock tolerance.
fn assert_between(before: Duration, t: Duration, after: Duration, precision: Duration) {
    assert!(
        before.saturating_sub(precision + CLOCK_TOLERANCE) <= t && t <= after + CLOCK_TOLERANCE,
        "{before:?} <= {t:?} <= {after:?}"
    );
}

#[test]
fn timestamp_widths() {
    for (mode, digits, precision) in [
        (Timestamp::Secs, 0, Duration::from_secs(1)),
        (Timestamp::Millis, 3, Duration::from_millis(1)),
        (Timestamp::Micros, 6, Duration::from_micros(1)),
        (Timestamp::Nanos, 9, Duration::from_nanos(1)),
    ] {
        let (l, out) = json_logger(velo::Builder::new().timestamp(mode));
        let before = since_epoch(SystemTime::now());
        velo!(logger: &l, info, "m");
        velo!(logger: &l, info, "m");
        let after = since_epoch(SystemTime::now());
        for e in entries(&l, &out) {
            assert_eq!(keys(&e)[0], "time");
            let time = e["time"].as_str().unwrap();
            let point = usize::from(digits > 0);
            assert_eq!(
                time.len(),
                "YYYY-MM-DDTHH:MM:SS".len() + point + digits + 1,
                "{mode:?}: {time}"
            );
            assert!(
                time[19 + point..19 + point + digits]
                    .bytes()
                    .all(|b| b.is_ascii_digit()),
                "{time}"
            );
            assert_between(before, parse_rfc3339(time), after, precision);
        }
    }
}

#[test]
fn default_timestamp_is_micros() {
    let (l, out) = json_logger(velo::Builder::new());
    velo!(logger: &l, info, "m");
    let time = entries(&l, &out)[0]["time"].as_str().unwrap().to_owned();
    assert_eq!(time.len(), "2026-11-27T17:03:12.123456Z".len(), "{time}");
}

#[test]
fn unix_nanos_is_a_number_close_to_now() {
    let (l, out) = json_logger(velo::Builder::new().timestamp(Timestamp::UnixNanos));
    let before = since_epoch(SystemTime::now());
    velo!(logger: &l, info, "m", x = 1);
    let after = since_epoch(SystemTime::now());
    let e = &entries(&l, &out)[0];
    assert_eq!(keys(e), ["time", "level", "msg", "caller", "x"]);
    let nanos = e["time"]
        .as_u64()
        .unwrap_or_else(|| panic!("time is not an integer: {}", e["time"]));
    let t = Duration::from_nanos(nanos);
    assert_between(before, t, after, Duration::ZERO);
}
