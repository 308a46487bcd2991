fn main() {
    let builder = velo::Builder::new();
    velo::velo!(logger: builder, info, "server started");
}
