//! `Builder::schema` picks the names of the keys velo writes itself: ECS
//! and Google Cloud lines carry exactly the names of the DESIGN table and
//! none of velo's own, GCP severities cover every level (fatal included),
//! and the default schema and the text format are unchanged.

use serde_json::{json, Value as Json};
use velo::{velo, Builder, Format, LevelFilter, Schema, Timestamp};
use velo_tests::{is_child, json_lines, json_logger, keys, raw_keys, run_child};

const FILE: &str = "tests/tests/schemas_rename_the_built_in_keys.rs";

/// Logs one entry at each level but fatal, with a context field and a call
/// field; returns the lines and the line number of the first call (each
/// level's is one more).
fn each_level(schema: Schema) -> (Vec<String>, u32) {
    let (l, out) = json_logger(
        Builder::new()
            .schema(schema)
            .level(LevelFilter::Trace)
            .fields(velo::fields!(service = "api")),
    );
    let line = line!() + 3;
    for n in 0..5 {
        let log = |l: &velo::Logger| match n {
            0 => velo!(logger: l, trace, "at {n}", status = 200),
            1 => velo!(logger: l, debug, "at {n}", status = 200),
            2 => velo!(logger: l, info, "at {n}", status = 200),
            3 => velo!(logger: l, warn, "at {n}", status = 200),
            _ => velo!(logger: l, error, "at {n}", status = 200),
        };
        log(&l);
    }
    l.sync().unwrap();
    (out.lines(), line)
}

fn is_rfc3339_utc(v: &Json) -> bool {
    v.as_str().is_some_and(|s| {
        s.len() == "2026-11-27T17:03:12.123456Z".len()
            && s.ends_with('Z')
            && s.as_bytes()[10] == b'T'
    })
}

#[test]
fn ecs_names() {
    let (lines, line) = each_level(Schema::Ecs);
    assert_eq!(lines.len(), 5);
    for (i, raw) in lines.iter().enumerate() {
        assert_eq!(
            raw_keys(raw),
            [
                "@timestamp",
                "log.level",
                "message",
                "log.origin.file.name",
                "log.origin.file.line",
                "ecs.version",
                "service",
                "status",
                "n"
            ],
            "{raw}"
        );
        let e = velo_tests::parse_line(raw);
        assert!(is_rfc3339_utc(&e["@timestamp"]), "{raw}");
        let level = ["trace", "debug", "info", "warn", "error"][i];
        assert_eq!(e["log.level"], level);
        assert_eq!(e["message"], format!("at {i}"));
        assert_eq!(e["log.origin.file.name"], FILE);
        assert_eq!(
            e["log.origin.file.line"],
            json!(line + i as u32),
            "a number"
        );
        assert_eq!(e["ecs.version"], "8.11.0");
        assert_eq!(e["status"], 200);
    }
}

#[test]
fn gcp_names_and_severities() {
    let (lines, line) = each_level(Schema::Gcp);
    for (i, raw) in lines.iter().enumerate() {
        assert_eq!(
            raw_keys(raw),
            [
                "time",
                "severity",
                "message",
                "logging.googleapis.com/sourceLocation",
                "service",
                "status",
                "n"
            ],
            "{raw}"
        );
        let e = velo_tests::parse_line(raw);
        assert!(is_rfc3339_utc(&e["time"]), "{raw}");
        let severity = ["DEBUG", "DEBUG", "INFO", "WARNING", "ERROR"][i];
        assert_eq!(e["severity"], severity);
        assert_eq!(e["message"], format!("at {i}"));
        assert_eq!(
            e["logging.googleapis.com/sourceLocation"],
            json!({"file": FILE, "line": (line + i as u32).to_string()})
        );
    }
}

#[test]
fn velo_names_are_the_default() {
    let (lines, line) = each_level(Schema::Velo);
    for (i, raw) in lines.iter().enumerate() {
        assert_eq!(
            raw_keys(raw),
            ["time", "level", "msg", "caller", "service", "status", "n"],
            "{raw}"
        );
        let e = velo_tests::parse_line(raw);
        assert_eq!(e["caller"], format!("{FILE}:{}", line + i as u32));
        assert_eq!(e["msg"], format!("at {i}"));
    }
}

#[test]
fn without_time_and_caller_only_their_keys_go() {
    for (schema, expected) in [
        (Schema::Ecs, &["log.level", "message", "ecs.version"][..]),
        (Schema::Gcp, &["severity", "message"][..]),
        (Schema::Velo, &["level", "msg"][..]),
    ] {
        let (l, out) = json_logger(
            Builder::new()
                .schema(schema)
                .timestamp(Timestamp::Off)
                .caller(false),
        );
        velo!(logger: &l, info, "bare");
        l.sync().unwrap();
        let e = &out.entries()[0];
        assert_eq!(keys(e), expected, "{schema:?}");
    }
}

#[test]
fn the_text_format_is_the_same_in_every_schema() {
    let line = |schema: Schema| {
        let (l, out) =
            velo_tests::text_logger(Builder::new().schema(schema).timestamp(Timestamp::Off));
        velo!(logger: &l, warn, "same", a = 1);
        l.sync().unwrap();
        out.lines()
    };
    let velo = line(Schema::Velo);
    assert!(velo[0].starts_with("WARN  same a=1 caller="), "{velo:?}");
    assert_eq!(line(Schema::Ecs), velo);
    assert_eq!(line(Schema::Gcp), velo);
}

#[test]
fn child_logs_fatal_under_gcp() {
    if !is_child("child_logs_fatal_under_gcp") {
        return;
    }
    Builder::new()
        .schema(Schema::Gcp)
        .format(Format::Json)
        .stderr()
        .install()
        .unwrap();
    velo!(fatal, "cannot continue");
}

#[test]
fn fatal_is_critical_under_gcp() {
    let out = run_child("child_logs_fatal_under_gcp", &[]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let entries = json_lines(&out.stderr);
    let last = entries.last().expect("the fatal entry");
    assert_eq!(last["severity"], "CRITICAL");
    assert_eq!(last["message"], "cannot continue");
    assert!(!last.contains_key("level") && !last.contains_key("msg"));
}
