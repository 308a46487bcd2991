fn main() {
    let _fields = velo::fields!(service = "api", service = "db", level = 1);
}
