// What the error for a dotted placeholder suggests compiles: the shorthand
// field at that path.
struct Request {
    path: &'static str,
}

fn main() {
    let req = Request { path: "/health" };
    velo::velo!(info, "serving {req.path}", req.path);
}
