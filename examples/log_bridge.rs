//! Records of crates that log through the `log` facade, written by velo
//! with their key-values as typed fields.
//!
//! Run with `cargo run --example log_bridge --features log`.

fn main() -> Result<(), velo::Error> {
    velo::Builder::new()
        .format(velo::Format::Json)
        .filter("info,noisy_dependency=warn")
        .install()?;
    velo::bridge_log()?;

    // What a dependency using `log` writes:
    let user_id = 7;
    log::info!(user_id, ok = true, ratio = 0.25; "user {} signed in", "ada");
    log::warn!(target: "noisy_dependency", retries = 3; "connection reset");
    log::debug!("filtered out at info");

    // And velo's own entries, through the same pipeline.
    velo::velo!(info, "both in one stream", user_id);
    velo::close();
    Ok(())
}
