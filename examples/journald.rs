//! Logging to systemd's journal through its native protocol.
//!
//! Run with `cargo run --example journald`. With journald running, read the
//! entries back with `journalctl -t journald-example -o verbose`. Without
//! it (a container, CI), the example listens on a socket of its own and
//! prints the fields journald would have received.

#[cfg(unix)]
fn main() -> Result<(), velo::Error> {
    use velo::velo;
    let system = std::path::Path::new("/run/systemd/journal/socket");
    let own = std::env::temp_dir().join(format!("velo-journald-example-{}", std::process::id()));
    let (path, listener) = if system.exists() {
        (system.to_path_buf(), None)
    } else {
        let _ = std::fs::remove_file(&own);
        let socket = std::os::unix::net::UnixDatagram::bind(&own).expect("a socket of our own");
        (own.clone(), Some(socket))
    };
    let logger = velo::Builder::new()
        .journald_at(&path)
        .app_name("journald-example")
        .build()?;
    let user_id = 42;
    velo!(logger: &logger, info, "user {user_id} logged in", http.status = 200, peer = "10.0.0.7");
    velo!(logger: &logger, error, "config unreadable", detail = "line one\nline two");
    logger.sync()?;
    match listener {
        None => println!(
            "sent to {}: see `journalctl -t journald-example -o verbose`",
            path.display()
        ),
        Some(socket) => {
            socket.set_nonblocking(true).expect("non-blocking");
            let mut buf = vec![0u8; 65536];
            while let Ok(n) = socket.recv(&mut buf) {
                println!("--- one datagram, as journald would receive it:");
                println!("{}", String::from_utf8_lossy(&buf[..n]));
            }
            let _ = std::fs::remove_file(&own);
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn main() {
    println!("journald exists on Linux only");
}
