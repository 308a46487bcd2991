fn main() {
    velo::velo!("server started", info);
}
