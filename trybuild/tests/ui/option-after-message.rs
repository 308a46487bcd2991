fn main() {
    let logger = velo::Builder::new().build().unwrap();
    velo::velo!(info, "x", logger: &logger);
    velo::velo!(info, "x", n = 1, every: 1s);
}
