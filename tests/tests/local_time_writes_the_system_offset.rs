//! `Builder::local_time(true)` writes timestamps in the system's time zone
//! (here set through `TZ` in a child process) with its offset, for the
//! same instant as the system clock; without it, or in UTC, the offset is
//! `Z` or `+00:00`.

use std::time::{SystemTime, UNIX_EPOCH};
use velo::{velo, Builder, Format, Timestamp};
use velo_tests::{is_child, json_lines, run_child};

fn unix_nanos() -> i128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos()
        .try_into()
        .unwrap()
}

#[test]
fn child_logs_in_local_time() {
    if !is_child("child_logs_in_local_time") {
        return;
    }
    for (local, timestamp) in [
        (true, Timestamp::Micros),
        (true, Timestamp::Millis),
        (true, Timestamp::Nanos),
        (false, Timestamp::Micros),
    ] {
        let l = Builder::new()
            .local_time(local)
            .timestamp(timestamp)
            .format(Format::Json)
            .stderr()
            .build()
            .unwrap();
        let before = unix_nanos();
        velo!(logger: &l, info, "now", local, before = before as u64);
        l.sync().unwrap();
        eprintln!("after={}", unix_nanos());
    }
}

/// The child's entries, each with the `after` clock reading printed
/// after it.
fn run(tz: &str) -> Vec<(serde_json::Map<String, serde_json::Value>, i128)> {
    let out = run_child("child_logs_in_local_time", &[("TZ", tz)]);
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    let afters: Vec<i128> = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("after="))
        .map(|n| n.parse().unwrap())
        .collect();
    let entries = json_lines(stderr.as_bytes());
    assert_eq!(entries.len(), 4, "{stderr}");
    entries.into_iter().zip(afters).collect()
}

/// Checks each entry's offset suffix and that its instant lies between the
/// clock readings around the call (less the truncated digits, plus a
/// margin for the calibrated clock velo reads).
fn check(tz: &str, offset: &str) {
    for (i, (e, after)) in run(tz).into_iter().enumerate() {
        let time = e["time"].as_str().unwrap();
        let local = e["local"].as_bool().unwrap();
        let suffix = if local { offset } else { "Z" };
        assert!(time.ends_with(suffix), "TZ={tz}: {time} ends in {suffix}");
        let digits = [6, 3, 9, 6][i];
        let fraction = time.split_once('.').unwrap().1;
        assert_eq!(fraction.len() - suffix.len(), digits, "{time}");
        let at = time.parse::<jiff::Timestamp>().unwrap().as_nanosecond();
        let before = i128::from(e["before"].as_u64().unwrap());
        let margin = 50_000_000;
        assert!(
            before - 1_000_000 - margin <= at && at <= after + margin,
            "TZ={tz}: {time} is not between {before} and {after}"
        );
    }
}

#[test]
fn kolkata_is_plus_05_30() {
    check("Asia/Kolkata", "+05:30");
}

#[test]
fn a_posix_tz_string_needs_no_database() {
    check("<-0330>3:30", "-03:30");
}

#[test]
fn utc_is_plus_00_00() {
    check("UTC", "+00:00");
}

#[test]
fn an_unknown_zone_is_utc_and_said_once() {
    check("Nowhere/City", "+00:00");
    let out = run_child("child_logs_in_local_time", &[("TZ", "Nowhere/City")]);
    let stderr = String::from_utf8(out.stderr).unwrap();
    let said: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("velo: local_time(true)"))
        .collect();
    assert_eq!(said.len(), 1, "{stderr}");
    assert!(said[0].contains("TZ=\"Nowhere/City\""), "{}", said[0]);
}
