fn main() {
    let id = 7;
    velo::velo!(info, "request handled"; "request_id" => id);
}
