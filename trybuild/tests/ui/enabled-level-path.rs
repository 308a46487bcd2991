fn main() {
    let _ = velo::enabled!(Level::DEBUG);
}
