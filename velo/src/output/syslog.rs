//! syslog: one RFC 5424 message per entry, over UDP, TCP or a unix
//! datagram socket.
//!
//! ```text
//! <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID - - MSG
//! <14>1 2026-11-27T17:03:12.123456Z web-7 api 4242 - - {"time":"2026-11-27T17:03:12.123456Z","level":"info",...}
//! ```
//!
//! - PRI is facility `user` (1) times 8 plus the level's severity (trace
//!   and debug 7, info 6, warn 4, error 3, fatal 2); TIMESTAMP the entry's
//!   time in UTC with microseconds, `-` when the logger writes no time;
//!   HOSTNAME from `gethostname`, APP-NAME from
//!   [`Builder::app_name`](crate::Builder::app_name), PROCID the process
//!   id, each reduced to the printable ASCII RFC 5424 allows. MSGID and
//!   STRUCTURED-DATA are `-`. MSG is the entry's line in the logger's
//!   format, without its newline and without a byte-order mark.
//! - A message longer than [`Syslog::max_len`] is cut there, at a
//!   character boundary, so it fits one UDP datagram and every receiver's
//!   frame limit.
//! - UDP and the unix socket carry one message per datagram. TCP frames
//!   each message with octet counting (RFC 6587: `LEN SP MESSAGE`), so no
//!   byte of it can end a frame early.
//!
//! # Delivery
//!
//! Messages go into a *backlog* of bytes (bounded by
//! [`Syslog::backlog`]); the worker sends from it without ever blocking:
//! sockets are non-blocking, a TCP connection is opened on a helper thread,
//! and a lost link is retried on later passes after a backoff
//! ([`MIN_BACKOFF`] doubling to [`MAX_BACKOFF`]; the worker passes at
//! least twice a second while idle). When the backlog is full, new entries
//! are dropped and reported through [`Output::take_lost`], so the logger
//! counts them in `stats().dropped`. A failed connection or send is a write
//! error (counted, reported once on stderr, returned by the next `sync`);
//! the entries waiting are not, as they are still delivered later. The
//! same failure again on every retry is one error, until a message gets
//! through. A `sync` (`Output::deliver`) retries a lost link at once and
//! waits, at most [`DELIVER_WAIT`], until every entry is sent, returning
//! the failure if there is one.
//!
//! Over TCP a message stays in the backlog after it is sent, until the
//! peer's kernel has acknowledged every byte of it: on Linux the
//! `TIOCOUTQ` ioctl gives the bytes sent on the connection and not yet
//! acknowledged (it stays valid after a reset). When the connection is
//! lost, the next one resends from the first message not wholly
//! acknowledged, so a restart of the receiver loses nothing that reached
//! velo's socket but not the receiver's. Before sending, the socket is
//! read once: a syslog server never sends anything, so a readable socket
//! means the peer has closed it, and nothing is written into a dead
//! connection. What TCP cannot tell is whether the receiver *processed*
//! what its kernel acknowledged: a receiver killed with acknowledged data
//! still unread loses it without anyone knowing, and one killed after it
//! read data whose acknowledgement its kernel was still delaying gets that
//! data again from the next connection (RFC 6587 has no application-level
//! acknowledgement). Elsewhere than Linux, bytes count as
//! delivered once the kernel accepted them.

use super::journald::priority as severity;
use super::{Lost, Output};
use crate::buffer::Shrink;
use crate::error::{Error, ErrorKind};
use crate::event::Event;
use crate::line::LineFormat;
use crate::number;
use crate::pause;
use crate::thread;
use crate::timestamp::{Clockface, Timestamp};
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where and how a logger sends syslog messages; give it to
/// [`Builder::syslog`](crate::Builder::syslog).
///
/// The address is checked by [`Builder::build`](crate::Builder::build): a
/// host name is resolved there, once, and an address that does not parse
/// or resolve is an [`ErrorKind::Output`] error. Unix only.
///
/// Trade-offs of the transports:
///
/// - [`udp`](Syslog::udp): one datagram per entry; nothing tells the
///   sender when the receiver drops datagrams under load.
/// - [`tcp`](Syslog::tcp): octet-counted frames on one connection,
///   reconnected with backoff; entries wait in the backlog meanwhile and
///   are resent from the first one the receiver's kernel did not
///   acknowledge.
/// - [`unix`](Syslog::unix): a local datagram socket such as `/dev/log`;
///   the local daemon's queue pushes back instead of dropping.
///
/// # Examples
///
/// ```no_run
/// use velo::{Builder, Syslog};
///
/// let logger = Builder::new()
///     .app_name("api")
///     .syslog(Syslog::tcp("127.0.0.1:514").backlog(16 << 20))
///     .build()?;
/// velo::velo!(logger: &logger, info, "ready", port = 8080);
/// # Ok::<(), velo::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Syslog {
    transport: Transport,
    max_len: usize,
    backlog: usize,
}

#[derive(Clone, Debug)]
enum Transport {
    Udp(String),
    Tcp(String),
    Unix(PathBuf),
}

impl Syslog {
    /// The default for [`max_len`](Syslog::max_len): 8,096 bytes,
    /// rsyslog's default `maxMessageSize`. rsyslog cuts a longer message
    /// over UDP or a unix socket, but over TCP it splits a longer frame
    /// into pieces it parses as messages of their own, so that the bytes
    /// of a value past the limit could read as an entry of their own.
    /// Raise it (up to [`UDP_MAX_LEN`](Syslog::UDP_MAX_LEN) over UDP) for
    /// a receiver that takes more.
    ///
    /// # Examples
    ///
    /// ```
    /// use velo::Syslog;
    ///
    /// assert_eq!(Syslog::DEFAULT_MAX_LEN, 8_096);
    /// // rsyslog configured with `$MaxMessageSize 64k`:
    /// let syslog = Syslog::tcp("127.0.0.1:514").max_len(64 * 1024);
    /// # drop(syslog);
    /// ```
    pub const DEFAULT_MAX_LEN: usize = 8_096;

    /// The longest message sent over UDP, whatever
    /// [`max_len`](Syslog::max_len) says: 65,507 bytes, the most one UDP
    /// datagram carries over IPv4.
    ///
    /// # Examples
    ///
    /// ```
    /// use velo::Syslog;
    ///
    /// assert_eq!(Syslog::UDP_MAX_LEN, 65_507);
    /// let syslog = Syslog::udp("127.0.0.1:514").max_len(Syslog::UDP_MAX_LEN);
    /// # drop(syslog);
    /// ```
    pub const UDP_MAX_LEN: usize = 65_507;

    /// The smallest [`max_len`](Syslog::max_len): 480 bytes, the message
    /// RFC 5424 has every receiver take.
    ///
    /// # Examples
    ///
    /// ```
    /// use velo::{Builder, ErrorKind, Syslog};
    ///
    /// let too_short = Syslog::udp("127.0.0.1:514").max_len(Syslog::MIN_MAX_LEN - 1);
    /// let err = Builder::new().syslog(too_short).build().unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Output);
    /// ```
    pub const MIN_MAX_LEN: usize = 480;

    /// The default for [`backlog`](Syslog::backlog): 8 MiB.
    ///
    /// # Examples
    ///
    /// ```
    /// use velo::Syslog;
    ///
    /// assert_eq!(Syslog::DEFAULT_BACKLOG, 8 << 20);
    /// let syslog = Syslog::tcp("127.0.0.1:514").backlog(Syslog::DEFAULT_BACKLOG / 8);
    /// # drop(syslog);
    /// ```
    pub const DEFAULT_BACKLOG: usize = 8 << 20;

    fn new(transport: Transport) -> Syslog {
        Syslog {
            transport,
            max_len: Syslog::DEFAULT_MAX_LEN,
            backlog: Syslog::DEFAULT_BACKLOG,
        }
    }

    /// Sends each entry as one UDP datagram to `addr` (`host:port`, such
    /// as `"127.0.0.1:514"` or `"[::1]:514"`).
    ///
    /// # Examples
    ///
    /// ```
    /// let logger = velo::Builder::new().syslog(velo::Syslog::udp("127.0.0.1:514")).build()?;
    /// # Ok::<(), velo::Error>(())
    /// ```
    #[must_use]
    pub fn udp(addr: impl AsRef<str>) -> Syslog {
        Syslog::new(Transport::Udp(addr.as_ref().to_owned()))
    }

    /// Sends entries over a TCP connection to `addr` (`host:port`), framed
    /// by octet counting (RFC 6587).
    ///
    /// # Examples
    ///
    /// ```
    /// let logger = velo::Builder::new().syslog(velo::Syslog::tcp("127.0.0.1:514")).build()?;
    /// # Ok::<(), velo::Error>(())
    /// ```
    #[must_use]
    pub fn tcp(addr: impl AsRef<str>) -> Syslog {
        Syslog::new(Transport::Tcp(addr.as_ref().to_owned()))
    }

    /// Sends each entry as one datagram to the unix socket at `path`, such
    /// as `/dev/log`. A path that is not a valid socket address, or whose
    /// directory does not exist (a misspelt path), is an error from
    /// `build()`. A socket missing from an existing directory is not: the
    /// daemon may start later, so the output connects on the first entry
    /// and retries while it fails.
    ///
    /// # Examples
    ///
    /// ```
    /// let logger = velo::Builder::new().syslog(velo::Syslog::unix("/dev/log")).build()?;
    /// # Ok::<(), velo::Error>(())
    /// ```
    #[must_use]
    pub fn unix(path: impl Into<PathBuf>) -> Syslog {
        Syslog::new(Transport::Unix(path.into()))
    }

    /// The longest message sent, header included, in bytes (default
    /// [`DEFAULT_MAX_LEN`](Syslog::DEFAULT_MAX_LEN), rsyslog's default, at
    /// least [`MIN_MAX_LEN`](Syslog::MIN_MAX_LEN): `build()` refuses less;
    /// over UDP at most [`UDP_MAX_LEN`](Syslog::UDP_MAX_LEN)); a longer
    /// entry is cut at a character boundary. Raise it only as far as the
    /// receiver takes: over TCP, rsyslog splits a frame longer than its
    /// `maxMessageSize` into messages it parses anew (so a value's bytes
    /// could forge an entry), and loses the rest of the connection's
    /// frames after one longer than its `maxFrameSize` (200,000 by
    /// default).
    ///
    /// # Examples
    ///
    /// ```
    /// // rsyslog configured with `$MaxMessageSize 64k`:
    /// let syslog = velo::Syslog::tcp("127.0.0.1:514").max_len(64 * 1024);
    /// # drop(syslog);
    /// ```
    #[must_use]
    pub fn max_len(mut self, bytes: usize) -> Syslog {
        self.max_len = bytes;
        self
    }

    /// The most bytes of messages kept while they cannot be sent (the
    /// receiver is away or slow) and, over TCP, until they are
    /// acknowledged (default [`DEFAULT_BACKLOG`](Syslog::DEFAULT_BACKLOG)).
    /// Entries that find it full are dropped and counted in
    /// [`Stats::dropped`](crate::Stats::dropped). Below
    /// [`max_len`](Syslog::max_len), `build()` fails: such a message could
    /// never wait.
    ///
    /// # Examples
    ///
    /// ```
    /// let syslog = velo::Syslog::tcp("127.0.0.1:514").backlog(64 << 20);
    /// # drop(syslog);
    /// ```
    #[must_use]
    pub fn backlog(mut self, bytes: usize) -> Syslog {
        self.backlog = bytes;
        self
    }

    /// Checks the address and makes the output.
    /// What velo's messages call this output: `syslog udp
    /// 127.0.0.1:514`, with the address as given.
    pub(crate) fn named(&self) -> String {
        match &self.transport {
            Transport::Udp(addr) => format!("syslog udp {addr}"),
            Transport::Tcp(addr) => format!("syslog tcp {addr}"),
            Transport::Unix(path) => format!("syslog {}", path.display()),
        }
    }

    pub(crate) fn open(self, app_name: &str) -> Result<SyslogOutput, Error> {
        if self.max_len < Syslog::MIN_MAX_LEN {
            return Err(Error::new(
                ErrorKind::Output,
                format!(
                    "syslog max_len({}) is below {} bytes, the shortest message RFC 5424 has \
                     every receiver take; the header alone may need more",
                    self.max_len,
                    Syslog::MIN_MAX_LEN
                ),
            ));
        }
        // The longest message that can be sent: UDP caps it, whatever
        // `max_len` says.
        let longest = match &self.transport {
            Transport::Udp(_) => self.max_len.min(Syslog::UDP_MAX_LEN),
            _ => self.max_len,
        };
        if self.backlog < longest {
            return Err(Error::new(
                ErrorKind::Output,
                format!(
                    "syslog backlog({}) is below max_len ({longest} bytes): a message of that \
                     length could never wait for the receiver, and most entries would be dropped",
                    self.backlog
                ),
            ));
        }
        let peer = match &self.transport {
            Transport::Udp(addr) => Peer::Udp(resolve(addr, "udp")?),
            Transport::Tcp(addr) => Peer::Tcp(resolve(addr, "tcp")?),
            Transport::Unix(path) => {
                super::check_socket_path(path, "syslog")?;
                let dir = match path.parent() {
                    Some(dir) if dir.as_os_str().is_empty() => Path::new("."),
                    Some(dir) => dir,
                    None => Path::new("/"),
                };
                if !dir.is_dir() {
                    return Err(Error::new(
                        ErrorKind::Output,
                        format!(
                            "bad syslog socket path {}: no directory {}",
                            path.display(),
                            dir.display()
                        ),
                    ));
                }
                Peer::Unix(path.clone())
            }
        };
        // The address as given, as `also`'s messages name the output.
        let name = self.named();
        Ok(SyslogOutput {
            header: Header::new(&hostname(), app_name, std::process::id()),
            clock: Clockface::new(Timestamp::Micros, None),
            msg: Vec::with_capacity(1024),
            msg_shrink: Shrink::default(),
            max_len: match peer {
                Peer::Udp(_) => self.max_len.min(Syslog::UDP_MAX_LEN),
                _ => self.max_len,
            },
            backlog: Backlog::new(self.backlog),
            peer,
            name,
            link: Link::Down,
            retry_at: Instant::now(),
            delay: Duration::ZERO,
            conn_start: 0,
            sent: 0,
            error: None,
            outage: false,
            stuck_at: None,
            blocked: false,
            blocked_retry: BLOCKED_RETRY,
            flushed_at: (0, 0),
            lost: Lost::default(),
            overflowed: false,
        })
    }
}

/// Resolves `host:port`; a bad address is an [`ErrorKind::Output`] error.
fn resolve(addr: &str, proto: &str) -> Result<Arc<[SocketAddr]>, Error> {
    // `host:port`, the port a number: otherwise the resolver's error would
    // not say what is wrong.
    let port = addr
        .rsplit_once(':')
        .and_then(|(host, port)| (!host.is_empty()).then_some(port))
        .and_then(|port| port.parse::<u16>().ok());
    let addrs: Vec<SocketAddr> = match port {
        None => {
            return Err(Error::new(
                ErrorKind::Output,
                format!("bad syslog {proto} address {addr:?} (expected host:port)"),
            ))
        }
        Some(0) => {
            return Err(Error::new(
                ErrorKind::Output,
                format!("bad syslog {proto} address {addr:?}: port 0 reaches no receiver"),
            ))
        }
        Some(_) => addr
            .to_socket_addrs()
            .map_err(|e| {
                Error::io(
                    ErrorKind::Output,
                    format!("cannot resolve syslog {proto} address {addr:?}"),
                    e,
                )
            })?
            .collect(),
    };
    if addrs.is_empty() {
        return Err(Error::new(
            ErrorKind::Output,
            format!("syslog {proto} address {addr:?} resolves to nothing"),
        ));
    }
    Ok(addrs.into())
}

/// The first wait after a failed attempt to reach the receiver.
pub(crate) const MIN_BACKOFF: Duration = Duration::from_millis(10);

/// The longest wait between attempts.
pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// The longest `deliver` (a `sync`, the `close` at exit) waits for the
/// receiver.
const DELIVER_WAIT: Duration = Duration::from_secs(3);

/// How long a TCP connection attempt may take (on its helper thread).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the worker waits for a connection it just started: long
/// enough for a receiver on loopback or the local network, so the entries
/// that prompted it go out in the same pass; a slower peer is picked up on
/// a later pass.
const CONNECT_WAIT: Duration = Duration::from_millis(1);

/// Over TCP, unsent bytes in the backlog past which `write` sends at once
/// rather than at the end of the worker's pass.
const SEND_AT: usize = 64 * 1024;

/// How soon a receiver that took no more (a daemon's full queue) is tried
/// again while messages wait, at first: the worker comes back for it (see
/// `Output::retry_in`) rather than at its next pass, which an idle logger
/// makes twice a second. Doubles while the receiver takes nothing, up to
/// [`BLOCKED_RETRY_MAX`].
const BLOCKED_RETRY: Duration = Duration::from_millis(1);

/// The longest wait between tries of a receiver that takes nothing.
const BLOCKED_RETRY_MAX: Duration = Duration::from_millis(100);

/// Where messages go, resolved.
#[derive(Debug)]
enum Peer {
    Udp(Arc<[SocketAddr]>),
    Tcp(Arc<[SocketAddr]>),
    Unix(PathBuf),
}

/// The state of the link to the receiver.
#[derive(Debug)]
enum Link {
    /// No socket; the next attempt is due at `retry_at`.
    Down,
    /// A TCP connection being opened on a helper thread since `since`.
    Connecting {
        rx: mpsc::Receiver<io::Result<TcpStream>>,
        since: Instant,
    },
    Tcp(TcpStream),
    Udp(UdpSocket),
    Unix(UnixDatagram),
}

/// The parts of the header every message shares.
#[derive(Debug)]
struct Header {
    hostname: String,
    app_name: String,
    /// ` HOSTNAME APP-NAME PROCID - - `: from after the timestamp to MSG.
    rest: Vec<u8>,
}

impl Header {
    fn new(hostname: &str, app_name: &str, pid: u32) -> Header {
        let mut rest = Vec::with_capacity(64);
        rest.push(b' ');
        header_field(&mut rest, hostname, 255);
        rest.push(b' ');
        header_field(&mut rest, app_name, 48);
        rest.push(b' ');
        number::int(&mut rest, pid);
        rest.extend_from_slice(b" - - ");
        Header {
            hostname: hostname.to_owned(),
            app_name: app_name.to_owned(),
            rest,
        }
    }

    /// Appends the header of an entry of severity `sev` logged at `time`.
    fn write(&self, out: &mut Vec<u8>, sev: u8, time: Option<u64>, clock: &mut Clockface) {
        /// Facility `user`.
        const FACILITY: u8 = 1;
        out.push(b'<');
        number::int(out, FACILITY * 8 + sev);
        out.extend_from_slice(b">1 ");
        match time {
            Some(nanos) => clock.write(out, nanos),
            None => out.push(b'-'),
        }
        out.extend_from_slice(&self.rest);
    }
}

/// Appends `value` as a header field: printable ASCII but space (RFC 5424's
/// PRINTUSASCII), every other character replaced by `_`, at most `max`
/// bytes; `-` (the nil value) when empty, and `_` for a value that is `-`
/// itself, which would read as no value.
fn header_field(out: &mut Vec<u8>, value: &str, max: usize) {
    let start = out.len();
    for c in value.chars().take(max) {
        out.push(if c.is_ascii_graphic() { c as u8 } else { b'_' });
    }
    match &out[start..] {
        [] => out.push(b'-'),
        [b'-'] => out[start] = b'_',
        _ => {}
    }
}

/// The host's name, from `gethostname`; empty if it fails.
fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: `buf` is writable for `buf.len()` bytes, and gethostname
    // writes at most that many.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return String::new();
    }
    let len = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..len]).into_owned()
}

/// Cuts `msg` to at most `max` bytes, not before `floor`, at a character
/// boundary (the line is UTF-8).
fn cut(msg: &mut Vec<u8>, floor: usize, max: usize) {
    if msg.len() <= max {
        return;
    }
    let mut end = max.max(floor);
    while end > floor && end < msg.len() && msg[end] & 0xC0 == 0x80 {
        end -= 1;
    }
    msg.truncate(end);
}

/// Messages not yet known to be delivered, oldest first, as the bytes that
/// go on the wire (octet-counted frames over TCP, bare messages for
/// datagrams).
///
/// Positions are offsets in the stream of every byte ever pushed, so they
/// survive the compaction of `bytes`.
#[derive(Debug)]
struct Backlog {
    bytes: Vec<u8>,
    /// The position of `bytes[0]`.
    base: u64,
    /// Where the first message kept starts, in `bytes`.
    head: usize,
    /// Where each message kept ends (positions).
    ends: VecDeque<u64>,
    /// The most bytes kept.
    cap: usize,
}

impl Backlog {
    fn new(cap: usize) -> Backlog {
        Backlog {
            bytes: Vec::new(),
            base: 0,
            head: 0,
            ends: VecDeque::new(),
            cap,
        }
    }

    /// Bytes kept.
    fn len(&self) -> usize {
        self.bytes.len() - self.head
    }

    fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The position of the first message kept.
    fn start(&self) -> u64 {
        self.base + self.head as u64
    }

    /// The position after the last message.
    fn end(&self) -> u64 {
        self.base + self.bytes.len() as u64
    }

    /// Whether the backlog takes messages again after it filled up: it is
    /// empty, or has a quarter of its bytes (at most 64 KiB) free.
    fn has_room(&self) -> bool {
        self.is_empty() || self.len() + (self.cap / 4).min(64 << 10) <= self.cap
    }

    /// Appends one message made of `parts`; `false` if it does not fit (an
    /// empty backlog takes any message).
    fn push(&mut self, parts: &[&[u8]]) -> bool {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        if !self.is_empty() && self.len() + len > self.cap {
            return false;
        }
        for part in parts {
            self.bytes.extend_from_slice(part);
        }
        self.ends.push_back(self.end());
        true
    }

    /// The bytes from position `pos` on.
    fn from(&self, pos: u64) -> &[u8] {
        &self.bytes[(pos - self.base) as usize..]
    }

    /// The first message.
    fn front(&self) -> Option<&[u8]> {
        let end = *self.ends.front()?;
        Some(&self.bytes[self.head..(end - self.base) as usize])
    }

    /// Forgets every message that ends at or before `pos`; returns how
    /// many.
    fn release_to(&mut self, pos: u64) -> usize {
        let mut n = 0;
        while let Some(&end) = self.ends.front() {
            if end > pos {
                break;
            }
            self.ends.pop_front();
            self.head = (end - self.base) as usize;
            n += 1;
        }
        if self.ends.is_empty() {
            self.base = self.end();
            self.bytes.clear();
            self.head = 0;
        } else if self.head >= SEND_AT && self.head * 2 >= self.bytes.len() {
            self.bytes.drain(..self.head);
            self.base += self.head as u64;
            self.head = 0;
        }
        n
    }

    /// Forgets the messages that start at `pos` or later (none of whose
    /// bytes were sent); returns how many.
    fn forget_from(&mut self, pos: u64) -> usize {
        let mut n = 0;
        while let Some(&last) = self.ends.back() {
            let len = self.ends.len();
            let start = if len >= 2 {
                self.ends[len - 2]
            } else {
                self.start()
            };
            if start < pos {
                break;
            }
            debug_assert!(last > start);
            self.ends.pop_back();
            n += 1;
        }
        let end = self.ends.back().copied().unwrap_or_else(|| self.start());
        self.bytes.truncate((end - self.base) as usize);
        if self.ends.is_empty() {
            self.release_to(self.end());
        }
        n
    }

    /// Forgets every message; returns how many there were.
    fn clear(&mut self) -> usize {
        let n = self.ends.len();
        self.release_to(self.end());
        n
    }
}

/// The syslog output.
pub(crate) struct SyslogOutput {
    header: Header,
    clock: Clockface,
    /// The message being built; reused.
    msg: Vec<u8>,
    /// When `msg` gives back what large entries made it grow.
    msg_shrink: Shrink,
    max_len: usize,
    backlog: Backlog,
    peer: Peer,
    /// `syslog tcp 127.0.0.1:514`, for error messages.
    name: String,
    link: Link,
    /// When the link is down: when to try again.
    retry_at: Instant,
    /// The wait before the attempt after the next failure.
    delay: Duration,
    /// TCP: the position of the first byte sent on this connection.
    conn_start: u64,
    /// TCP: the position up to which bytes were sent on this connection.
    sent: u64,
    /// A failure met while writing, returned by the next `flush`.
    error: Option<io::Error>,
    /// A failure was reported and no message delivered since: the
    /// failures of the retries are not reported again.
    outage: bool,
    /// Where sending stood (`sent`, the backlog's start) when `deliver`
    /// last waited in vain: until it moves, the receiver still takes
    /// nothing, and another wait (the `close` after a `sync`, a second
    /// pass at exit) would be as vain, so `deliver` does not wait.
    stuck_at: Option<(u64, u64)>,
    /// The socket took no more (the receiver is slower than the worker):
    /// `write` stops trying until the next `flush`, so a slow receiver
    /// costs no failed system call per entry.
    blocked: bool,
    /// How soon to try a blocked receiver again (see [`BLOCKED_RETRY`]).
    blocked_retry: Duration,
    /// Where sending stood at the last `flush`: whether the receiver took
    /// anything since.
    flushed_at: (u64, u64),
    /// Entries dropped since `take_lost`, with the bytes of them that
    /// `write` had returned (a message `write` could not keep returned
    /// none).
    lost: Lost,
    /// The backlog dropped an entry since the last flush.
    overflowed: bool,
}

impl std::fmt::Debug for SyslogOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyslogOutput")
            .field("peer", &self.name)
            .field("waiting", &self.backlog.ends.len())
            .finish_non_exhaustive()
    }
}

impl SyslogOutput {
    /// Keeps the first error for the next flush.
    fn defer(&mut self, result: io::Result<()>) {
        if let Err(e) = self.once(result) {
            self.error.get_or_insert(e);
        }
    }

    /// `result`, unless an outage is reported already (its retries may
    /// fail differently: refused, then timed out).
    fn once(&mut self, result: io::Result<()>) -> io::Result<()> {
        let Err(e) = result else {
            return Ok(());
        };
        if std::mem::replace(&mut self.outage, true) {
            return Ok(());
        }
        Err(e)
    }

    /// Whether the backlog dropped entries since the last look, as an error
    /// naming the output: said once (on stderr, by the sink) and returned
    /// by the next `sync`, unless another error says why. Counted alone, a
    /// receiver that takes nothing (slow, or connected and not reading)
    /// would lose entries while `sync` said all is well.
    fn overflow(&mut self) -> io::Result<()> {
        if !std::mem::take(&mut self.overflowed) {
            return Ok(());
        }
        Err(io::Error::other(format!(
            "{}: entries dropped, the backlog was full (the receiver is slow or away)",
            self.name
        )))
    }

    /// A message got through: the link works.
    fn working(&mut self) {
        self.delay = Duration::ZERO;
        self.outage = false;
    }

    /// Whether every message is out: written to the TCP connection, or sent
    /// as a datagram.
    fn all_sent(&self) -> bool {
        match self.peer {
            Peer::Tcp(_) => self.sent >= self.backlog.end(),
            _ => self.backlog.is_empty(),
        }
    }

    /// The messages none of whose bytes were sent: all that wait on a
    /// datagram link, those after the last byte written on TCP (a message
    /// written in part stays, so the stream stays framed).
    fn unsent_from(&self) -> u64 {
        match self.peer {
            Peer::Tcp(_) => self.sent.max(self.backlog.start()),
            _ => self.backlog.start(),
        }
    }

    /// Where sending stands: bytes written to the connection, and the
    /// backlog's start (messages delivered).
    fn progress(&self) -> (u64, u64) {
        (self.sent, self.backlog.start())
    }

    /// Waits at most `wait` for the socket to take more. A unix datagram
    /// socket is writable again when the receiver has read from its full
    /// queue, a TCP one when the peer acknowledged; a UDP socket's buffer
    /// says nothing of the receiver, so that wait is a plain pause. Whether
    /// the socket said it was writable.
    fn wait_writable(&self, wait: Duration) -> bool {
        use std::os::fd::AsRawFd;
        let fd = match &self.link {
            Link::Tcp(s) => s.as_raw_fd(),
            Link::Unix(s) => s.as_raw_fd(),
            _ => {
                pause::pause(wait);
                return false;
            }
        };
        let mut p = libc::pollfd {
            fd,
            events: libc::POLLOUT,
            revents: 0,
        };
        let ms = libc::c_int::try_from(wait.as_millis().max(1)).unwrap_or(libc::c_int::MAX);
        // SAFETY: poll(2) on one pollfd, which lives on this stack for the
        // call; the socket is this output's and open.
        let n = unsafe { libc::poll(&mut p, 1, ms) };
        n > 0 && p.revents & libc::POLLOUT != 0
    }

    /// Says on stderr that `unsent` entries were never sent, if any.
    fn say_never_sent(&self, unsent: usize) {
        if unsent > 0 {
            crate::stdio::say(format_args!(
                "{}: {} never sent",
                crate::escape::for_stderr(&self.name),
                crate::escape::entries_were(unsent as u64)
            ));
        }
    }

    /// An error naming the receiver.
    fn named(&self, e: &io::Error) -> io::Error {
        io::Error::new(e.kind(), format!("{}: {e}", self.name))
    }

    /// After a failure: no link, and the next attempt after the backoff,
    /// which doubles.
    fn back_off(&mut self, now: Instant) {
        self.link = Link::Down;
        self.retry_at = now + self.delay;
        self.delay = (self.delay * 2).clamp(MIN_BACKOFF, MAX_BACKOFF);
    }

    /// Moves messages towards the receiver as far as it goes without
    /// waiting: (re)connects when due, sends, and forgets what is
    /// delivered. A link that just broke is retried at once, in the same
    /// call (the receiver may be back already); the first error is
    /// returned.
    fn pump(&mut self) -> io::Result<()> {
        let result = self.step();
        if result.is_err() && matches!(self.link, Link::Down) && Instant::now() >= self.retry_at {
            let _ = self.step();
        }
        result
    }

    /// One round of [`pump`](SyslogOutput::pump), up to the first failure.
    fn step(&mut self) -> io::Result<()> {
        loop {
            match &mut self.link {
                Link::Down => {
                    let now = Instant::now();
                    if self.backlog.is_empty() || now < self.retry_at {
                        return Ok(());
                    }
                    self.open(now)?;
                }
                Link::Connecting { rx, since } => match poll(rx, *since) {
                    None => return Ok(()),
                    Some(Ok(stream)) => {
                        let setup = stream
                            .set_nonblocking(true)
                            .and_then(|()| stream.set_nodelay(true));
                        if let Err(e) = setup {
                            self.back_off(Instant::now());
                            return Err(self.named(&e));
                        }
                        self.link = Link::Tcp(stream);
                        // Resend from the first message not acknowledged.
                        self.conn_start = self.backlog.start();
                        self.sent = self.conn_start;
                    }
                    Some(Err(e)) => {
                        self.back_off(Instant::now());
                        return Err(self.named(&e));
                    }
                },
                Link::Tcp(_) => return self.send_stream(),
                Link::Udp(_) | Link::Unix(_) => return self.send_datagrams(),
            }
        }
    }

    /// Opens the link: a datagram socket at once, a TCP connection on a
    /// helper thread (waiting [`CONNECT_WAIT`] for it).
    fn open(&mut self, now: Instant) -> io::Result<()> {
        let opened = match &self.peer {
            Peer::Udp(addrs) => {
                let addr = addrs[0];
                let local: SocketAddr = if addr.is_ipv4() {
                    (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
                } else {
                    (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
                };
                UdpSocket::bind(local).and_then(|s| {
                    s.connect(addr)?;
                    s.set_nonblocking(true)?;
                    Ok(Link::Udp(s))
                })
            }
            Peer::Unix(path) => UnixDatagram::unbound().and_then(|s| {
                s.connect(path)?;
                s.set_nonblocking(true)?;
                Ok(Link::Unix(s))
            }),
            Peer::Tcp(addrs) => {
                connect(Arc::clone(addrs)).map(|rx| Link::Connecting { rx, since: now })
            }
        };
        match opened {
            Ok(link) => {
                self.link = link;
                Ok(())
            }
            Err(e) => {
                self.back_off(now);
                Err(self.named(&e))
            }
        }
    }

    /// TCP: sends what is unsent, then forgets what the peer acknowledged.
    fn send_stream(&mut self) -> io::Result<()> {
        let Link::Tcp(stream) = &mut self.link else {
            return Ok(());
        };
        if self.backlog.is_empty() {
            // Nothing to send or to wait for; a closed connection shows
            // with the next entry.
            return Ok(());
        }
        // A syslog server never sends: a readable socket means the peer
        // closed the connection (or reset it, or has something odd to say,
        // which is read and ignored).
        let mut probe = [0u8; 64];
        let failure = loop {
            match stream.read(&mut probe) {
                Ok(0) => {
                    break Some(io::Error::new(
                        io::ErrorKind::ConnectionAborted,
                        "the receiver closed the connection",
                    ))
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break None,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Some(e),
            }
        };
        let failure = failure.or_else(|| {
            while self.sent < self.backlog.end() {
                // `write` on a TcpStream sends with MSG_NOSIGNAL: no SIGPIPE.
                match stream.write(self.backlog.from(self.sent)) {
                    Ok(0) => return Some(io::ErrorKind::WriteZero.into()),
                    Ok(n) => self.sent += n as u64,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        self.blocked = true;
                        break;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Some(e),
                }
            }
            None
        });
        let acked = self.sent
            - unacked(stream)
                .unwrap_or(0)
                .min(self.sent - self.conn_start);
        if self.backlog.release_to(acked) > 0 {
            // The link works: the next failure is retried at once.
            self.working();
        }
        match failure {
            None => Ok(()),
            Some(e) => {
                // Resend from the first message not wholly acknowledged.
                self.sent = self.backlog.start();
                self.back_off(Instant::now());
                Err(self.named(&e))
            }
        }
    }

    /// UDP and unix: sends each waiting message as a datagram.
    fn send_datagrams(&mut self) -> io::Result<()> {
        while let Some(msg) = self.backlog.front() {
            let len = msg.len() as u64;
            let sent = match &self.link {
                Link::Udp(s) => s.send(msg),
                Link::Unix(s) => s.send(msg),
                _ => return Ok(()),
            };
            match sent {
                Ok(_) => {
                    self.backlog.release_to(self.backlog.start() + len);
                    self.working();
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // The receiver's queue (unix) or the socket's buffer is
                // full: later.
                Err(e) if is_full(&e) => {
                    self.blocked = true;
                    return Ok(());
                }
                Err(e) if e.raw_os_error() == Some(libc::EMSGSIZE) => {
                    // It can never be sent.
                    self.backlog.release_to(self.backlog.start() + len);
                    self.lost.entries += 1;
                    self.lost.bytes += len;
                    return Err(self.named(&e));
                }
                Err(e) => return Err(self.datagram_failed(&e)),
            }
        }
        Ok(())
    }

    /// A datagram link failed (the receiver is gone: its socket was
    /// removed, or an earlier datagram was refused): try again after the
    /// backoff, on a new socket.
    fn datagram_failed(&mut self, e: &io::Error) -> io::Error {
        self.back_off(Instant::now());
        self.named(e)
    }

    /// Datagram links: sends `self.msg` at once when nothing waits before
    /// it. `Ok(false)` if it must wait in the backlog.
    fn send_now(&mut self) -> io::Result<bool> {
        if !self.backlog.is_empty() {
            return Ok(false);
        }
        let sent = match &self.link {
            Link::Udp(s) => s.send(&self.msg),
            Link::Unix(s) => s.send(&self.msg),
            _ => return Ok(false),
        };
        match sent {
            Ok(_) => Ok(true),
            Err(e) if is_full(&e) || e.kind() == io::ErrorKind::Interrupted => Ok(false),
            // Too large: the backlog's turn reports it.
            Err(e) if e.raw_os_error() == Some(libc::EMSGSIZE) => Ok(false),
            Err(e) => Err(self.datagram_failed(&e)),
        }
    }
}

/// Whether a send failed because a buffer or queue is full for now.
fn is_full(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::WouldBlock || e.raw_os_error() == Some(libc::ENOBUFS)
}

/// Starts connecting to the first of `addrs` that answers, on a helper
/// thread whose result arrives on the returned channel.
fn connect(addrs: Arc<[SocketAddr]>) -> io::Result<mpsc::Receiver<io::Result<TcpStream>>> {
    let (tx, rx) = mpsc::sync_channel(1);
    thread::spawn("velo-syslog-connect", move || {
        let mut result = Err(io::Error::other("no address"));
        for addr in addrs.iter() {
            result = TcpStream::connect_timeout(addr, CONNECT_TIMEOUT);
            if result.is_ok() {
                break;
            }
        }
        let _ = tx.send(result);
    })?;
    Ok(rx)
}

/// The connection the helper thread made, or why it failed; `None` while
/// it is still at it. Waits for it until [`CONNECT_WAIT`] after `since`.
fn poll(
    rx: &mpsc::Receiver<io::Result<TcpStream>>,
    since: Instant,
) -> Option<io::Result<TcpStream>> {
    let wait = CONNECT_WAIT.saturating_sub(since.elapsed());
    let result = if wait.is_zero() {
        rx.try_recv()
            .map_err(|e| e == mpsc::TryRecvError::Disconnected)
    } else {
        rx.recv_timeout(wait)
            .map_err(|e| e == mpsc::RecvTimeoutError::Disconnected)
    };
    match result {
        Ok(result) => Some(result),
        Err(false) => None,
        Err(true) => Some(Err(io::Error::other("the connecting thread failed"))),
    }
}

/// Bytes sent on `stream` and not yet acknowledged by the peer; still
/// right after the connection was reset.
#[cfg(target_os = "linux")]
fn unacked(stream: &TcpStream) -> Option<u64> {
    use std::os::fd::AsRawFd;
    let mut n: libc::c_int = 0;
    // SAFETY: TIOCOUTQ (SIOCOUTQ) on a TCP socket stores one c_int through
    // the pointer, which points at `n`, alive for the call.
    let rc = unsafe { libc::ioctl(stream.as_raw_fd(), libc::TIOCOUTQ, &mut n) };
    (rc == 0).then(|| u64::try_from(n).unwrap_or(0))
}

/// Elsewhere: bytes count as acknowledged once the kernel took them.
#[cfg(not(target_os = "linux"))]
fn unacked(_: &TcpStream) -> Option<u64> {
    None
}

impl Output for SyslogOutput {
    fn idle(&mut self) {
        // It holds the last message, sent or in the backlog already.
        self.msg.clear();
        self.msg_shrink.idle(&mut self.msg, 64 << 10);
    }

    fn write(&mut self, ev: &Event<'_>, format: &mut LineFormat) -> io::Result<usize> {
        // The last message was this buffer's last use.
        let used = self.msg.len();
        self.msg.clear();
        self.msg_shrink.after_use(&mut self.msg, used, 64 << 10);
        self.header
            .write(&mut self.msg, severity(ev.level), ev.time, &mut self.clock);
        let header = self.msg.len();
        format.write(ev, &mut self.msg);
        if self.msg.last() == Some(&b'\n') {
            self.msg.pop();
        }
        cut(&mut self.msg, header, self.max_len);
        let tcp = matches!(self.peer, Peer::Tcp(_));
        if !tcp {
            match self.send_now() {
                Ok(true) => return Ok(self.msg.len()),
                Ok(false) => {}
                Err(e) => self.defer(Err(e)),
            }
        }
        // Out of `self` while `pump` may run.
        let msg = std::mem::take(&mut self.msg);
        let mut digits = itoa::Buffer::new();
        let (prefix, space): (&[u8], &[u8]) = if tcp {
            (digits.format(msg.len()).as_bytes(), b" ")
        } else {
            (b"", b"")
        };
        let parts = [prefix, space, &msg[..]];
        let len = prefix.len() + space.len() + msg.len();
        let mut pushed = self.backlog.push(&parts);
        if !pushed && !self.blocked && matches!(self.link, Link::Tcp(_)) {
            // Full: perhaps of messages delivered since the last look.
            let result = self.pump();
            self.defer(result);
            pushed = self.backlog.push(&parts);
        }
        self.msg = msg;
        if !pushed {
            self.lost.entries += 1;
            self.overflowed = true;
            return Ok(0);
        }
        if !self.blocked && (!tcp || self.backlog.end() - self.sent >= SEND_AT as u64) {
            let result = self.pump();
            self.defer(result);
        }
        Ok(len)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.blocked = false;
        let result = self.pump();
        let progress = self.progress();
        self.blocked_retry = if progress != self.flushed_at {
            BLOCKED_RETRY
        } else {
            (self.blocked_retry * 2).min(BLOCKED_RETRY_MAX)
        };
        self.flushed_at = progress;
        let result = self.once(result);
        match self.error.take() {
            Some(e) => Err(e),
            None if result.is_err() => result,
            None => self.overflow(),
        }
    }

    /// Sends everything waiting, retrying at once if the link is down, and
    /// waits for it, at most [`DELIVER_WAIT`]: a `sync` returns once every
    /// entry is on its way, or with the reason it is not.
    fn deliver(&mut self) -> io::Result<()> {
        self.deliver_by(Instant::now() + DELIVER_WAIT)
    }

    fn deliver_by(&mut self, by: Instant) -> io::Result<()> {
        let progress = self.progress();
        let stuck = self.stuck_at == Some(progress);
        // Stuck, one look: no waiting.
        let deadline = Instant::now() + if stuck { Duration::ZERO } else { DELIVER_WAIT };
        let deadline = deadline.min(by);
        if matches!(self.link, Link::Down) {
            // The receiver may be back: no waiting out the backoff.
            self.retry_at = Instant::now();
        }
        let mut wait = Duration::from_micros(50);
        // The socket said it was writable before this round.
        let mut woken = false;
        loop {
            self.blocked = false;
            let before = self.progress();
            let result = self.pump();
            if let Some(e) = self.error.take() {
                return Err(e);
            }
            // Reported already or not, a failure is the answer to a sync.
            if let Err(e) = result {
                self.outage = true;
                return Err(e);
            }
            if self.all_sent() {
                self.stuck_at = None;
                return self.overflow();
            }
            if Instant::now() >= deadline {
                self.stuck_at = Some(self.progress());
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "{}: entries not sent within {} s",
                        self.name,
                        DELIVER_WAIT.as_secs()
                    ),
                ));
            }
            if woken && self.progress() == before {
                // Writable, and still nothing went: no spinning on it.
                pause::pause(wait);
                woken = false;
            } else {
                woken = self.wait_writable(wait);
            }
            wait = (wait * 2).min(Duration::from_millis(10));
        }
    }

    fn give_up(&mut self) {
        let end = self.backlog.end();
        let unsent = self.backlog.forget_from(self.unsent_from());
        // The bytes forgotten were counted as written.
        self.lost.bytes += end - self.backlog.end();
        if self.stuck_at.is_some() {
            // Still stuck where the last wait left it: the messages given
            // up do not make a later `deliver` (a second close, the one at
            // exit) wait again for a receiver that took nothing.
            self.stuck_at = Some(self.progress());
        }
        self.lost.entries += unsent as u64;
        self.say_never_sent(unsent);
    }

    fn retry_in(&self) -> Option<Duration> {
        let waiting = self.blocked && !self.all_sent();
        waiting.then_some(self.blocked_retry)
    }

    /// Not while the backlog is (nearly) full: a drop warning written now
    /// would be dropped in turn; it waits until messages leave.
    fn healthy(&self) -> bool {
        !self.outage && self.backlog.has_room()
    }

    fn forget_buffered(&mut self) {
        // In a forked child: the waiting messages are the parent's, and so
        // is the connection; this process has a pid of its own.
        self.backlog.clear();
        self.link = Link::Down;
        self.retry_at = Instant::now();
        self.delay = Duration::ZERO;
        self.sent = self.backlog.start();
        self.conn_start = self.sent;
        self.error = None;
        self.outage = false;
        self.stuck_at = None;
        self.blocked = false;
        self.lost = Lost::default();
        self.header = Header::new(
            &self.header.hostname,
            &self.header.app_name,
            std::process::id(),
        );
    }

    fn take_lost(&mut self) -> Lost {
        std::mem::take(&mut self.lost)
    }
}

impl Drop for SyslogOutput {
    /// A last try, then a word on stderr about the entries that never left
    /// (the logger is gone, so no counter can tell).
    fn drop(&mut self) {
        self.blocked = false;
        let _ = self.pump();
        let unsent = match self.link {
            // Sent but unacknowledged bytes may still reach the receiver:
            // the kernel keeps sending after the socket is closed.
            Link::Tcp(_) => self
                .backlog
                .ends
                .iter()
                .filter(|&&end| end > self.sent)
                .count(),
            _ => self.backlog.ends.len(),
        };
        self.say_never_sent(unsent);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(sev: u8, time: Option<u64>) -> String {
        let h = Header::new("web-7", "api", 4242);
        let mut out = Vec::new();
        h.write(
            &mut out,
            sev,
            time,
            &mut Clockface::new(Timestamp::Micros, None),
        );
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn severities_follow_the_levels() {
        use crate::level::Level;
        let cases = [
            (Level::Trace, "<15>"),
            (Level::Debug, "<15>"),
            (Level::Info, "<14>"),
            (Level::Warn, "<12>"),
            (Level::Error, "<11>"),
            (Level::Fatal, "<10>"),
        ];
        for (level, pri) in cases {
            assert!(header(severity(level), None).starts_with(pri), "{level:?}");
        }
    }

    #[test]
    fn header_layout() {
        // 2026-11-27T17:03:20.123456789Z
        let nanos = 1_795_799_000_123_456_789;
        assert_eq!(
            header(6, Some(nanos)),
            "<14>1 2026-11-27T17:03:20.123456Z web-7 api 4242 - - "
        );
        assert_eq!(header(3, None), "<11>1 - web-7 api 4242 - - ");
    }

    #[test]
    fn header_fields_are_printable_ascii() {
        let cases = [
            ("web-7", 255, "web-7"),
            ("", 48, "-"),
            // Not the nil value: a name.
            ("-", 48, "_"),
            ("--", 48, "--"),
            ("my app", 48, "my_app"),
            ("café", 48, "caf_"),
            ("tab\there", 48, "tab_here"),
            (&"a".repeat(60), 48, &"a".repeat(48)),
        ];
        for (value, max, expected) in cases {
            let mut out = Vec::new();
            header_field(&mut out, value, max);
            assert_eq!(String::from_utf8(out).unwrap(), expected, "{value:?}");
        }
    }

    #[test]
    fn cuts_at_character_boundaries() {
        let cases: [(&str, usize, usize, &str); 5] = [
            ("<14>1 hello", 6, 100, "<14>1 hello"),
            ("<14>1 hello", 6, 8, "<14>1 he"),
            ("<14>1 héllo", 6, 8, "<14>1 h"),
            ("<14>1 héllo", 6, 9, "<14>1 hé"),
            ("<14>1 hello", 6, 2, "<14>1 "),
        ];
        for (msg, floor, max, expected) in cases {
            let mut v = msg.as_bytes().to_vec();
            cut(&mut v, floor, max);
            assert_eq!(String::from_utf8(v).unwrap(), expected, "{msg} {max}");
        }
    }

    #[test]
    fn backlog_releases_whole_messages() {
        let mut b = Backlog::new(20);
        assert!(b.push(&[b"3 ", b"abc"]));
        assert!(b.push(&[b"2 ", b"de"]));
        assert_eq!((b.start(), b.end()), (0, 9));
        assert_eq!(b.from(5), b"2 de");
        // Acknowledged up to the middle of the second message: only the
        // first is delivered.
        assert_eq!(b.release_to(7), 1);
        assert_eq!(b.start(), 5);
        assert_eq!(b.front(), Some(&b"2 de"[..]));
        assert_eq!(b.len(), 4);
        // The cap counts what is kept.
        assert!(b.push(&[b"10 ", b"0123456789"]));
        assert!(!b.push(&[b"5 ", b"01234"]));
        assert_eq!(b.clear(), 2);
        assert!(b.is_empty());
        assert_eq!(b.start(), 22);
        // An empty backlog takes a message larger than the cap.
        assert!(b.push(&[&[b'x'; 30]]));
        assert_eq!(b.release_to(b.end()), 1);
    }

    #[test]
    fn backlog_compacts() {
        let mut b = Backlog::new(1 << 20);
        let msg = [b'm'; 1000];
        for _ in 0..200 {
            assert!(b.push(&[&msg]));
        }
        b.release_to(150_000);
        assert!(b.bytes.len() <= 50_000, "{}", b.bytes.len());
        assert_eq!(b.start(), 150_000);
        assert_eq!(b.front().map(<[u8]>::len), Some(1000));
        assert_eq!(b.from(199_000).len(), 1000);
    }
}
