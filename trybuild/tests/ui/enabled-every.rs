fn main() {
    let _ = velo::enabled!(every: 1s, debug);
}
