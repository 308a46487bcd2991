// A placeholder names a variable whose type has Display but no Value: the
// note says to list it after the message with `%`.
struct User;

impl std::fmt::Display for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ada")
    }
}

fn main() {
    let user = User;
    velo::velo!(info, "hello {user}");
}
