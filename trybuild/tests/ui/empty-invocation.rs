fn main() {
    velo::velo!();
}
