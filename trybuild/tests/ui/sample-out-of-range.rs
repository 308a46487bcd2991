fn main() {
    velo::velo!(sample: 256u8, debug, "cache miss");
}
