//! Without configuration the first `velo!` uses a default logger on stderr:
//! level from `VELO_LOG`, else `RUST_LOG`, else `info`; `VELO_FORMAT`
//! chooses json or text; a pipe gets JSON.

use velo::velo;
use velo_tests::{is_child, json_lines, run_child};

#[test]
fn child_logs_each_level() {
    if !is_child("child_logs_each_level") {
        return;
    }
    velo!(trace, "t");
    velo!(debug, "d");
    velo!(info, "i", n = 1);
    velo!(warn, "w");
    velo!(error, "e");
    velo::close();
}

fn levels(envs: &[(&str, &str)]) -> Vec<String> {
    let out = run_child("child_logs_each_level", envs);
    assert!(out.status.success(), "{out:?}");
    json_lines(&out.stderr)
        .iter()
        .map(|e| e["level"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn info_by_default_and_json_on_a_pipe() {
    assert_eq!(levels(&[]), ["info", "warn", "error"]);
}

#[test]
fn velo_log_wins_over_rust_log() {
    assert_eq!(levels(&[("RUST_LOG", "error")]), ["error"]);
    assert_eq!(
        levels(&[("VELO_LOG", "debug"), ("RUST_LOG", "error")]),
        ["debug", "info", "warn", "error"]
    );
    let module = "default_logger_reads_the_environment";
    assert_eq!(
        levels(&[("VELO_LOG", &format!("error,{module}=trace"))]),
        ["trace", "debug", "info", "warn", "error"]
    );
    assert_eq!(
        levels(&[("VELO_LOG", "other_crate=trace")]),
        Vec::<String>::new()
    );
}

#[test]
fn a_bad_environment_filter_falls_back_to_info_with_a_message() {
    let out = run_child("child_logs_each_level", &[("VELO_LOG", "info,x=loud")]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("invalid filter directive `x=loud`"),
        "{stderr}"
    );
    let levels: Vec<_> = json_lines(&out.stderr)
        .iter()
        .map(|e| e["level"].clone())
        .collect();
    assert_eq!(levels, ["info", "warn", "error"]);
}

#[test]
fn velo_format_text() {
    let out = run_child("child_logs_each_level", &[("VELO_FORMAT", "text")]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.contains(" INFO  i n=1 caller="))
        .unwrap_or_else(|| panic!("a text line: {stderr}"));
    assert!(!line.contains('\u{1b}'), "no colours on a pipe: {line:?}");
    assert!(json_lines(&out.stderr).is_empty());
}

#[test]
fn an_unknown_velo_format_is_ignored_with_a_message() {
    let out = run_child("child_logs_each_level", &[("VELO_FORMAT", "yaml")]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("VELO_FORMAT=\"yaml\" is neither `json` nor `text`; ignored"),
        "{stderr}"
    );
    let levels: Vec<_> = json_lines(&out.stderr)
        .iter()
        .map(|e| e["level"].clone())
        .collect();
    assert_eq!(
        levels,
        ["info", "warn", "error"],
        "JSON on a pipe, as without it"
    );
}

#[test]
fn a_directive_velo_cannot_read_costs_only_itself() {
    let module = "default_logger_reads_the_environment";
    let spec = format!("warn,span[req]=trace,{module}=debug,my-dep=trace");
    let out = run_child("child_logs_each_level", &[("VELO_LOG", &spec)]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("invalid filter directive `span[req]=trace`"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("`my-dep=trace`"),
        "a hyphen is fine: {stderr}"
    );
    let levels: Vec<_> = json_lines(&out.stderr)
        .iter()
        .map(|e| e["level"].clone())
        .collect();
    assert_eq!(levels, ["debug", "info", "warn", "error"]);
}

/// A `VELO_LOG` that is not UTF-8 is said on stderr and read as unset: not
/// silently replaced by `RUST_LOG`'s setting.
#[cfg(unix)]
#[test]
fn a_velo_log_that_is_not_utf8_is_said_and_ignored() {
    use std::os::unix::ffi::OsStrExt;
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .args([
            "child_logs_each_level",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("VELO_TEST_CHILD", "child_logs_each_level")
        .env("VELO_LOG", std::ffi::OsStr::from_bytes(b"debug\xff"))
        .env("RUST_LOG", "error")
        .env_remove("VELO_FORMAT")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("velo: VELO_LOG="), "{stderr}");
    assert!(stderr.contains("is not UTF-8"), "{stderr}");
    let levels: Vec<String> = json_lines(&out.stderr)
        .iter()
        .map(|e| e["level"].as_str().unwrap().to_owned())
        .collect();
    // Neither `debug` (unreadable) nor `RUST_LOG`'s `error`: the default.
    assert_eq!(levels, ["info", "warn", "error"], "{stderr}");
}

#[test]
fn child_installs_from_env_or_warn() {
    if !is_child("child_installs_from_env_or_warn") {
        return;
    }
    velo::Builder::from_env_or("warn").install().unwrap();
    velo!(debug, "d");
    velo!(info, "i");
    velo!(warn, "w");
    velo!(info, "i slow");
    velo!(warn, "w slow");
    velo::close();
}

/// `from_env_or`: the program's default filter when the environment sets
/// none, the environment's otherwise.
#[test]
fn from_env_or_gives_way_to_the_environment() {
    let levels = |envs: &[(&str, &str)]| -> Vec<String> {
        let out = run_child("child_installs_from_env_or_warn", envs);
        assert!(out.status.success(), "{out:?}");
        json_lines(&out.stderr)
            .iter()
            .map(|e| e["level"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(levels(&[]), ["warn", "warn"]);
    assert_eq!(
        levels(&[("RUST_LOG", "info")]),
        ["info", "warn", "info", "warn"]
    );
    assert_eq!(
        levels(&[("VELO_LOG", "debug")]),
        ["debug", "info", "warn", "info", "warn"]
    );
    // A message text alone keeps the program's default level.
    assert_eq!(levels(&[("RUST_LOG", "/slow")]), ["warn"]);
    // So does a text whose only directive is left out (a span directive
    // of tracing's syntax), not the `info` a text alone gets otherwise.
    assert_eq!(levels(&[("RUST_LOG", "x[y]=debug/slow")]), ["warn"]);
    assert_eq!(levels(&[("RUST_LOG", "info/slow")]), ["info", "warn"]);
    assert_eq!(levels(&[("RUST_LOG", "debug/d")]), ["debug"]);
}

#[test]
fn child_builds_from_env_or_a_bad_default() {
    if !is_child("child_builds_from_env_or_a_bad_default") {
        return;
    }
    let err = velo::Builder::from_env_or("info,my_app=loud")
        .writer(std::io::sink())
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), velo::ErrorKind::Filter);
    assert!(err.to_string().contains("my_app=loud"), "{err}");
}

/// A typo in the program's default filter fails `build()` wherever the
/// program runs, not only where the environment sets no filter.
#[test]
fn a_bad_default_fails_whatever_the_environment_says() {
    for envs in [&[][..], &[("RUST_LOG", "debug")], &[("VELO_LOG", "warn")]] {
        let out = run_child("child_builds_from_env_or_a_bad_default", envs);
        assert!(out.status.success(), "{envs:?}: {out:?}");
    }
}
