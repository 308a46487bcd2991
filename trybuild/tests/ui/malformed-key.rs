fn main() {
    velo::velo!(info, "request", a. = 1);
    velo::velo!(info, "request", a..b = 1);
}
