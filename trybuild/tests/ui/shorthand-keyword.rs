fn main() {
    velo::velo!(info, "request", type);
}
