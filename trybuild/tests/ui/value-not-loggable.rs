struct User {
    id: u64,
}

fn main() {
    let user = User { id: 7 };
    velo::velo!(info, "login", user = user);
    velo::velo!(info, "login", owner = User { id: 8 });
    let _ = user.id;
}
