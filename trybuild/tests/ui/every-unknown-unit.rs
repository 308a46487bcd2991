fn main() {
    velo::velo!(every: 10x, warn, "disk almost full");
}
