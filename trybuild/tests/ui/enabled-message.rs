fn main() {
    let _ = velo::enabled!(debug, "cache miss");
}
