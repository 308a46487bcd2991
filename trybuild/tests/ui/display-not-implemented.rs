struct User {
    id: u64,
}

fn main() {
    let user = User { id: 7 };
    velo::velo!(info, "login", user = %user);
    let _ = user.id;
}
