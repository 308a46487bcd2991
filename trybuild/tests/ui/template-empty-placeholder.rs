fn main() {
    let user = 7;
    velo::velo!(info, "user {} logged in", user);
}
