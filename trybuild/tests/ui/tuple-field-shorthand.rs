struct UserId(u64);

fn main() {
    let id = UserId(7);
    velo::velo!(info, "login", id.0);
    velo::velo!(info, "login", %id.0);
    velo::velo!(info, "login", id.0 = 5);
}
