//! slog + slog-json (with its default keys ts, level, msg) behind
//! slog-async with `OverflowStrategy::Block` and a channel of 8192 records
//! (slog-async's default is 128; 8192 matches velo's and spdlog's queues, so
//! bursts of 256 fit). `build_with_guard`: `finish` drops the logger, then
//! the `AsyncGuard`, which joins the worker after it drained the channel.
//! Files: slog-json issues one small write per token, so the file is wrapped
//! in a `LineWriter` (one write per line, like the other peers).

use super::{workload, Subject};
use crate::sink::Target;
use slog::Drain;
use slog_async::{AsyncGuard, OverflowStrategy};
use std::io::{LineWriter, Write};

struct SlogPeer {
    logger: slog::Logger,
    guard: AsyncGuard,
}

pub(super) fn build(target: Target, w: u8) -> Box<dyn Subject> {
    assert_eq!(w, workload::W3, "slog logs W3 only");
    match target {
        Target::Count(sink) => install(sink),
        Target::File(path) => install(LineWriter::new(
            std::fs::File::create(path).expect("slog log file"),
        )),
    }
}

fn install<W: Write + Send + 'static>(writer: W) -> Box<dyn Subject> {
    let json = slog_json::Json::new(writer)
        .add_default_keys()
        .build()
        .fuse();
    let (drain, guard) = slog_async::Async::new(json)
        .chan_size(8192)
        .overflow_strategy(OverflowStrategy::Block)
        .build_with_guard();
    let logger = slog::Logger::root(drain.fuse(), slog::o!());
    Box::new(SlogPeer { logger, guard })
}

impl Subject for SlogPeer {
    #[inline]
    fn log(&self, i: u64) {
        slog::info!(
            self.logger,
            "request handled";
            "user_id" => i,
            "path" => workload::path(i),
            "latency_ms" => workload::latency_ms(i),
        );
    }

    fn finish(self: Box<Self>) {
        let SlogPeer { logger, guard } = *self;
        drop(logger);
        drop(guard);
    }
}
