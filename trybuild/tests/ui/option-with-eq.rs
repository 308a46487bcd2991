fn main() {
    let logger = velo::Builder::new().build().unwrap();
    velo::velo!(logger = &logger, info, "x");
}
