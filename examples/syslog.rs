//! Logging to syslog: RFC 5424 messages over UDP, with the entry's JSON
//! line as MSG.
//!
//! Run with `cargo run --example syslog`. No syslog daemon is needed: the
//! example binds a UDP port on loopback itself, plays the receiver, and
//! prints each datagram as it arrives. To send to a real daemon instead,
//! pass its address: `cargo run --example syslog -- 127.0.0.1:514`
//! (`Syslog::tcp` and `Syslog::unix("/dev/log")` work the same way).

use std::net::UdpSocket;
use std::time::Duration;
use velo::{velo, Builder, Format, Syslog};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let daemon = std::env::args().nth(1);
    // Our own receiver on a free loopback port, unless a daemon was named.
    let receiver = UdpSocket::bind("127.0.0.1:0")?;
    receiver.set_read_timeout(Some(Duration::from_secs(2)))?;
    let addr = match &daemon {
        Some(addr) => addr.clone(),
        None => receiver.local_addr()?.to_string(),
    };
    println!("logging to syslog over UDP at {addr}");

    let logger = Builder::new()
        .format(Format::Json)
        .app_name("velo-example")
        .syslog(Syslog::udp(&addr))
        .build()?;
    velo!(logger: &logger, info, "server started", port = 8080, tls = false);
    velo!(logger: &logger, warn, "slow request", path = "/api/orders", latency_ms = 812.5);
    velo!(logger: &logger, error, "query failed", err = "connection reset\nby peer", attempt = 3);
    logger.sync()?;

    if daemon.is_none() {
        // <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID - - MSG; PRI is
        // facility user (8) plus the severity: info 6, warning 4, err 3.
        let mut datagram = vec![0; 65_536];
        for _ in 0..3 {
            let n = receiver.recv(&mut datagram)?;
            println!("{}", String::from_utf8_lossy(&datagram[..n]));
        }
    }
    let stats = logger.stats();
    println!(
        "written {}, dropped {}, write errors {}",
        stats.written, stats.dropped, stats.write_errors
    );
    Ok(())
}
