//! A record whose values are numbers, booleans and strings is written
//! straight into its thread's ring. It moves to the thread's buffer, as it
//! is so far, before a value that runs the user's code (which may log on
//! the same thread) or one that does not fit; and the records of a thread
//! keep coming out whole and in order as they cross the end of the ring.

use velo::{velo, Builder, Encoder, Logger, Overflow, Value};
use velo_tests::{json_logger, Capture};

fn logger(overflow: Overflow) -> (Logger, Capture) {
    json_logger(Builder::new().overflow(overflow))
}

/// A user's value that logs to the logger it is logged to, on the same
/// thread, while it is encoded.
struct LogsWhileEncoded<'a>(&'a Logger, u64);

impl Value for LogsWhileEncoded<'_> {
    fn encode(&self, e: &mut Encoder<'_>) {
        velo!(logger: self.0, info, "inner", n = self.1);
        e.u64(self.1 * 10);
    }
}

#[test]
fn a_users_value_after_values_in_place_may_log() {
    for overflow in [Overflow::Sync, Overflow::Block, Overflow::Drop] {
        let (logger, out) = logger(overflow);
        for n in 0..200u64 {
            let path = ["/a", "/bb", "/ccc"][n as usize % 3];
            velo!(logger: &logger, info, "outer", n, path, v = LogsWhileEncoded(&logger, n), after = true);
        }
        logger.sync().unwrap();
        assert_eq!(logger.stats().dropped, 0, "{overflow:?}");
        let entries = out.entries();
        let outer: Vec<_> = entries.iter().filter(|e| e["msg"] == "outer").collect();
        let inner: Vec<_> = entries.iter().filter(|e| e["msg"] == "inner").collect();
        assert_eq!((outer.len(), inner.len()), (200, 200), "{overflow:?}");
        for (n, e) in outer.iter().enumerate() {
            let n = n as u64;
            assert_eq!(e["n"], n);
            assert_eq!(e["path"], ["/a", "/bb", "/ccc"][n as usize % 3]);
            assert_eq!(e["v"], n * 10);
            assert_eq!(e["after"], true);
        }
        // Each inner entry is finished while its outer one is still being
        // encoded, so it is written first.
        let msgs = out.msgs();
        for pair in msgs.chunks(2) {
            assert_eq!(pair, ["inner", "outer"]);
        }
    }
}

#[test]
fn a_string_longer_than_the_room_left_moves_the_record() {
    let (logger, out) = logger(Overflow::Sync);
    // Longer than a thread's first ring (16 KiB), and than a grown one.
    let long: String = (0..40_000)
        .map(|i| (b'a' + (i % 26) as u8) as char)
        .collect();
    for n in 0..20u64 {
        let s = &long[..(n as usize * 2_000).min(long.len())];
        velo!(logger: &logger, info, "long", n, s, tail = n + 1);
    }
    velo!(logger: &logger, info, "longest", s = long.as_str(), tail = 7u8);
    logger.sync().unwrap();
    let entries = out.entries();
    assert_eq!(entries.len(), 21);
    for (n, e) in entries[..20].iter().enumerate() {
        assert_eq!(e["n"], n as u64);
        assert_eq!(e["s"].as_str().unwrap(), &long[..n * 2_000]);
        assert_eq!(e["tail"], n as u64 + 1);
    }
    assert_eq!(entries[20]["s"].as_str().unwrap(), long);
    assert_eq!(entries[20]["tail"], 7);
}

#[test]
fn records_crossing_the_end_of_the_ring_stay_whole_and_in_order() {
    for overflow in [Overflow::Sync, Overflow::Block, Overflow::Drop] {
        let (logger, out) = logger(overflow);
        let child = logger.with(velo::fields!(service = "api", shard = 3));
        let text: String = "0123456789abcdef".repeat(40);
        // Fewer under valgrind (`.ci/run`); still many laps of the ring.
        let n: u64 = std::env::var("VELO_STRESS_PER_THREAD")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(30_000);
        velo::scope(velo::fields!(request = "r-1"), || {
            for seq in 0..n {
                // Lengths that change with every entry, so records end at
                // every offset of the ring in turn.
                let s = &text[..(seq as usize * 7) % 600];
                let ratio = seq as f64 / 7.0;
                velo!(logger: &child, info, "entry", seq, s, ratio, even = seq % 2 == 0, c = 'λ');
            }
        });
        logger.sync().unwrap();
        // Under `Drop`, velo's own lines count what it dropped.
        let entries: Vec<_> = out
            .entries()
            .into_iter()
            .filter(|e| e["msg"] == "entry")
            .collect();
        let dropped = logger.stats().dropped;
        assert_eq!(entries.len() as u64 + dropped, n, "{overflow:?}");
        if overflow != Overflow::Drop {
            assert_eq!(dropped, 0, "{overflow:?}");
        }
        assert!(!entries.is_empty(), "{overflow:?}: something to check");
        // Floats from the raw lines: serde_json's default parser may round
        // the last digit differently from Rust's, which velo's output
        // round-trips through.
        let ratios: Vec<f64> = out
            .lines()
            .iter()
            .filter(|line| line.contains("\"msg\":\"entry\""))
            .map(|line| {
                let at = line.find("\"ratio\":").expect("a ratio") + "\"ratio\":".len();
                let end = at + line[at..].find(',').expect("more fields");
                line[at..end].parse().expect("a float")
            })
            .collect();
        let mut last = None;
        for (e, ratio) in entries.iter().zip(ratios) {
            let seq = e["seq"].as_u64().unwrap();
            assert!(last < Some(seq), "{overflow:?}: out of order");
            last = Some(seq);
            assert_eq!(e["s"].as_str().unwrap(), &text[..(seq as usize * 7) % 600]);
            assert_eq!(ratio, seq as f64 / 7.0);
            assert_eq!(e["even"], seq % 2 == 0);
            assert_eq!(e["c"], "λ");
            assert_eq!(e["service"], "api");
            assert_eq!(e["shard"], 3);
            assert_eq!(e["request"], "r-1");
        }
    }
}

#[test]
fn display_fields_after_values_in_place_are_written() {
    let (logger, out) = logger(Overflow::Sync);
    struct Id(u32);
    impl Value for Id {
        fn encode(&self, e: &mut Encoder<'_>) {
            e.display(&format_args!("id-{}", self.0));
        }
    }
    for n in 0..100u32 {
        velo!(logger: &logger, info, "mixed", n, id = Id(n), name = "x", opt = Some(n), none = None::<u32>);
        velo!(logger: &logger, info, "formatted", n, shown = %n, dbg = ?"q");
    }
    logger.sync().unwrap();
    let entries = out.entries();
    assert_eq!(entries.len(), 200);
    for (n, pair) in entries.chunks(2).enumerate() {
        assert_eq!(pair[0]["n"], n);
        assert_eq!(pair[0]["id"], format!("id-{n}"));
        assert_eq!(pair[0]["name"], "x");
        assert_eq!(pair[0]["opt"], n);
        assert!(pair[0]["none"].is_null());
        assert_eq!(pair[1]["shown"], n.to_string());
        assert_eq!(pair[1]["dbg"], "\"q\"");
    }
}

/// A user's value that does not log.
struct Tenfold(u64);

impl Value for Tenfold {
    fn encode(&self, e: &mut Encoder<'_>) {
        e.u64(self.0 * 10);
    }
}

/// A site of up to twelve fields, all through `Value`, is written by one
/// call; a user's value among them moves the record, from that value on,
/// wherever it stands; a thirteenth field takes the general path. Every
/// value comes out, in order, under every overflow strategy.
#[test]
fn sites_of_one_to_thirteen_values_write_every_one() {
    for overflow in [Overflow::Sync, Overflow::Block, Overflow::Drop] {
        let (logger, out) = logger(overflow);
        for n in 0..300u64 {
            let s = ["", "x", "a string of some length"][n as usize % 3];
            let (f, c, t) = (n as f32 / 4.0, 'λ', Tenfold(n));
            velo!(logger: &logger, info, "one", n);
            velo!(logger: &logger, info, "first", t, n, s);
            velo!(logger: &logger, info, "twelve", a = n, b = s, c, d = f, e = true, f = n as i8, g = Some(n), h = None::<u8>, i = -(n as i64), j = s.to_owned(), k = &t, l = n + 1);
            velo!(logger: &logger, info, "thirteen", a = n, b = s, c, d = f, e = true, f = n as i8, g = Some(n), h = None::<u8>, i = -(n as i64), j = s.to_owned(), k = &t, l = n + 1, m = 'm');
        }
        logger.sync().unwrap();
        assert_eq!(logger.stats().dropped, 0, "{overflow:?}");
        let entries = out.entries();
        assert_eq!(entries.len(), 1_200, "{overflow:?}");
        for (n, group) in entries.chunks(4).enumerate() {
            let n = n as u64;
            let s = ["", "x", "a string of some length"][n as usize % 3];
            let msgs: Vec<_> = group.iter().map(|e| e["msg"].as_str().unwrap()).collect();
            assert_eq!(msgs, ["one", "first", "twelve", "thirteen"], "{overflow:?}");
            assert_eq!(group[0]["n"], n);
            assert_eq!(
                (&group[1]["t"], &group[1]["n"], &group[1]["s"]),
                (&(n * 10).into(), &n.into(), &s.into())
            );
            for e in &group[2..] {
                let keys: Vec<_> = e.keys().skip(4).cloned().collect();
                let expected = &[
                    "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m",
                ];
                assert_eq!(keys, expected[..keys.len()], "{overflow:?}");
                assert_eq!(e["a"], n);
                assert_eq!(e["b"], s);
                assert_eq!(e["c"], "λ");
                assert_eq!(e["d"], f64::from(n as f32 / 4.0));
                assert_eq!(e["e"], true);
                assert_eq!(e["f"], n as i8);
                assert_eq!(e["g"], n);
                assert!(e["h"].is_null());
                assert_eq!(e["i"], -(n as i64));
                assert_eq!(e["j"], s);
                assert_eq!(e["k"], n * 10);
                assert_eq!(e["l"], n + 1);
            }
            assert_eq!(group[2].len(), 4 + 12);
            assert_eq!(group[3]["m"], "m");
        }
    }
}

/// A site whose first field is written through `Display` starts in the
/// thread's buffer; one whose `Display` or `Debug` field comes later starts
/// in place and moves there at that field. Either way every value comes
/// out as written, in order.
#[test]
fn display_and_debug_fields_first_or_later_write_every_value() {
    for overflow in [Overflow::Sync, Overflow::Block, Overflow::Drop] {
        let (logger, out) = logger(overflow);
        for n in 0..300u64 {
            let s = ["", "x\"y", "a string of some length"][n as usize % 3];
            velo!(logger: &logger, info, "first", shown = %n, n, dbg = ?s);
            velo!(logger: &logger, info, "later", n, s, shown = %s, t = Tenfold(n), last = n + 1);
        }
        logger.sync().unwrap();
        assert_eq!(logger.stats().dropped, 0, "{overflow:?}");
        let entries = out.entries();
        assert_eq!(entries.len(), 600, "{overflow:?}");
        for (n, pair) in entries.chunks(2).enumerate() {
            let n = n as u64;
            let s = ["", "x\"y", "a string of some length"][n as usize % 3];
            let (first, later) = (&pair[0], &pair[1]);
            assert_eq!(first["msg"], "first", "{overflow:?}");
            let keys: Vec<_> = first.keys().skip(4).map(String::as_str).collect();
            assert_eq!(keys, ["shown", "n", "dbg"]);
            assert_eq!(first["shown"], n.to_string());
            assert_eq!(first["n"], n);
            assert_eq!(first["dbg"], format!("{s:?}"));
            assert_eq!(later["msg"], "later", "{overflow:?}");
            let keys: Vec<_> = later.keys().skip(4).map(String::as_str).collect();
            assert_eq!(keys, ["n", "s", "shown", "t", "last"]);
            assert_eq!(later["n"], n);
            assert_eq!(later["s"], s);
            assert_eq!(later["shown"], s);
            assert_eq!(later["t"], n * 10);
            assert_eq!(later["last"], n + 1);
        }
    }
}
