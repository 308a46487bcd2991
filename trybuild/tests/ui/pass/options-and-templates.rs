// `every:`, `sample:`, `target:` and message templates expand to code that
// is clean under the strictest lints a user may set, in any option order.
#![deny(warnings, clippy::pedantic)]

fn main() {
    let logger = velo::Builder::new()
        .writer(std::io::sink())
        .build()
        .unwrap();
    let attempt = 3;
    let user_id = 42_u64;
    let peer = std::net::Ipv4Addr::LOCALHOST;
    for _ in 0..3 {
        velo::velo!(every: 10s, warn, "retrying {attempt} of {max}", max = 5);
        velo::velo!(sample: 100, debug, "cache miss", key = "user:42");
        velo::velo!(target: "audit", info, "user {user_id} logged in from {peer}", peer = %peer);
        velo::velo!(logger: &logger, every: 500ms, sample: 2, target: "my_app::audit", info, "{{braces}} {user_id}");
        velo::velo!(target: "audit", sample: 1, every: 1h, logger: &logger, error, "escaped {{}}");
        // Targets as `log` and `tracing` name them; a suffixed count.
        velo::velo!(target: "audit.events", sample: 10u32, info, "login");
        velo::velo!(target: "my-dep::x", info, "login");
    }
    UserId(7).show();
    if attempt == 0 {
        give_up(&logger, attempt);
    }
    assert_eq!(port("8080"), 8080);
    velo::close();
}

/// `fatal` is an expression of type `!`: it ends a match arm that needs a
/// value.
fn port(text: &str) -> u16 {
    match text.parse() {
        Ok(port) => port,
        Err(e) => velo::velo!(fatal, "bad port", text, err = e),
    }
}

fn give_up(logger: &velo::Logger, attempt: i32) {
    velo::velo!(every: 1m, logger: logger, fatal, "gave up after {attempt}");
}

struct UserId(u64);

impl velo::Value for UserId {
    fn encode(&self, e: &mut velo::Encoder<'_>) {
        e.u64(self.0);
    }
}

impl UserId {
    // A template captures `self`, as `format!("{self}")` does.
    fn show(&self) {
        velo::velo!(info, "user {self} seen");
    }
}
