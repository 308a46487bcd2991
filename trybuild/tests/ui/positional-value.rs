fn main() {
    let y = 1;
    velo::velo!(info, "x {}", y, 5);
    let lvl = 3;
    velo::velo!(lvl, "x");
}
