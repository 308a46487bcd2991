fn main() {
    velo::velo!(warning, "disk almost full");
}
