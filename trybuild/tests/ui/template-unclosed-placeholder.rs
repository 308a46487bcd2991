fn main() {
    let user = 7;
    velo::velo!(info, "user {user logged in");
}
