fn main() {
    let user = String::from("ann");
    velo::velo!(info, "x", user.len());
}
