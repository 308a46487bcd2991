//! A field whose key velo writes itself in the same line (a schema's name
//! such as `message` under ECS; the time's and the caller's keys when the
//! line shows them; `target`, `suppressed` and `backtrace` when the entry
//! has them) keeps its value under `fields.KEY`, so no key appears twice in
//! a line. Where velo does not write the key in that line, it is left
//! alone.

use velo::{velo, Builder, Format, Level, Schema, Timestamp};
use velo_tests::{json_logger, raw_keys, text_keys, Capture};

fn logger(schema: Schema) -> (velo::Logger, Capture) {
    json_logger(
        Builder::new()
            .schema(schema)
            .timestamp(Timestamp::Off)
            .caller(false),
    )
}

/// The lines written, each checked for a key written twice.
fn lines(l: &velo::Logger, out: &Capture) -> Vec<String> {
    l.sync().unwrap();
    let lines = out.lines();
    for line in &lines {
        let keys = raw_keys(line);
        for (i, k) in keys.iter().enumerate() {
            assert!(!keys[i + 1..].contains(k), "`{k}` twice in {line}");
        }
    }
    lines
}

#[test]
fn schema_names_in_calls_contexts_and_scopes() {
    let (l, out) = logger(Schema::Ecs);
    let child = l.with(velo::fields!("@timestamp" = "ctx", "log.level" = "ctx"));
    velo::scope(velo::fields!("ecs.version" = "scope"), || {
        velo!(logger: &child, info, "indexed", message = "call", "log.origin.file.line" = 3, user = 1);
    });
    assert_eq!(
        lines(&l, &out),
        [
            // No time and no caller in this line: `@timestamp` and
            // `log.origin.file.line` are not velo's here, and stay as they are.
            r#"{"log.level":"info","message":"indexed","ecs.version":"8.11.0","@timestamp":"ctx","fields.log.level":"ctx","fields.ecs.version":"scope","fields.message":"call","log.origin.file.line":3,"user":1}"#
        ]
    );

    let (l, out) = logger(Schema::Gcp);
    velo!(logger: &l, warn, "shipped", severity = "high", message = "m", "@timestamp" = 1);
    assert_eq!(
        lines(&l, &out),
        [
            r#"{"severity":"WARNING","message":"shipped","fields.severity":"high","fields.message":"m","@timestamp":1}"#
        ]
    );

    // Under velo's own names, `message` and `severity` are ordinary keys.
    let (l, out) = logger(Schema::Velo);
    velo!(logger: &l, warn, "shipped", severity = "high", message = "m");
    assert_eq!(
        lines(&l, &out),
        [r#"{"level":"warn","msg":"shipped","severity":"high","message":"m"}"#]
    );
}

#[test]
fn target_suppressed_and_backtrace_only_when_the_entry_has_them() {
    let (l, out) = json_logger(
        Builder::new()
            .timestamp(Timestamp::Off)
            .caller(false)
            .backtrace(Level::Error),
    );
    let child = l.with(velo::fields!(target = "db", suppressed = false));
    velo!(logger: &child, target: "audit", every: 1h, info, "with a target");
    velo!(logger: &child, info, "without");
    velo!(logger: &l, warn, "below the backtrace level", backtrace = "mine");
    velo!(logger: &l, error, "at it", backtrace = "mine");
    let lines = lines(&l, &out);
    assert_eq!(
        lines[..3],
        [
            r#"{"level":"info","msg":"with a target","target":"audit","fields.target":"db","suppressed":false}"#,
            r#"{"level":"info","msg":"without","target":"db","suppressed":false}"#,
            r#"{"level":"warn","msg":"below the backtrace level","backtrace":"mine"}"#,
        ]
    );
    let e = velo_tests::parse_line(&lines[3]);
    assert_eq!(e["fields.backtrace"], "mine");
    assert_ne!(e["backtrace"], "mine", "velo's own backtrace");
}

#[test]
fn an_explicit_fields_dot_key_wins_over_a_renamed_one() {
    let (l, out) = logger(Schema::Ecs);
    velo!(logger: &l, info, "both", message = "renamed", "fields.message" = "explicit");
    assert_eq!(
        lines(&l, &out),
        [
            r#"{"log.level":"info","message":"both","ecs.version":"8.11.0","fields.message":"explicit"}"#
        ]
    );
}

#[test]
fn between_layers_the_innermost_wins_renamed_or_not() {
    let (l, out) = logger(Schema::Ecs);
    // The call's `message`, renamed, over an outer explicit `fields.message`.
    velo::scope(velo::fields!("fields.message" = "scope"), || {
        velo!(logger: &l, info, "call over scope", message = "call");
    });
    let child = l.with(velo::fields!("fields.message" = "context"));
    velo!(logger: &child, info, "call over context", message = "call");
    velo::scope(velo::fields!(message = "scope"), || {
        velo!(logger: &child, info, "scope over context");
    });
    // An inner explicit `fields.message` over an outer renamed `message`.
    let renamed = l.with(velo::fields!(message = "context"));
    velo::scope(velo::fields!("fields.message" = "scope"), || {
        velo!(logger: &renamed, info, "explicit scope over context");
    });
    velo!(logger: &renamed, info, "explicit call over context", "fields.message" = "call");
    assert_eq!(
        lines(&l, &out),
        [
            r#"{"log.level":"info","message":"call over scope","ecs.version":"8.11.0","fields.message":"call"}"#,
            r#"{"log.level":"info","message":"call over context","ecs.version":"8.11.0","fields.message":"call"}"#,
            r#"{"log.level":"info","message":"scope over context","ecs.version":"8.11.0","fields.message":"scope"}"#,
            r#"{"log.level":"info","message":"explicit scope over context","ecs.version":"8.11.0","fields.message":"scope"}"#,
            r#"{"log.level":"info","message":"explicit call over context","ecs.version":"8.11.0","fields.message":"call"}"#,
        ]
    );
}

/// A child logger's context is its parent's merged with its own fields,
/// and nested scopes merge too: within such a layer, the fields of the
/// inner logger or scope come later, and win, renamed or not.
#[test]
fn within_merged_contexts_and_scopes_the_inner_wins_renamed_or_not() {
    let (l, out) = logger(Schema::Ecs);
    // The inner `message`, renamed, over the outer explicit
    // `fields.message`...
    let child = l.with(velo::fields!("fields.message" = "parent"));
    let grandchild = child.with(velo::fields!(message = "child"));
    velo!(logger: &grandchild, info, "child over parent");
    velo::scope(velo::fields!("fields.message" = "outer"), || {
        velo::scope(velo::fields!(message = "inner"), || {
            velo!(logger: &l, info, "inner scope over outer");
        })
    });
    // ... and the inner explicit one over the outer renamed one.
    let child = l.with(velo::fields!(message = "parent"));
    let grandchild = child.with(velo::fields!("fields.message" = "child"));
    velo!(logger: &grandchild, info, "explicit child over parent");
    velo::scope(velo::fields!(message = "outer"), || {
        velo::scope(velo::fields!("fields.message" = "inner"), || {
            velo!(logger: &l, info, "explicit inner scope over outer");
        })
    });
    assert_eq!(
        lines(&l, &out),
        [
            r#"{"log.level":"info","message":"child over parent","ecs.version":"8.11.0","fields.message":"child"}"#,
            r#"{"log.level":"info","message":"inner scope over outer","ecs.version":"8.11.0","fields.message":"inner"}"#,
            r#"{"log.level":"info","message":"explicit child over parent","ecs.version":"8.11.0","fields.message":"child"}"#,
            r#"{"log.level":"info","message":"explicit inner scope over outer","ecs.version":"8.11.0","fields.message":"inner"}"#,
        ]
    );

    // The builder's fields and a child's, with `target:`.
    let (l, out) = json_logger(
        Builder::new()
            .timestamp(Timestamp::Off)
            .caller(false)
            .fields(velo::fields!("fields.target" = "builder")),
    );
    let child = l.with(velo::fields!(target = "child"));
    velo!(logger: &child, target: "audit", info, "T");
    assert_eq!(
        lines(&l, &out),
        [r#"{"level":"info","msg":"T","target":"audit","fields.target":"child"}"#]
    );
}

#[test]
fn text_format_too() {
    let (l, out) = velo_tests::text_logger(Builder::new().timestamp(Timestamp::Off).caller(false));
    let child = l.with(velo::fields!(target = "db"));
    velo!(logger: &child, target: "audit", info, "login", user = 7);
    velo!(logger: &child, info, "plain");
    l.sync().unwrap();
    let lines = out.lines();
    assert_eq!(
        lines,
        [
            "INFO  login target=audit fields.target=db user=7",
            "INFO  plain target=db"
        ]
    );
    assert_eq!(text_keys(&lines[0]), ["target", "fields.target", "user"]);
}

#[test]
fn bridged_log_records_with_velo_names() {
    let out = Capture::new();
    Builder::new()
        .format(Format::Json)
        .timestamp(Timestamp::Off)
        .caller(false)
        .writer(out.clone())
        .install()
        .unwrap();
    velo::bridge_log().unwrap();
    log::info!(msg = "kv", level = 3, time = 1, user = 1, user = 2; "from log");
    velo::sync().unwrap();
    let lines = out.lines();
    assert_eq!(
        lines,
        [
            r#"{"level":"info","msg":"from log","fields.msg":"kv","fields.level":3,"time":1,"user":2}"#
        ]
    );
}

/// One scope's fields, formatted once and reused, are renamed in the
/// entries that have a built-in key of the same name and only in those,
/// whatever the order the entries come in.
#[test]
fn a_reused_block_is_renamed_only_where_its_keys_clash() {
    let (l, out) = logger(Schema::Velo);
    velo::scope(velo::fields!(target = "scope's", n = 1), || {
        for _ in 0..3 {
            velo!(logger: &l, info, "plain");
            velo!(logger: &l, target: "audit", info, "targeted");
            velo!(logger: &l, every: 1ms, info, "limited");
        }
    });
    let lines = lines(&l, &out);
    for line in &lines {
        let e = velo_tests::parse_line(line);
        if e["msg"] == "targeted" {
            assert_eq!(e["target"], "audit", "{line}");
            assert_eq!(e["fields.target"], "scope's", "{line}");
        } else {
            assert_eq!(e["target"], "scope's", "{line}");
            assert!(!e.contains_key("fields.target"), "{line}");
        }
    }
    assert!(lines.len() >= 7, "{lines:?}");
}

#[test]
fn the_times_and_the_callers_keys_only_when_the_line_shows_them() {
    let key_fields = velo::fields!("@timestamp" = "mine", "log.origin.file.name" = "mine.rs");
    let (on, on_out) = json_logger(
        Builder::new()
            .schema(Schema::Ecs)
            .fields(key_fields.clone()),
    );
    let (off, off_out) = json_logger(
        Builder::new()
            .schema(Schema::Ecs)
            .timestamp(Timestamp::Off)
            .caller(false)
            .fields(key_fields),
    );
    velo!(logger: &on, info, "shown");
    velo!(logger: &off, info, "not shown");
    let on = velo_tests::parse_line(&lines(&on, &on_out)[0]);
    let off = velo_tests::parse_line(&lines(&off, &off_out)[0]);
    assert_eq!(on["fields.@timestamp"], "mine");
    assert_ne!(on["@timestamp"], "mine", "velo's own time");
    assert_eq!(on["fields.log.origin.file.name"], "mine.rs");
    assert_eq!(off["@timestamp"], "mine");
    assert_eq!(off["log.origin.file.name"], "mine.rs");
    assert!(!off.contains_key("fields.@timestamp"), "{off:?}");
}
