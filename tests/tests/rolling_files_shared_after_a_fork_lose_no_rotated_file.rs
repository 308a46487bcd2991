//! A forked child that keeps logging to its parent's rolling file rotates
//! the same live file as the parent, and both pick rotated names from the
//! same sequence. A rename onto a name the other process took a moment
//! before must not replace that file (which would lose every entry in it):
//! every entry of both processes is in one of the files afterwards, once.
#![cfg(unix)]

use std::collections::BTreeSet;
use velo::{velo, Builder, Format, Rolling};
use velo_tests::{in_child, parse_line, rolling_files, TempDir};

const PER_PROCESS: u64 = 20_000;

#[test]
fn two_processes_rotating_one_file_keep_every_entry() {
    in_child("two_processes_rotating_one_file_keep_every_entry", || {
        let dir = TempDir::new("rolling-fork");
        let logger = Builder::new()
            .format(Format::Json)
            // Small files: hundreds of rotations within the same second,
            // whose names differ by their sequence number only.
            .rolling(Rolling::new(dir.path().join("app.log")).max_bytes(4 << 10))
            .build()
            .expect("built");
        velo!(logger: &logger, info, "before the fork", pid = 0u32, i = 0u64);
        logger.sync().expect("synced");
        // SAFETY: fork(2); the child logs, syncs and leaves with `_exit`,
        // running no destructor of the parent's state.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        let me = std::process::id();
        for i in 0..PER_PROCESS {
            velo!(logger: &logger, info, "entry", pid = me, i);
        }
        logger.sync().expect("synced");
        if pid == 0 {
            // SAFETY: ends the forked child at once, as intended.
            unsafe { libc::_exit(0) };
        }
        let mut status = 0;
        // SAFETY: waits for the child this process forked.
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
        assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
        logger.close();

        let mut seen = BTreeSet::new();
        let mut duplicates = 0;
        for (name, text) in rolling_files(dir.path(), "app.log") {
            assert!(
                text.is_empty() || text.ends_with('\n'),
                "{name} ends mid-line"
            );
            for line in text.lines() {
                let e = parse_line(line);
                if e["msg"] == "entry" {
                    let key = (e["pid"].as_u64().unwrap(), e["i"].as_u64().unwrap());
                    duplicates += u64::from(!seen.insert(key));
                }
            }
        }
        let pids: BTreeSet<u64> = seen.iter().map(|&(pid, _)| pid).collect();
        assert_eq!(pids.len(), 2, "entries of both processes: {pids:?}");
        assert_eq!(duplicates, 0);
        for pid in pids {
            let n = seen.iter().filter(|&&(p, _)| p == pid).count() as u64;
            assert_eq!(n, PER_PROCESS, "entries of process {pid}");
        }
    });
}
