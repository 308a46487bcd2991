fn main() {
    let ms = 12.5;
    velo::velo!(info, "took {ms:?} ms");
}
