//! `keep` bounds the rotated files, counting those an earlier run left;
//! the files kept are the newest, and files that are not rotated files of
//! the live file are never touched.

use std::fs;
use velo::{velo, Builder, Format, Rolling};
use velo_tests::{is_rotated_name, parse_line, rolling_files, TempDir};

fn rotated(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| is_rotated_name(n, "app.log"))
        .collect();
    names.sort();
    names
}

fn seqs(files: &[(String, String)]) -> Vec<u64> {
    files
        .iter()
        .flat_map(|(_, text)| text.lines())
        .map(|line| parse_line(line)["seq"].as_u64().unwrap())
        .collect()
}

#[test]
fn keep_bounds_the_rotated_files_across_runs() {
    let dir = TempDir::new("rolling-keep");
    let earlier = [
        "app.log.20200101T000000.000001",
        "app.log.20200101T000000.000002",
        "app.log.20200102T120000.000001",
    ];
    for name in earlier {
        fs::write(dir.path().join(name), "{\"seq\":0}\n").unwrap();
    }
    let unrelated = [
        "other.log",
        "app.log.bak",
        "app.log.1",
        "app.log.20200101T000000.000001.gz",
        "xapp.log.20200101T000000.000001",
    ];
    for name in unrelated {
        fs::write(dir.path().join(name), "not a log of ours").unwrap();
    }

    let rolling = || Rolling::new(dir.path().join("app.log")).max_bytes(600);
    let logger = Builder::new()
        .format(Format::Json)
        .rolling(rolling().keep(3))
        .build()
        .unwrap();
    for seq in 0..200u64 {
        velo!(logger: &logger, info, "entry", seq);
        if seq.is_multiple_of(10) {
            // Rotations (and deletions) happen as the worker writes out.
            logger.sync().unwrap();
        }
    }
    logger.close();

    let kept = rotated(dir.path());
    assert_eq!(kept.len(), 3, "{kept:?}");
    for name in earlier {
        assert!(
            !kept.contains(&name.to_owned()),
            "{name} outlived newer files"
        );
    }
    for name in unrelated {
        let text = fs::read_to_string(dir.path().join(name)).unwrap();
        assert_eq!(text, "not a log of ours", "{name} was touched");
    }
    // The kept files and the live file hold the newest entries, in order.
    let files = rolling_files(dir.path(), "app.log");
    let found = seqs(&files);
    let first = found[0];
    assert!(first > 0, "the oldest files were kept");
    assert_eq!(found, (first..200).collect::<Vec<_>>());

    // A new run with a smaller `keep` counts the files this run left, and
    // its rotated names sort after them.
    let logger = Builder::new()
        .format(Format::Json)
        .rolling(rolling().keep(1))
        .build()
        .unwrap();
    assert_eq!(rotated(dir.path()), [kept[2].clone()]);
    for seq in 200..220u64 {
        velo!(logger: &logger, info, "entry", seq);
    }
    logger.close();
    let files = rolling_files(dir.path(), "app.log");
    assert_eq!(files.len(), 2);
    assert!(
        files[0].0 > kept[2],
        "{} sorts before {}",
        files[0].0,
        kept[2]
    );
    let found = seqs(&files);
    assert_eq!(found.last(), Some(&219));
    assert!(found.windows(2).all(|w| w[1] == w[0] + 1), "{found:?}");
}
