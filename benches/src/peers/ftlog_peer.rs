//! ftlog, through the `log` facade (installed globally), with its default
//! text format and a bounded channel of 100,000 (its default size) set to
//! block when full (`bounded(100_000, true)`; ftlog's default discards), UTC
//! timestamps (a fixed zone is its recommendation for throughput). The
//! counting sink is the root appender (any `Write + Send`); files use
//! `FileAppender`. ftlog has no structured output, so the fields go into
//! the message. `drain` calls `log::logger().flush()`; `finish` drops the
//! `LoggerGuard`, which flushes and waits.

use super::{workload, Subject};
use crate::sink::Target;
use ftlog::appender::FileAppender;
use ftlog::LoggerGuard;

struct FtlogPeer {
    guard: LoggerGuard,
}

pub(super) fn build(target: Target, w: u8) -> Box<dyn Subject> {
    assert_eq!(w, workload::W3, "ftlog logs W3 only");
    let builder = ftlog::builder()
        .max_log_level(log::LevelFilter::Info)
        .bounded(100_000, true)
        .utc();
    let builder = match target {
        Target::Count(sink) => builder.root(sink),
        Target::File(path) => builder.root(FileAppender::new(path)),
    };
    let guard = builder.try_init().expect("ftlog init");
    Box::new(FtlogPeer { guard })
}

impl Subject for FtlogPeer {
    #[inline]
    fn log(&self, i: u64) {
        super::log_facade_w3(i);
    }

    fn drain(&self) {
        log::logger().flush();
    }

    fn finish(self: Box<Self>) {
        drop(self.guard);
    }
}
