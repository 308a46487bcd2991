fn main() {
    velo::velo!(warn, every: 10s, "disk almost full");
}
