fn main() {
    velo::velo!(info, "request", a = , b = 2);
    velo::velo!(info, "request", a =);
}
