fn main() {
    velo::velo!(Level::INFO, "as tracing writes it");
    velo::velo!(velo::Level::Warn, "the type's variant");
    velo::velo!("error", "a string");
    velo::velo!(log::Level::Loud, "no such level");
}
