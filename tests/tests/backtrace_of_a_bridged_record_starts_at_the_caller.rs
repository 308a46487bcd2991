//! A `log` record bridged into velo, at the backtrace level, carries the
//! stack from the function that called `log::error!`: the frames of velo's
//! bridge and of the `log` crate it came through are trimmed, as velo's
//! own are for `velo!`.

use velo::{Builder, Format, Level, Timestamp};
use velo_tests::{assert_backtrace_starts_at, Capture};

const CRATE: &str = "backtrace_of_a_bridged_record_starts_at_the_caller";

#[inline(never)]
fn settle_invoice_zqx() {
    log::error!("invoice unsettled");
}

#[test]
fn the_first_frame_is_the_function_that_logged() {
    let out = Capture::new();
    Builder::new()
        .format(Format::Json)
        .writer(out.clone())
        .backtrace(Level::Error)
        .timestamp(Timestamp::Off)
        .install()
        .unwrap();
    velo::bridge_log().unwrap();
    settle_invoice_zqx();
    velo::sync().unwrap();
    // With line tables only, a frame that had a call inlined into it is
    // named without its path.
    assert_backtrace_starts_at(
        &out,
        "invoice unsettled",
        &format!("{CRATE}::settle_invoice_zqx"),
        "settle_invoice_zqx (",
        &["velo::", "log::", "std::backtrace"],
    );
}
