//! `sample: N` writes the 1st, (N+1)th, (2N+1)th... call of its call site
//! and nothing else; the calls it skips leave no trace in the line.

use velo::{velo, Builder, Timestamp};
use velo_tests::json_logger;

#[test]
fn one_thousand_calls_with_sample_100_write_calls_0_100_to_900() {
    let (l, out) = json_logger(Builder::new().timestamp(Timestamp::Off).caller(false));
    for i in 0..1000u32 {
        velo!(logger: &l, sample: 100, info, "sampled", i);
    }
    l.sync().unwrap();
    let entries = out.entries();
    let written: Vec<u64> = entries.iter().map(|e| e["i"].as_u64().unwrap()).collect();
    assert_eq!(written, (0..10).map(|k| k * 100).collect::<Vec<u64>>());
    for e in &entries {
        assert!(
            !e.contains_key("suppressed"),
            "sample reports no count: {e:?}"
        );
    }
}

#[test]
fn sample_1_writes_every_call_and_sites_count_apart() {
    let (l, out) = json_logger(Builder::new().timestamp(Timestamp::Off).caller(false));
    for i in 0..6u32 {
        velo!(logger: &l, sample: 1, info, "every call", i);
        velo!(logger: &l, sample: 3, info, "one in three", i);
    }
    l.sync().unwrap();
    let by = |msg: &str| -> Vec<u64> {
        out.entries()
            .iter()
            .filter(|e| e["msg"] == msg)
            .map(|e| e["i"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(by("every call"), [0, 1, 2, 3, 4, 5]);
    assert_eq!(by("one in three"), [0, 3]);
}

#[test]
fn the_count_is_per_call_site_across_threads() {
    let (l, out) = json_logger(Builder::new().timestamp(Timestamp::Off).caller(false));
    let site =
        |l: &velo::Logger, t: u32, i: u32| velo!(logger: l, sample: 10, info, "shared", t, i);
    std::thread::scope(|s| {
        for t in 0..4 {
            let l = &l;
            s.spawn(move || {
                for i in 0..250 {
                    site(l, t, i);
                }
            });
        }
    });
    l.sync().unwrap();
    assert_eq!(out.entries().len(), 100, "1,000 calls, one in ten written");
}
