//! Entries reach a real rsyslogd over UDP, TCP and its unix socket, which
//! parses each header as RFC 5424: facility user, the level's severity,
//! the entry's time, APP-NAME, PROCID, and the JSON line as MSG. A `fatal`
//! entry, written just before the process exits, arrives as `crit`.
//!
//! Needs rsyslogd: `cargo test -p velo-tests --features rsyslog`.

#![cfg(feature = "rsyslog")]

use serde_json::{Map, Value};
use std::time::Duration;
use velo::{velo, Builder, Format, Level, Logger, Syslog};
use velo_tests::rsyslog::Rsyslogd;
use velo_tests::{is_child, parse_line, run_child};

const TIMEOUT: Duration = Duration::from_secs(10);

fn logger(app: &str, syslog: Syslog) -> Logger {
    Builder::new()
        .level(Level::Trace)
        .format(Format::Json)
        .app_name(app)
        .syslog(syslog)
        .build()
        .unwrap()
}

/// Logs one entry per level but fatal, then waits for them in rsyslogd's
/// file and checks what rsyslogd made of each.
fn check_levels(rsyslogd: &Rsyslogd, app: &str, input: &str, syslog: Syslog) {
    let logger = logger(app, syslog);
    let quote = "say \"hi\"\n\tand \\ bye";
    velo!(logger: &logger, trace, "t", quote);
    velo!(logger: &logger, debug, "d", quote);
    velo!(logger: &logger, info, "i", quote);
    velo!(logger: &logger, warn, "w", quote);
    velo!(logger: &logger, error, "e", quote);
    logger.sync().unwrap();
    let lines = rsyslogd.wait_for(TIMEOUT, |lines| {
        lines.iter().filter(|l| l["app"] == app).count() >= 5
    });
    let ours: Vec<&Map<String, Value>> = lines.iter().filter(|l| l["app"] == app).collect();
    let expected = [
        ("t", 7, "debug"),
        ("d", 7, "debug"),
        ("i", 6, "info"),
        ("w", 4, "warning"),
        ("e", 3, "err"),
    ];
    assert_eq!(ours.len(), expected.len(), "{lines:?}");
    let pid = std::process::id().to_string();
    for (line, (msg, sev, sev_name)) in ours.iter().zip(expected) {
        assert_eq!(line["input"], input);
        assert_eq!(line["ver"], "1");
        assert_eq!(
            (&line["fac"], &line["fac_name"]),
            (&1.into(), &"user".into())
        );
        assert_eq!(
            (&line["sev"], &line["sev_name"]),
            (&sev.into(), &sev_name.into())
        );
        assert_eq!(line["procid"], pid.as_str());
        assert_eq!((&line["msgid"], &line["sd"]), (&"-".into(), &"-".into()));
        assert_eq!(line["host"], velo_tests::syslog::hostname().as_str());
        let entry = parse_line(line["msg"].as_str().unwrap());
        assert_eq!(entry["msg"], msg);
        assert_eq!(entry["quote"], quote);
        // rsyslogd read the header's time, which is the entry's.
        assert_eq!(line["ts"], entry["time"], "{line:?}");
    }
    let stats = logger.stats();
    assert_eq!(
        (stats.written, stats.dropped, stats.write_errors),
        (5, 0, 0)
    );
}

#[test]
fn udp_entries_reach_rsyslogd() {
    let rsyslogd = Rsyslogd::start();
    check_levels(
        &rsyslogd,
        "velo-udp",
        "imudp",
        Syslog::udp(rsyslogd.udp_addr()),
    );
}

#[test]
fn tcp_entries_reach_rsyslogd() {
    let rsyslogd = Rsyslogd::start();
    check_levels(
        &rsyslogd,
        "velo-tcp",
        "imtcp",
        Syslog::tcp(rsyslogd.tcp_addr()),
    );
}

#[test]
fn unix_socket_entries_reach_rsyslogd() {
    let rsyslogd = Rsyslogd::start();
    check_levels(
        &rsyslogd,
        "velo-unix",
        "imuxsock",
        Syslog::unix(rsyslogd.socket()),
    );
}

/// The child: a fatal entry over TCP, then exit(1).
#[test]
fn fatal_child() {
    if !is_child("fatal_child") {
        return;
    }
    let addr = std::env::var("VELO_SYSLOG_ADDR").unwrap();
    let logger = logger("velo-fatal", Syslog::tcp(addr));
    velo!(logger: &logger, info, "before");
    velo!(logger: &logger, fatal, "cannot go on", code = 7); // exits
}

#[test]
fn fatal_arrives_as_crit_before_the_process_exits() {
    let rsyslogd = Rsyslogd::start();
    let output = run_child("fatal_child", &[("VELO_SYSLOG_ADDR", &rsyslogd.tcp_addr())]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let lines = rsyslogd.wait_for(TIMEOUT, |lines| lines.len() >= 2);
    let got: Vec<(String, u64)> = lines
        .iter()
        .map(|l| {
            let entry = parse_line(l["msg"].as_str().unwrap());
            (
                entry["msg"].as_str().unwrap().to_owned(),
                l["sev"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [("before".to_owned(), 6), ("cannot go on".to_owned(), 2)]
    );
    assert_eq!(lines[1]["sev_name"], "crit");
    assert_ne!(lines[1]["procid"], std::process::id().to_string().as_str());
}
