//! A syslog address that does not parse is an `ErrorKind::Output` error
//! from `build()`, naming the address; `Syslog::udp` and friends never
//! fail. A unix socket in a directory that does not exist is such an
//! error; one that does not exist yet in a directory that does is fine:
//! the daemon may start later.

#![cfg(unix)]

use velo::{Builder, ErrorKind, Syslog};

#[test]
fn bad_addresses_fail_the_build() {
    let long = format!("/tmp/{}", "s".repeat(200));
    // A file where the socket's directory should be.
    let exe = std::env::current_exe().unwrap();
    let under_file = exe.join("log.sock");
    let cases = [
        (Syslog::udp("no port"), "no port"),
        (Syslog::tcp("127.0.0.1"), "127.0.0.1"),
        (Syslog::udp("127.0.0.1:99999"), "99999"),
        (Syslog::tcp(""), "\"\""),
        (Syslog::tcp("[::1:514"), "[::1:514"),
        (Syslog::tcp("127.0.0.1:0"), "port 0 reaches no receiver"),
        (Syslog::udp("[::1]:0"), "port 0"),
        // Well formed, but no such host: said so, not "expected host:port".
        (
            Syslog::udp("nohost.invalid:514"),
            "cannot resolve syslog udp address",
        ),
        (Syslog::unix(&long), "sss"),
        (Syslog::unix("/tmp/a\0b"), "/tmp/a\\0b"),
        (Syslog::unix(""), "empty"),
        (
            Syslog::unix("/nonexistent/velo/log.sock"),
            "/nonexistent/velo",
        ),
        (Syslog::unix(&under_file), exe.to_str().unwrap()),
        // A backlog that cannot hold one message: most entries dropped.
        (Syslog::tcp("127.0.0.1:514").backlog(0), "backlog(0)"),
        (
            Syslog::udp("127.0.0.1:514").max_len(4096).backlog(4095),
            "below max_len (4096 bytes)",
        ),
    ];
    for (syslog, named) in cases {
        let shown = format!("{syslog:?}");
        let err = Builder::new().syslog(syslog).build().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Output, "{shown}: {err}");
        assert!(err.to_string().contains(named), "{shown}: {err}");
    }
}

#[test]
fn good_addresses_build_without_a_receiver() {
    for syslog in [
        Syslog::udp("127.0.0.1:514"),
        Syslog::udp("[::1]:514"),
        Syslog::tcp("localhost:6514"),
        Syslog::unix("/tmp/velo-no-daemon-yet.sock"),
        Syslog::unix("relative.sock"),
        // UDP caps a message at 65,507 bytes whatever `max_len` says: a
        // backlog above that holds one.
        Syslog::udp("127.0.0.1:514")
            .max_len(100_000)
            .backlog(70_000),
    ] {
        let shown = format!("{syslog:?}");
        Builder::new()
            .syslog(syslog)
            .build()
            .unwrap_or_else(|e| panic!("{shown}: {e}"));
    }
}
