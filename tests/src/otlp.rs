//! A loopback OpenTelemetry collector for the OTLP output's tests: it
//! serves OTLP/HTTP on 127.0.0.1, decodes every request with the official
//! `opentelemetry-proto` types, and answers as a test scripts it (200 once
//! the script runs out).

pub use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
pub use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
pub use opentelemetry_proto::tonic::logs::v1::LogRecord;
use prost::Message;
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// What the collector answers to a request.
#[derive(Clone, Debug)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// Extra header lines, `Name: value`.
    pub headers: Vec<String>,
}

impl Reply {
    /// `status` with no extra header.
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
        }
    }

    /// `status` with a `Retry-After` of `secs` seconds.
    pub fn retry_after(status: u16, secs: u64) -> Reply {
        Reply {
            status,
            headers: vec![format!("Retry-After: {secs}")],
        }
    }
}

/// A request the collector received.
#[derive(Clone, Debug)]
pub struct Request {
    /// The request path.
    pub path: String,
    /// The `Content-Type` header.
    pub content_type: String,
    /// The status it was answered with.
    pub status: u16,
    /// The body as sent.
    pub raw: Vec<u8>,
    /// The body, decoded (empty if it does not decode).
    pub decoded: ExportLogsServiceRequest,
    /// Why the body does not decode; such a request is answered 400.
    pub error: Option<String>,
}

impl Request {
    /// The log records of the request, in order.
    pub fn records(&self) -> Vec<LogRecord> {
        self.decoded
            .resource_logs
            .iter()
            .flat_map(|r| &r.scope_logs)
            .flat_map(|s| s.log_records.iter().cloned())
            .collect()
    }
}

#[derive(Debug, Default)]
struct Inner {
    script: Mutex<VecDeque<Reply>>,
    /// How long it takes to answer each request.
    delay: Mutex<Duration>,
    requests: Mutex<Vec<Request>>,
    arrived: Condvar,
}

/// The collector; it serves until the process ends.
#[derive(Clone, Debug)]
pub struct Collector {
    port: u16,
    inner: Arc<Inner>,
}

impl Collector {
    /// A collector on a free port answering 200 to everything.
    pub fn start() -> Collector {
        Collector::scripted(Vec::new())
    }

    /// A collector on a free port answering `script` in order, then 200.
    pub fn scripted(script: Vec<Reply>) -> Collector {
        Collector::serve(
            TcpListener::bind("127.0.0.1:0").expect("a loopback port"),
            script,
        )
    }

    /// A collector on a free port answering 200 to everything, each
    /// request `delay` after it arrived: a slow one.
    pub fn slow(delay: Duration) -> Collector {
        let collector = Collector::start();
        *lock(&collector.inner.delay) = delay;
        collector
    }

    /// A collector on `port` (from [`free_port`]), answering 200.
    pub fn on_port(port: u16) -> Collector {
        Collector::serve(
            TcpListener::bind(("127.0.0.1", port)).expect("the port is still free"),
            Vec::new(),
        )
    }

    fn serve(listener: TcpListener, script: Vec<Reply>) -> Collector {
        let port = listener.local_addr().unwrap().port();
        let inner = Arc::new(Inner {
            script: Mutex::new(script.into()),
            ..Inner::default()
        });
        let theirs = Arc::clone(&inner);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let inner = Arc::clone(&theirs);
                std::thread::spawn(move || connection(stream, &inner));
            }
        });
        Collector { port, inner }
    }

    /// The endpoint to give `Builder::otlp`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every request so far, in order of arrival.
    pub fn requests(&self) -> Vec<Request> {
        lock(&self.inner.requests).clone()
    }

    /// The records of every request answered with a 2xx, in order.
    pub fn accepted(&self) -> Vec<LogRecord> {
        self.requests()
            .iter()
            .filter(|r| (200..300).contains(&r.status))
            .flat_map(Request::records)
            .collect()
    }

    /// Waits until at least `n` records were accepted, for at most
    /// `timeout`; returns the accepted records.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<LogRecord> {
        let deadline = Instant::now() + timeout;
        let mut requests = lock(&self.inner.requests);
        loop {
            let accepted: usize = requests
                .iter()
                .filter(|r| (200..300).contains(&r.status))
                .map(|r| r.records().len())
                .sum();
            let now = Instant::now();
            if accepted >= n || now >= deadline {
                break;
            }
            requests = self
                .inner
                .arrived
                .wait_timeout(requests, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        drop(requests);
        self.accepted()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Serves requests on one connection until the client closes it.
fn connection(stream: TcpStream, inner: &Inner) {
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut reader = BufReader::new(stream);
    while let Some((path, content_type, raw)) = read_request(&mut reader) {
        let reply = lock(&inner.script)
            .pop_front()
            .unwrap_or(Reply::status(200));
        let (decoded, error) = match ExportLogsServiceRequest::decode(&raw[..]) {
            Ok(decoded) => (decoded, None),
            Err(e) => (ExportLogsServiceRequest::default(), Some(e.to_string())),
        };
        let status = if error.is_none() { reply.status } else { 400 };
        let mut head = format!("HTTP/1.1 {status} X\r\nContent-Type: application/x-protobuf\r\n");
        for h in &reply.headers {
            head.push_str(h);
            head.push_str("\r\n");
        }
        head.push_str("Content-Length: 0\r\n\r\n");
        // Recorded before answering: once the client has its answer, the
        // request is visible here.
        lock(&inner.requests).push(Request {
            path,
            content_type,
            status,
            raw,
            decoded,
            error,
        });
        inner.arrived.notify_all();
        let delay = *lock(&inner.delay);
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
        if reader.get_mut().write_all(head.as_bytes()).is_err() {
            return;
        }
    }
}

/// Reads one request: (path, content type, body); `None` once the client
/// closed the connection.
fn read_request(r: &mut BufReader<TcpStream>) -> Option<(String, String, Vec<u8>)> {
    let mut line = String::new();
    if r.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    assert_eq!(parts.next(), Some("POST"), "{line:?}");
    let path = parts.next()?.to_owned();
    let (mut len, mut content_type) = (None, String::new());
    loop {
        line.clear();
        r.read_line(&mut line).ok()?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let (k, v) = l.split_once(':')?;
        if k.eq_ignore_ascii_case("content-length") {
            len = v.trim().parse::<usize>().ok();
        } else if k.eq_ignore_ascii_case("content-type") {
            v.trim().clone_into(&mut content_type);
        }
    }
    let mut body = vec![0; len.expect("the request has a Content-Length")];
    r.read_exact(&mut body).ok()?;
    Some((path, content_type, body))
}

/// The URL of a collector that accepts connections and never answers:
/// reads nothing, answers nothing, holds every connection.
pub fn silent_collector() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    url
}

/// A loopback port nothing listens on (free a moment ago).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The value of a record's attribute `key`, if it has one.
pub fn attr<'a>(record: &'a LogRecord, key: &str) -> Option<&'a Any> {
    let mut found = record.attributes.iter().filter(|kv| kv.key == key);
    let kv = found.next()?;
    assert!(found.next().is_none(), "attribute {key} appears twice");
    kv.value.as_ref()?.value.as_ref()
}

/// Whether a record has attribute `key`, even with an empty value.
pub fn has_attr(record: &LogRecord, key: &str) -> bool {
    record.attributes.iter().any(|kv| kv.key == key)
}

/// A record's body, which velo always sends as a string.
pub fn body(record: &LogRecord) -> &str {
    match record.body.as_ref().and_then(|b| b.value.as_ref()) {
        Some(Any::StringValue(s)) => s,
        other => panic!("the body is not a string: {other:?}"),
    }
}
