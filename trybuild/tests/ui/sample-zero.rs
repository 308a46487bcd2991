fn main() {
    velo::velo!(sample: 0, debug, "cache miss");
}
