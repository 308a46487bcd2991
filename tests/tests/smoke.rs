use velo::velo;
use velo_tests::{json_logger, keys};

#[test]
fn one_entry_round_trips() {
    let (logger, out) = json_logger(velo::Builder::new());
    velo!(logger: &logger, info, "hello", n = 1);
    logger.sync().unwrap();
    let entries = out.entries();
    assert_eq!(entries.len(), 1);
    assert_eq!(keys(&entries[0]), ["time", "level", "msg", "caller", "n"]);
    assert_eq!(entries[0]["msg"], "hello");
}
