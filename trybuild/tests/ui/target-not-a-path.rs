fn main() {
    velo::velo!(target: "audit log", info, "login");
    velo::velo!(target: "", info, "login");
    let t = "audit";
    velo::velo!(target: t, info, "login");
}
