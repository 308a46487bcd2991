fn main() {
    velo::velo!(Info, "server started");
}
