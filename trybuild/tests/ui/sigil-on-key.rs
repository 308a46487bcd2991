fn main() {
    let user = "ada";
    velo::velo!(info, "login", %name = user);
}
