//! env_logger, synchronous, through the `log` facade (installed globally),
//! with its default text format (`[time LEVEL target] message`, no colour):
//! it formats and writes each line on the caller's thread, one write per
//! line into `Target::Pipe` (the counting sink or a file). The fields go
//! into the message, as for the other `log`-facade loggers.

use super::{workload, Subject};
use crate::sink::Target;
use env_logger::{Target as EnvTarget, WriteStyle};
use std::io::Write;

struct EnvLoggerPeer;

pub(super) fn build(target: Target, w: u8) -> Box<dyn Subject> {
    assert_eq!(w, workload::W3, "env_logger logs W3 only");
    let pipe: Box<dyn Write + Send> = match target {
        Target::Count(sink) => Box::new(sink),
        Target::File(path) => Box::new(std::fs::File::create(path).expect("env_logger log file")),
    };
    env_logger::Builder::new()
        .filter_level(log::LevelFilter::Info)
        .write_style(WriteStyle::Never)
        .target(EnvTarget::Pipe(pipe))
        .init();
    Box::new(EnvLoggerPeer)
}

impl Subject for EnvLoggerPeer {
    #[inline]
    fn log(&self, i: u64) {
        super::log_facade_w3(i);
    }

    fn finish(self: Box<Self>) {
        log::logger().flush();
    }
}
