fn main() {
    velo::velo!(info, "user {user_id} logged in");
}
