//! `Logger` is `Clone + Send + Sync`; clones and children share one worker
//! and one filter.

use velo::{velo, Builder, Level, Logger};
use velo_tests::json_logger;

fn assert_handle<T: Clone + Send + Sync + 'static>() {}

#[test]
fn logger_is_clone_send_sync() {
    assert_handle::<Logger>();
    assert_handle::<velo::Fields>();
}

#[test]
fn clones_and_children_share_filter_worker_and_stats() {
    let (logger, out) = json_logger(Builder::new());
    let clone = logger.clone();
    let child = logger.with(velo::fields!(part = "child"));
    std::thread::scope(|s| {
        s.spawn(|| velo!(logger: &clone, info, "from a clone"));
        s.spawn(|| velo!(logger: &child, info, "from a child"));
    });
    clone.set_level(Level::Warn);
    velo!(logger: &child, info, "filtered by the shared filter");
    child.sync().unwrap();
    assert_eq!(logger.stats().written, 2);
    assert_eq!(out.lines().len(), 2);
    assert!(!logger.filter().enabled(Level::Info, "anything"));
}
