fn main() {
    let port = 8080;
    velo::velo!(info, format!("listening on {port}"));
}
