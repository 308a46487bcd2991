fn main() {
    velo::velo!(info, "request handled", %);
}
