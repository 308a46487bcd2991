fn main() {
    velo::velo!(info "server started");
    velo::velo!(info, "server started" port = 8080);
}
