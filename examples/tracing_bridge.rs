//! A program (or its dependencies) that logs with `tracing`, written by velo.
//!
//! Run with `cargo run -p velo --example tracing_bridge --features tracing`.
//! It writes JSON lines to stdout: each `tracing` event with its level,
//! message, caller and typed fields, after the fields of the spans it is
//! inside, outermost first; `velo!` entries inside a span carry its fields
//! as well.

use std::fmt;
use velo::{velo, Builder, Format};

/// An error with a source, written with its whole chain.
#[derive(Debug)]
struct QueryFailed(std::io::Error);

impl fmt::Display for QueryFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("query failed")
    }
}

impl std::error::Error for QueryFailed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

fn handle(request_id: u64, path: &str) {
    // A span's fields are encoded once, here, and added to every event
    // inside it.
    let span = tracing::info_span!("request", request_id, path);
    let _inside = span.enter();
    tracing::info!(cache_hit = false, latency_ms = 12.5, "request handled");
    // `velo!` inside the span carries its fields too: a program can move
    // its calls to `velo!` and keep its spans.
    velo!(info, "response sent", bytes = 2_048u32);

    // A debug span of target `db`, which the filter lets through.
    let attempt = tracing::debug_span!(target: "db", "query", attempt = 2u8);
    attempt.in_scope(|| {
        let err = QueryFailed(std::io::Error::other("connection reset"));
        tracing::error!(
            error = &err as &(dyn std::error::Error + 'static),
            "giving up"
        );
    });
}

fn main() -> Result<(), velo::Error> {
    Builder::new()
        .format(Format::Json)
        .stdout()
        .filter("info,db=debug,chatty=warn")
        .fields(velo::fields!(service = "api"))
        .install()?;
    // After `install`: the bridge writes through the default logger.
    velo::bridge_tracing()?;

    handle(7, "/api/orders");

    // Targets are filtered as module paths: `chatty` passes only warnings.
    tracing::info!(target: "chatty", "not written");
    tracing::warn!(target: "chatty", "written, with its target");

    // Filters change at run time, for `tracing` call sites too.
    tracing::debug!("not written at info");
    velo::logger().set_filter("debug")?;
    tracing::debug!("written at debug");

    // velo's own macro and `tracing` share one pipeline.
    velo!(info, "shutting down");
    velo::close();
    Ok(())
}
