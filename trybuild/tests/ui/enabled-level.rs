fn main() {
    let _ = velo::enabled!(debg);
}
