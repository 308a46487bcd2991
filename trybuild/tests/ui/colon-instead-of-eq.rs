fn main() {
    velo::velo!(info, "server started", a: 1);
}
