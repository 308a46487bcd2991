//! A `.stdout()` logger whose stdout is a pipe that other code writes to as
//! well (`println!` here): every line of the pipe is whole, either one of
//! velo's entries or one of the other writer's lines, never a mix.

use std::time::Duration;
use velo::{velo, Builder, Format};
use velo_tests::{assert_child_passed, is_child, run_child_within};

const N: u32 = 50_000;

fn scenario() {
    let logger = Builder::new()
        .format(Format::Json)
        .stdout()
        .build()
        .unwrap();
    let other = std::thread::spawn(|| {
        for i in 0..N {
            println!("plain line {i}");
        }
    });
    for i in 0..N {
        velo!(logger: &logger, info, "entry", i, pad = "some padding for a line of a hundred bytes");
    }
    other.join().unwrap();
    logger.close();
}

#[test]
fn stdout_lines_stay_whole_in_a_shared_pipe() {
    if is_child("stdout_lines_stay_whole_in_a_shared_pipe") {
        return scenario();
    }
    // The child's stdout is a pipe.
    let out = run_child_within(
        "stdout_lines_stay_whole_in_a_shared_pipe",
        &[],
        Duration::from_secs(120),
    );
    assert_child_passed(&out);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let (mut entries, mut plain) = (0, 0);
    for line in stdout.lines() {
        // The first line of either writer follows the harness's own
        // `test NAME ... ` without a newline between.
        let line = line
            .strip_prefix("test stdout_lines_stay_whole_in_a_shared_pipe ... ")
            .unwrap_or(line);
        if !line.starts_with('{') {
            // The other writer's line, or the harness's.
            if let Some((_, n)) = line.split_once("plain line ") {
                assert!(n.parse::<u32>().is_ok(), "torn line {line:?}");
                plain += 1;
            }
            continue;
        }
        let entry: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("torn line {line:?}: {e}"));
        assert_eq!(entry["msg"], "entry", "{line}");
        entries += 1;
    }
    assert_eq!((entries, plain), (N, N));
}
