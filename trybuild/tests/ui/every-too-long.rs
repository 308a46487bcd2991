fn main() {
    velo::velo!(every: 99999999999999999999h, warn, "disk almost full");
}
