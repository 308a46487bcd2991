fn main() {
    velo::velo!(banana, "disk almost full");
}
