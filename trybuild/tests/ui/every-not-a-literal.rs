fn main() {
    let d = std::time::Duration::from_secs(10);
    velo::velo!(every: d, warn, "disk almost full");
}
