//! The syslog output's messages, read by plain sockets of the test: the
//! RFC 5424 header (PRI from the level, the entry's time, host name,
//! APP-NAME, pid), MSG as the logger's line, one datagram per entry over
//! UDP and unix sockets, octet-counted frames over TCP, long entries cut.

#![cfg(unix)]

use std::io::Read;
use std::net::{TcpListener, UdpSocket};
use std::os::unix::net::UnixDatagram;
use std::time::Duration;
use velo::{velo, Builder, Format, Level, Syslog};
use velo_tests::syslog::{hostname, octet_frames, Message};

const TIMEOUT: Duration = Duration::from_secs(10);

fn udp_receiver() -> (UdpSocket, String) {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(TIMEOUT)).unwrap();
    let addr = socket.local_addr().unwrap().to_string();
    (socket, addr)
}

/// A TCP receiver on a port of its own: its address, and the thread that
/// returns the bytes of the first connection once they hold `frames`
/// octet-counted frames.
fn tcp_receiver(frames: usize) -> (String, std::thread::JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let reader = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        conn.set_read_timeout(Some(TIMEOUT)).unwrap();
        let mut bytes = Vec::new();
        let mut buf = [0; 65536];
        while octet_frames(&bytes).0.len() < frames {
            let n = conn.read(&mut buf).expect("frames arrive");
            assert!(n > 0, "the connection closed early");
            bytes.extend_from_slice(&buf[..n]);
        }
        bytes
    });
    (addr, reader)
}

fn recv(socket: &UdpSocket) -> Vec<u8> {
    let mut buf = vec![0; 70_000];
    let n = socket.recv(&mut buf).expect("a datagram arrives");
    buf.truncate(n);
    buf
}

#[test]
fn udp_datagram_has_the_rfc5424_header_and_the_json_line() {
    let (socket, addr) = udp_receiver();
    let logger = Builder::new()
        .format(Format::Json)
        .app_name("frames-udp")
        .syslog(Syslog::udp(&addr))
        .build()
        .unwrap();
    velo!(logger: &logger, warn, "disk almost full", free_mb = 120, path = "/var");
    logger.sync().unwrap();
    let bytes = recv(&socket);
    assert!(!bytes.starts_with(b"\xEF\xBB\xBF"));
    let m = Message::parse(&bytes);
    assert_eq!((m.pri, m.facility(), m.severity()), (12, 1, 4));
    assert_eq!(m.version, "1");
    assert_eq!(m.hostname, hostname());
    assert_eq!(m.app_name, "frames-udp");
    assert_eq!(m.procid, std::process::id().to_string());
    assert_eq!((m.msgid.as_str(), m.structured_data.as_str()), ("-", "-"));
    assert!(!m.msg.ends_with('\n'), "{:?}", m.msg);
    let line = m.json();
    assert_eq!(line["level"], "warn");
    assert_eq!(line["msg"], "disk almost full");
    assert_eq!(line["free_mb"], 120);
    assert_eq!(line["path"], "/var");
    // The header's time is the entry's, in UTC with microseconds.
    assert_eq!(line["time"], m.timestamp.as_str());
    assert_eq!(m.timestamp.len(), "2026-11-27T17:03:12.123456Z".len());
    assert!(m.timestamp.ends_with('Z'));
    let stats = logger.stats();
    assert_eq!(
        (stats.written, stats.dropped, stats.write_errors),
        (1, 0, 0)
    );
}

#[test]
fn unix_datagrams_carry_each_level_as_its_severity() {
    let dir = std::env::temp_dir().join(format!("velo-syslog-unix-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("log.sock");
    let _ = std::fs::remove_file(&path);
    let socket = UnixDatagram::bind(&path).unwrap();
    socket.set_read_timeout(Some(TIMEOUT)).unwrap();
    let logger = Builder::new()
        .level(Level::Trace)
        .format(Format::Json)
        .app_name("frames-unix")
        .syslog(Syslog::unix(&path))
        .build()
        .unwrap();
    velo!(logger: &logger, trace, "t");
    velo!(logger: &logger, debug, "d");
    velo!(logger: &logger, info, "i");
    velo!(logger: &logger, warn, "w");
    velo!(logger: &logger, error, "e");
    logger.sync().unwrap();
    let mut got = Vec::new();
    let mut buf = vec![0; 70_000];
    for _ in 0..5 {
        let n = socket.recv(&mut buf).expect("a datagram arrives");
        let m = Message::parse(&buf[..n]);
        assert_eq!(m.app_name, "frames-unix");
        got.push((m.json()["msg"].as_str().unwrap().to_owned(), m.severity()));
    }
    let expected = [("t", 7), ("d", 7), ("i", 6), ("w", 4), ("e", 3)];
    let expected: Vec<_> = expected.iter().map(|(m, s)| (m.to_string(), *s)).collect();
    assert_eq!(got, expected);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn tcp_frames_are_octet_counted_and_keep_hostile_values_whole() {
    const N: usize = 2000;
    let (addr, reader) = tcp_receiver(N);
    let logger = Builder::new()
        .format(Format::Json)
        .app_name("frames-tcp")
        .syslog(Syslog::tcp(&addr))
        .build()
        .unwrap();
    let hostile = "two\nlines \"quoted\" back\\slash\ttab 123 <14>1 forged";
    for i in 0..N {
        velo!(logger: &logger, info, "entry", i, hostile);
    }
    logger.sync().unwrap();
    let bytes = reader.join().unwrap();
    let (frames, rest) = octet_frames(&bytes);
    assert!(rest.is_empty(), "a partial frame: {rest:?}");
    assert_eq!(frames.len(), N);
    for (i, frame) in frames.iter().enumerate() {
        let m = Message::parse(frame);
        assert_eq!((m.pri, m.app_name.as_str()), (14, "frames-tcp"));
        let line = m.json();
        assert_eq!(line["i"], i);
        assert_eq!(line["hostile"], hostile);
    }
    let stats = logger.stats();
    assert_eq!(
        (stats.written, stats.dropped, stats.write_errors),
        (N as u64, 0, 0)
    );
}

#[test]
fn text_format_is_the_msg_too() {
    let (socket, addr) = udp_receiver();
    // Colours asked for: a terminal's, not a syslog message's.
    let logger = Builder::new()
        .format(Format::Text)
        .color(true)
        .syslog(Syslog::udp(&addr))
        .build()
        .unwrap();
    velo!(logger: &logger, error, "query failed", attempt = 3);
    logger.sync().unwrap();
    let m = Message::parse(&recv(&socket));
    assert!(!m.msg.contains('\x1b'), "{:?}", m.msg);
    assert_eq!(m.severity(), 3);
    assert!(
        m.msg.starts_with(&m.timestamp) && m.msg.contains("ERROR query failed attempt=3"),
        "{:?}",
        m.msg
    );
    // The default APP-NAME is the executable's name.
    let exe = std::env::current_exe().unwrap();
    assert_eq!(m.app_name, exe.file_name().unwrap().to_str().unwrap());
}

#[test]
fn entries_longer_than_max_len_are_cut_at_a_character_boundary() {
    let (socket, addr) = udp_receiver();
    let logger = Builder::new()
        .format(Format::Json)
        .syslog(Syslog::udp(&addr))
        .build()
        .unwrap();
    let big = "é".repeat(50_000); // 100,000 bytes
    velo!(logger: &logger, info, "big", big);
    velo!(logger: &logger, info, "after");
    logger.sync().unwrap();
    // Cut at rsyslog's default message size.
    let first = recv(&socket);
    assert_eq!(Syslog::DEFAULT_MAX_LEN, 8096);
    assert!(
        first.len() <= 8096 && first.len() >= 8095,
        "{}",
        first.len()
    );
    let m = Message::parse(&first); // UTF-8, so cut between characters
    assert!(m.msg.ends_with('é'), "{:?}", &m.msg[m.msg.len() - 10..]);
    assert_eq!(Message::parse(&recv(&socket)).json()["msg"], "after");

    // Over UDP, never past what one datagram carries, whatever is asked.
    let logger = Builder::new()
        .format(Format::Json)
        .syslog(Syslog::udp(&addr).max_len(1 << 20))
        .build()
        .unwrap();
    velo!(logger: &logger, info, "big", big);
    logger.sync().unwrap();
    let first = recv(&socket);
    assert!(first.len() <= Syslog::UDP_MAX_LEN && first.len() > 65_000);
    assert!(Message::parse(&first).msg.ends_with('é'));
    assert_eq!(logger.stats().written, 1);

    let logger = Builder::new()
        .format(Format::Json)
        .syslog(Syslog::udp(&addr).max_len(Syslog::MIN_MAX_LEN))
        .build()
        .unwrap();
    velo!(logger: &logger, info, "big", big);
    logger.sync().unwrap();
    let cut = recv(&socket);
    assert!(cut.len() <= 480 && cut.len() >= 478, "{}", cut.len());
    Message::parse(&cut);
    let stats = logger.stats();
    assert_eq!((stats.written, stats.dropped), (1, 0));

    // Shorter than any header may be: refused, with the reason.
    let err = Builder::new()
        .syslog(Syslog::udp(&addr).max_len(20))
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), velo::ErrorKind::Output);
    assert!(
        err.to_string().contains("max_len(20) is below 480"),
        "{err}"
    );
}

#[test]
fn timestamp_off_writes_the_nil_value() {
    let (socket, addr) = udp_receiver();
    let logger = Builder::new()
        .format(Format::Json)
        .timestamp(velo::Timestamp::Off)
        .syslog(Syslog::udp(&addr))
        .build()
        .unwrap();
    velo!(logger: &logger, info, "untimed");
    logger.sync().unwrap();
    let m = Message::parse(&recv(&socket));
    assert_eq!(m.timestamp, "-");
    assert!(m.json().get("time").is_none());
}

/// Over TCP, a value longer than the receiver's message size must not go
/// out whole: rsyslog splits such a frame into pieces it parses as
/// messages of their own, so a value could forge an entry. By default a
/// message stops at rsyslog's default size.
#[test]
fn tcp_messages_stop_at_rsyslogs_default_size() {
    let (addr, reader) = tcp_receiver(2);
    let logger = Builder::new()
        .format(Format::Json)
        .syslog(Syslog::tcp(&addr))
        .build()
        .unwrap();
    // Where rsyslog would start a new message, a header of its own.
    let forged = format!(
        "{}<10>1 2026-12-02T15:00:00Z forgedhost evilapp 666 - - FORGED{}",
        "a".repeat(8000),
        " ".repeat(8200)
    );
    velo!(logger: &logger, info, "user comment", comment = forged.as_str());
    velo!(logger: &logger, info, "after");
    logger.sync().unwrap();
    let bytes = reader.join().unwrap();
    let (frames, rest) = octet_frames(&bytes);
    assert!(rest.is_empty());
    assert_eq!(frames.len(), 2);
    assert!(frames[0].len() <= 8096, "{}", frames[0].len());
    let first = String::from_utf8_lossy(frames[0]);
    assert!(!first.contains("FORGED"), "the value went out whole");
    assert_eq!(Message::parse(frames[1]).json()["msg"], "after");
}

/// A UDP receiver that is not there refuses datagrams: UDP hears of a
/// refusal at the send after the one refused, which fails, is reported
/// (returned by `sync`, counted in `write_errors`) and is sent again: no
/// entry counts twice, and none is lost from the counts.
#[test]
fn refused_udp_datagrams_are_write_errors() {
    // A port nothing listens on (bound, then let go).
    let addr = {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.local_addr().unwrap().to_string()
    };
    let logger = Builder::new()
        .format(Format::Json)
        .syslog(Syslog::udp(&addr))
        .build()
        .unwrap();
    const N: u64 = 6;
    let mut refused = 0;
    for i in 0..N {
        velo!(logger: &logger, info, "nobody hears", i);
        match logger.sync() {
            Ok(()) => {}
            Err(e) => {
                assert!(e.to_string().contains("refused"), "{e}");
                refused += 1;
            }
        }
        // Time for the refusal to come back before the next send, and
        // for the backoff (10 ms doubling) to let the next one go.
        std::thread::sleep(Duration::from_millis(150));
    }
    let _ = logger.sync();
    let stats = logger.stats();
    assert!(refused >= 1 && stats.write_errors >= 1, "{stats:?}");
    assert_eq!(
        (stats.enqueued, stats.written, stats.dropped),
        (N, N, 0),
        "{stats:?}"
    );
}
