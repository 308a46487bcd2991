//! Every `velo::Value` impl listed in DESIGN.md encodes as the JSON value a
//! reader expects, and the line stays valid JSON (non-finite floats become
//! strings). 128-bit integers are also checked in the raw line, since
//! serde_json reads numbers beyond 64 bits as floats.

use serde_json::{json, Map, Value as Json};
use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::num::{
    NonZeroI128, NonZeroI16, NonZeroI32, NonZeroI64, NonZeroI8, NonZeroIsize, NonZeroU128,
    NonZeroU16, NonZeroU32, NonZeroU64, NonZeroU8, NonZeroUsize,
};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use velo::velo;
use velo_tests::{json_logger, Capture};

/// A JSON logger without time and caller, so entries hold only `level`,
/// `msg` and the call's fields.
fn logger() -> (velo::Logger, Capture) {
    json_logger(
        velo::Builder::new()
            .timestamp(velo::Timestamp::Off)
            .caller(false),
    )
}

/// The one line written so far, and its fields after `level` and `msg`.
fn only_entry(logger: &velo::Logger, out: &Capture) -> (String, Map<String, Json>) {
    logger.sync().unwrap();
    let lines = out.lines();
    assert_eq!(lines.len(), 1, "{lines:#?}");
    let mut entry = velo_tests::parse_line(&lines[0]);
    assert_eq!(entry.shift_remove("level"), Some(json!("info")));
    assert_eq!(entry.shift_remove("msg"), Some(json!("m")));
    (lines[0].clone(), entry)
}

/// The raw JSON text of a number field, as written.
fn raw_number<'a>(line: &'a str, key: &str) -> &'a str {
    let needle = format!("\"{key}\":");
    let start = line
        .find(&needle)
        .unwrap_or_else(|| panic!("no {key} in {line}"))
        + needle.len();
    let rest = &line[start..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    &rest[..end]
}

fn assert_fields(actual: &Map<String, Json>, expected: Json) {
    let Json::Object(expected) = expected else {
        panic!("expected an object")
    };
    assert_eq!(
        actual.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>()
    );
    for (key, want) in &expected {
        assert_eq!(&actual[key], want, "field {key}");
    }
}

#[test]
fn integers_at_their_extremes() {
    let (l, out) = logger();
    velo!(logger: &l, info, "m",
        u8_max = u8::MAX, u16_max = u16::MAX, u32_max = u32::MAX, u64_max = u64::MAX,
        usize_max = usize::MAX, u8_zero = 0u8,
        i8_min = i8::MIN, i8_max = i8::MAX, i16_min = i16::MIN, i16_max = i16::MAX,
        i32_min = i32::MIN, i32_max = i32::MAX, i64_min = i64::MIN, i64_max = i64::MAX,
        isize_min = isize::MIN, isize_max = isize::MAX, minus_one = -1i32,
        u128_small = 5u128, i128_small = -5i128,
        u128_max = u128::MAX, i128_min = i128::MIN, i128_max = i128::MAX,
    );
    let (line, mut entry) = only_entry(&l, &out);
    // serde_json reads integers beyond 64 bits as floats: check their digits.
    for (key, digits) in [
        ("u128_max", u128::MAX.to_string()),
        ("i128_min", i128::MIN.to_string()),
        ("i128_max", i128::MAX.to_string()),
    ] {
        assert!(entry.shift_remove(key).unwrap().is_number(), "field {key}");
        assert_eq!(raw_number(&line, key), digits, "field {key}");
    }
    assert_fields(
        &entry,
        json!({
            "u8_max": 255, "u16_max": 65535, "u32_max": 4_294_967_295u32, "u64_max": u64::MAX,
            "usize_max": usize::MAX, "u8_zero": 0,
            "i8_min": -128, "i8_max": 127, "i16_min": -32768, "i16_max": 32767,
            "i32_min": i32::MIN, "i32_max": i32::MAX, "i64_min": i64::MIN, "i64_max": i64::MAX,
            "isize_min": isize::MIN, "isize_max": isize::MAX, "minus_one": -1,
            "u128_small": 5, "i128_small": -5,
        }),
    );
}

#[test]
fn nonzero_integers_are_their_value() {
    let (l, out) = logger();
    velo!(logger: &l, info, "m",
        u8 = NonZeroU8::MAX, u16 = NonZeroU16::MIN, u32 = NonZeroU32::new(7).unwrap(),
        u64 = NonZeroU64::MAX, u128 = NonZeroU128::MAX, usize = NonZeroUsize::new(9).unwrap(),
        i8 = NonZeroI8::MIN, i16 = NonZeroI16::new(-3).unwrap(), i32 = NonZeroI32::MAX,
        i64 = NonZeroI64::MIN, i128 = NonZeroI128::MIN, isize = NonZeroIsize::new(-1).unwrap(),
    );
    let (line, mut entry) = only_entry(&l, &out);
    for (key, digits) in [
        ("u128", u128::MAX.to_string()),
        ("i128", i128::MIN.to_string()),
    ] {
        assert!(entry.shift_remove(key).unwrap().is_number(), "field {key}");
        assert_eq!(raw_number(&line, key), digits, "field {key}");
    }
    assert_fields(
        &entry,
        json!({
            "u8": 255, "u16": 1, "u32": 7, "u64": u64::MAX, "usize": 9,
            "i8": -128, "i16": -3, "i32": i32::MAX, "i64": i64::MIN, "isize": -1,
        }),
    );
}

#[test]
fn floats_and_non_finite_floats() {
    let (l, out) = logger();
    velo!(logger: &l, info, "m",
        f64 = 2.5f64, whole = 1.0f64, neg_zero = -0.0f64, big = 1e300f64, tiny = f64::MIN_POSITIVE,
        max = f64::MAX, min = f64::MIN, third = 1.0f64 / 3.0,
        nan = f64::NAN, inf = f64::INFINITY, neg_inf = f64::NEG_INFINITY,
        f32 = 0.1f32, f32_max = f32::MAX, f32_nan = f32::NAN, f32_inf = f32::INFINITY,
        f32_neg_inf = f32::NEG_INFINITY,
    );
    let (line, entry) = only_entry(&l, &out);
    // serde_json's default float parsing may be off by one ulp, so finite
    // values are read back from the raw text with std's exact parser.
    let finite = [
        ("f64", 2.5),
        ("whole", 1.0),
        ("neg_zero", -0.0),
        ("big", 1e300),
        ("tiny", f64::MIN_POSITIVE),
        ("max", f64::MAX),
        ("min", f64::MIN),
        ("third", 1.0 / 3.0),
    ];
    for (key, want) in finite {
        assert!(
            entry[key].is_f64(),
            "field {key} is a float: {}",
            entry[key]
        );
        let got: f64 = raw_number(&line, key).parse().unwrap();
        assert_eq!(got.to_bits(), want.to_bits(), "field {key}");
    }
    for (key, want) in [("f32", 0.1f32), ("f32_max", f32::MAX)] {
        assert!(
            entry[key].is_f64(),
            "field {key} is a float: {}",
            entry[key]
        );
        let got: f32 = raw_number(&line, key).parse().unwrap();
        assert_eq!(got.to_bits(), want.to_bits(), "field {key}");
    }
    // f32 is written in its own shortest form, not widened to f64 digits;
    // a whole float keeps its fraction so it reads back as a float.
    assert_eq!(raw_number(&line, "f32"), "0.1");
    assert_eq!(raw_number(&line, "whole"), "1.0");
    for (key, want) in [
        ("nan", "NaN"),
        ("inf", "inf"),
        ("neg_inf", "-inf"),
        ("f32_nan", "NaN"),
        ("f32_inf", "inf"),
        ("f32_neg_inf", "-inf"),
    ] {
        assert_eq!(entry[key], want, "field {key}");
    }
    assert_eq!(entry.len(), finite.len() + 8);
}

#[test]
fn bools_chars_and_strings() {
    let (l, out) = logger();
    let owned = String::from("owned \"q\"");
    let borrowed: Cow<'_, str> = Cow::Borrowed("cow borrowed");
    let cow_owned: Cow<'_, str> = Cow::Owned(String::from("cow\nowned"));
    velo!(logger: &l, info, "m",
        yes = true, no = false,
        char = 'x', quote_char = '"', newline_char = '\n', wide_char = '日', esc_char = '\u{1b}',
        str = "plain", empty = "", escaped = "a\\b\t\"c\"",
        string = owned, string_ref = &owned,
        borrowed, cow_owned,
    );
    let (_, entry) = only_entry(&l, &out);
    assert_fields(
        &entry,
        json!({
            "yes": true, "no": false,
            "char": "x", "quote_char": "\"", "newline_char": "\n", "wide_char": "日",
            "esc_char": "\u{1b}",
            "str": "plain", "empty": "", "escaped": "a\\b\t\"c\"",
            "string": "owned \"q\"", "string_ref": "owned \"q\"",
            "borrowed": "cow borrowed", "cow_owned": "cow\nowned",
        }),
    );
}

#[test]
fn options_unit_and_references() {
    let (l, out) = logger();
    let n = 5u8;
    let r = &n;
    let rr = &&n;
    let mut m = 6i16;
    let mutable = &mut m;
    let s = "str";
    let nested: Option<Option<&str>> = Some(None);
    velo!(logger: &l, info, "m",
        some = Some(1u32), none = None::<u32>, some_str = Some("s"), nested,
        unit = (),
        r, rr, rrr = &rr, mutable, str_ref = &s,
    );
    let (_, entry) = only_entry(&l, &out);
    assert_fields(
        &entry,
        json!({
            "some": 1, "none": null, "some_str": "s", "nested": null, "unit": null,
            "r": 5, "rr": 5, "rrr": 5, "mutable": 6, "str_ref": "str",
        }),
    );
}

#[test]
fn smart_pointers() {
    let (l, out) = logger();
    let dynamic: Box<dyn velo::Value> = Box::new(3u8);
    velo!(logger: &l, info, "m",
        boxed = Box::new(1u8), boxed_str = Box::<str>::from("bs"),
        arc = Arc::new(2i64), arc_str = Arc::<str>::from("as"),
        rc = Rc::new(String::from("rc")), rc_slice = Rc::<[u8]>::from(&[1, 2][..]),
        dynamic,
    );
    let (_, entry) = only_entry(&l, &out);
    assert_fields(
        &entry,
        json!({
            "boxed": 1, "boxed_str": "bs", "arc": 2, "arc_str": "as", "rc": "rc",
            "rc_slice": [1, 2], "dynamic": 3,
        }),
    );
}

#[test]
fn durations_in_debug_form() {
    let (l, out) = logger();
    velo!(logger: &l, info, "m",
        ms = Duration::from_micros(1500), secs = Duration::from_secs(2),
        zero = Duration::ZERO, ns = Duration::from_nanos(1),
        mixed = Duration::new(1, 500_000_000), us = Duration::from_nanos(2_500),
    );
    let (_, entry) = only_entry(&l, &out);
    assert_fields(
        &entry,
        json!({
            "ms": "1.5ms", "secs": "2s", "zero": "0ns", "ns": "1ns", "mixed": "1.5s",
            "us": "2.5µs",
        }),
    );
}

/// Seconds and nanoseconds since the epoch of `YYYY-MM-DDTHH:MM:SS.fffffffffZ`.
fn parse_rfc3339(s: &str) -> (i64, u32) {
    let b = s.as_bytes();
    assert_eq!(s.len(), 30, "{s}");
    assert_eq!(
        (b[4], b[7], b[10], b[13], b[16], b[19], b[29]),
        (b'-', b'-', b'T', b':', b':', b'.', b'Z'),
        "{s}"
    );
    let num = |range: std::ops::Range<usize>| s[range].parse::<i64>().unwrap();
    let (y, m, d) = (num(0..4), num(5..7), num(8..10));
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + num(11..13) * 3600 + num(14..16) * 60 + num(17..19);
    (secs, num(20..29) as u32)
}

#[test]
fn system_times_are_rfc3339_and_parse_back() {
    let (l, out) = logger();
    let half = UNIX_EPOCH + Duration::from_millis(1500);
    let recent = UNIX_EPOCH + Duration::new(1_795_798_992, 123_456_789);
    let leap_day = UNIX_EPOCH + Duration::new(951_782_400, 5);
    velo!(logger: &l, info, "m", epoch = UNIX_EPOCH, half, recent, leap_day);
    let (_, entry) = only_entry(&l, &out);
    assert_fields(
        &entry,
        json!({
            "epoch": "1970-01-01T00:00:00.000000000Z",
            "half": "1970-01-01T00:00:01.500000000Z",
            "recent": "2026-11-27T17:03:12.123456789Z",
            "leap_day": "2000-02-29T00:00:00.000000005Z",
        }),
    );
    for (key, t) in [
        ("epoch", UNIX_EPOCH),
        ("half", half),
        ("recent", recent),
        ("leap_day", leap_day),
    ] {
        let d = t.duration_since(UNIX_EPOCH).unwrap();
        let secs = i64::try_from(d.as_secs()).unwrap();
        assert_eq!(
            parse_rfc3339(entry[key].as_str().unwrap()),
            (secs, d.subsec_nanos()),
            "field {key}"
        );
    }
}

#[test]
fn system_time_now_parses_back_to_now() {
    let (l, out) = logger();
    let now = SystemTime::now();
    velo!(logger: &l, info, "m", now);
    let (_, entry) = only_entry(&l, &out);
    let d = now.duration_since(UNIX_EPOCH).unwrap();
    let secs = i64::try_from(d.as_secs()).unwrap();
    assert_eq!(
        parse_rfc3339(entry["now"].as_str().unwrap()),
        (secs, d.subsec_nanos())
    );
}

#[test]
fn system_time_before_the_epoch_is_not_the_epoch() {
    let (l, out) = logger();
    let Some(before) = UNIX_EPOCH.checked_sub(Duration::from_millis(500)) else {
        return; // a platform whose SystemTime cannot go before 1970
    };
    let moon = UNIX_EPOCH - Duration::from_secs(14_159_040); // 1969-07-21T02:56:00Z
    velo!(logger: &l, info, "m", before, moon);
    let (_, entry) = only_entry(&l, &out);
    assert_fields(
        &entry,
        json!({
            "before": "1969-12-31T23:59:59.500000000Z",
            "moon": "1969-07-21T02:56:00.000000000Z",
        }),
    );
    assert_eq!(
        parse_rfc3339(entry["moon"].as_str().unwrap()),
        (-14_159_040, 0)
    );
}

#[test]
fn system_time_beyond_year_9999_is_clamped() {
    let (l, out) = logger();
    let last = UNIX_EPOCH + Duration::new(253_402_300_799, 999_999_999);
    let beyond = UNIX_EPOCH + Duration::from_secs(253_402_300_800); // 10000-01-01
    velo!(logger: &l, info, "m", last, beyond);
    let (_, entry) = only_entry(&l, &out);
    assert_fields(
        &entry,
        json!({
            "last": "9999-12-31T23:59:59.999999999Z",
            "beyond": "9999-12-31T23:59:59.999999999Z",
        }),
    );
}

#[test]
fn addresses() {
    let (l, out) = logger();
    let v4 = Ipv4Addr::new(10, 0, 0, 1);
    let v6 = Ipv6Addr::LOCALHOST;
    velo!(logger: &l, info, "m",
        ip4 = IpAddr::V4(v4), ip6 = IpAddr::V6(v6), v4, v6,
        sock4 = SocketAddr::from((v4, 80)), sock6 = SocketAddr::from((v6, 8080)),
        sockv4 = SocketAddrV4::new(v4, 1), sockv6 = SocketAddrV6::new(v6, 2, 0, 0),
    );
    let (_, entry) = only_entry(&l, &out);
    assert_fields(
        &entry,
        json!({
            "ip4": "10.0.0.1", "ip6": "::1", "v4": "10.0.0.1", "v6": "::1",
            "sock4": "10.0.0.1:80", "sock6": "[::1]:8080", "sockv4": "10.0.0.1:1",
            "sockv6": "[::1]:2",
        }),
    );
}

#[test]
fn paths() {
    let (l, out) = logger();
    let path = Path::new("/var/log/a b\"c\".log");
    let buf = PathBuf::from("relative/dir");
    velo!(logger: &l, info, "m", path, buf, buf_ref = &buf, empty = PathBuf::new());
    let (_, entry) = only_entry(&l, &out);
    assert_fields(
        &entry,
        json!({
            "path": "/var/log/a b\"c\".log", "buf": "relative/dir", "buf_ref": "relative/dir",
            "empty": "",
        }),
    );
}

#[cfg(unix)]
#[test]
fn non_utf8_path_is_lossy() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt as _;
    let (l, out) = logger();
    let path = PathBuf::from(OsStr::from_bytes(b"/tmp/bad\xffname\xc3"));
    velo!(logger: &l, info, "m", path);
    let (_, entry) = only_entry(&l, &out);
    assert_fields(&entry, json!({ "path": "/tmp/bad\u{fffd}name\u{fffd}" }));
    assert_eq!(entry["path"], path.to_string_lossy().as_ref());
}

#[test]
fn arrays_slices_and_vecs() {
    let (l, out) = logger();
    let v = vec![1u16, 2, 3];
    let slice: &[u16] = &v[1..];
    let strings = vec!["a\"b", "c\nd"];
    let owned = vec![String::from("x")];
    let nested = vec![vec![1u8], vec![], vec![2, 3]];
    let deep = vec![vec![vec!["deep"]]];
    let options = [Some(1i8), None];
    velo!(logger: &l, info, "m",
        array = [1i32, -2, 3], empty_array = [0u8; 0], v, slice, strings, owned,
        empty_vec = Vec::<u8>::new(), nested, deep, options,
        floats = [f64::NAN, 1.5], pairs = [[1u8, 2], [3, 4]],
    );
    let (_, entry) = only_entry(&l, &out);
    assert_fields(
        &entry,
        json!({
            "array": [1, -2, 3], "empty_array": [], "v": [1, 2, 3], "slice": [2, 3],
            "strings": ["a\"b", "c\nd"], "owned": ["x"], "empty_vec": [],
            "nested": [[1], [], [2, 3]], "deep": [[["deep"]]], "options": [1, null],
            "floats": ["NaN", 1.5], "pairs": [[1, 2], [3, 4]],
        }),
    );
}

#[test]
fn format_args_is_a_string() {
    let (l, out) = logger();
    let n = 7;
    velo!(logger: &l, info, "m",
        formatted = format_args!("{n}-{}\n{:?}", "x", "q\""),
        constant = format_args!("no \"args\""),
        empty = format_args!(""),
    );
    let (_, entry) = only_entry(&l, &out);
    assert_fields(
        &entry,
        json!({ "formatted": "7-x\n\"q\\\"\"", "constant": "no \"args\"", "empty": "" }),
    );
}

/// A user type encoded as a number.
struct UserId(u64);

impl velo::Value for UserId {
    fn encode(&self, e: &mut velo::Encoder<'_>) {
        e.u64(self.0);
    }
}

/// A user type encoded as an escaped string through `Display`.
struct Name<'a>(&'a str);

impl velo::Value for Name<'_> {
    fn encode(&self, e: &mut velo::Encoder<'_>) {
        e.display(&format_args!("<{}>", self.0));
    }
}

/// A user type encoded as an array of other values.
struct Team(Vec<UserId>);

impl velo::Value for Team {
    fn encode(&self, e: &mut velo::Encoder<'_>) {
        e.seq(&self.0);
    }
}

/// A user type using the remaining encoder methods.
struct Misc;

impl velo::Value for Misc {
    fn encode(&self, e: &mut velo::Encoder<'_>) {
        e.seq([
            Some(Kind::Null),
            Some(Kind::Debug),
            Some(Kind::Fmt),
            Some(Kind::Time),
            None,
        ]);
    }
}

enum Kind {
    Null,
    Debug,
    Fmt,
    Time,
}

impl velo::Value for Kind {
    fn encode(&self, e: &mut velo::Encoder<'_>) {
        match self {
            Kind::Null => e.null(),
            Kind::Debug => e.debug(&("t", 1)),
            Kind::Fmt => e.fmt(format_args!("{}\u{1b}", 2)),
            Kind::Time => e.system_time(UNIX_EPOCH),
        }
    }
}

#[test]
fn user_types_implementing_value() {
    let (l, out) = logger();
    let name = Name("ada \"l\"");
    velo!(logger: &l, info, "m",
        user = UserId(42), name, team = Team(vec![UserId(1), UserId(2)]),
        users = [UserId(3)], maybe = Some(UserId(4)), misc = Misc,
    );
    let (_, entry) = only_entry(&l, &out);
    assert_fields(
        &entry,
        json!({
            "user": 42, "name": "<ada \"l\">", "team": [1, 2], "users": [3], "maybe": 4,
            "misc": [null, "(\"t\", 1)", "2\u{1b}", "1970-01-01T00:00:00.000000000Z", null],
        }),
    );
}

#[test]
fn level_is_its_lowercase_name() {
    let (l, out) = logger();
    velo!(logger: &l, info, "m", level_value = velo::Level::Warn, fatal = velo::Level::Fatal);
    let (_, entry) = only_entry(&l, &out);
    assert_fields(&entry, json!({ "level_value": "warn", "fatal": "fatal" }));
}
