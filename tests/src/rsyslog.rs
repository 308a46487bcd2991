//! A private rsyslogd for the syslog tests and benchmarks (feature
//! `rsyslog`).
//!
//! It runs in the foreground with the configuration in
//! `fixtures/rsyslog.conf.in`: UDP and TCP inputs on loopback ports of its
//! own, a unix socket in a fresh directory under `/tmp` (kept short, as a
//! socket path holds at most 107 bytes), and every message written to
//! `messages.jsonl` as one JSON object per line with its parsed header
//! (`sev`, `fac`, `app`, `procid`, `ts`, `host`, `msg`, ...). Nothing of the
//! host's syslog is touched.
//!
//! rsyslogd writes its pid file even when a listener failed to bind, so
//! readiness is checked end to end: a probe message is sent over each
//! transport until it shows up in the file.

use serde_json::{Map, Value};
use std::cell::RefCell;
use std::io::Write;
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The configuration; `@DIR@`, `@TCPPORT@` and `@UDPPORT@` are filled in.
const CONFIG: &str = include_str!("../fixtures/rsyslog.conf.in");

/// The APP-NAME of readiness probes, which [`Rsyslogd::lines`] leaves out.
const PROBE_APP: &str = "velo-probe";

/// How long rsyslogd may take to start (it takes about 10 ms).
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// How a test stops rsyslogd.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Stop {
    /// SIGTERM: rsyslogd drains its queue and exits.
    Term,
    /// SIGKILL: it dies at once.
    Kill,
}

/// The lines of `messages.jsonl` read so far.
#[derive(Debug, Default)]
struct Parsed {
    /// Bytes read.
    offset: usize,
    /// The messages, probes left out.
    lines: Vec<Map<String, Value>>,
    /// The MSGIDs of the probes.
    probes: Vec<String>,
    /// Where the lines rsyslogd left torn start.
    torn: Vec<usize>,
}

/// A running private rsyslogd; killed, and its directory removed, on drop.
#[derive(Debug)]
pub struct Rsyslogd {
    dir: PathBuf,
    conf: PathBuf,
    udp_port: u16,
    tcp_port: u16,
    child: Option<Child>,
    /// How many times rsyslogd was started, to tell this start's probes.
    starts: u32,
    /// What was read of `messages.jsonl` (rsyslogd only appends to it).
    parsed: RefCell<Parsed>,
}

/// The rsyslogd binary: `$RSYSLOGD`, else `/usr/sbin/rsyslogd` (not on a
/// normal user's `PATH`).
fn binary() -> PathBuf {
    std::env::var_os("RSYSLOGD").map_or_else(|| "/usr/sbin/rsyslogd".into(), PathBuf::from)
}

/// A loopback port free a moment ago.
fn free_port(udp: bool) -> u16 {
    if udp {
        UdpSocket::bind("127.0.0.1:0")
            .and_then(|s| s.local_addr())
            .expect("a free UDP port")
            .port()
    } else {
        TcpListener::bind("127.0.0.1:0")
            .and_then(|s| s.local_addr())
            .expect("a free TCP port")
            .port()
    }
}

impl Rsyslogd {
    /// Starts rsyslogd in a fresh directory and waits until every input
    /// works.
    ///
    /// # Panics
    ///
    /// When rsyslogd is not installed (`apt-get install -y rsyslog`) or
    /// does not come up.
    pub fn start() -> Rsyslogd {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let bin = binary();
        assert!(
            bin.exists(),
            "{} not found: install rsyslog (apt-get install -y rsyslog) or set RSYSLOGD",
            bin.display()
        );
        let dir = PathBuf::from(format!(
            "/tmp/velo-rsyslog-{}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("rsyslogd's directory");
        let (udp_port, tcp_port) = (free_port(true), free_port(false));
        let text = CONFIG
            .replace("@DIR@", dir.to_str().expect("a UTF-8 temp dir"))
            .replace("@TCPPORT@", &tcp_port.to_string())
            .replace("@UDPPORT@", &udp_port.to_string());
        let conf = dir.join("rsyslog.conf");
        std::fs::write(&conf, text).expect("rsyslogd's configuration");
        let mut rsyslogd = Rsyslogd {
            dir,
            conf,
            udp_port,
            tcp_port,
            child: None,
            starts: 0,
            parsed: RefCell::default(),
        };
        rsyslogd.restart();
        rsyslogd
    }

    /// Starts rsyslogd again after [`stop`](Rsyslogd::stop), on the same
    /// ports and socket, appending to the same file.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "rsyslogd is running");
        let log = |name: &str| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.dir.join(name))
                .expect("rsyslogd's output file")
        };
        // stdout and stderr go to files: a pipe nobody reads can stall
        // rsyslogd.
        let child = Command::new(binary())
            .arg("-n")
            .arg("-f")
            .arg(&self.conf)
            .arg("-i")
            .arg(self.dir.join("rsyslogd.pid"))
            .stdin(Stdio::null())
            .stdout(log("stdout.txt"))
            .stderr(log("stderr.txt"))
            .spawn()
            .expect("rsyslogd starts");
        self.child = Some(child);
        self.wait_ready();
        self.probe();
    }

    /// Stops rsyslogd with `how` and waits for it to exit.
    pub fn stop(&mut self, how: Stop) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        match how {
            Stop::Kill => child.kill().expect("SIGKILL to rsyslogd"),
            Stop::Term => {
                let status = Command::new("kill")
                    .args(["-TERM", &child.id().to_string()])
                    .status()
                    .expect("kill runs");
                assert!(status.success(), "SIGTERM to rsyslogd");
            }
        }
        child.wait().expect("rsyslogd exits");
        // Killed in the middle of writing a line, rsyslogd leaves it torn;
        // the next one would append to it. End it here, and remember it.
        let path = self.dir.join("messages.jsonl");
        let bytes = std::fs::read(&path).unwrap_or_default();
        if !bytes.is_empty() && !bytes.ends_with(b"\n") {
            let start = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            self.parsed.borrow_mut().torn.push(start);
            let mut file = std::fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .expect("rsyslogd's file");
            file.write_all(b"\n").expect("rsyslogd's file");
        }
    }

    /// Lines rsyslogd left torn when it was killed (they are not in
    /// [`lines`](Rsyslogd::lines)).
    pub fn torn(&self) -> usize {
        self.parsed.borrow().torn.len()
    }

    /// `127.0.0.1:PORT` of the UDP input.
    pub fn udp_addr(&self) -> String {
        format!("127.0.0.1:{}", self.udp_port)
    }

    /// `127.0.0.1:PORT` of the TCP input.
    pub fn tcp_addr(&self) -> String {
        format!("127.0.0.1:{}", self.tcp_port)
    }

    /// The unix datagram socket.
    pub fn socket(&self) -> PathBuf {
        self.dir.join("log.sock")
    }

    /// The directory rsyslogd works in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.join("stderr.txt")).unwrap_or_default()
    }

    /// Waits until the TCP input accepts connections.
    fn wait_ready(&mut self) {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("rsyslogd exited with {status}: {}", self.stderr());
            }
            if TcpStream::connect(("127.0.0.1", self.tcp_port)).is_ok() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "rsyslogd not ready: {}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Sends a probe over each input until each shows up in the file.
    fn probe(&mut self) {
        self.starts += 1;
        let deadline = Instant::now() + START_TIMEOUT;
        let udp = UdpSocket::bind("127.0.0.1:0").expect("a UDP socket");
        let unix = UnixDatagram::unbound().expect("a unix socket");
        let mut pending = vec!["udp", "tcp", "unix"];
        let mut round = 0;
        while !pending.is_empty() {
            assert!(
                Instant::now() < deadline,
                "rsyslogd ignores probes over {pending:?}: {}",
                self.stderr()
            );
            round += 1;
            for &input in &pending {
                let msg = format!(
                    "<15>1 - - {PROBE_APP} - {input}.{} - probe {round}",
                    self.starts
                );
                let _ = match input {
                    "udp" => udp
                        .send_to(msg.as_bytes(), ("127.0.0.1", self.udp_port))
                        .map(drop),
                    "unix" => unix.send_to(msg.as_bytes(), self.socket()).map(drop),
                    _ => TcpStream::connect(("127.0.0.1", self.tcp_port))
                        .and_then(|mut s| write!(s, "{} {msg}", msg.len())),
                };
            }
            let until = Instant::now() + Duration::from_millis(50);
            while Instant::now() < until && !pending.is_empty() {
                self.read_new();
                let probes = &self.parsed.borrow().probes;
                pending.retain(|p| !probes.contains(&format!("{p}.{}", self.starts)));
                std::thread::sleep(Duration::from_millis(2));
            }
        }
    }

    /// Parses the lines added to `messages.jsonl` since the last call.
    ///
    /// # Panics
    ///
    /// When a line is not JSON (rsyslogd's own escaping keeps it so).
    fn read_new(&self) {
        let mut parsed = self.parsed.borrow_mut();
        let bytes = std::fs::read(self.dir.join("messages.jsonl")).unwrap_or_default();
        let new = &bytes[parsed.offset.min(bytes.len())..];
        // Complete lines only: a long line may be written in pieces.
        let complete = new
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |end| end + 1);
        let mut start = parsed.offset;
        for line in new[..complete].split(|&b| b == b'\n') {
            let at = start;
            start += line.len() + 1;
            if line.is_empty() || parsed.torn.contains(&at) {
                continue;
            }
            let line: Map<String, Value> = serde_json::from_slice(line)
                .unwrap_or_else(|e| panic!("bad line {:?}: {e}", String::from_utf8_lossy(line)));
            if line["app"] == PROBE_APP {
                parsed
                    .probes
                    .push(line["msgid"].as_str().unwrap_or("").to_owned());
            } else {
                parsed.lines.push(line);
            }
        }
        parsed.offset += complete;
    }

    /// The messages received so far (complete lines, probes left out).
    pub fn lines(&self) -> Vec<Map<String, Value>> {
        self.read_new();
        self.parsed.borrow().lines.clone()
    }

    /// Waits until `done` holds for the messages received, or `timeout`
    /// passes; returns them either way.
    pub fn wait_for(
        &self,
        timeout: Duration,
        done: impl Fn(&[Map<String, Value>]) -> bool,
    ) -> Vec<Map<String, Value>> {
        let deadline = Instant::now() + timeout;
        let mut seen = usize::MAX;
        loop {
            self.read_new();
            let parsed = self.parsed.borrow();
            // Look again only when lines were added.
            if parsed.lines.len() != seen {
                seen = parsed.lines.len();
                if done(&parsed.lines) {
                    return parsed.lines.clone();
                }
            }
            if Instant::now() >= deadline {
                return parsed.lines.clone();
            }
            drop(parsed);
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Rsyslogd {
    fn drop(&mut self) {
        self.stop(Stop::Kill);
        if std::env::var_os("VELO_KEEP_RSYSLOG").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
