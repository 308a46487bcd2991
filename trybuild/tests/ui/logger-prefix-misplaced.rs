fn main() {
    let l = velo::logger();
    velo::velo!(info, logger: &l, "server started");
}
