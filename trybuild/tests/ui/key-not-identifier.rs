fn main() {
    let x = 1;
    velo::velo!(info, "request", 5 = x);
}
