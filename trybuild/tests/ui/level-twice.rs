fn main() {
    velo::velo!(info, warn, "disk almost full");
    velo::velo!(info,, "disk almost full");
}
