fn main() {
    velo::velo!(warning, "login", user_id = 1, user_id = 2, time = 3);
}
