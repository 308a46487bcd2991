fn main() {
    let level = 3;
    velo::velo!(info, "reached level {level}");
}
