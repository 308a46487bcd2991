//! velo with its defaults (JSON, microsecond timestamps, caller on, queue of
//! 8192 entries, overflow `Sync`): `Builder::writer` for the counting sink,
//! `Builder::file` for a file.

use super::{Subject, LATENCY_MS, PATH};
use crate::sink::Target;
use std::hint::black_box;
use velo::{velo, Builder, Format, Logger};

struct VeloPeer(Logger);

pub(super) fn build(target: Target) -> Box<dyn Subject> {
    let builder = Builder::new().format(Format::Json);
    let builder = match target {
        Target::Count(sink) => builder.writer(sink),
        Target::File(path) => builder.file(path),
    };
    Box::new(VeloPeer(builder.build().expect("velo logger")))
}

impl Subject for VeloPeer {
    #[inline]
    fn log(&self, i: u64) {
        velo!(
            logger: &self.0,
            info,
            "request handled",
            user_id = i,
            path = black_box(PATH),
            latency_ms = black_box(LATENCY_MS),
        );
    }

    fn drain(&self) {
        self.0.sync().expect("velo sync");
    }

    fn finish(self: Box<Self>) {
        self.0.sync().expect("velo sync");
        let stats = self.0.stats();
        assert_eq!(stats.dropped, 0, "velo dropped entries");
        assert_eq!(stats.write_errors, 0, "velo write errors");
        self.0.close();
    }
}
