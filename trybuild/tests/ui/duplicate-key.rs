fn main() {
    velo::velo!(info, "login", user_id = 1, user_id = 2);
}
