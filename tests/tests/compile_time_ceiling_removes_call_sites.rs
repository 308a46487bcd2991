//! With velo's `max_level_warn` feature, call sites below `warn` are removed
//! at compile time: their arguments never run, whatever the run-time filter.
//! Builds and runs the fixture crate in `tests/fixtures/max_level_warn`.

use std::path::Path;
use std::process::Command;

#[test]
fn info_and_below_are_compiled_out() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = root.join("fixtures/max_level_warn/Cargo.toml");
    let target = root.join("../target/fixtures");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["run", "--quiet", "--manifest-path"])
        .arg(&manifest)
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .expect("cargo runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "fixture failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    let msgs: Vec<String> = stdout
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| {
            velo_tests::parse_line(l)["msg"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(msgs, ["warn entry", "error entry"]);
    assert!(stdout.contains("static max level: warn"), "{stdout}");
    assert!(stdout.contains("evaluated: warn,error\n"), "{stdout}");
}
