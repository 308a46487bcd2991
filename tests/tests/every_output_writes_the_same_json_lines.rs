//! The worker writes a call site's entry that holds the call's values
//! alone straight into the buffer of an output that keeps lines as they
//! are (a writer, a file), without the decoded entry every other output
//! takes. Both ways write the same bytes: the same calls through a writer
//! and through a rolling file (which takes every line decoded) give the
//! same lines, byte for byte, for values of every kind, hostile strings,
//! templates, targets, child loggers and scopes.

use std::net::Ipv4Addr;
use velo::{velo, Builder, Logger, Rolling, Timestamp};
use velo_tests::{Capture, TempDir};

/// Every kind of call, logged to `logger`.
fn log_all(logger: &Logger) {
    let child = logger.with(velo::fields!(service = "api", shard = 3));
    let hostile = "quote \" backslash \\ newline \n tab \t nul \u{0} bell \u{7} del \u{7f} line sep \u{2028} bidi \u{202e} é 😀";
    for i in 0..50u64 {
        let path = ["/a", "/api/orders", hostile, ""][(i % 4) as usize];
        velo!(logger: logger, info, "plain");
        velo!(logger: logger, warn, "values", user_id = i, neg = -(i as i64), path,
            latency_ms = i as f64 * 0.37, small = 1e-7 * i as f64, big = 1e300, nan = f64::NAN,
            inf = f64::INFINITY, flag = i % 2 == 0, none = None::<u8>, some = Some(i),
            wide = u128::MAX - u128::from(i), narrow = i as u8, single = 1.5f32, ch = 'x');
        velo!(logger: logger, error, "display and debug", peer = %Ipv4Addr::new(10, 0, 0, i as u8), list = ?[i, i + 1]);
        velo!(logger: logger, info, "template {path} took {latency_ms}", path, latency_ms = i as f64 / 8.0);
        velo!(logger: logger, target: "app::audit", info, "targeted", user_id = i);
        velo!(logger: &child, info, "from a child", user_id = i);
        velo::scope(velo::fields!(request = i), || {
            velo!(logger: logger, info, "in a scope", user_id = i);
        });
    }
}

fn build(builder: Builder) -> Logger {
    builder.timestamp(Timestamp::Off).build().expect("valid")
}

#[test]
fn a_writer_and_a_rolling_file_get_the_same_lines() {
    let dir = TempDir::new("every-output-same-json");
    let path = dir.path().join("app.log");
    let captured = Capture::new();
    let through_writer = build(Builder::new().writer(captured.clone()));
    let through_file = build(Builder::new().rolling(Rolling::new(&path)));
    log_all(&through_writer);
    log_all(&through_file);
    through_writer.sync().expect("synced");
    through_file.sync().expect("synced");
    let from_writer = captured.text();
    let from_file = std::fs::read_to_string(&path).expect("log file");
    assert!(from_writer.lines().count() > 300, "{from_writer}");
    for (i, (a, b)) in from_writer.lines().zip(from_file.lines()).enumerate() {
        assert_eq!(a, b, "line {i}");
    }
    assert_eq!(from_writer.lines().count(), from_file.lines().count());
    // Every line is JSON, the plain ones included.
    for line in from_writer.lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    }
}
