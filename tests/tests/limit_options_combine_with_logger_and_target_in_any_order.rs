//! `logger:`, `every:`, `sample:` and `target:` come before the level in
//! any order, and each keeps its meaning in every order.

use velo::{velo, Builder, Timestamp};
use velo_tests::json_logger;

#[test]
fn every_order_of_the_options_works() {
    let (l, out) = json_logger(Builder::new().timestamp(Timestamp::Off).caller(false));
    for i in 0..4u32 {
        velo!(logger: &l, sample: 2, info, "a", i);
        velo!(sample: 2, logger: &l, info, "b", i);
        velo!(logger: &l, every: 1h, info, "c", i);
        velo!(every: 1h, logger: &l, info, "d", i);
        velo!(every: 1h, sample: 2, logger: &l, target: "audit", info, "e", i);
        velo!(target: "audit", logger: &l, sample: 2, every: 1h, info, "f", i);
        velo!(sample: 2, target: "audit", every: 1h, logger: &l, info, "g", i);
    }
    l.sync().unwrap();
    let entries = out.entries();
    let got: Vec<(&str, u64, Option<&str>)> = entries
        .iter()
        .map(|e| {
            (
                e["msg"].as_str().unwrap(),
                e["i"].as_u64().unwrap(),
                e.get("target").and_then(|t| t.as_str()),
            )
        })
        .collect();
    let audit = Some("audit");
    assert_eq!(
        got,
        [
            ("a", 0, None),
            ("b", 0, None),
            ("c", 0, None),
            ("d", 0, None),
            ("e", 0, audit),
            ("f", 0, audit),
            ("g", 0, audit),
            ("a", 2, None),
            ("b", 2, None),
        ]
    );
}

#[test]
fn sample_runs_before_every_so_only_sampled_calls_are_counted() {
    let (l, out) = json_logger(Builder::new().timestamp(Timestamp::Off).caller(false));
    let site =
        |l: &velo::Logger, i: u32| velo!(logger: l, sample: 2, every: 100ms, info, "both", i);
    for i in 0..10 {
        site(&l, i);
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    site(&l, 10);
    l.sync().unwrap();
    let entries = out.entries();
    let last = entries.last().unwrap();
    assert_eq!(last["i"], 10);
    // Of calls 1..=9, sampling let 2, 4, 6, 8 through, and `every:`
    // skipped those four (if the first burst ran within the period).
    if entries.len() == 2 {
        assert_eq!(last["suppressed"], 4);
    }
}
