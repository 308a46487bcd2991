//! `Builder::journald_at(socket)` speaks journald's native protocol: one
//! datagram per entry, `NAME=value` lines, the binary-safe form for values
//! with a newline, and a sealed memfd passed with SCM_RIGHTS for an entry
//! too large for a datagram. A test socket stands in for journald and
//! decodes what arrives by the protocol's rules.
#![cfg(target_os = "linux")]

use std::collections::BTreeMap;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixDatagram;
use velo::{velo, Builder, Level};

/// One journal entry: field name to values (a name may repeat).
type Fields = BTreeMap<String, Vec<Vec<u8>>>;

/// Decodes a native-protocol payload.
fn decode(mut data: &[u8]) -> Fields {
    let mut fields = Fields::new();
    while !data.is_empty() {
        let nl = data.iter().position(|&b| b == b'\n').expect("a line");
        let line = &data[..nl];
        let (name, value, rest) = match line.iter().position(|&b| b == b'=') {
            Some(eq) => (&line[..eq], line[eq + 1..].to_vec(), &data[nl + 1..]),
            None => {
                // NAME\n<u64 LE length><value>\n
                let after = &data[nl + 1..];
                let len = u64::from_le_bytes(after[..8].try_into().unwrap()) as usize;
                let value = after[8..8 + len].to_vec();
                assert_eq!(after[8 + len], b'\n', "binary-safe value ends in a newline");
                (line, value, &after[9 + len..])
            }
        };
        let name = String::from_utf8(name.to_vec()).unwrap();
        assert!(
            !name.is_empty()
                && !name.starts_with('_')
                && name
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'),
            "journal field names are [A-Z0-9_], not starting with _: {name:?}"
        );
        fields.entry(name).or_default().push(value);
        data = rest;
    }
    fields
}

/// Receives one datagram, following a passed memfd if there is one.
fn receive(socket: &UnixDatagram) -> Fields {
    let mut buf = vec![0u8; 1 << 20];
    let mut control = [0u8; 64];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: msghdr zeroed, then pointed at live buffers of the given
    // sizes; recvmsg writes at most that much.
    let (n, fd) = unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = control.len() as _;
        let n = libc::recvmsg(socket.as_raw_fd(), &mut msg, 0);
        assert!(n >= 0, "{}", std::io::Error::last_os_error());
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        let fd = if cmsg.is_null() {
            None
        } else {
            assert_eq!((*cmsg).cmsg_type, libc::SCM_RIGHTS);
            Some(std::ptr::read_unaligned(
                libc::CMSG_DATA(cmsg).cast::<i32>(),
            ))
        };
        (n as usize, fd)
    };
    match fd {
        None => decode(&buf[..n]),
        Some(fd) => {
            assert_eq!(n, 0, "a passed memfd comes in an empty datagram");
            // SAFETY: the descriptor was just received and is ours.
            let fd = unsafe { OwnedFd::from_raw_fd(fd) };
            // SAFETY: F_GET_SEALS on a valid descriptor.
            let seals = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GET_SEALS) };
            assert!(
                seals & libc::F_SEAL_WRITE != 0,
                "the memfd is sealed: {seals}"
            );
            // journald maps the file from its start; the offset is shared
            // with the sender's descriptor, so seek back first.
            let mut file = std::fs::File::from(fd);
            std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(0)).unwrap();
            let mut data = Vec::new();
            file.read_to_end(&mut data).unwrap();
            decode(&data)
        }
    }
}

fn one(fields: &Fields, name: &str) -> String {
    let values = fields
        .get(name)
        .unwrap_or_else(|| panic!("no {name} in {fields:?}"));
    assert_eq!(values.len(), 1, "{name}");
    String::from_utf8(values[0].clone()).unwrap()
}

/// A socket standing in for journald, in a fresh directory named after
/// `name`: the directory, the socket's path and the socket.
fn journal(name: &str) -> (std::path::PathBuf, std::path::PathBuf, UnixDatagram) {
    let dir = std::env::temp_dir().join(format!("velo-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("socket");
    let socket = UnixDatagram::bind(&path).unwrap();
    (dir, path, socket)
}

#[test]
fn entries_arrive_as_journal_fields() {
    let (dir, path, socket) = journal("journald");
    let logger = Builder::new()
        .journald_at(&path)
        .app_name("velo-test")
        .level(Level::Trace)
        .build()
        .unwrap();
    let user_id = 42;
    velo!(logger: &logger, warn, "user {user_id} over quota", http.status = 429, ratio = 0.5, ok = false);
    velo!(logger: &logger, error, "multi-line", detail = "line one\nline two \u{1b}[31m");
    velo!(logger: &logger, trace, "tracing");
    let big = "x".repeat(400_000);
    velo!(logger: &logger, info, "large", big = big.as_str());
    velo!(
        logger: &logger,
        info,
        "collisions",
        priority = 0,
        syslog_identifier = "forged",
        "Message" = "forged",
        code.file = "y"
    );
    logger.sync().unwrap();

    let first = receive(&socket);
    assert_eq!(one(&first, "MESSAGE"), "user 42 over quota");
    assert_eq!(one(&first, "PRIORITY"), "4");
    assert_eq!(one(&first, "SYSLOG_IDENTIFIER"), "velo-test");
    assert!(one(&first, "CODE_FILE").ends_with("journald_receives_native_protocol_fields.rs"));
    assert!(one(&first, "CODE_LINE").parse::<u32>().unwrap() > 0);
    assert_eq!(one(&first, "CODE_MODULE"), module_path!());
    assert_eq!(one(&first, "USER_ID"), "42");
    assert_eq!(one(&first, "HTTP_STATUS"), "429");
    assert_eq!(one(&first, "RATIO"), "0.5");
    assert_eq!(one(&first, "OK"), "false");

    let second = receive(&socket);
    assert_eq!(one(&second, "PRIORITY"), "3");
    assert_eq!(
        one(&second, "DETAIL"),
        "line one\nline two \u{1b}[31m",
        "binary-safe, raw"
    );

    let third = receive(&socket);
    assert_eq!(one(&third, "PRIORITY"), "7");

    let fourth = receive(&socket);
    assert_eq!(one(&fourth, "MESSAGE"), "large");
    assert_eq!(one(&fourth, "BIG").len(), 400_000);
    // Fields named like velo's own go beside them, never in their place.
    let fifth = receive(&socket);
    assert_eq!(one(&fifth, "MESSAGE"), "collisions");
    assert_eq!(one(&fifth, "PRIORITY"), "6");
    assert_eq!(one(&fifth, "SYSLOG_IDENTIFIER"), "velo-test");
    assert!(one(&fifth, "CODE_FILE").ends_with("journald_receives_native_protocol_fields.rs"));
    assert_eq!(one(&fifth, "FIELDS_PRIORITY"), "0");
    assert_eq!(one(&fifth, "FIELDS_SYSLOG_IDENTIFIER"), "forged");
    assert_eq!(one(&fifth, "FIELDS_MESSAGE"), "forged");
    assert_eq!(one(&fifth, "FIELDS_CODE_FILE"), "y");
    assert_eq!(logger.stats().write_errors, 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_missing_journal_is_counted_not_fatal() {
    let logger = Builder::new()
        .journald_at("/nonexistent/velo/journal.socket")
        .build()
        .expect("the socket is connected on first use");
    velo!(logger: &logger, info, "nowhere to go");
    let err = logger.sync().expect_err("the write error is returned");
    assert_eq!(err.kind(), velo::ErrorKind::Write);
    assert_eq!(logger.stats().write_errors, 1);
    velo!(logger: &logger, info, "still nowhere");
    let _ = logger.sync();
    assert_eq!(logger.stats().write_errors, 2);
}

#[test]
fn a_socket_path_no_socket_can_have_is_an_error_from_build() {
    // A unix socket's path holds at most 107 bytes on Linux.
    let long = format!("/tmp/{}/journal.socket", "d".repeat(200));
    let err = Builder::new()
        .journald_at(&long)
        .build()
        .expect_err("too long for a socket");
    assert_eq!(err.kind(), velo::ErrorKind::Output);
    assert!(
        err.to_string().contains("bad journald socket path"),
        "{err}"
    );
    let err = Builder::new()
        .journald_at("/tmp/velo\0journal")
        .build()
        .expect_err("a NUL in the path");
    assert_eq!(err.kind(), velo::ErrorKind::Output);
    assert!(!err.to_string().contains('\0'), "shown escaped: {err:?}");
    let err = Builder::new()
        .journald_at("")
        .build()
        .expect_err("an empty path");
    assert_eq!(err.kind(), velo::ErrorKind::Output);
}

/// `n` fields named `{prefix}{i}` for `i` in `from..from + n`, valued
/// `value`.
fn many_fields(prefix: &str, from: usize, n: usize, value: &str) -> velo::Fields {
    let names: Vec<&'static str> = (from..from + n)
        .map(|i| &*Box::leak(format!("{prefix}{i}").into_boxed_str()))
        .collect();
    let mut b = velo::__private::FieldsBuilder::new(Box::leak(names.into_boxed_slice()));
    for _ in 0..n {
        b.value(value);
    }
    b.build()
}

#[test]
fn a_large_context_and_a_large_scope_keep_each_field_once() {
    let dir = velo_tests::TempDir::new("journald-large-layers");
    let path = dir.path().join("socket");
    let socket = UnixDatagram::bind(&path).unwrap();
    let logger = Builder::new().journald_at(&path).build().unwrap();
    // Past the scope size from which the context's keys are checked
    // through an index: `K300..K599` are in both layers, the scope's win.
    let child = logger.with(many_fields("k", 0, 600, "context"));
    velo::scope(many_fields("k", 300, 600, "scope"), || {
        velo!(logger: &child, info, "big");
    });
    logger.sync().unwrap();
    let fields = receive(&socket);
    for i in 0..900 {
        let values = &fields[&format!("K{i}")];
        assert_eq!(values.len(), 1, "K{i} once");
        let expected: &[u8] = if i < 300 { b"context" } else { b"scope" };
        assert_eq!(values[0], expected, "K{i}");
    }
}

#[test]
fn thread_names_arrive_as_thread_name() {
    let (dir, path, socket) = journal("journald-thread");
    let logger = Builder::new()
        .journald_at(&path)
        .thread_names(true)
        .build()
        .unwrap();
    std::thread::Builder::new()
        .name("poller".into())
        .spawn({
            let logger = logger.clone();
            move || velo!(logger: &logger, info, "polled", thread_name = "forged")
        })
        .unwrap()
        .join()
        .unwrap();
    logger.sync().unwrap();
    let fields = receive(&socket);
    assert_eq!(one(&fields, "THREAD_NAME"), "poller");
    assert_eq!(one(&fields, "FIELDS_THREAD_NAME"), "forged");
    // Without thread names, the name is the user's.
    let plain = Builder::new().journald_at(&path).build().unwrap();
    velo!(logger: &plain, info, "polled", thread_name = "user's");
    plain.sync().unwrap();
    let fields = receive(&socket);
    assert_eq!(one(&fields, "THREAD_NAME"), "user's");
    assert!(!fields.contains_key("FIELDS_THREAD_NAME"), "{fields:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
