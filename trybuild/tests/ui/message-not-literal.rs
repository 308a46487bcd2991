fn main() {
    let message = "server started";
    velo::velo!(info, message);
}
