//! The event catalog: every `velo!` call site of the program, printed as
//! JSON without running any of them.
//!
//! Run with `cargo run --example catalog`. The output lists each site's
//! level, message (the template as written), module path, target, file,
//! line and keys: material for docs of what a service logs, and for alert
//! rules that match on messages. The functions below never run.

use velo::velo;

mod payments {
    use velo::velo;

    pub fn charge(order_id: u64, amount_cents: u64) {
        velo!(
            info,
            "charged {amount_cents} cents for order {order_id}",
            order_id,
            amount_cents
        );
    }

    pub fn declined(order_id: u64, reason: &str) {
        velo!(every: 10s, warn, "card declined", order_id, reason);
    }
}

mod auth {
    use velo::velo;

    pub fn login(user: &str, peer: std::net::IpAddr) {
        velo!(target: "audit", info, "user {user} logged in from {peer}", peer = %peer);
    }
}

fn main() {
    if std::env::args().any(|a| a == "--run-sites") {
        // Never passed by `cargo run --example catalog`: the sites are
        // listed all the same.
        payments::charge(1, 995);
        payments::declined(1, "expired");
        auth::login("ada", std::net::Ipv4Addr::LOCALHOST.into());
        velo!(sample: 100, debug, "cache miss", key = "user:42");
    }
    println!("{}", velo::catalog_json());
}
