fn main() {
    velo::velo!(info, a = 1, "server started");
}
