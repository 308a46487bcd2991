//! On a terminal the default logger writes the text format with colours for
//! time, level and keys; a non-empty `NO_COLOR` turns them off; hostile values never put
//! a raw escape sequence on the terminal. A pipe gets JSON (see
//! `default_logger_reads_the_environment.rs`). The child runs under
//! `script(1)`, which gives it a pseudo-terminal.

use std::process::Command;
use velo::velo;
use velo_tests::is_child;

#[test]
fn child_logs_to_a_terminal() {
    if !is_child("child_logs_to_a_terminal") {
        return;
    }
    let hostile = "red \u{1b}[31m alert\u{7}\nINFO  forged";
    velo!(info, "on a terminal", port = 8080, hostile);
    velo!(error, "failure");
    velo::close();
}

/// Runs the child scenario with stdin, stdout and stderr on a
/// pseudo-terminal, returning everything it printed.
fn run_on_terminal(no_color: Option<&str>) -> String {
    run_on_terminal_as(no_color, "xterm-256color")
}

/// [`run_on_terminal`] with `TERM` set to `term`.
fn run_on_terminal_as(no_color: Option<&str>, term: &str) -> String {
    run_on_terminal_with(no_color, term, &[])
}

/// [`run_on_terminal_as`] with `envs` set too.
fn run_on_terminal_with(no_color: Option<&str>, term: &str, envs: &[(&str, &str)]) -> String {
    run_child_on_terminal("child_logs_to_a_terminal", no_color, term, envs)
}

/// The child scenario `name` on a pseudo-terminal, with `NO_COLOR` set to
/// `no_color` (unset for `None`), `TERM` to `term` and `envs` set.
fn run_child_on_terminal(
    name: &str,
    no_color: Option<&str>,
    term: &str,
    envs: &[(&str, &str)],
) -> String {
    let exe = std::env::current_exe().unwrap();
    let command = format!(
        "{} {name} --exact --nocapture --test-threads=1",
        exe.display()
    );
    let mut cmd = Command::new("script");
    cmd.args(["-q", "-e", "-c", &command, "/dev/null"])
        .env("VELO_TEST_CHILD", name)
        .env("TERM", term)
        .env_remove("VELO_FORMAT")
        .env_remove("VELO_LOG")
        .env_remove("RUST_LOG")
        .env_remove("CLICOLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("RUST_LOG_STYLE")
        .envs(envs.iter().copied());
    match no_color {
        Some(value) => cmd.env("NO_COLOR", value),
        None => cmd.env_remove("NO_COLOR"),
    };
    let out = cmd.output().expect("script(1) from util-linux runs");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn child_logs_through_writers_on_a_terminal() {
    if !is_child("child_logs_through_writers_on_a_terminal") {
        return;
    }
    let (_reader, pipe) = std::io::pipe().unwrap();
    let built = [
        (
            "stdout writer",
            velo::Builder::new().writer(std::io::stdout()),
        ),
        (
            "stderr writer",
            velo::Builder::new().writer(std::io::stderr()),
        ),
        ("tty file", velo::Builder::new().file("/dev/tty")),
        ("pipe writer", velo::Builder::new().writer(pipe)),
    ];
    for (name, builder) in built {
        let logger = builder.build().unwrap();
        velo!(logger: &logger, info, "through", name);
        logger.close();
    }
}

/// `Format::Auto` and colours take a writer that is standard output or
/// error, or a file that is a terminal device, for the terminal it is, as
/// they take `stdout()` and `stderr()`.
#[test]
fn writers_on_a_terminal_get_coloured_text() {
    let out = run_child_on_terminal(
        "child_logs_through_writers_on_a_terminal",
        None,
        "xterm-256color",
        &[],
    );
    for name in ["stdout writer", "stderr writer", "tty file"] {
        let line = out
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("{name}: {out:?}"));
        assert!(
            line.contains("\u{1b}[32mINFO \u{1b}[0m through"),
            "{name}: {line:?}"
        );
        assert!(!line.contains('{'), "{name}: {line:?}");
    }
    // The pipe's line went to the pipe, not to the terminal.
    assert!(!out.contains("pipe writer"), "{out:?}");
}

#[test]
fn colours_on_a_terminal() {
    let out = run_on_terminal(None);
    let line = out
        .lines()
        .find(|l| l.contains("on a terminal"))
        .unwrap_or_else(|| panic!("{out:?}"));
    let time = line.find("\u{1b}[2m2").expect("a dim timestamp");
    assert!(
        line[time..].contains("Z\u{1b}[0m \u{1b}[32mINFO "),
        "{line:?}"
    );
    assert!(
        line.contains("\u{1b}[32mINFO \u{1b}[0m on a terminal"),
        "{line:?}"
    );
    assert!(line.contains(" \u{1b}[2mport\u{1b}[0m=8080"), "{line:?}");
    assert!(
        line.contains(" \u{1b}[2mcaller\u{1b}[0m=tests/tests/text_colours_only_on_a_terminal.rs:"),
        "{line:?}"
    );
    assert!(out.contains("\u{1b}[31mERROR\u{1b}[0m failure"), "{out:?}");
    // The only escape sequences are velo's own colours.
    let stripped = line
        .replace("\u{1b}[2m", "")
        .replace("\u{1b}[0m", "")
        .replace("\u{1b}[32m", "");
    assert!(!stripped.contains('\u{1b}'), "{stripped:?}");
    assert!(!stripped.contains('\u{7}'));
    assert!(
        stripped.contains("hostile=\"red \\u001b[31m alert\\u0007\\nINFO  forged\""),
        "{stripped:?}"
    );
}

#[test]
fn no_color_turns_colours_off() {
    // Any value but the empty string (no-color.org): an empty `NO_COLOR`
    // is as good as unset.
    let out = run_on_terminal(Some(""));
    let line = out
        .lines()
        .find(|l| l.contains("on a terminal"))
        .unwrap_or_else(|| panic!("{out:?}"));
    assert!(line.contains('\u{1b}'), "NO_COLOR=\"\": {line:?}");
    for value in ["1", "false"] {
        let out = run_on_terminal(Some(value));
        let line = out
            .lines()
            .find(|l| l.contains("on a terminal"))
            .unwrap_or_else(|| panic!("{out:?}"));
        assert!(!line.contains('\u{1b}'), "NO_COLOR={value:?}: {line:?}");
        assert!(
            line.contains(" INFO  on a terminal port=8080 hostile="),
            "{line:?}"
        );
    }
}

#[test]
fn a_dumb_terminal_gets_no_colours() {
    let out = run_on_terminal_as(None, "dumb");
    let line = out
        .lines()
        .find(|l| l.contains("on a terminal"))
        .unwrap_or_else(|| panic!("{out:?}"));
    assert!(!line.contains('\u{1b}'), "TERM=dumb: {line:?}");
    assert!(line.contains(" INFO  on a terminal port=8080"), "{line:?}");
}

/// `CLICOLOR=0` turns colours off on a terminal; `CLICOLOR_FORCE` turns
/// them on into a pipe, unless `NO_COLOR` says otherwise
/// (bixense.com/clicolors, as env_logger reads them).
#[test]
fn clicolor_and_clicolor_force() {
    let out = run_on_terminal_with(None, "xterm-256color", &[("CLICOLOR", "0")]);
    let line = out
        .lines()
        .find(|l| l.contains("on a terminal"))
        .unwrap_or_else(|| panic!("{out:?}"));
    assert!(!line.contains('\u{1b}'), "CLICOLOR=0: {line:?}");

    let piped = |envs: &[(&str, &str)]| {
        let out = velo_tests::run_child("child_logs_to_a_terminal", envs);
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let text = [("VELO_FORMAT", "text")];
    let forced = piped(&[text[0], ("CLICOLOR_FORCE", "1")]);
    assert!(
        forced.contains("\u{1b}[2m"),
        "CLICOLOR_FORCE into a pipe: {forced:?}"
    );
    for envs in [
        &[text[0], ("CLICOLOR_FORCE", "0")][..],
        &[text[0], ("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")],
        &text,
    ] {
        let out = piped(envs);
        assert!(out.contains("on a terminal"), "{envs:?}: {out:?}");
        assert!(!out.contains('\u{1b}'), "{envs:?}: {out:?}");
    }
}

/// env_logger's `RUST_LOG_STYLE`: `never` turns colours off on a terminal,
/// `always` on into a pipe (over `CLICOLOR`, under `NO_COLOR`); `auto`
/// leaves the choice to the rest.
#[test]
fn rust_log_style() {
    let on_terminal = |envs: &[(&str, &str)]| {
        let out = run_on_terminal_with(None, "xterm-256color", envs);
        let line = out
            .lines()
            .find(|l| l.contains("on a terminal"))
            .unwrap_or_else(|| panic!("{out:?}"))
            .to_owned();
        line.contains('\u{1b}')
    };
    assert!(!on_terminal(&[("RUST_LOG_STYLE", "never")]));
    assert!(on_terminal(&[("RUST_LOG_STYLE", "auto")]));
    assert!(on_terminal(&[
        ("RUST_LOG_STYLE", "always"),
        ("CLICOLOR", "0")
    ]));
    let piped = |envs: &[(&str, &str)]| {
        let mut envs = envs.to_vec();
        envs.push(("VELO_FORMAT", "text"));
        let out = velo_tests::run_child("child_logs_to_a_terminal", &envs);
        assert!(out.status.success(), "{out:?}");
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(err.contains("on a terminal"), "{envs:?}: {err:?}");
        err.contains('\u{1b}')
    };
    assert!(piped(&[("RUST_LOG_STYLE", "always")]));
    assert!(!piped(&[("RUST_LOG_STYLE", "always"), ("NO_COLOR", "1")]));
    assert!(!piped(&[
        ("RUST_LOG_STYLE", "never"),
        ("CLICOLOR_FORCE", "1")
    ]));
    assert!(!piped(&[("RUST_LOG_STYLE", "auto")]));
}

/// `Builder::color` overrides the output's kind and the environment:
/// colours into a pipe when asked, none on request.
#[test]
fn color_is_forced_on_or_off() {
    let (on, on_out) = velo_tests::text_logger(velo::Builder::new().color(true));
    velo!(logger: &on, warn, "forced", port = 8080);
    on.sync().unwrap();
    let text = on_out.text();
    assert!(text.contains("\u{1b}["), "coloured: {text:?}");
    assert!(text.contains("forced"), "{text:?}");
    let (off, off_out) = velo_tests::text_logger(velo::Builder::new().color(false));
    velo!(logger: &off, warn, "plain", port = 8080);
    off.sync().unwrap();
    let text = off_out.text();
    assert!(!text.contains('\u{1b}'), "plain: {text:?}");
    // JSON has none either way.
    let (json, json_out) = velo_tests::json_logger(velo::Builder::new().color(true));
    velo!(logger: &json, warn, "json", port = 8080);
    json.sync().unwrap();
    assert!(!json_out.text().contains('\u{1b}'));
}
