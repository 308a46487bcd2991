//! Just enough HTTP/1.1 to POST a batch to a collector: plain `http://`,
//! a `Content-Length` request, a kept-alive connection, and a response read
//! whole (`Content-Length`, chunked, or until the peer closes) so the next
//! request on the connection starts in step.
//!
//! - The request is two `write_all` calls, not one `write_vectored`: std
//!   sends `write` with `send(MSG_NOSIGNAL)` but `write_vectored` with
//!   `writev`, which raises `SIGPIPE` on a closed socket in a host program
//!   that has not ignored it (a C `main`, a `cdylib`). `TCP_NODELAY` is on,
//!   so the split costs a segment, not a delayed-ACK stall.
//! - A reused connection that fails before any response byte (the
//!   collector closed it while idle: its `idle_timeout` is a minute by
//!   default) is replaced and the request sent once more at once. OTLP
//!   accepts the rare duplicate this may cause.
//! - Connecting and every read and write have timeouts, so the sender
//!   thread never waits on a silent peer for ever.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv6Addr, SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The signal path appended to an endpoint, as OTLP/HTTP exporters do.
const LOGS_PATH: &str = "/v1/logs";

/// A parsed `http://host:port[/path]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// The host as written: a name, an IPv4 address, or `[v6]`.
    host: String,
    port: u16,
    /// The request path: the endpoint's path followed by `/v1/logs`.
    path: String,
}

impl Endpoint {
    /// Parses `http://host:port[/path]`; the logs are sent to
    /// `{path}/v1/logs` (a path that already ends in `/v1/logs` is kept).
    pub(crate) fn parse(url: &str) -> Result<Endpoint, String> {
        let form = "an OTLP endpoint is http://host:port[/path] (https is not supported)";
        let rest = url
            .get(..7)
            .filter(|scheme| scheme.eq_ignore_ascii_case("http://"))
            .map(|_| &url[7..])
            .ok_or_else(|| format!("{form}, got {url:?}"))?;
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let (host, port) = if authority.starts_with('[') {
            let end = authority
                .find(']')
                .ok_or_else(|| format!("{form}, got {url:?}"))?;
            let valid = authority[1..end].parse::<Ipv6Addr>().is_ok();
            let port = authority[end + 1..].strip_prefix(':');
            match port {
                Some(port) if valid => (&authority[..=end], port),
                _ => return Err(format!("{form}, got {url:?}")),
            }
        } else {
            authority
                .split_once(':')
                .ok_or_else(|| format!("{form}: the port is missing in {url:?}"))?
        };
        let host_ok = host.starts_with('[')
            || (!host.is_empty()
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b)));
        if !host_ok {
            return Err(format!("{form}: bad host in {url:?}"));
        }
        let port = port
            .parse::<u16>()
            .ok()
            .filter(|&p| p != 0 && port.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| format!("{form}: bad port in {url:?}"))?;
        if !path.bytes().all(|b| b.is_ascii_graphic() && b != b'#') {
            return Err(format!("{form}: bad path in {url:?}"));
        }
        let base = path.trim_end_matches('/');
        let path = if base.ends_with(LOGS_PATH) {
            base.to_owned()
        } else {
            format!("{base}{LOGS_PATH}")
        };
        Ok(Endpoint {
            host: host.to_owned(),
            port,
            path,
        })
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "http://{}:{}{}", self.host, self.port, self.path)
    }
}

/// A response, its body cut at [`MAX_KEPT_BODY`].
#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) body: Vec<u8>,
}

/// Most response body bytes kept (the rest is read and discarded).
const MAX_KEPT_BODY: usize = 64 * 1024;
/// Longest status or header line accepted.
const MAX_LINE: u64 = 8 * 1024;

/// How long a response may take, from the request sent to its end: a
/// collector or proxy that answers and never ends its body (or drips it)
/// would otherwise hold the sender, and every batch behind it, for good.
const RESPONSE_WAIT: Duration = Duration::from_secs(30);

/// A response's reader, failing with `TimedOut` once `deadline` passed.
struct Timed<'a> {
    r: &'a mut BufReader<TcpStream>,
    deadline: Instant,
    /// The wait `deadline` ends, for the error.
    wait: Duration,
    /// The socket's read timeout, lowered to what is left of the wait
    /// once that is less: a read that blocks must not outlast it.
    read_timeout: Duration,
    /// The connection's own read timeout, put back when done.
    io_timeout: Duration,
}

impl Drop for Timed<'_> {
    fn drop(&mut self) {
        if self.read_timeout != self.io_timeout {
            // A connection that cannot take it back is not used again
            // after the error its next read or write gets.
            let _ = self.r.get_ref().set_read_timeout(Some(self.io_timeout));
        }
    }
}

impl Timed<'_> {
    /// `read`, or the wait's own error when a read timed out (its timeout
    /// lowered to what was left of the wait) as the wait ended.
    fn timed_out<T>(&mut self, read: io::Result<T>) -> io::Result<T> {
        match read {
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                self.check()?;
                Err(e)
            }
            read => read,
        }
    }

    fn check(&mut self) -> io::Result<()> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left < self.read_timeout && !left.is_zero() {
            self.r.get_ref().set_read_timeout(Some(left))?;
            self.read_timeout = left;
        }
        if left.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "the collector's response did not end within {} s",
                    self.wait.as_secs_f64()
                ),
            ));
        }
        Ok(())
    }
}

impl Read for Timed<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.check()?;
        let read = self.r.read(buf);
        self.timed_out(read)
    }
}

impl BufRead for Timed<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.check()?;
        if let Err(e) = self.r.fill_buf() {
            self.timed_out(Err(e))?;
        }
        // Filled, or its bytes were there: at once now.
        self.r.fill_buf()
    }

    fn consume(&mut self, n: usize) {
        self.r.consume(n);
    }
}

/// An open connection.
struct Conn {
    reader: BufReader<TcpStream>,
    /// Requests answered on it so far.
    used: u32,
}

/// A client of one endpoint, keeping one connection alive.
pub(crate) struct Client {
    endpoint: Endpoint,
    /// The request line and headers up to `Content-Length: `.
    head: String,
    addrs: Vec<SocketAddr>,
    conn: Option<Conn>,
    pub(crate) connect_timeout: Duration,
    pub(crate) io_timeout: Duration,
    /// Connections opened so far.
    pub(crate) connects: u32,
    /// How long a response may take to end (see [`RESPONSE_WAIT`]).
    response_wait: Duration,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.endpoint)
            .field("connected", &self.conn.is_some())
            .finish_non_exhaustive()
    }
}

impl Client {
    pub(crate) fn new(endpoint: Endpoint) -> Client {
        let head = format!(
            "POST {} HTTP/1.1\r\nHost: {}:{}\r\nContent-Type: application/x-protobuf\r\n\
             User-Agent: velo/{}\r\nContent-Length: ",
            endpoint.path,
            endpoint.host,
            endpoint.port,
            env!("CARGO_PKG_VERSION"),
        );
        Client {
            endpoint,
            head,
            addrs: Vec::new(),
            conn: None,
            connect_timeout: Duration::from_secs(3),
            io_timeout: Duration::from_secs(10),
            response_wait: RESPONSE_WAIT,
            connects: 0,
        }
    }

    fn connect(&mut self) -> io::Result<Conn> {
        if self.addrs.is_empty() {
            // Resolved on first use and after a failure, so a collector
            // that moves is found again.
            let host = self
                .endpoint
                .host
                .trim_start_matches('[')
                .trim_end_matches(']');
            self.addrs = (host, self.endpoint.port).to_socket_addrs()?.collect();
        }
        let mut last = io::Error::new(io::ErrorKind::NotFound, "the host has no address");
        for addr in &self.addrs {
            match TcpStream::connect_timeout(addr, self.connect_timeout) {
                Ok(stream) => {
                    stream.set_nodelay(true)?;
                    stream.set_read_timeout(Some(self.io_timeout))?;
                    stream.set_write_timeout(Some(self.io_timeout))?;
                    self.connects += 1;
                    return Ok(Conn {
                        reader: BufReader::new(stream),
                        used: 0,
                    });
                }
                Err(e) => last = e,
            }
        }
        self.addrs.clear();
        Err(last)
    }

    /// Closes the connection (the next request opens a new one).
    pub(crate) fn disconnect(&mut self) {
        self.conn = None;
    }

    /// POSTs `body` as `application/x-protobuf`.
    pub(crate) fn post(&mut self, body: &[u8]) -> io::Result<Response> {
        let mut head = String::with_capacity(self.head.len() + 24);
        head.push_str(&self.head);
        head.push_str(itoa::Buffer::new().format(body.len()));
        head.push_str("\r\n\r\n");
        let mut retried = false;
        loop {
            let mut conn = match self.conn.take() {
                Some(conn) => conn,
                None => self.connect()?,
            };
            let reused = conn.used > 0;
            let waits = (self.response_wait, self.io_timeout);
            match round_trip(&mut conn, head.as_bytes(), body, waits) {
                Ok((response, keep)) => {
                    conn.used += 1;
                    if keep {
                        self.conn = Some(conn);
                    }
                    return Ok(response);
                }
                Err(e) if reused && !retried && is_stale(&e) => retried = true,
                Err(e) => return Err(e),
            }
        }
    }
}

/// An error that a connection closed while idle gives.
fn is_stale(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
    )
}

/// One request and its response, the response within `wait` and each
/// read within `io_timeout`; returns the response and whether the
/// connection may be used again.
fn round_trip(
    conn: &mut Conn,
    head: &[u8],
    body: &[u8],
    (wait, io_timeout): (Duration, Duration),
) -> io::Result<(Response, bool)> {
    let stream = conn.reader.get_mut();
    stream.write_all(head)?;
    stream.write_all(body)?;

    let r = &mut Timed {
        r: &mut conn.reader,
        deadline: Instant::now() + wait,
        wait,
        read_timeout: io_timeout,
        io_timeout,
    };
    let mut line = String::new();
    let (status, minor) = loop {
        read_line(r, &mut line)?;
        let (status, minor) = parse_status_line(&line)?;
        if (100..200).contains(&status) && status != 101 {
            // An interim response: skip its headers.
            while {
                read_line(r, &mut line)?;
                !line.is_empty()
            } {}
            continue;
        }
        break (status, minor);
    };

    let mut content_length = None;
    let mut chunked = false;
    // HTTP/1.0 closes unless told otherwise.
    let mut close = minor == 0;
    let mut retry_after = None;
    loop {
        read_line(r, &mut line)?;
        if line.is_empty() {
            break;
        }
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        let has = |token: &str| {
            value
                .split(',')
                .any(|t| t.trim().eq_ignore_ascii_case(token))
        };
        if name.eq_ignore_ascii_case("content-length") {
            content_length = Some(
                value
                    .parse::<u64>()
                    .map_err(|_| bad("bad Content-Length"))?,
            );
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = has("chunked");
        } else if name.eq_ignore_ascii_case("connection") {
            if has("close") {
                close = true;
            } else if has("keep-alive") {
                close = false;
            }
        } else if name.eq_ignore_ascii_case("retry-after") {
            retry_after = parse_retry_after(value, SystemTime::now());
        }
    }

    let mut body = Vec::new();
    if status == 204 || status == 304 {
        // No body, by definition.
    } else if chunked {
        loop {
            read_line(r, &mut line)?;
            let size = line.split(';').next().unwrap_or("").trim();
            let size = u64::from_str_radix(size, 16).map_err(|_| bad("bad chunk size"))?;
            if size == 0 {
                // Trailers, up to the empty line.
                while {
                    read_line(r, &mut line)?;
                    !line.is_empty()
                } {}
                break;
            }
            read_body(r, size, &mut body)?;
            read_line(r, &mut line)?;
        }
    } else if let Some(n) = content_length {
        read_body(r, n, &mut body)?;
    } else {
        // No framing: the body runs until the peer closes.
        r.take(MAX_KEPT_BODY as u64).read_to_end(&mut body)?;
        io::copy(r, &mut io::sink())?;
        close = true;
    }
    Ok((
        Response {
            status,
            retry_after,
            body,
        },
        !close,
    ))
}

fn bad(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.to_owned())
}

/// Reads a line without its line ending; the end of the stream before any
/// byte is `UnexpectedEof`.
fn read_line(r: &mut impl BufRead, line: &mut String) -> io::Result<()> {
    line.clear();
    if r.by_ref().take(MAX_LINE).read_line(line)? == 0 {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    if !line.ends_with('\n') {
        return Err(bad("a response line is too long or cut short"));
    }
    let len = line.trim_end_matches(['\r', '\n']).len();
    line.truncate(len);
    Ok(())
}

/// Reads `n` body bytes, keeping at most [`MAX_KEPT_BODY`] of the body.
fn read_body(r: &mut impl BufRead, n: u64, out: &mut Vec<u8>) -> io::Result<()> {
    let keep = (MAX_KEPT_BODY.saturating_sub(out.len()) as u64).min(n);
    let kept = r.by_ref().take(keep).read_to_end(out)? as u64;
    let skipped = io::copy(&mut r.by_ref().take(n - keep), &mut io::sink())?;
    if kept + skipped != n {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(())
}

/// `HTTP/1.x NNN reason` -> (status, minor version).
fn parse_status_line(line: &str) -> io::Result<(u16, u8)> {
    let rest = line
        .strip_prefix("HTTP/1.")
        .ok_or_else(|| bad("not an HTTP/1.x response"))?;
    let minor = rest.as_bytes().first().map_or(1, |b| b.wrapping_sub(b'0'));
    let code = rest.get(2..5).ok_or_else(|| bad("short status line"))?;
    let status = code.parse().map_err(|_| bad("bad status code"))?;
    Ok((status, minor))
}

/// `Retry-After`: seconds, or an IMF-fixdate (RFC 9110, 10.2.3); a date in
/// the past is zero.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = parse_imf_fixdate(value)?;
    let now = now.duration_since(UNIX_EPOCH).ok()?.as_secs();
    Some(Duration::from_secs(at.saturating_sub(now)))
}

/// `Sun, 06 Nov 1994 08:49:37 GMT` -> seconds since the Unix epoch.
fn parse_imf_fixdate(s: &str) -> Option<u64> {
    let (_, rest) = s.split_once(", ")?;
    let mut parts = rest.split(' ');
    let day: i64 = parts.next()?.parse().ok()?;
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = parts.next()?;
    let month = MONTHS.iter().position(|&m| m == month)? as i64 + 1;
    let year: i64 = parts.next()?.parse().ok()?;
    let mut hms = parts.next()?.split(':');
    let mut next = || hms.next()?.parse::<u64>().ok();
    let (h, m, sec) = (next()?, next()?, next()?);
    if parts.next()? != "GMT" || !(1..=31).contains(&day) || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    // Days since 1970-01-01 of a proleptic Gregorian date.
    let (y, mo) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * mo + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days)
        .ok()
        .map(|d| d * 86_400 + h * 3600 + m * 60 + sec)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn endpoints() {
        let ok = [
            ("http://localhost:4318", "localhost", 4318, "/v1/logs"),
            ("http://127.0.0.1:4318/", "127.0.0.1", 4318, "/v1/logs"),
            ("HTTP://collector:80/otel", "collector", 80, "/otel/v1/logs"),
            ("http://c:4318/v1/logs", "c", 4318, "/v1/logs"),
            ("http://c:4318/a/v1/logs/", "c", 4318, "/a/v1/logs"),
            ("http://[::1]:9999/x", "[::1]", 9999, "/x/v1/logs"),
        ];
        for (url, host, port, path) in ok {
            let e = Endpoint::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(
                (e.host.as_str(), e.port, e.path.as_str()),
                (host, port, path)
            );
        }
        let bad = [
            "",
            "localhost:4318",
            "https://collector:4318",
            "http://collector",
            "http://collector/v1/logs",
            "http://:4318",
            "http://collector:",
            "http://collector:0",
            "http://collector:65536",
            "http://collector:+80",
            "http://user@collector:4318",
            "http://col lector:4318",
            "http://collector:4318/a b",
            "http://collector:4318/a\r\nX: y",
            "http://[::1]/x",
            "http://[nope]:80",
            "http://[::1",
        ];
        for url in bad {
            assert!(Endpoint::parse(url).is_err(), "{url:?} was accepted");
        }
        let e = Endpoint::parse("http://[::1]:9999").unwrap();
        assert_eq!(e.to_string(), "http://[::1]:9999/v1/logs");
    }

    #[test]
    fn retry_after_forms() {
        // Sun, 06 Nov 1994 08:49:37 GMT
        let now = UNIX_EPOCH + Duration::from_secs(784_111_777);
        let cases = [
            ("120", Some(120)),
            (" 0 ", Some(0)),
            ("Sun, 06 Nov 1994 08:49:37 GMT", Some(0)),
            ("Sun, 06 Nov 1994 08:50:07 GMT", Some(30)),
            ("Sat, 05 Nov 1994 08:50:07 GMT", Some(0)),
            ("soon", None),
            ("-1", None),
            ("Sun, 06 Nov 1994 08:49:37 UTC", None),
        ];
        for (value, secs) in cases {
            assert_eq!(
                parse_retry_after(value, now),
                secs.map(Duration::from_secs),
                "{value}"
            );
        }
        assert_eq!(parse_imf_fixdate("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(
            parse_imf_fixdate("Tue, 29 Feb 2028 12:00:00 GMT"),
            Some(1_835_438_400)
        );
    }

    #[test]
    fn status_lines() {
        assert_eq!(
            parse_status_line("HTTP/1.1 503 Service Unavailable").unwrap(),
            (503, 1)
        );
        assert_eq!(parse_status_line("HTTP/1.0 200 OK").unwrap(), (200, 0));
        assert_eq!(parse_status_line("HTTP/1.1 200").unwrap(), (200, 1));
        assert!(parse_status_line("SSH-2.0").is_err());
    }

    /// Serves `responses` in order, one request each, on connections the
    /// client opens; each response is `(raw bytes, close the connection
    /// after it)`. Returns the endpoint and the requests' bodies.
    pub(in crate::output::otlp) fn server(
        responses: Vec<(&'static str, bool)>,
    ) -> (Endpoint, std::thread::JoinHandle<Vec<Vec<u8>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let handle = std::thread::spawn(move || {
            let mut bodies = Vec::new();
            let mut responses = responses.into_iter().peekable();
            while responses.peek().is_some() {
                let (stream, _) = listener.accept().unwrap();
                stream
                    .set_read_timeout(Some(Duration::from_secs(10)))
                    .unwrap();
                let mut r = BufReader::new(stream);
                for (raw, close) in responses.by_ref() {
                    let mut len = 0;
                    let mut line = String::new();
                    loop {
                        line.clear();
                        r.read_line(&mut line).unwrap();
                        if line == "\r\n" {
                            break;
                        }
                        if let Some(v) = line.strip_prefix("Content-Length: ") {
                            len = v.trim().parse().unwrap();
                        }
                    }
                    let mut body = vec![0; len];
                    r.read_exact(&mut body).unwrap();
                    bodies.push(body);
                    r.get_mut().write_all(raw.as_bytes()).unwrap();
                    if close {
                        break;
                    }
                }
            }
            bodies
        });
        (Endpoint::parse(&url).unwrap(), handle)
    }

    #[test]
    fn responses_are_read_whole_and_the_connection_kept() {
        let (endpoint, server) = server(vec![
            ("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc", false),
            ("HTTP/1.1 503 Busy\r\nRetry-After: 7\r\nContent-Length: 0\r\n\r\n", false),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;x=1\r\nde\r\n1\r\nf\r\n0\r\nT: t\r\n\r\n", false),
            ("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nrest", true),
            ("HTTP/1.1 204 No Content\r\n\r\n", false),
        ]);
        let mut client = Client::new(endpoint);
        let r = client.post(b"one").unwrap();
        assert_eq!((r.status, &r.body[..]), (200, &b"abc"[..]));
        let r = client.post(b"two").unwrap();
        assert_eq!(
            (r.status, r.retry_after),
            (503, Some(Duration::from_secs(7)))
        );
        let r = client.post(b"three").unwrap();
        assert_eq!((r.status, &r.body[..]), (200, &b"def"[..]));
        let r = client.post(b"four").unwrap();
        assert_eq!((r.status, &r.body[..]), (200, &b"rest"[..]));
        assert_eq!(client.connects, 1);
        let r = client.post(b"five").unwrap();
        assert_eq!(r.status, 204);
        assert_eq!(client.connects, 2, "a new connection after `close`");
        let bodies = server.join().unwrap();
        assert_eq!(bodies, [&b"one"[..], b"two", b"three", b"four", b"five"]);
    }

    #[test]
    fn a_connection_closed_while_idle_is_replaced_at_once() {
        // The server answers, then closes without saying so (an idle
        // timeout); the next request finds the connection dead.
        let (endpoint, server) = server(vec![
            ("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true),
            ("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false),
        ]);
        let mut client = Client::new(endpoint);
        assert_eq!(client.post(b"a").unwrap().status, 200);
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(client.post(b"b").unwrap().status, 200);
        assert_eq!(client.connects, 2);
        assert_eq!(server.join().unwrap(), [b"a", b"b"]);
    }

    /// A collector's URL that answers one request with `head`, then sends
    /// `piece` every `pause` for as long as the client listens.
    fn dripping(head: &'static [u8], piece: &'static [u8], pause: Duration) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut request = [0; 4096];
            let _ = stream.read(&mut request);
            let _ = stream.write_all(head);
            while stream.write_all(piece).is_ok() {
                std::thread::sleep(pause);
            }
        });
        url
    }

    #[test]
    fn a_response_that_never_ends_is_given_up_on() {
        // Answers, then drips a chunked body that never ends.
        let url = dripping(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"1\r\na\r\n",
            Duration::from_millis(10),
        );
        let mut client = Client::new(Endpoint::parse(&url).unwrap());
        client.response_wait = Duration::from_millis(300);
        let start = Instant::now();
        let e = client.post(b"x").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut, "{e}");
        assert!(e.to_string().contains("did not end within 0.3 s"), "{e}");
        assert!(start.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn a_read_that_blocks_does_not_outlast_the_response_wait() {
        // Answers, promises a body, then sends a byte of it less often
        // than each read may wait: the whole response is still bounded.
        let url = dripping(
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
            b"a",
            Duration::from_millis(900),
        );
        let mut client = Client::new(Endpoint::parse(&url).unwrap());
        client.response_wait = Duration::from_millis(1_000);
        client.io_timeout = Duration::from_millis(950);
        let start = Instant::now();
        let e = client.post(b"x").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut, "{e}");
        // Without the bound on each read: the read begun just before the
        // second ends waits its 950 ms (1.8 s or more in all).
        let took = start.elapsed();
        assert!(took < Duration::from_millis(1_500), "{took:?}");
    }

    #[test]
    fn a_refused_connection_is_an_error() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let endpoint = Endpoint::parse(&format!("http://127.0.0.1:{port}")).unwrap();
        let e = Client::new(endpoint).post(b"x").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused);
    }
}
