//! spdlog-rs in its asynchronous mode: an `AsyncPoolSink` (default thread
//! pool: one thread, queue of 8192 tasks, `OverflowPolicy::Block`) around a
//! `WriteSink` with the `JsonFormatter` (crate feature `serde_json`); key
//! values through `kv: { .. }`. `drain` and `finish` call `Logger::flush`
//! (which queues a flush task); dropping the logger and its sinks destroys
//! the pool, which joins its thread after it ran every queued task.
//! Files: `FileSink` (buffered) with the same formatter.

use super::{workload, Subject};
use crate::sink::Target;
use spdlog::formatter::JsonFormatter;
use spdlog::sink::{AsyncPoolSink, FileSink, OverflowPolicy, Sink, WriteSink};
use std::sync::Arc;

struct SpdlogPeer {
    logger: spdlog::Logger,
}

pub(super) fn build(target: Target, w: u8) -> Box<dyn Subject> {
    assert_eq!(w, workload::W3, "spdlog-rs logs W3 only");
    let inner: Arc<dyn Sink> = match target {
        Target::Count(sink) => WriteSink::builder()
            .target(sink)
            .formatter(JsonFormatter::new())
            .build_arc()
            .expect("spdlog write sink"),
        Target::File(path) => FileSink::builder()
            .path(path)
            .formatter(JsonFormatter::new())
            .build_arc()
            .expect("spdlog file sink"),
    };
    let asynchronous = AsyncPoolSink::builder()
        .sink(inner)
        .overflow_policy(OverflowPolicy::Block)
        .build_arc()
        .expect("spdlog async pool sink");
    let logger = spdlog::Logger::builder()
        .sink(asynchronous)
        .build()
        .expect("spdlog logger");
    Box::new(SpdlogPeer { logger })
}

impl Subject for SpdlogPeer {
    #[inline]
    fn log(&self, i: u64) {
        let path = workload::path(i);
        let latency_ms = workload::latency_ms(i);
        spdlog::info!(logger: self.logger, "request handled", kv: { user_id = i, path, latency_ms });
    }

    fn drain(&self) {
        self.logger.flush();
    }

    fn finish(self: Box<Self>) {
        self.logger.flush();
        drop(self);
    }
}
