//! velo with its defaults (JSON, microsecond timestamps, caller on, rings
//! that grow to 1 MiB per thread, overflow `Sync`): `Builder::writer` for
//! the counting sink, `Builder::file` for a file.

use super::workload::{self, W0, W10, W3};
use super::Subject;
use crate::sink::Target;
use velo::{velo, Builder, Format, Logger};

/// velo logging workload `W`.
struct VeloPeer<const W: u8>(Logger);

pub(super) fn build(target: Target, w: u8) -> Box<dyn Subject> {
    let builder = Builder::new().format(Format::Json);
    let builder = match target {
        Target::Count(sink) => builder.writer(sink),
        Target::File(path) => builder.file(path),
    };
    let logger = builder.build().expect("velo logger");
    match w {
        W0 => Box::new(VeloPeer::<W0>(logger)),
        W3 => Box::new(VeloPeer::<W3>(logger)),
        W10 => Box::new(VeloPeer::<W10>(logger)),
        _ => panic!("no workload W{w}"),
    }
}

impl<const W: u8> Subject for VeloPeer<W> {
    #[inline]
    fn log(&self, i: u64) {
        match W {
            W0 => velo!(logger: &self.0, info, "request handled"),
            W3 => velo!(
                logger: &self.0,
                info,
                "request handled",
                user_id = i,
                path = workload::path(i),
                latency_ms = workload::latency_ms(i),
            ),
            _ => velo!(
                logger: &self.0,
                info,
                "request handled",
                user_id = i,
                path = workload::path(i),
                latency_ms = workload::latency_ms(i),
                status = workload::status(i),
                method = workload::method(i),
                bytes = workload::bytes(i),
                cache_hit = workload::cache_hit(i),
                tls = workload::tls(i),
                ratio = workload::ratio(i),
                peer = %workload::peer(i),
            ),
        }
    }

    fn drain(&self) {
        self.0.sync().expect("velo sync");
    }

    fn queue_full(&self) -> Option<u64> {
        Some(self.0.stats().sync_fallbacks)
    }

    fn finish(self: Box<Self>) {
        self.0.sync().expect("velo sync");
        let stats = self.0.stats();
        assert_eq!(stats.dropped, 0, "velo dropped entries");
        assert_eq!(stats.write_errors, 0, "velo write errors");
        self.0.close();
    }
}
