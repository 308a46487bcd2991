//! Every bad Builder setting is an error with a message naming the problem,
//! never a panic.

use velo::{Builder, ErrorKind};

#[test]
fn buffer_size_must_be_a_power_of_two() {
    let top = 1usize << (usize::BITS - 1);
    for (size, suggestion) in [
        (1000, "1024".to_owned()),
        (0, velo::DEFAULT_BUFFER_SIZE.to_string()),
        (3, "4".to_owned()),
        (8193, "16384".to_owned()),
        // No power of two above: the largest one is suggested, no overflow.
        (usize::MAX, top.to_string()),
        (top + 1, top.to_string()),
    ] {
        let err = Builder::new().buffer_size(size).build().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BufferSize);
        assert_eq!(
            err.to_string(),
            format!("buffer_size must be a power of two (such as {suggestion}), got {size}")
        );
    }
    for size in [1, 2, 1024, 8192, 1 << 16] {
        assert!(Builder::new()
            .writer(std::io::sink())
            .buffer_size(size)
            .build()
            .is_ok());
    }
}

#[test]
fn the_largest_buffer_size_logs_like_any_other() {
    // Every power of two is a valid size, the largest included: a queue
    // that size holds what its thread's largest ring holds.
    let (logger, out) = velo_tests::json_logger(Builder::new().buffer_size(1 << (usize::BITS - 1)));
    for n in 0..5_000u64 {
        velo::velo!(logger: &logger, info, "big queue", n);
    }
    logger.sync().unwrap();
    let entries = out.entries();
    assert_eq!(entries.len(), 5_000);
    assert!(entries.iter().enumerate().all(|(n, e)| e["n"] == n as u64));
    assert_eq!(logger.stats().dropped, 0);
}

#[test]
fn a_bad_filter_directive_is_named() {
    let cases = [
        ("info,my_app=loud", "my_app=loud"),
        ("span[request]=debug", "span[request]=debug"),
        ("info,,db::=warn", "db::=warn"),
        ("crate=verbose/text", "crate=verbose"),
    ];
    for (spec, part) in cases {
        let err = Builder::new().filter(spec).build().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Filter, "{spec}");
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("invalid filter directive `{part}`")),
            "{msg}"
        );
    }
    let err = Builder::new().filter(" , ").build().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Filter);
    assert!(err.to_string().starts_with("empty filter"), "{err}");
}

#[test]
fn an_unopenable_file_names_the_path() {
    // A missing directory is created; a file where it should be is not.
    let dir = velo_tests::TempDir::new("unopenable");
    std::fs::write(dir.path().join("plain"), "").unwrap();
    let path = dir.path().join("plain").join("deeper").join("app.log");
    let err = Builder::new().file(&path).build().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::File);
    assert_eq!(err.io_kind(), Some(std::io::ErrorKind::NotADirectory));
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("cannot open log file `{}`", path.display())),
        "{msg}"
    );
    assert!(err.io_error().is_some());
}

#[cfg(target_os = "linux")]
#[test]
fn a_directory_that_cannot_be_created_is_named() {
    // Nobody, root included, creates a directory in /proc.
    let path = std::path::Path::new("/proc/velo-no-such-dir/app.log");
    let err = Builder::new().file(path).build().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::File);
    let msg = err.to_string();
    assert!(
        msg.contains("cannot create its directory `/proc/velo-no-such-dir`"),
        "{msg}"
    );
}

#[test]
fn set_filter_rejects_and_keeps_the_old_filter() {
    let logger = Builder::new()
        .filter("warn")
        .writer(std::io::sink())
        .build()
        .unwrap();
    let err = logger.set_filter("debug,x=nope").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Filter);
    assert_eq!(logger.filter().to_string(), "warn");
}

#[test]
fn a_file_logger_appends() {
    let dir = std::env::temp_dir().join(format!("velo-file-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("app.log");
    for round in 0..2u32 {
        let logger = Builder::new()
            .format(velo::Format::Json)
            .file(&path)
            .build()
            .unwrap();
        velo::velo!(logger: &logger, info, "round", round);
    }
    let text = std::fs::read_to_string(&path).unwrap();
    let rounds: Vec<u64> = text
        .lines()
        .map(|l| velo_tests::parse_line(l)["round"].as_u64().unwrap())
        .collect();
    assert_eq!(rounds, [0, 1]);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `Timestamp::UnixNanos` writes the time as a number, which ECS's and
/// Google Cloud's readers misread: refused for their JSON lines, also in
/// an `also` output; fine in velo's schema and in the text format.
#[test]
fn a_number_time_under_a_schema_that_wants_a_string_is_refused() {
    use velo::{Format, Schema, Timestamp};
    let nanos = |schema| {
        Builder::new()
            .schema(schema)
            .timestamp(Timestamp::UnixNanos)
            .format(Format::Json)
            .writer(std::io::sink())
    };
    for schema in [Schema::Ecs, Schema::Gcp] {
        let err = nanos(schema).build().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Output, "{err}");
        assert!(err.to_string().contains("Timestamp::Nanos"), "{err}");
        let err = Builder::new()
            .writer(std::io::sink())
            .also(nanos(schema))
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Output, "{err}");
        assert!(nanos(schema).format(Format::Text).build().is_ok());
        assert!(nanos(schema).timestamp(Timestamp::Nanos).build().is_ok());
    }
    assert!(nanos(Schema::Velo).build().is_ok());
    // An appender gets the time as a `SystemTime`: not refused.
    for schema in [Schema::Ecs, Schema::Gcp] {
        let appender = Builder::new()
            .schema(schema)
            .timestamp(Timestamp::UnixNanos)
            .appender(|_: &velo::Record<'_>| Ok(()))
            .build();
        assert!(appender.is_ok(), "{:?}", appender.err());
    }
    // journald's records carry the time their own way: not refused.
    #[cfg(unix)]
    {
        let dir = velo_tests::TempDir::new("journald-nanos");
        let journald = Builder::new()
            .schema(Schema::Ecs)
            .timestamp(Timestamp::UnixNanos)
            .journald_at(dir.path().join("socket"))
            .build();
        if let Err(e) = journald {
            assert!(!e.to_string().contains("UnixNanos"), "{e}");
        }
    }
}

#[test]
fn child_opens_the_terminal_without_one() {
    if !velo_tests::is_child("child_opens_the_terminal_without_one") {
        return;
    }
    let err = Builder::new().file("/dev/tty").build().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::File);
    assert!(err.to_string().contains("no controlling terminal"), "{err}");
}

/// `.file("/dev/tty")` in a process without a terminal (a service, a
/// cron job): the error says so, not that a FIFO has no reader.
#[cfg(target_os = "linux")]
#[test]
fn the_terminal_of_a_process_without_one_is_named() {
    if !std::path::Path::new("/dev/tty").exists() {
        return;
    }
    let name = "child_opens_the_terminal_without_one";
    // `setsid` runs the child in a session of its own: no terminal.
    let out = std::process::Command::new("setsid")
        .arg("--wait")
        .arg(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env("VELO_TEST_CHILD", name)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("setsid(1) from util-linux runs");
    velo_tests::assert_child_passed(&out);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1 passed"),
        "{out:?}"
    );
}
