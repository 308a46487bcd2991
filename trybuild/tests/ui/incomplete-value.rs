fn main() {
    let s = "x";
    velo::velo!(info, "request", a = 1 +);
    velo::velo!(info, "request", b = 1, a = s.len().);
    velo::velo!(info, "request", a = %1 +);
    let _ = velo::fields!(a = 1 =);
}
