fn main() {
    velo::velo!(info, "request", "" = 1);
}
