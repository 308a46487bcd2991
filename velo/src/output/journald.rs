//! systemd's journal, through its native protocol: one datagram per entry
//! on journald's socket, each field `NAME=value` on a line of its own.
//!
//! - `MESSAGE` is the message (a template's placeholders filled in),
//!   `PRIORITY` the syslog severity of the level, `CODE_FILE`, `CODE_LINE`
//!   and `CODE_MODULE` the caller, `SYSLOG_IDENTIFIER` the program's name,
//!   `TARGET` the target when it is not the module path, `THREAD_NAME`
//!   the thread's name (`Builder::thread_names`).
//! - Every field of the entry follows, its key upper-cased into a journal
//!   field name (`http.status` -> `HTTP_STATUS`; see [`field_name`]; one
//!   of the names above becomes `FIELDS_NAME`, so that no field can change
//!   an entry's priority or identifier; a key that maps to the name of an
//!   earlier field of the entry, such as `a_b` after `a.b`, gets `_2`,
//!   `_3`, ... so that each value keeps a name of its own), its
//!   value as plain text (strings as they are, numbers as digits, nested
//!   values as JSON).
//! - A value holding a newline is written in the binary-safe form: the
//!   name, a newline, the value's length as a little-endian `u64`, the
//!   value, a newline.
//! - An entry too large for one datagram is written into a sealed memfd
//!   whose descriptor is sent instead, as journald expects.
//! - A send waits at most [`SEND_WAIT`] for room in the socket's queue (a
//!   journald that is stopped, hung or overloaded reads nothing). After
//!   one that waited in vain, sends do not wait, failing at once while
//!   the queue is full, until one gets through or a spell has passed:
//!   [`STALL_RETRY`] after the first vain wait, twice as long after each
//!   vain wait that follows, up to [`MAX_STALL_RETRY`]. A stalled journald
//!   costs a wait a second at first, then ever fewer, not one an entry;
//!   and several stalled outputs of one logger, whose waits come in turn,
//!   soon all fail at once.

use super::Output;
use crate::error::Error;
use crate::event::{Event, ScopeIndex};
use crate::level::Level;
use crate::line::{self, LineFormat};
use std::collections::{HashMap, HashSet};
use std::io;
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How long a send waits for room in journald's socket queue.
const SEND_WAIT: Duration = Duration::from_secs(1);

/// After a send that waited [`SEND_WAIT`] in vain, how long sends fail at
/// once while the queue stays full, before one waits again; doubled after
/// each further vain wait, up to [`MAX_STALL_RETRY`].
const STALL_RETRY: Duration = Duration::from_secs(1);

/// The longest spell of failing at once (see [`STALL_RETRY`]).
const MAX_STALL_RETRY: Duration = Duration::from_secs(30);

/// Where journald listens.
pub(crate) const SOCKET: &str = "/run/systemd/journal/socket";

/// The journal.
pub(crate) struct Journald {
    path: PathBuf,
    socket: Option<UnixDatagram>,
    identifier: String,
    /// The datagram being built; reused.
    buf: Vec<u8>,
    value: Vec<u8>,
    /// The field's name being built; reused.
    name: Vec<u8>,
    /// The names of the entry's fields so far; reused.
    names: Names,
    /// The entry's scope keys, for checking its context's (reused).
    scope_index: ScopeIndex,
    /// The last entry could not be sent: journald is away (see
    /// `Output::healthy`).
    down: bool,
    /// When a send last waited [`SEND_WAIT`] in vain, and how long sends
    /// fail at once after it (the socket is non-blocking meanwhile).
    stalled: Option<(Instant, Duration)>,
    /// The socket is in non-blocking mode (during a stall).
    nonblocking: bool,
}

impl std::fmt::Debug for Journald {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journald")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// What velo's messages call a journald output on the socket at `path`.
pub(crate) fn named(path: &std::path::Path) -> String {
    format!("journald {}", path.display())
}

impl Journald {
    /// A journald output on the socket at `path`, which is connected at
    /// the first entry (journald may start after the program); a path no
    /// socket can have is an error now.
    pub(crate) fn new(path: PathBuf, identifier: String) -> Result<Journald, Error> {
        super::check_socket_path(&path, "journald")?;
        Ok(Journald {
            path,
            socket: None,
            identifier,
            buf: Vec::with_capacity(1024),
            value: Vec::new(),
            name: Vec::new(),
            names: Names::default(),
            scope_index: ScopeIndex::default(),
            down: false,
            stalled: None,
            nonblocking: false,
        })
    }

    fn socket(&mut self) -> io::Result<&UnixDatagram> {
        if self.socket.is_none() {
            let socket = UnixDatagram::unbound()?;
            socket.connect(&self.path)?;
            socket.set_write_timeout(Some(SEND_WAIT))?;
            self.socket = Some(socket);
            self.nonblocking = false;
        }
        // Waiting again once in a while (see the module docs); the mode
        // changed only when it must (a system call).
        let nonblocking = self.in_spell();
        let socket = self.socket.as_ref().expect("just set");
        if nonblocking != self.nonblocking {
            socket.set_nonblocking(nonblocking)?;
            self.nonblocking = nonblocking;
        }
        Ok(socket)
    }

    /// Whether sends fail at once now, after a vain wait.
    fn in_spell(&self) -> bool {
        self.stalled
            .is_some_and(|(since, spell)| since.elapsed() < spell)
    }

    fn send(&mut self) -> io::Result<()> {
        let result = {
            let data = std::mem::take(&mut self.buf);
            let result = self.socket().and_then(|s| s.send(&data).map(drop));
            self.buf = data;
            result
        };
        // An entry too large for a datagram goes in a memory file, whose
        // descriptor waits for room in the same queue.
        let result = match result {
            Err(e) if is_too_large(&e) => self
                .socket()
                .and_then(UnixDatagram::try_clone)
                .and_then(|socket| memfd::send(&socket, &self.buf)),
            result => result,
        };
        match result {
            Ok(()) => {
                self.stalled = None;
                Ok(())
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                // A wait in vain starts the spell, twice as long as the
                // last one when no send got through since; failing at
                // once within it does not extend it.
                if !self.in_spell() {
                    let spell = self
                        .stalled
                        .map_or(STALL_RETRY, |(_, last)| (last * 2).min(MAX_STALL_RETRY));
                    self.stalled = Some((Instant::now(), spell));
                }
                Err(io::Error::new(
                    e.kind(),
                    format!(
                        "{}: journald takes nothing (its socket's queue stayed full for {} s)",
                        named(&self.path),
                        SEND_WAIT.as_secs()
                    ),
                ))
            }
            Err(e) => {
                // Reconnect next time: journald may have restarted.
                self.socket = None;
                // Named, as the report on stderr has nothing else to say
                // which output failed.
                Err(io::Error::new(
                    e.kind(),
                    format!("{}: {e}", named(&self.path)),
                ))
            }
        }
    }
}

fn is_too_large(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EMSGSIZE) | Some(libc::ENOBUFS))
}

/// The syslog severity of a level, as journald's `PRIORITY`.
pub(crate) fn priority(level: Level) -> u8 {
    match level {
        Level::Trace | Level::Debug => 7,
        Level::Info => 6,
        Level::Warn => 4,
        Level::Error => 3,
        Level::Fatal => 2,
    }
}

/// A key as a journal field name: ASCII letters upper-cased, digits kept,
/// anything else `_`; no leading underscore (those are journald's own
/// trusted fields) or digit (prefixed with `F`); at most 64 bytes.
pub(crate) fn field_name(key: &str, out: &mut Vec<u8>) {
    let start = out.len();
    for b in key.bytes() {
        let c = match b {
            b'a'..=b'z' => b.to_ascii_uppercase(),
            b'A'..=b'Z' | b'0'..=b'9' => b,
            _ => b'_',
        };
        if c == b'_' && out.len() == start {
            continue;
        }
        out.push(c);
    }
    if out.len() == start || out[start].is_ascii_digit() {
        out.insert(start, b'F');
    }
    out.truncate(start + 64);
}

/// The names the fields of one entry took so far, so that each value keeps
/// a name of its own: two keys can map to one name (`a.b` and `a_b`, or two
/// keys of letters outside ASCII), and the later ones get `_2`, `_3`, ...
/// at the end (within the 64 bytes).
///
/// Hashed, so that an entry of a thousand fields costs no more per field
/// than one of three, even when they all map to one name. Two names of one
/// 64-bit hash count as one: at worst a field gets a suffix it did not
/// need.
#[derive(Debug, Default)]
struct Names {
    taken: HashSet<u64>,
    /// For a name given more than once: the suffix its next copy tries
    /// first.
    next: HashMap<u64, u32>,
}

/// Entries with more fields than this give back their tables' memory.
const NAMES_KEPT: usize = 1024;

impl Names {
    /// Forgets the names of the last entry.
    fn clear(&mut self) {
        if self.taken.len() > NAMES_KEPT {
            *self = Names::default();
        } else {
            self.taken.clear();
            self.next.clear();
        }
    }

    /// Makes `name` differ from every name given before, and takes it.
    fn give(&mut self, name: &mut Vec<u8>) {
        let hash = name_hash(name);
        if self.taken.insert(hash) {
            return;
        }
        let base = name.clone();
        let first = self.next.get(&hash).copied().unwrap_or(2);
        for n in first.. {
            let mut digits = itoa::Buffer::new();
            let suffix = digits.format(n).as_bytes();
            name.clear();
            name.extend_from_slice(&base[..base.len().min(63 - suffix.len())]);
            name.push(b'_');
            name.extend_from_slice(suffix);
            if self.taken.insert(name_hash(name)) {
                self.next.insert(hash, n + 1);
                return;
            }
        }
    }
}

/// A name's hash for [`Names`]: FNV-1a, fixed, so that two runs name the
/// same fields the same way.
fn name_hash(name: &[u8]) -> u64 {
    name.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The journal fields velo writes itself; a user's key with one of these
/// names is written as `FIELDS_NAME`.
const OWN_FIELDS: [&[u8]; 9] = [
    b"MESSAGE",
    b"PRIORITY",
    b"SYSLOG_IDENTIFIER",
    b"CODE_FILE",
    b"CODE_LINE",
    b"CODE_MODULE",
    b"TARGET",
    b"SUPPRESSED",
    b"BACKTRACE",
];

/// Appends `NAME=value\n`, or the binary-safe form when `value` holds a
/// newline.
fn field(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    if value.contains(&b'\n') {
        out.push(b'\n');
        out.extend_from_slice(&(value.len() as u64).to_le_bytes());
    } else {
        out.push(b'=');
    }
    out.extend_from_slice(value);
    out.push(b'\n');
}

impl Output for Journald {
    fn write(&mut self, ev: &Event<'_>, format: &mut LineFormat) -> io::Result<usize> {
        self.buf.clear();
        self.value.clear();
        format.plain_message(ev, &mut self.value);
        field(&mut self.buf, b"MESSAGE", &self.value);
        field(&mut self.buf, b"PRIORITY", &[b'0' + priority(ev.level)]);
        field(
            &mut self.buf,
            b"SYSLOG_IDENTIFIER",
            self.identifier.as_bytes(),
        );
        if let Some((file, line)) = ev.caller() {
            field(&mut self.buf, b"CODE_FILE", file.as_bytes());
            if let Some(line) = line {
                self.value.clear();
                crate::number::int(&mut self.value, line);
                field(&mut self.buf, b"CODE_LINE", &self.value);
            }
        }
        field(&mut self.buf, b"CODE_MODULE", ev.module_path().as_bytes());
        if let Some(target) = ev.target() {
            field(&mut self.buf, b"TARGET", target.as_bytes());
        }
        if let Some(thread) = ev.thread {
            field(&mut self.buf, b"THREAD_NAME", thread.as_bytes());
        }
        let mut name = std::mem::take(&mut self.name);
        self.names.clear();
        self.scope_index.prepare(ev);
        for (key, value) in ev.fields(&self.scope_index) {
            name.clear();
            field_name(key, &mut name);
            // `THREAD_NAME` is velo's only where it writes it (an entry of a
            // logger with `thread_names`).
            if OWN_FIELDS.contains(&&name[..]) || (ev.thread.is_some() && name == b"THREAD_NAME") {
                // A field of velo's own: the user's goes beside it, as
                // `fields.KEY` in the JSON format, not in its place (journald
                // keeps the last `PRIORITY` it reads).
                name.splice(0..0, *b"FIELDS_");
                name.truncate(64);
            }
            self.names.give(&mut name);
            self.value.clear();
            line::plain_value(&mut self.value, value);
            field(&mut self.buf, &name, &self.value);
        }
        self.name = name;
        if let Some(n) = ev.suppressed {
            self.value.clear();
            crate::number::int(&mut self.value, n);
            field(&mut self.buf, b"SUPPRESSED", &self.value);
        }
        if let Some(bt) = ev.backtrace {
            field(&mut self.buf, b"BACKTRACE", bt.as_bytes());
        }
        let len = self.buf.len();
        let sent = self.send();
        self.down = sent.is_err();
        sent?;
        Ok(len)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn healthy(&self) -> bool {
        // Nothing is buffered, so a flush always works: whether the last
        // send did says whether journald is back.
        !self.down
    }
}

/// Sending an entry too large for a datagram, as journald expects: in a
/// sealed memory file whose descriptor travels in an empty datagram.
#[cfg(target_os = "linux")]
mod memfd {
    use std::io::{self, Write};
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::os::unix::net::UnixDatagram;

    pub(super) fn send(socket: &UnixDatagram, data: &[u8]) -> io::Result<()> {
        // SAFETY: the name is a NUL-terminated string; the flags are valid.
        let fd = unsafe {
            libc::memfd_create(
                c"velo-journal".as_ptr(),
                libc::MFD_ALLOW_SEALING | libc::MFD_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` is a new descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        std::fs::File::from(fd.try_clone()?).write_all(data)?;
        let seals =
            libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE | libc::F_SEAL_SEAL;
        // SAFETY: `fd` is a memfd created with sealing allowed.
        if unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_ADD_SEALS, seals) } < 0 {
            return Err(io::Error::last_os_error());
        }
        send_fd(socket, fd.as_raw_fd())
    }

    /// Sends an empty datagram carrying `fd` (SCM_RIGHTS).
    fn send_fd(socket: &UnixDatagram, fd: i32) -> io::Result<()> {
        // SAFETY: CMSG_SPACE only computes a size.
        let space = unsafe { libc::CMSG_SPACE(std::mem::size_of::<i32>() as u32) } as usize;
        let mut control = vec![0u8; space];
        // SAFETY: an all-zero msghdr is valid (no name, no data); the
        // control buffer is set below to `control`, which lives until
        // `sendmsg` returns and is large enough for one descriptor
        // (CMSG_SPACE); CMSG_FIRSTHDR of it is non-null and in bounds.
        unsafe {
            let mut msg: libc::msghdr = std::mem::zeroed();
            msg.msg_control = control.as_mut_ptr().cast();
            msg.msg_controllen = space as _;
            let cmsg = libc::CMSG_FIRSTHDR(&msg);
            (*cmsg).cmsg_level = libc::SOL_SOCKET;
            (*cmsg).cmsg_type = libc::SCM_RIGHTS;
            (*cmsg).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<i32>() as u32) as _;
            std::ptr::copy_nonoverlapping(
                (&fd as *const i32).cast::<u8>(),
                libc::CMSG_DATA(cmsg),
                std::mem::size_of::<i32>(),
            );
            if libc::sendmsg(socket.as_raw_fd(), &msg, libc::MSG_NOSIGNAL) < 0 {
                return Err(io::Error::last_os_error());
            }
        }
        Ok(())
    }
}

#[cfg(not(target_os = "linux"))]
mod memfd {
    use std::io;
    use std::os::unix::net::UnixDatagram;

    pub(super) fn send(_: &UnixDatagram, _: &[u8]) -> io::Result<()> {
        Err(io::Error::other(
            "entry too large for one journald datagram",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_that_map_to_one_name_get_distinct_names() {
        let mut given = Names::default();
        let mut names: Vec<Vec<u8>> = Vec::new();
        for key in ["a.b", "a_b", "A.B", "f", "ключ", "ключ2"] {
            let mut name = Vec::new();
            field_name(key, &mut name);
            given.give(&mut name);
            names.push(name);
        }
        let names: Vec<&str> = names
            .iter()
            .map(|n| std::str::from_utf8(n).unwrap())
            .collect();
        assert_eq!(names, ["A_B", "A_B_2", "A_B_3", "F", "F_2", "F2"]);
        // Within 64 bytes.
        let long = "k".repeat(80);
        let mut first = Vec::new();
        field_name(&long, &mut first);
        let mut given = Names::default();
        let mut copy = first.clone();
        given.give(&mut copy);
        let mut second = first.clone();
        given.give(&mut second);
        assert_eq!(second.len(), 64);
        assert!(second.ends_with(b"_2"));
    }

    #[test]
    fn many_keys_of_one_name_each_get_their_own() {
        // An earlier key already has the name a suffix would give.
        let mut given = Names::default();
        let mut taken = b"A_3".to_vec();
        given.give(&mut taken);
        let mut names = std::collections::HashSet::new();
        for _ in 0..3000 {
            let mut name = Vec::new();
            field_name("a", &mut name);
            given.give(&mut name);
            assert!(names.insert(name.clone()), "{name:?} given twice");
            assert_ne!(name, b"A_3");
        }
        assert!(names.contains(b"A_3001".as_slice()));
        given.clear();
        let mut name = b"A".to_vec();
        given.give(&mut name);
        assert_eq!(name, b"A", "a new entry starts afresh");
    }

    #[test]
    fn field_names() {
        let cases = [
            ("user_id", "USER_ID"),
            ("http.status", "HTTP_STATUS"),
            ("_private", "PRIVATE"),
            ("9lives", "F9LIVES"),
            ("", "F"),
            ("ünï", "N__"),
            ("Mixed-Case", "MIXED_CASE"),
        ];
        for (key, expected) in cases {
            let mut out = Vec::new();
            field_name(key, &mut out);
            assert_eq!(String::from_utf8(out).unwrap(), expected, "{key}");
        }
        let mut out = Vec::new();
        field_name(&"x".repeat(100), &mut out);
        assert_eq!(out.len(), 64);
    }

    #[test]
    fn fields_with_newlines_are_binary_safe() {
        let mut out = Vec::new();
        field(&mut out, b"A", b"plain");
        field(&mut out, b"B", b"two\nlines");
        let mut expected = b"A=plain\nB\n".to_vec();
        expected.extend_from_slice(&9u64.to_le_bytes());
        expected.extend_from_slice(b"two\nlines\n");
        assert_eq!(out, expected);
    }
}
