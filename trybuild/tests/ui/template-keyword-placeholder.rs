fn main() {
    velo::velo!(info, "parsed a {type} value");
}
