fn main() {
    let l = velo::logger();
    velo::velo!(every: 1s, sample: 10, every: 2s, warn, "disk almost full");
    velo::velo!(logger: l, target: "audit", logger: l, info, "login");
}
