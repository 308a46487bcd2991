fn main() {
    velo::velo!(info, "request", a.b = 1, "a.b" = 2);
}
