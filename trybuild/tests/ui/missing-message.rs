fn main() {
    velo::velo!(info);
}
