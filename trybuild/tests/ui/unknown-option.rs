fn main() {
    let logger = velo::Builder::new().build().unwrap();
    velo::velo!(lgger: &logger, info, "misspelt");
    velo::velo!(parent: None, info, "an option of tracing's");
}
