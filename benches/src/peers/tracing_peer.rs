//! tracing + tracing-subscriber's JSON formatter, writing through
//! tracing-appender's `non_blocking` in lossless mode (`lossy(false)`: the
//! caller blocks when the 128,000-line queue is full), as its docs show.
//! The subscriber is the global default. `finish` drops the `WorkerGuard`,
//! which waits for the worker to write what is queued.
//! Files: `tracing_appender::rolling::never`.

use super::{workload, Subject};
use crate::sink::Target;
use std::io::Write;
use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};

struct TracingPeer {
    guard: WorkerGuard,
}

pub(super) fn build(target: Target, w: u8) -> Box<dyn Subject> {
    assert_eq!(w, workload::W3, "tracing logs W3 only");
    match target {
        Target::Count(sink) => install(sink),
        Target::File(path) => {
            let dir = path.parent().expect("file in a directory");
            let name = path.file_name().expect("file name");
            install(tracing_appender::rolling::never(dir, name))
        }
    }
}

fn install<W: Write + Send + 'static>(writer: W) -> Box<dyn Subject> {
    let (non_blocking, guard) = NonBlockingBuilder::default().lossy(false).finish(writer);
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_writer(non_blocking)
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("one global subscriber");
    Box::new(TracingPeer { guard })
}

impl Subject for TracingPeer {
    #[inline]
    fn log(&self, i: u64) {
        tracing::info!(
            user_id = i,
            path = workload::path(i),
            latency_ms = workload::latency_ms(i),
            "request handled"
        );
    }

    fn finish(self: Box<Self>) {
        drop(self.guard);
    }
}
