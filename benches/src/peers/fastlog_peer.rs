//! fast_log, through the `log` facade (installed globally), with its JSON
//! format (`FastLogFormatJson`) and the channel length its README recommends
//! (`chan_len(Some(100_000))`, bounded: callers block when it is full).
//! fast_log ignores `log`'s key-values, so the fields go into the message
//! (the JSON line's `args`). The counting sink is a custom `LogAppender`
//! (the documented extension point); files use `Config::file`. `drain` and
//! `finish` call `log::logger().flush()`, which waits for the appenders.

use super::{workload, Subject};
use crate::sink::{CountingSink, Target};
use fast_log::appender::{Command, FastLogRecord, LogAppender};
use fast_log::config::Config;
use fast_log::FastLogFormatJson;

struct FastLogPeer;

struct CountingAppender(CountingSink);

impl LogAppender for CountingAppender {
    fn do_logs(&mut self, records: &[FastLogRecord]) {
        for record in records {
            if record.command == Command::CommandRecord {
                self.0.record(record.formated.as_bytes());
            }
        }
    }
}

pub(super) fn build(target: Target, w: u8) -> Box<dyn Subject> {
    assert_eq!(w, workload::W3, "fast_log logs W3 only");
    let config = Config::new()
        .format(FastLogFormatJson::new())
        .chan_len(Some(100_000));
    let config = match target {
        Target::Count(sink) => config.custom(CountingAppender(sink)),
        Target::File(path) => config.file(path.to_str().expect("UTF-8 temp path")),
    };
    fast_log::init(config).expect("fast_log init");
    log::set_max_level(log::LevelFilter::Info);
    Box::new(FastLogPeer)
}

impl Subject for FastLogPeer {
    #[inline]
    fn log(&self, i: u64) {
        super::log_facade_w3(i);
    }

    fn drain(&self) {
        log::logger().flush();
    }

    fn finish(self: Box<Self>) {
        log::logger().flush();
    }
}
