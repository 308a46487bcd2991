// `enabled!` in every form, as an expression of type `bool`.

fn main() {
    let logger = velo::Builder::new().writer(std::io::sink()).build().unwrap();
    let a: bool = velo::enabled!(info);
    let b = velo::enabled!(logger: &logger, debug,);
    let c = velo::enabled!(target: "audit", logger: &logger, warn);
    let d = velo::enabled!(logger: std::sync::Arc::new(logger.clone()), fatal);
    assert!(a && !b && c && d);
}
