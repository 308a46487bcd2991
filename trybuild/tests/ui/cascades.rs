fn main() {
    velo::velo!(=);
    velo::velo!(logger: &);
    velo::velo!(every: 1s info, "cache refreshed");
}
