//! A `tracing` event bridged into velo, at the backtrace level, carries the
//! stack from the function that emitted it: the frames of velo's bridge,
//! of `tracing`'s dispatch and of the standard library between them are
//! trimmed.
#![cfg(feature = "tracing")]

use velo::{Builder, Format, Level, Timestamp};
use velo_tests::{assert_backtrace_starts_at, Capture};

const CRATE: &str = "tracing_backtrace_starts_at_the_caller";

#[inline(never)]
fn settle_invoice_zqx() {
    tracing::error!(amount = 12, "invoice unsettled");
}

#[test]
fn the_first_frame_is_the_function_that_emitted_the_event() {
    let out = Capture::new();
    Builder::new()
        .format(Format::Json)
        .writer(out.clone())
        .backtrace(Level::Error)
        .timestamp(Timestamp::Off)
        .install()
        .unwrap();
    velo::bridge_tracing().unwrap();
    settle_invoice_zqx();
    velo::sync().unwrap();
    // With line tables only, a frame that had a call inlined into it is
    // named without its path; the event macro's own closure is the
    // caller's code.
    assert_backtrace_starts_at(
        &out,
        "invoice unsettled",
        &format!("{CRATE}::settle_invoice_zqx"),
        "settle_invoice_zqx",
        &["velo::", "tracing_core::", "std::backtrace"],
    );
}
