fn main() {
    velo::velo!(every: 10, warn, "disk almost full");
}
