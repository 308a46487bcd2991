fn main() {
    velo::velo!(info, "request", "user id");
}
