fn main() {
    let logger = velo::Builder::new().build().unwrap();
    velo::velo!(logger &logger, info, "x");
    velo::velo!(target "audit", info, "x");
    velo::velo!(logger: &logger, every 1s, warn, "x");
    velo::velo!(sample 10, info, "x");
    // Two mistakes, two errors: the colon, and the comma before the level.
    velo::velo!(target "audit" info, "x");
    let _ = velo::enabled!(logger &logger, debug);
    let _ = velo::enabled!(target "audit", debug);
}
