fn main() {
    velo::velo!(info, "done }");
}
