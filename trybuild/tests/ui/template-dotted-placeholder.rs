// A dotted placeholder is not captured from scope: it needs a field of
// the call, and the error says how to add one.
struct Request {
    path: &'static str,
}

fn main() {
    let req = Request { path: "/health" };
    velo::velo!(info, "serving {req.path}");
    let _ = req.path;
}
