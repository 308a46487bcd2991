//! 20,000 entries over TCP, from two threads, with newlines, quotes,
//! backslashes, control characters and text that looks like a frame or a
//! header in their values, all reach rsyslogd exactly once, whole: octet
//! counting leaves no byte of a value that could end a frame early.
//!
//! Needs rsyslogd: `cargo test -p velo-tests --features rsyslog`.

#![cfg(feature = "rsyslog")]

use std::collections::HashMap;
use std::time::{Duration, Instant};
use velo::{velo, Builder, Format, Syslog};
use velo_tests::parse_line;
use velo_tests::rsyslog::Rsyslogd;

const N: u64 = 20_000;

#[test]
fn twenty_thousand_hostile_entries_arrive_exactly_once() {
    let rsyslogd = Rsyslogd::start();
    let logger = Builder::new()
        .format(Format::Json)
        .app_name("velo-20k")
        .syslog(Syslog::tcp(rsyslogd.tcp_addr()))
        .build()
        .unwrap();
    let hostile = |i: u64| {
        format!("line one\nline two \"quoted\" \\ back\ttab\r\u{1} 42 <14>1 - - forged {i}\n\n")
    };
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..2 {
            let (logger, hostile) = (&logger, &hostile);
            s.spawn(move || {
                for i in (t..N).step_by(2) {
                    velo!(logger: logger, info, "entry", seq = i, value = hostile(i), thread = t);
                }
            });
        }
    });
    logger.sync().unwrap();
    let lines = rsyslogd.wait_for(Duration::from_secs(60), |lines| lines.len() as u64 >= N);
    let elapsed = start.elapsed();
    let mut seen: HashMap<u64, usize> = HashMap::new();
    let mut last = [None, None];
    for line in &lines {
        assert_eq!(line["app"], "velo-20k");
        let entry = parse_line(line["msg"].as_str().unwrap());
        let seq = entry["seq"].as_u64().unwrap();
        assert_eq!(entry["value"], hostile(seq).as_str());
        *seen.entry(seq).or_default() += 1;
        // Each thread's entries arrive in the order it logged them.
        let t = entry["thread"].as_u64().unwrap() as usize;
        assert!(last[t] < Some(seq), "{seq} after {:?}", last[t]);
        last[t] = Some(seq);
    }
    let missing: Vec<u64> = (0..N).filter(|i| !seen.contains_key(i)).collect();
    let twice: Vec<u64> = seen
        .iter()
        .filter(|(_, &n)| n > 1)
        .map(|(&i, _)| i)
        .collect();
    assert!(
        missing.is_empty(),
        "{} missing, first {:?}",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
    assert!(
        twice.is_empty(),
        "{} twice: {:?}",
        twice.len(),
        &twice[..twice.len().min(10)]
    );
    assert_eq!(lines.len() as u64, N);
    let stats = logger.stats();
    assert_eq!(
        (stats.written, stats.dropped, stats.write_errors),
        (N, 0, 0)
    );
    eprintln!("{N} entries delivered in {elapsed:?}");
}
