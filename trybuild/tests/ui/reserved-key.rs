fn main() {
    velo::velo!(info, "tick", time = 1);
    velo::velo!(info, "tick", level = 1);
    velo::velo!(info, "tick", msg = 1);
    velo::velo!(info, "tick", caller = 1);
}
